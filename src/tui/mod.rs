//! The console's runtime shell: the terminal, the event loop, and the effects. This is the only
//! place the console does I/O; `app::update` decides, this carries it out.

#[cfg(unix)]
mod abort_restore;
pub mod console;
mod container_logs_task;
mod effects;
mod event_loop;
mod forward;
mod open_task;
mod proxy_task;
mod replay_task;
mod task_watch;

pub use event_loop::run_loop;

use crate::app::{App, Event};
use crate::engine::session::SessionCommand;
use crate::ui::theme::Theme;
use anyhow::{Context, Result};
use crossterm::event::{DisableMouseCapture, EnableMouseCapture, EventStream, KeyCode};
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen};
use futures_util::StreamExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Where the loop saves sessions and finds user themes (none in tests).
#[derive(Debug, Default)]
pub struct LoopOptions {
    pub sessions_file: Option<PathBuf>,
    pub theme_dir: Option<PathBuf>,
    /// Session ids to connect at start.
    pub connect_now: Vec<usize>,
    /// Commands for sessions at start (they queue in the actor until its socket is open).
    pub first_frames: Vec<(usize, SessionCommand)>,
    /// Each drawn screen as text (tests wait on it).
    pub screens: Option<tokio::sync::watch::Sender<String>>,
    /// Where `:record` writes captures (none: recording is refused).
    pub capture_dir: Option<PathBuf>,
    /// Record every session from its first connect.
    pub record_by_default: bool,
    /// Where snippets are saved.
    pub snippets_file: Option<PathBuf>,
    /// Panics outside the loop, as the panic hook saw them (the real terminal only).
    pub crashes: Option<Arc<Crashes>>,
    /// A panic on F12, for the pseudo-terminal test (debug builds, `WSDECK_TEST_PANIC`).
    pub test_panic: Option<TestPanic>,
}

/// Where `WSDECK_TEST_PANIC` makes F12 panic: the loop itself, a task it spawns (as a session's
/// forwarder or actor would panic), or the input reader the console cannot live without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestPanic {
    Ui,
    Task,
    Input,
}

impl TestPanic {
    /// Read in debug builds only: a release build has no way to be told to panic.
    fn from_env() -> Option<TestPanic> {
        if !cfg!(debug_assertions) {
            return None;
        }
        match std::env::var("WSDECK_TEST_PANIC").ok()?.as_str() {
            "ui" => Some(TestPanic::Ui),
            "task" => Some(TestPanic::Task),
            "input" => Some(TestPanic::Input),
            _ => None,
        }
    }

    pub(crate) fn is_trigger(key: &crossterm::event::KeyEvent) -> bool {
        key.code == KeyCode::F(12)
    }
}

/// Panics seen outside the loop's own thread. tokio catches a task's panic and only its
/// `JoinHandle` would tell, and most handles are dropped at spawn, so the hook reports here.
///
/// The console goes on after one: its frames are the evidence of whatever the user is chasing
/// at 2 a.m., unrecorded ones exist nowhere else, and most tasks are one session's (its actor,
/// forwarder, logs reader), so the other sessions still work. The status bar says it until the
/// console quits (that session may have stopped updating; save what is needed), and the exit
/// says it again on the restored terminal, with the log's place, and is a failure (101, as a
/// panic's). Only when the task was one the console cannot work without (the keyboard reader)
/// does it end at once, since nobody could quit it any more.
#[derive(Debug, Default)]
pub struct Crashes {
    first: Mutex<Option<String>>,
    count: AtomicUsize,
    fatal: AtomicBool,
    log_dir: Option<PathBuf>,
}

impl Crashes {
    fn new(log_dir: Option<PathBuf>) -> Self {
        Crashes {
            log_dir,
            ..Default::default()
        }
    }

    fn record(&self, what: String) {
        self.count.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut first) = self.first.lock()
            && first.is_none()
        {
            *first = Some(what);
        }
    }

    fn first(&self) -> Option<String> {
        self.first.lock().ok().and_then(|f| f.clone())
    }

    /// A vital task died: the loop must end.
    pub fn is_fatal(&self) -> bool {
        self.fatal.load(Ordering::SeqCst)
    }

    fn log_place(&self) -> String {
        match &self.log_dir {
            Some(d) => format!("the log is in {}", d.display()),
            None => "no log file (no data directory)".into(),
        }
    }

    /// The status bar's line while the console goes on after a panic.
    pub fn status_line(&self) -> Option<String> {
        let first = self.first()?;
        let more = match self.count.load(Ordering::SeqCst) {
            0 | 1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        Some(format!(
            "a background task crashed{more}: {first} · its session may have stopped updating: keep what you need (:record), then quit · {}",
            self.log_place()
        ))
    }
}

/// Restores the terminal when the console ends, however it ends.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Every mode the console sets, undone: mouse capture, the hidden cursor, raw mode, the
/// alternate screen. Harmless when repeated.
fn restore_terminal() {
    let mut out = std::io::stdout();
    let _ = crossterm::execute!(out, DisableMouseCapture, crossterm::cursor::Show);
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = crossterm::execute!(out, LeaveAlternateScreen);
}

/// Run the console on the real terminal until the user quits.
pub async fn run(
    app: App,
    theme: Theme,
    log_path: Option<PathBuf>,
    mut options: LoopOptions,
) -> Result<()> {
    let (tx, rx) = mpsc::channel::<Event>(8192);
    let crashes = Arc::new(Crashes::new(log_path));
    install_panic_hook(crashes.clone(), tx.clone());
    #[cfg(unix)]
    abort_restore::install(&crashes.log_place());
    // Not ratatui::try_init: its panic hook restores the terminal on a panic in any thread,
    // which leaves a console that goes on drawing over the shell's screen in cooked mode.
    crossterm::terminal::enable_raw_mode().context("cannot set up the terminal")?;
    let _guard = TerminalGuard;
    crossterm::execute!(std::io::stdout(), EnterAlternateScreen, EnableMouseCapture)
        .context("cannot set up the terminal")?;
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))
            .context("cannot set up the terminal")?;
    options.crashes = Some(crashes.clone());
    options.test_panic = TestPanic::from_env();
    let test_panic = options.test_panic;
    // Terminal input: its own task, so the loop never waits on the keyboard.
    let input_tx = tx.clone();
    let vital = VitalTask(crashes.clone(), tx.clone());
    let input = tokio::spawn(async move {
        let _vital = vital;
        let mut stream = EventStream::new();
        while let Some(Ok(ev)) = stream.next().await {
            let ev = match ev {
                crossterm::event::Event::Key(k) => {
                    if test_panic == Some(TestPanic::Input) && TestPanic::is_trigger(&k) {
                        panic!("WSDECK_TEST_PANIC=input: a forced panic in the input task");
                    }
                    Event::Key(k)
                }
                crossterm::event::Event::Mouse(m) => Event::Mouse(m),
                crossterm::event::Event::Resize(w, h) => Event::Resize {
                    width: w,
                    height: h,
                },
                _ => continue,
            };
            if input_tx.send(ev).await.is_err() {
                break;
            }
        }
    });
    let result = run_loop(&mut terminal, app, &theme, (tx, rx), options).await;
    input.abort();
    drop(terminal);
    drop(_guard);
    #[cfg(unix)]
    abort_restore::uninstall();
    // The console is gone: a later panic is an ordinary one again (the default hook prints it).
    drop(std::panic::take_hook());
    if let Some(first) = crashes.first() {
        let what = if crashes.is_fatal() {
            "the keyboard reader crashed, so the console ended"
        } else {
            "a background task crashed while the console ran"
        };
        eprintln!("wsdeck: {what}: {first}\n  {}", crashes.log_place());
        // Unwinding, not process::exit, so main's log writer still flushes; no hook runs for
        // a resumed panic, so nothing more is printed. The exit status is a panic's (101).
        std::panic::resume_unwind(Box::new(first));
    }
    result.map(|_| ())
}

/// Marks the console's end when the task holding it unwinds (the input reader: without it no
/// key reaches the loop, not even quit).
struct VitalTask(Arc<Crashes>, mpsc::Sender<Event>);

impl Drop for VitalTask {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.fatal.store(true, Ordering::SeqCst);
            let _ = self.1.try_send(Event::Tick(std::time::Duration::ZERO));
        }
    }
}

/// A panic in the loop (this thread) unwinds out of the console: the terminal is restored
/// first, then the standard message, then where the log is. A panic anywhere else is logged
/// and reported to the loop (see [`Crashes`]), and printed nowhere: the screen is the console's
/// until it quits, and stderr would write over it.
fn install_panic_hook(crashes: Arc<Crashes>, wake: mpsc::Sender<Event>) {
    let ui = std::thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let what = describe(info);
        let thread = std::thread::current();
        let trace = std::backtrace::Backtrace::capture();
        let trace = match trace.status() {
            std::backtrace::BacktraceStatus::Captured => format!("\n{trace}"),
            _ => String::new(),
        };
        tracing::error!(
            thread = thread.name().unwrap_or("unnamed"),
            "panic: {what}{trace}"
        );
        if thread.id() == ui {
            restore_terminal();
            previous(info);
            eprintln!("wsdeck crashed; {}", crashes.log_place());
        } else {
            crashes.record(what);
            if let Some(line) = crashes.status_line() {
                let _ = wake.try_send(Event::Notice(line));
            }
        }
    }));
}

/// `panicked at FILE:LINE:COL: MESSAGE`, the message cut at 300 bytes. Only the panic's own
/// words: nothing of the state it happened in (no token can come along).
fn describe(info: &std::panic::PanicHookInfo<'_>) -> String {
    let message = info.payload_as_str().unwrap_or("(no message)");
    let mut end = message.len().min(300);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let cut = if end < message.len() { "…" } else { "" };
    match info.location() {
        Some(l) => format!(
            "panicked at {}:{}:{}: {}{cut}",
            l.file(),
            l.line(),
            l.column(),
            &message[..end]
        ),
        None => format!("panicked: {}{cut}", &message[..end]),
    }
}

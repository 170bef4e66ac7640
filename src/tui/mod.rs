//! The console's runtime shell: the terminal, the event loop, and the effects. This is the only
//! place the console does I/O; `app::update` decides, this carries it out.

pub mod console;
mod container_logs_task;
mod effects;
mod event_loop;
mod forward;
mod open_task;
mod proxy_task;
mod replay_task;

pub use event_loop::run_loop;

use crate::app::{App, Event};
use crate::engine::session::SessionCommand;
use crate::ui::theme::Theme;
use anyhow::{Context, Result};
use crossterm::event::{DisableMouseCapture, EnableMouseCapture, EventStream};
use futures_util::StreamExt;
use std::path::PathBuf;
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
}

/// Restores the terminal when the console ends, however it ends.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = crossterm::execute!(std::io::stdout(), DisableMouseCapture);
        ratatui::restore();
    }
}

/// Run the console on the real terminal until the user quits.
pub async fn run(
    app: App,
    theme: Theme,
    log_path: Option<PathBuf>,
    options: LoopOptions,
) -> Result<()> {
    install_panic_note(log_path);
    let mut terminal = ratatui::try_init().context("cannot set up the terminal")?;
    let _guard = TerminalGuard;
    let _ = crossterm::execute!(std::io::stdout(), EnableMouseCapture);
    let (tx, rx) = mpsc::channel::<Event>(8192);
    // Terminal input: its own task, so the loop never waits on the keyboard.
    let input_tx = tx.clone();
    let input = tokio::spawn(async move {
        let mut stream = EventStream::new();
        while let Some(Ok(ev)) = stream.next().await {
            let ev = match ev {
                crossterm::event::Event::Key(k) => Event::Key(k),
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
    result.map(|_| ())
}

/// After a panic the terminal is restored (ratatui's hook) and the user is told where the log is.
fn install_panic_note(log_path: Option<PathBuf>) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = crossterm::execute!(std::io::stdout(), DisableMouseCapture);
        ratatui::restore();
        tracing::error!("panic: {info}");
        previous(info);
        if let Some(p) = &log_path {
            eprintln!("wsdeck crashed; the log is in {}", p.display());
        }
    }));
}

//! The console's runtime shell: the terminal, the event loop, and the effects. This is the only
//! place the console does I/O; `app::update` decides, this carries it out.

use crate::app::{App, Effect, Event, update};
use crate::engine::session::{SessionCommand, SessionEvent, SessionHandle, spawn_session};
use crate::ui::theme::Theme;
use anyhow::{Context, Result};
use crossterm::event::{DisableMouseCapture, EnableMouseCapture, EventStream};
use futures_util::StreamExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};
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
}

/// Draw at most this often; events in between are applied and drawn together.
const FRAME_BUDGET: Duration = Duration::from_millis(16);

/// Restores the terminal when the console ends, however it ends.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = crossterm::execute!(std::io::stdout(), DisableMouseCapture);
        ratatui::restore();
    }
}

/// Run the console until the user quits. `connect_now` lists sessions to connect at start;
/// `first_frames` are sent as soon as their session is open.
pub async fn run(
    app: App,
    theme: Theme,
    connect_now: Vec<usize>,
    first_frames: Vec<(usize, SessionCommand)>,
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
    let options = LoopOptions {
        connect_now,
        first_frames,
        ..options
    };
    let result = run_loop(&mut terminal, app, &theme, (tx, rx), options).await;
    input.abort();
    result.map(|_| ())
}

/// The event loop on any backend: the real terminal, or a `TestBackend` in tests, which feed
/// keys through `channel.0` and read each drawn screen from `screens`.
pub async fn run_loop<B: ratatui::backend::Backend>(
    terminal: &mut ratatui::Terminal<B>,
    mut app: App,
    theme: &Theme,
    channel: (mpsc::Sender<Event>, mpsc::Receiver<Event>),
    options: LoopOptions,
) -> Result<App>
where
    B::Error: std::fmt::Display,
{
    let (tx, mut rx) = channel;
    let t0 = Instant::now();
    let mut handles: std::collections::HashMap<usize, SessionHandle> = Default::default();
    let mut theme = theme.clone();
    let tick_tx = tx.clone();
    let ticker = tokio::spawn(async move {
        let mut iv = tokio::time::interval(Duration::from_secs(1));
        loop {
            iv.tick().await;
            if tick_tx.send(Event::Tick(t0.elapsed())).await.is_err() {
                break;
            }
        }
    });

    let size = terminal
        .size()
        .map_err(|e| anyhow::anyhow!("terminal size: {e}"))?;
    update(
        &mut app,
        Event::Resize {
            width: size.width,
            height: size.height,
        },
    );
    let LoopOptions {
        sessions_file,
        theme_dir,
        connect_now,
        first_frames,
        screens,
    } = options;
    let mut pending: Vec<Effect> = connect_now.into_iter().map(Effect::Connect).collect();
    pending.extend(first_frames.into_iter().map(|(i, c)| Effect::Command(i, c)));
    let mut last_draw: Option<Instant> = None;
    'outer: loop {
        for effect in pending.drain(..) {
            match effect {
                Effect::Quit => break 'outer,
                Effect::Connect(id) => {
                    let Some(s) = app.sessions.iter().find(|s| s.id == id) else {
                        continue;
                    };
                    let (etx, mut erx) = mpsc::channel::<SessionEvent>(1024);
                    let (h, _join) = spawn_session(s.spec.clone(), etx);
                    handles.insert(id, h);
                    update(
                        &mut app,
                        Event::Started {
                            id,
                            at: t0.elapsed(),
                        },
                    );
                    let fwd = tx.clone();
                    tokio::spawn(async move {
                        while let Some(event) = erx.recv().await {
                            if fwd.send(Event::Session { id, event }).await.is_err() {
                                break;
                            }
                        }
                    });
                }
                Effect::Copy(text) => {
                    // OSC 52: the terminal (even over SSH) puts it on the clipboard.
                    use std::io::Write;
                    let b64 = base64_simd::STANDARD.encode_to_string(text.as_bytes());
                    let mut out = std::io::stdout();
                    let _ = write!(out, "\x1b]52;c;{b64}\x07");
                    let _ = out.flush();
                }
                Effect::SendComposed {
                    id,
                    mode,
                    opcode,
                    template,
                    seq,
                    session_id,
                    vars,
                } => {
                    let now = time::OffsetDateTime::now_utc()
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default();
                    let uuid = uuid::Uuid::new_v4().to_string();
                    let values = crate::app::vars::Values {
                        session_id: &session_id,
                        uuid: &uuid,
                        now: &now,
                        seq,
                        user: &vars,
                    };
                    let payload = crate::app::vars::expand(&template, &values)
                        .and_then(|text| crate::app::composer::encode(mode, opcode, &text));
                    match payload {
                        Ok(payload) => {
                            if !handles
                                .get(&id)
                                .is_some_and(|h| h.send(SessionCommand::Send { opcode, payload }))
                            {
                                app.status = Some("that session is not running".into());
                            }
                        }
                        Err(e) => app.status = Some(format!("not sent: {e}")),
                    }
                }
                Effect::SaveSessions(sessions) => {
                    if let Some(path) = &sessions_file {
                        let result =
                            crate::config::SessionStore::load(path).and_then(|mut store| {
                                store.sessions = sessions;
                                store.save()
                            });
                        app.status = Some(match result {
                            Ok(()) => format!("saved {}", path.display()),
                            Err(e) => format!("not saved: {e}"),
                        });
                    }
                }
                Effect::SetTheme(name) => match Theme::load(&name, theme_dir.as_deref()) {
                    Ok(t) => theme = t,
                    Err(e) => app.status = Some(e),
                },
                Effect::Command(id, cmd) => {
                    let sent = handles.get(&id).is_some_and(|h| h.send(cmd));
                    if !sent {
                        app.status = Some("that session is not running".into());
                    }
                }
            }
        }
        let now = Instant::now();
        if last_draw.is_none_or(|t| now.duration_since(t) >= FRAME_BUDGET) {
            let frame = terminal
                .draw(|c| crate::ui::draw(c, &app, &theme))
                .map_err(|e| anyhow::anyhow!("drawing: {e}"))?;
            if let Some(w) = &screens {
                let text: String = frame
                    .buffer
                    .content()
                    .chunks(frame.area.width.max(1) as usize)
                    .map(|row| row.iter().map(|c| c.symbol()).collect::<String>() + "\n")
                    .collect();
                let _ = w.send(text);
            }
            last_draw = Some(Instant::now());
        }
        // A filter still scanning a long log continues in slices between other events.
        if app.has_work() {
            let _ = tx.try_send(Event::Work);
        }
        // Wait for one event, then take everything else already queued.
        let Some(first) = rx.recv().await else { break };
        pending.extend(update(&mut app, first));
        while let Ok(ev) = rx.try_recv() {
            pending.extend(update(&mut app, ev));
        }
        if let Some(t) = last_draw {
            let since = t.elapsed();
            if since < FRAME_BUDGET && !pending.contains(&Effect::Quit) {
                tokio::time::sleep(FRAME_BUDGET - since).await;
                while let Ok(ev) = rx.try_recv() {
                    pending.extend(update(&mut app, ev));
                }
            }
        }
    }
    // Close open connections with 1000 and give them a moment to finish the handshake.
    for h in handles.values() {
        h.send(SessionCommand::Shutdown);
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    ticker.abort();
    Ok(app)
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

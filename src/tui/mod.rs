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
    /// Where `:record` writes captures (none: recording is refused).
    pub capture_dir: Option<PathBuf>,
    /// Record every session from its first connect.
    pub record_by_default: bool,
    /// Where snippets are saved.
    pub snippets_file: Option<PathBuf>,
}

/// When a session last received a frame, shared by its forwarder (which writes) and a replay
/// waiting for replies to go quiet (which reads).
#[derive(Clone)]
struct Activity(std::sync::Arc<std::sync::Mutex<tokio::time::Instant>>);

impl Default for Activity {
    fn default() -> Self {
        Activity(std::sync::Arc::new(std::sync::Mutex::new(
            tokio::time::Instant::now(),
        )))
    }
}

impl Activity {
    fn touch(&self) {
        if let Ok(mut t) = self.0.lock() {
            *t = tokio::time::Instant::now();
        }
    }

    fn last(&self) -> tokio::time::Instant {
        self.0
            .lock()
            .map(|t| *t)
            .unwrap_or_else(|_| tokio::time::Instant::now())
    }
}

/// Tells a session's forwarder to start or stop recording.
enum RecordCmd {
    Start(PathBuf, crate::capture::writer::CaptureMeta),
    Stop,
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
        capture_dir,
        record_by_default,
        snippets_file,
    } = options;
    let mut recorders: std::collections::HashMap<usize, mpsc::UnboundedSender<RecordCmd>> =
        Default::default();
    let mut replays: std::collections::HashMap<
        usize,
        mpsc::UnboundedSender<crate::app::ReplayCtl>,
    > = Default::default();
    // Per session: the task reading its container logs (aborting it kills the child).
    // The sender stops the reader, which kills its child and waits for it.
    let mut log_tasks: std::collections::HashMap<
        usize,
        (
            tokio::sync::oneshot::Sender<()>,
            tokio::task::JoinHandle<()>,
        ),
    > = Default::default();
    // Per session: when its last incoming data frame arrived (for waiting on replies).
    let mut activity: std::collections::HashMap<usize, Activity> = Default::default();
    let mut pending: Vec<Effect> = connect_now.into_iter().map(Effect::Connect).collect();
    pending.extend(first_frames.into_iter().map(|(i, c)| Effect::Command(i, c)));
    let mut last_draw: Option<Instant> = None;
    // Effects that effects ask for (recording a session that just got its forwarder).
    let mut pending_later: Vec<Effect> = Vec::new();
    'outer: loop {
        pending.append(&mut pending_later);
        let effects: Vec<Effect> = std::mem::take(&mut pending);
        for effect in effects {
            match effect {
                Effect::Quit => break 'outer,
                Effect::Connect(id) => {
                    let Some(s) = app.sessions.iter().find(|s| s.id == id) else {
                        continue;
                    };
                    let (etx, erx) = mpsc::channel::<SessionEvent>(1024);
                    let (h, _join) = spawn_session(s.spec.clone(), etx);
                    handles.insert(id, h);
                    update(
                        &mut app,
                        Event::Started {
                            id,
                            at: t0.elapsed(),
                        },
                    );
                    let (rec_tx, rec_rx) = mpsc::unbounded_channel();
                    if record_by_default && !recorders.contains_key(&id) {
                        pending_later.push(Effect::Record { id, on: true });
                    }
                    recorders.insert(id, rec_tx);
                    let seen = Activity::default();
                    activity.insert(id, seen.clone());
                    tokio::spawn(forward(id, erx, rec_rx, tx.clone(), seen));
                }
                Effect::Record { id, on } => {
                    let Some(rec) = recorders.get(&id) else {
                        app.status = Some("connect first, then record".into());
                        continue;
                    };
                    if !on {
                        let _ = rec.send(RecordCmd::Stop);
                        continue;
                    }
                    let Some(dir) = &capture_dir else {
                        app.status = Some("no capture directory (set WSDECK_DATA_DIR)".into());
                        continue;
                    };
                    let Some(s) = app.sessions.iter().find(|s| s.id == id) else {
                        continue;
                    };
                    let stamp = time::OffsetDateTime::now_utc()
                        .format(&time::macros::format_description!(
                            "[year][month][day]-[hour][minute][second]"
                        ))
                        .unwrap_or_default();
                    let safe: String = s
                        .name
                        .chars()
                        .map(|c| {
                            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                                c
                            } else {
                                '_'
                            }
                        })
                        .collect();
                    let path = dir.join(format!("{safe}-{stamp}.jsonl"));
                    let meta = crate::capture::writer::CaptureMeta {
                        session_name: Some(s.name.clone()),
                        target_kind: s.spec.target.kind().into(),
                        target: s.spec.target.describe(),
                        url: crate::engine::redact::url_for_display(&s.spec.request_url()),
                        agent_session_id: s.spec.session_id.clone(),
                    };
                    let _ = rec.send(RecordCmd::Start(path, meta));
                }
                Effect::StartReplay {
                    id,
                    path,
                    timing,
                    step,
                    wait_replies,
                } => {
                    let Some(handle) = handles.get(&id).cloned() else {
                        app.status = Some("that session is not running".into());
                        continue;
                    };
                    let (ctl_tx, ctl_rx) = mpsc::unbounded_channel();
                    replays.insert(id, ctl_tx);
                    let quiet = activity.get(&id).cloned().zip(wait_replies);
                    tokio::spawn(replay_task(
                        id,
                        path,
                        (timing, step, quiet),
                        handle,
                        ctl_rx,
                        tx.clone(),
                    ));
                }
                Effect::ReplayControl { id, ctl } => {
                    if replays.get(&id).is_none_or(|r| r.send(ctl).is_err()) {
                        app.status = Some("no replay running in this session".into());
                    }
                }
                Effect::StartLogs { id, plan } => {
                    if let Some((stop, _)) = log_tasks.remove(&id) {
                        let _ = stop.send(());
                    }
                    // The log stream sends the session's own token; a session that never
                    // connected gets a provider of its own.
                    let tokens = handles.get(&id).map(SessionHandle::tokens).or_else(|| {
                        app.by_id(id).map(|s| {
                            std::sync::Arc::new(crate::engine::auth::TokenProvider::new(
                                s.spec.auth.clone(),
                            ))
                        })
                    });
                    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
                    let task = tokio::spawn(logs_task(id, plan, tokens, tx.clone(), stop_rx));
                    log_tasks.insert(id, (stop_tx, task));
                }
                Effect::StopLogs { id } => {
                    if let Some((stop, _)) = log_tasks.remove(&id) {
                        let _ = stop.send(());
                    }
                }
                Effect::OpenCapture(path) => {
                    let fwd = tx.clone();
                    tokio::task::spawn_blocking(move || {
                        let name = path
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_else(|| path.display().to_string());
                        let result = crate::capture::read_capture(&path)
                            .map(Box::new)
                            .map_err(|e| e.to_string());
                        let _ = fwd.blocking_send(Event::CaptureOpened { name, result });
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
                    let payload = crate::app::vars::expand(&template, &values).and_then(|text| {
                        if mode == crate::app::composer::Mode::File {
                            let path = text.trim();
                            return std::fs::read(path)
                                .map(bytes::Bytes::from)
                                .map_err(|e| format!("{path}: {e}"));
                        }
                        crate::app::composer::encode(mode, opcode, &text)
                    });
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
                Effect::SaveSnippets(snippets) => {
                    if let Some(path) = &snippets_file {
                        app.status = Some(match crate::config::snippets::save(path, &snippets) {
                            Ok(()) => format!("saved {}", path.display()),
                            Err(e) => format!("not saved: {e}"),
                        });
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
    let readers: Vec<_> = log_tasks
        .into_values()
        .map(|(stop, task)| {
            let _ = stop.send(());
            task
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(150)).await;
    // Each reader kills its child and waits for it; give them a bounded moment.
    for task in readers {
        let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
    }
    ticker.abort();
    Ok(app)
}

/// Hands one session's events to the loop, and tees them into a capture while recording: the
/// capture is written here, off the UI's path.
async fn forward(
    id: usize,
    mut events: mpsc::Receiver<SessionEvent>,
    mut control: mpsc::UnboundedReceiver<RecordCmd>,
    to_loop: mpsc::Sender<Event>,
    seen: Activity,
) {
    use crate::capture::writer::CaptureWriter;
    let mut writer: Option<CaptureWriter> = None;
    let mut started: Option<std::time::SystemTime> = None;
    let mut control_open = true;
    loop {
        tokio::select! {
            ev = events.recv() => {
                let Some(event) = ev else { break };
                if let SessionEvent::Connecting { wall, .. } = &event {
                    started.get_or_insert(*wall);
                }
                if let SessionEvent::Frames(fs) = &event
                    && fs.iter().any(|f| f.dir == crate::engine::Direction::In)
                {
                    seen.touch();
                }
                if let Some(w) = writer.as_mut() {
                    let written = w.session_event(&event).and_then(|_| if events.is_empty() { w.flush() } else { Ok(()) });
                    if let Err(e) = written {
                        writer = None;
                        let _ = to_loop.send(Event::Recording { id, path: None, error: Some(e.to_string()) }).await;
                    }
                }
                if to_loop.send(Event::Session { id, event }).await.is_err() {
                    break;
                }
            }
            cmd = control.recv(), if control_open => match cmd {
                Some(RecordCmd::Start(path, meta)) => {
                    let wall = started.unwrap_or_else(std::time::SystemTime::now);
                    let reply = match CaptureWriter::create(&path, &meta, wall) {
                        Ok(w) => {
                            writer = Some(w);
                            Event::Recording { id, path: Some(path), error: None }
                        }
                        Err(e) => Event::Recording { id, path: None, error: Some(format!("{}: {e}", path.display())) },
                    };
                    let _ = to_loop.send(reply).await;
                }
                Some(RecordCmd::Stop) => {
                    writer = None;
                    let _ = to_loop.send(Event::Recording { id, path: None, error: None }).await;
                }
                None => control_open = false,
            }
        }
    }
}

/// Sends a capture's outgoing frames into a running session with the chosen timing, reporting
/// progress to the loop; pause, resume, stop and step come on `ctl`. When done (or stopped), it
/// waits a second for the replies to settle and says so, and the update compares.
async fn replay_task(
    id: usize,
    path: PathBuf,
    (timing, step, quiet): (
        crate::cli::replay::Timing,
        bool,
        Option<(Activity, Duration)>,
    ),
    handle: SessionHandle,
    mut ctl: mpsc::UnboundedReceiver<crate::app::ReplayCtl>,
    to_loop: mpsc::Sender<Event>,
) {
    use crate::app::ReplayCtl;
    use crate::engine::{Direction, Opcode};
    let read = tokio::task::spawn_blocking({
        let path = path.clone();
        move || crate::capture::read_capture(&path)
    })
    .await;
    let cap = match read {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            let _ = to_loop
                .send(Event::ReplayFailed {
                    id,
                    error: e.to_string(),
                })
                .await;
            return;
        }
        Err(e) => {
            let _ = to_loop
                .send(Event::ReplayFailed {
                    id,
                    error: e.to_string(),
                })
                .await;
            return;
        }
    };
    let data = |f: &&crate::engine::Frame| matches!(f.opcode, Opcode::Text | Opcode::Binary);
    let out: Vec<(Duration, Opcode, bytes::Bytes)> = cap
        .frames()
        .filter(data)
        .filter(|f| f.dir == Direction::Out)
        .map(|f| (f.at, f.opcode, f.payload.clone()))
        .collect();
    let expected: Vec<crate::engine::Frame> = cap
        .frames()
        .filter(data)
        .filter(|f| f.dir == Direction::In)
        .cloned()
        .collect();
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let total = out.len();
    let _ = to_loop
        .send(Event::ReplayStarted {
            id,
            file,
            total,
            expected,
            step,
        })
        .await;
    let t0 = out.first().map(|o| o.0).unwrap_or_default();
    let mut start = tokio::time::Instant::now();
    let mut paused_at: Option<tokio::time::Instant> = None;
    let mut i = 0;
    let mut last_sent = tokio::time::Instant::now();
    while i < total {
        let due = if step || paused_at.is_some() {
            tokio::time::Instant::now() + Duration::from_secs(86400)
        } else {
            let by_time = start + timing.gap(out[i].0.saturating_sub(t0));
            match &quiet {
                // The previous frame's replies must have gone quiet first.
                Some((seen, gap)) if i > 0 => by_time.max(seen.last().max(last_sent) + *gap),
                _ => by_time,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep_until(due) => {
                // Replies may have come while we slept: look again before sending.
                if let Some((seen, gap)) = &quiet
                    && i > 0
                    && seen.last().max(last_sent) + *gap > tokio::time::Instant::now()
                {
                    continue;
                }
                let (_, opcode, payload) = out[i].clone();
                if !handle.send(SessionCommand::Send { opcode, payload }) {
                    break;
                }
                last_sent = tokio::time::Instant::now();
                i += 1;
                let _ = to_loop.send(Event::ReplayProgress { id, sent: i }).await;
            }
            c = ctl.recv() => match c {
                None | Some(ReplayCtl::Stop) => break,
                Some(ReplayCtl::Pause) => {
                    paused_at.get_or_insert_with(tokio::time::Instant::now);
                }
                Some(ReplayCtl::Resume) => {
                    // The pause does not count against the original gaps.
                    if let Some(p) = paused_at.take() {
                        start += p.elapsed();
                    }
                }
                Some(ReplayCtl::Step) => {
                    let (_, opcode, payload) = out[i].clone();
                    if !handle.send(SessionCommand::Send { opcode, payload }) {
                        break;
                    }
                    i += 1;
                    let _ = to_loop.send(Event::ReplayProgress { id, sent: i }).await;
                }
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = to_loop.send(Event::ReplayFinished { id }).await;
}

/// Longest a batch of log lines waits to fill once lines come fast, and its largest size.
const LOG_BATCH_WAIT: Duration = Duration::from_millis(40);
const LOG_BATCH_MAX: usize = 20_000;

/// Reads a session's container logs and hands them to the loop in batches.
async fn logs_task(
    id: usize,
    plan: crate::monitor::Plan,
    tokens: Option<std::sync::Arc<crate::engine::auth::TokenProvider>>,
    to_loop: mpsc::Sender<Event>,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    let (line_tx, mut line_rx) = mpsc::channel(1024);
    let fwd = to_loop.clone();
    let batcher = tokio::spawn(async move {
        while let Some(first) = line_rx.recv().await {
            // A source that floods (a `yes`, a debug-level firehose) arrives as a few large
            // batches a second rather than one event per line: the keys stay responsive, and
            // the reader waits on the pipe when the pane cannot keep up.
            let mut lines = vec![first];
            let until = tokio::time::Instant::now() + LOG_BATCH_WAIT;
            while lines.len() < LOG_BATCH_MAX {
                match line_rx.try_recv() {
                    Ok(l) => lines.push(l),
                    Err(_) if lines.len() < 64 => break,
                    Err(_) => match tokio::time::timeout_at(until, line_rx.recv()).await {
                        Ok(Some(l)) => lines.push(l),
                        _ => break,
                    },
                }
            }
            if fwd.send(Event::LogLines { id, lines }).await.is_err() {
                break;
            }
        }
    });
    let result = crate::monitor::follow(&plan, tokens, line_tx, stop).await;
    let _ = batcher.await;
    let message = match result {
        Ok(Some(0)) | Ok(None) => "the log source ended".to_string(),
        Ok(Some(code)) => format!("the log source exited with status {code}"),
        Err(e) => format!("{e}: {}", e.advice()),
    };
    let _ = to_loop.send(Event::LogsEnded { id, message }).await;
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

//! The console's state and its update: a pure function of (state, event). No I/O and no clock:
//! time arrives inside events, effects leave as values for the runtime to carry out.

pub mod command;
pub mod composer;
pub mod form;
pub mod keepalive;
pub mod keymap;
pub mod logs;
pub mod picker;
pub mod vars;

use crate::engine::close::{self, Initiator};
use crate::engine::diagnose::ConnectError;
use crate::engine::session::{CloseInfo, Handshake, SessionCommand, SessionEvent};
use crate::engine::{ConnectSpec, Direction, Opcode, Target};
use crate::filter::Filter;
use crate::store::{EventKind, FrameLog, Row, RowKind};
use crossterm::event::{KeyEvent, KeyEventKind, MouseEvent, MouseEventKind};
use keymap::{Action, action_for};
pub use logs::LogsPane;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnState {
    Idle,
    Connecting,
    Open,
    Closed {
        code: u16,
        clean: bool,
    },
    Failed(String),
    /// A capture file opened read-only.
    File,
}

impl ConnState {
    pub fn word(&self) -> String {
        match self {
            ConnState::Idle => "idle".into(),
            ConnState::Connecting => "connecting".into(),
            ConnState::Open => "open".into(),
            ConnState::Closed { code, .. } => code.to_string(),
            ConnState::Failed(_) => "failed".into(),
            ConnState::File => "file".into(),
        }
    }
}

/// A refused or failed connection, kept for the handshake view.
#[derive(Debug, Clone)]
pub struct Failure {
    pub message: String,
    pub status: Option<u16>,
    pub body: String,
    pub response_headers: Vec<(String, String)>,
    pub request: Option<(String, Vec<(String, String)>)>,
    pub advice: Vec<String>,
}

impl Failure {
    fn from(error: &ConnectError, request: Option<(String, Vec<(String, String)>)>) -> Self {
        let r = error.refusal();
        Failure {
            message: error.to_string(),
            status: r.map(|r| r.status),
            body: r.map(|r| r.body_text()).unwrap_or_default(),
            response_headers: r.map(|r| r.headers.clone()).unwrap_or_default(),
            request,
            advice: error.advice(),
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Counters {
    pub frames_in: u64,
    pub frames_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub last_activity: Option<Duration>,
}

/// One named session as the console shows it.
pub struct SessionView {
    /// Stable identity: effects and events name sessions by id, never by position.
    pub id: usize,
    /// Saved in sessions.toml (false for the demo's session, which lives only as long as the demo).
    pub saved: bool,
    pub name: String,
    pub target: String,
    pub spec: ConnectSpec,
    pub state: ConnState,
    pub log: FrameLog,
    pub counters: Counters,
    pub handshake: Option<Handshake>,
    pub failure: Option<Failure>,
    pub last_close: Option<CloseInfo>,
    /// Wall-clock time of the session's monotonic zero.
    pub started: Option<SystemTime>,
    /// Time of the last open, for the "open 00:02:13" clock.
    pub opened_at: Option<Duration>,
    /// Selected row of the log.
    pub cursor: usize,
    /// First row on screen.
    pub top: usize,
    /// Stick to the tail until the user moves up.
    pub follow: bool,
    /// Whether an actor runs for this session.
    pub running: bool,
    /// The console clock's reading when this session's actor started (its time zero).
    pub clock_base: Duration,
    /// The active filter; `visible` then lists the matching log rows scanned so far.
    pub filter: Option<Filter>,
    pub visible: Vec<usize>,
    /// Log rows the filter has looked at (the scan runs in slices between frames).
    pub scanned: usize,
    /// User-defined variables for composed frames (`:set NAME VALUE`).
    pub vars: std::collections::BTreeMap<String, String>,
    /// Frames sent from the composer, for `{{seq}}`.
    pub composed: u64,
    /// The capture this session is being recorded to.
    pub recording: Option<std::path::PathBuf>,
    /// A capture opened from a file: nothing to connect or send.
    pub read_only: bool,
    pub replay: Option<ReplayState>,
    /// The container logs pane of this session.
    pub logs: Option<logs::LogsPane>,
    /// This session's log source, when it is not the console's (`:logs SOURCE`, the demo).
    pub logs_source: Option<crate::monitor::MonitorSource>,
    /// Round trips of our pings.
    pub rtt: keepalive::Rtt,
    pub auto_reconnect: keepalive::AutoReconnect,
}

impl SessionView {
    pub fn new(name: impl Into<String>, spec: ConnectSpec) -> Self {
        SessionView {
            id: 0,
            saved: false,
            name: name.into(),
            target: spec.target.describe(),
            spec,
            state: ConnState::Idle,
            log: FrameLog::default(),
            counters: Counters::default(),
            handshake: None,
            failure: None,
            last_close: None,
            started: None,
            opened_at: None,
            cursor: 0,
            top: 0,
            follow: true,
            running: false,
            clock_base: Duration::ZERO,
            filter: None,
            visible: Vec::new(),
            scanned: 0,
            vars: Default::default(),
            composed: 0,
            recording: None,
            read_only: false,
            replay: None,
            logs: None,
            logs_source: None,
            rtt: Default::default(),
            auto_reconnect: Default::default(),
        }
    }

    /// Rows in view: the filtered ones, or the whole log.
    pub fn view_len(&self) -> usize {
        if self.filter.is_some() {
            self.visible.len()
        } else {
            self.log.len()
        }
    }

    /// Row `i` of the view.
    pub fn view_row(&self, i: usize) -> Option<&Row> {
        if self.filter.is_some() {
            self.visible.get(i).and_then(|&j| self.log.get(j))
        } else {
            self.log.get(i)
        }
    }

    /// Whether the filter still has rows to look at.
    pub fn filter_pending(&self) -> bool {
        self.filter.is_some() && self.scanned < self.log.len()
    }

    /// Look at up to `budget` more rows.
    fn scan(&mut self, budget: usize) {
        let Some(f) = &self.filter else { return };
        let end = self.log.len().min(self.scanned + budget);
        for j in self.scanned..end {
            if self.log.get(j).is_some_and(|r| f.matches(r)) {
                self.visible.push(j);
            }
        }
        self.scanned = end;
    }

    pub fn selected_row(&self) -> Option<&Row> {
        self.view_row(self.cursor)
    }

    /// The frame-log index of the selected row.
    pub fn selected_row_index(&self) -> Option<usize> {
        if self.filter.is_some() {
            self.visible.get(self.cursor).copied()
        } else {
            (self.cursor < self.log.len()).then_some(self.cursor)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Sessions,
    Frames,
    Detail,
    /// The container logs (only while the session's logs pane is shown).
    Logs,
}

/// A one-line input at the bottom of the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Filter,
    Search,
    Command,
}

/// Rows a filter scans per slice, between other events (keeps a million-row scan responsive).
pub const FILTER_SLICE: usize = 20_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    Help,
    Handshake,
    ConfirmQuit,
    ConfirmDelete,
    /// What a replay got against what its capture holds.
    Compare,
}

/// A capture being replayed into a session, and then its comparison.
#[derive(Debug, Clone)]
pub struct ReplayState {
    pub file: String,
    pub total: usize,
    pub sent: usize,
    pub paused: bool,
    pub step: bool,
    pub finished: bool,
    /// Log length when the replay started: replies are the incoming data rows after it.
    pub start_row: usize,
    /// The capture's incoming data frames, in order.
    pub expected: Vec<crate::engine::Frame>,
    pub ignore: Vec<String>,
    pub diffs: Option<Vec<crate::capture::compare::Difference>>,
    /// The console clock when it started (for the elapsed time).
    pub started_at: Duration,
}

/// Controls for a running replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayCtl {
    Pause,
    Resume,
    Stop,
    Step,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeMode {
    Relative,
    Absolute,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailView {
    /// JSON when the payload parses, hex otherwise.
    Auto,
    Hex,
    /// 16-bit PCM: level and waveform (offered for binary frames of even length).
    Pcm,
}

/// What the runtime must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Start the session's actor (connect).
    Connect(usize),
    Command(usize, SessionCommand),
    /// Put this text on the clipboard (OSC 52, works over SSH).
    Copy(String),
    /// Send a composed frame: expand its variables (the runtime supplies `now` and `uuid`), encode
    /// it in its mode, and send it.
    SendComposed {
        id: usize,
        mode: composer::Mode,
        opcode: Opcode,
        template: String,
        seq: u64,
        session_id: String,
        vars: std::collections::BTreeMap<String, String>,
    },
    /// Start (true) or stop recording session `id` to a capture file.
    Record {
        id: usize,
        on: bool,
    },
    /// Read a capture (or HAR) file and open it read-only.
    OpenCapture(std::path::PathBuf),
    /// Replay a capture's outgoing frames into session `id`.
    StartReplay {
        id: usize,
        path: std::path::PathBuf,
        timing: crate::cli::replay::Timing,
        step: bool,
        /// Send each frame only once the replies went quiet for this long.
        wait_replies: Option<Duration>,
    },
    ReplayControl {
        id: usize,
        ctl: ReplayCtl,
    },
    /// Start reading the container logs of session `id` (the runtime adds the session's tokens).
    StartLogs {
        id: usize,
        plan: crate::monitor::Plan,
    },
    StopLogs {
        id: usize,
    },
    /// Write snippets.toml with these snippets.
    SaveSnippets(Vec<crate::config::Snippet>),
    /// Write sessions.toml with these sessions.
    SaveSessions(Vec<crate::config::SavedSession>),
    /// Switch to this theme.
    SetTheme(String),
    Quit,
}

/// Everything that reaches the update.
#[derive(Debug)]
pub enum Event {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize {
        width: u16,
        height: u16,
    },
    /// An event of the session with this id (ids are stable; positions change).
    Session {
        id: usize,
        event: SessionEvent,
    },
    /// The clock, for the status bar's "open 00:02:13": session-relative times come in events.
    Tick(Duration),
    /// The runtime started session `id`'s actor when the console clock read `at`.
    Started {
        id: usize,
        at: Duration,
    },
    /// Continue background work (a filter's scan) for one slice.
    Work,
    /// Recording of session `id` started (`path`), stopped (`None`), or failed (`error`).
    Recording {
        id: usize,
        path: Option<std::path::PathBuf>,
        error: Option<String>,
    },
    /// The replay of `file` into session `id` started: `total` frames to send.
    ReplayStarted {
        id: usize,
        file: String,
        total: usize,
        expected: Vec<crate::engine::Frame>,
        step: bool,
    },
    /// `sent` frames of the replay have gone out.
    ReplayProgress {
        id: usize,
        sent: usize,
    },
    /// All sent (or stopped) and the replies went quiet: time to compare.
    ReplayFinished {
        id: usize,
    },
    ReplayFailed {
        id: usize,
        error: String,
    },
    /// Lines from a session's log source.
    LogLines {
        id: usize,
        lines: Vec<crate::monitor::LogLine>,
    },
    /// The log source ended (or could not start).
    LogsEnded {
        id: usize,
        message: String,
    },
    /// A capture file was read (or could not be).
    CaptureOpened {
        name: String,
        result: Result<Box<crate::capture::Capture>, String>,
    },
}

pub struct App {
    pub sessions: Vec<SessionView>,
    pub selected: usize,
    pub focus: Pane,
    pub overlay: Option<Overlay>,
    pub time_mode: TimeMode,
    pub detail_view: DetailView,
    pub detail_scroll: usize,
    pub wrap: bool,
    pub status: Option<String>,
    pub size: (u16, u16),
    /// Elapsed time of the selected session's clock (from ticks).
    pub now: Duration,
    pub quitting: bool,
    pub prompt: Option<Prompt>,
    /// The session form, when open (it takes every key).
    pub form: Option<form::SessionForm>,
    /// The composer (kept while closed, so its history and draft stay).
    pub composer: composer::Composer,
    /// Whether the composer is open (it takes every key but Ctrl-c).
    pub composing: bool,
    /// A picker over history, snippets or templates (it takes every key).
    pub picker: Option<picker::Picker>,
    /// Saved snippets, global and per session (snippets.toml).
    pub snippets: Vec<crate::config::Snippet>,
    /// The last search, for n/N.
    pub search: Option<String>,
    next_id: usize,
    /// Paths the next replay's comparison ignores (from `:replay FILE TIMING PATH…`).
    pending_ignore: Vec<String>,
    /// Where container logs come from (azd unless configured), and whether an abnormal close
    /// starts reading them.
    pub logs_source: crate::monitor::MonitorSource,
    pub logs_on_abnormal_close: bool,
    /// Close codes that do not start the logs (besides a clean 1000/1001).
    pub logs_quiet_codes: Vec<u16>,
}

impl App {
    pub fn new(mut sessions: Vec<SessionView>) -> Self {
        for (i, s) in sessions.iter_mut().enumerate() {
            s.id = i;
        }
        let next_id = sessions.len();
        App {
            next_id,
            sessions,
            selected: 0,
            focus: Pane::Frames,
            overlay: None,
            time_mode: TimeMode::Relative,
            detail_view: DetailView::Auto,
            detail_scroll: 0,
            wrap: false,
            status: None,
            size: (80, 24),
            now: Duration::ZERO,
            quitting: false,
            pending_ignore: Vec::new(),
            logs_source: crate::monitor::MonitorSource::Auto,
            logs_on_abnormal_close: true,
            logs_quiet_codes: Vec::new(),
            prompt: None,
            form: None,
            composer: composer::Composer::default(),
            composing: false,
            picker: None,
            snippets: Vec::new(),
            search: None,
        }
    }

    /// Whether a filter still scans (the runtime then sends `Event::Work`).
    pub fn has_work(&self) -> bool {
        self.sessions.iter().any(SessionView::filter_pending)
    }

    pub fn current(&self) -> Option<&SessionView> {
        self.sessions.get(self.selected)
    }

    fn current_mut(&mut self) -> Option<&mut SessionView> {
        self.sessions.get_mut(self.selected)
    }

    pub fn by_id(&self, id: usize) -> Option<&SessionView> {
        self.sessions.iter().find(|s| s.id == id)
    }

    pub fn by_id_mut(&mut self, id: usize) -> Option<&mut SessionView> {
        self.sessions.iter_mut().find(|s| s.id == id)
    }

    fn selected_id(&self) -> Option<usize> {
        self.current().map(|s| s.id)
    }

    /// The saved sessions as they should be on disk now.
    pub fn saved_sessions(&self) -> Vec<crate::config::SavedSession> {
        self.sessions
            .iter()
            .filter(|s| s.saved)
            .filter_map(|s| {
                let mut saved = crate::config::SavedSession::from_spec(&s.name, &s.spec).ok()?;
                saved.vars = s.vars.clone();
                saved.auto_reconnect = s.auto_reconnect.enabled;
                Some(saved)
            })
            .collect()
    }

    /// Rows of the frame log on screen (the layout's arithmetic, shared with the view).
    pub fn log_rows(&self) -> usize {
        crate::ui::layout::log_rows(self.size.0, self.size.1)
    }

    /// Lines the logs pane shows.
    pub fn logs_rows(&self) -> usize {
        crate::ui::layout::logs_rows(self.size.0, self.size.1)
    }

    /// Whether the selected session's logs pane is on screen.
    pub fn logs_shown(&self) -> bool {
        self.current()
            .and_then(|s| s.logs.as_ref())
            .is_some_and(|l| !l.hidden)
    }

    /// Whether quitting would lose something: an open connection.
    fn something_to_lose(&self) -> bool {
        self.sessions
            .iter()
            .any(|s| matches!(s.state, ConnState::Open | ConnState::Connecting))
    }
}

/// Apply one event; return what the runtime must do.
pub fn update(app: &mut App, event: Event) -> Vec<Effect> {
    match event {
        Event::Key(key) => {
            if key.kind == KeyEventKind::Release {
                return vec![];
            }
            // A status message lasts until the next key.
            app.status = None;
            if app.prompt.is_some() {
                return on_prompt_key(app, key);
            }
            if app.form.is_some() {
                return on_form_key(app, key);
            }
            if app.picker.is_some() {
                return on_picker_key(app, key);
            }
            if app.composing {
                return on_composer_key(app, key);
            }
            match action_for(key) {
                Some(a) => on_action(app, a),
                None => vec![],
            }
        }
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollDown => on_action(app, Action::Down),
            MouseEventKind::ScrollUp => on_action(app, Action::Up),
            _ => vec![],
        },
        Event::Resize { width, height } => {
            app.size = (width, height);
            let rows = app.log_rows();
            for s in &mut app.sessions {
                keep_cursor_visible(s, rows);
            }
            vec![]
        }
        Event::Tick(now) => {
            app.now = now;
            let mut effects = Vec::new();
            for s in &mut app.sessions {
                if s.auto_reconnect.take_due(now.saturating_sub(s.clock_base)) {
                    effects.push(if s.running {
                        Effect::Command(s.id, SessionCommand::Reconnect { new_id: false })
                    } else {
                        Effect::Connect(s.id)
                    });
                }
            }
            effects
        }
        Event::Recording { id, path, error } => {
            if let Some(s) = app.by_id_mut(id) {
                s.recording = path.clone();
            }
            app.status = Some(match (path, error) {
                (_, Some(e)) => format!("recording failed: {e}"),
                (Some(p), None) => format!("recording to {}", p.display()),
                (None, None) => "recording stopped".into(),
            });
            vec![]
        }
        Event::CaptureOpened { name, result } => {
            match result {
                Ok(cap) => {
                    let mut v = capture_view(&name, &cap);
                    v.id = app.next_id;
                    app.next_id += 1;
                    app.sessions.push(v);
                    app.selected = app.sessions.len() - 1;
                    app.focus = Pane::Frames;
                    let rows = app.log_rows();
                    if let Some(s) = app.current_mut() {
                        keep_cursor_visible(s, rows);
                    }
                    app.status = Some(if cap.warnings.is_empty() {
                        format!("opened {name} (read-only)")
                    } else {
                        format!(
                            "opened {name} with {} warning(s): {}",
                            cap.warnings.len(),
                            cap.warnings[0]
                        )
                    });
                }
                Err(e) => app.status = Some(e),
            }
            vec![]
        }
        Event::ReplayStarted {
            id,
            file,
            total,
            expected,
            step,
        } => {
            let mut ignore = vec!["id".to_string(), "ts".to_string()];
            ignore.append(&mut app.pending_ignore);
            let started_at = app.now;
            if let Some(s) = app.by_id_mut(id) {
                s.replay = Some(ReplayState {
                    file: file.clone(),
                    total,
                    sent: 0,
                    paused: false,
                    step,
                    finished: false,
                    start_row: s.log.len(),
                    expected,
                    ignore,
                    diffs: None,
                    started_at,
                });
            }
            app.status = Some(format!(
                "replaying {file}: {total} frames{}",
                if step {
                    " (step: ] sends the next)"
                } else {
                    ""
                }
            ));
            vec![]
        }
        Event::ReplayProgress { id, sent } => {
            if let Some(r) = app.by_id_mut(id).and_then(|s| s.replay.as_mut()) {
                r.sent = sent;
            }
            vec![]
        }
        Event::ReplayFailed { id: _, error } => {
            app.status = Some(format!("replay: {error}"));
            vec![]
        }
        Event::ReplayFinished { id } => {
            if let Some(s) = app.by_id_mut(id) {
                let got: Vec<crate::engine::Frame> = (0..s.log.len())
                    .skip(s.replay.as_ref().map(|r| r.start_row).unwrap_or(0))
                    .filter_map(|i| match &s.log.get(i)?.kind {
                        RowKind::Frame(f)
                            if f.dir == Direction::In
                                && matches!(f.opcode, Opcode::Text | Opcode::Binary) =>
                        {
                            Some(f.clone())
                        }
                        _ => None,
                    })
                    .collect();
                if let Some(r) = s.replay.as_mut() {
                    let exp: Vec<&crate::engine::Frame> = r.expected.iter().collect();
                    let g: Vec<&crate::engine::Frame> = got.iter().collect();
                    let ignore = crate::capture::compare::IgnorePaths::new(&r.ignore);
                    r.diffs = Some(crate::capture::compare::compare(&exp, &g, &ignore));
                    r.finished = true;
                    let n = r.diffs.as_ref().map_or(0, Vec::len);
                    app.status = Some(if n == 0 {
                        format!("replay of {} done: the replies match the capture", r.file)
                    } else {
                        format!("replay of {} done: {n} difference(s)", r.file)
                    });
                }
            }
            if app.current().is_some_and(|s| s.id == id) {
                app.overlay = Some(Overlay::Compare);
            }
            vec![]
        }
        Event::LogLines { id, lines } => {
            let rows = app.logs_rows();
            if let Some(l) = app.by_id_mut(id).and_then(|s| s.logs.as_mut()) {
                l.push(lines, rows);
            }
            vec![]
        }
        Event::LogsEnded { id, message } => {
            // A reader the user stopped keeps saying so.
            if let Some(l) = app
                .by_id_mut(id)
                .and_then(|s| s.logs.as_mut())
                .filter(|l| l.running)
            {
                l.running = false;
                l.message = Some(if l.lines.is_empty() && message.is_empty() {
                    "the log source printed nothing".into()
                } else {
                    message
                });
            }
            vec![]
        }
        Event::Work => {
            let rows = app.log_rows();
            for s in &mut app.sessions {
                if s.filter_pending() {
                    s.scan(FILTER_SLICE);
                    keep_cursor_visible(s, rows);
                }
            }
            vec![]
        }
        Event::Started { id, at } => {
            if let Some(s) = app.by_id_mut(id) {
                s.clock_base = at;
                s.running = true;
            }
            vec![]
        }
        Event::Session { id, event } => {
            let rows = app.log_rows();
            // An abnormal close: the frames cannot say why, the container logs can.
            let abnormal = matches!(&event, SessionEvent::Closed { info, .. }
                if !info.clean && !app.logs_quiet_codes.contains(&info.code));
            let mut effects = Vec::new();
            if abnormal
                && app.logs_on_abnormal_close
                && let Some(s) = app.sessions.iter().find(|s| s.id == id)
                && s.logs.as_ref().is_none_or(|l| !l.running)
            {
                effects = start_logs(app, id, Some(()));
            } else if abnormal && let Some(s) = app.by_id_mut(id) {
                // Already reading: Enter in the pane goes back to this newest close.
                let next_row = s.log.len();
                if let Some(l) = s.logs.as_mut() {
                    l.from_row = Some(next_row);
                }
            }
            // The automatic reconnect (when on): after a close we did not ask for, and again
            // after each attempt that fails, with a growing pause.
            let retry_at = match &event {
                SessionEvent::Closed { at, info }
                    if !info.clean && info.initiator != Initiator::Client =>
                {
                    Some(*at)
                }
                SessionEvent::Failed { at, .. } => Some(*at),
                _ => None,
            };
            let opened = matches!(&event, SessionEvent::Opened { .. });
            // Events of a deleted session find nothing and are dropped.
            if let Some(s) = app.by_id_mut(id) {
                on_session_event(s, event, rows);
                if opened {
                    s.auto_reconnect.opened();
                } else if let Some(at) = retry_at
                    && (s.auto_reconnect.attempt > 0 || !matches!(s.state, ConnState::Failed(_)))
                {
                    s.auto_reconnect.schedule(at);
                }
            }
            if let Some(s) = app.current()
                && s.id == id
            {
                match &s.state {
                    _ if s.auto_reconnect.enabled
                        && s.auto_reconnect.due.is_none()
                        && s.auto_reconnect.attempt >= keepalive::MAX_ATTEMPTS =>
                    {
                        app.status = Some(format!(
                            "{}: gave up reconnecting after {} attempts (R tries again)",
                            s.name,
                            keepalive::MAX_ATTEMPTS
                        ));
                    }
                    ConnState::Failed(msg) => {
                        app.status = Some(format!("{}: {msg} (h: details)", s.name));
                    }
                    ConnState::Closed { code, clean: false } => {
                        let ex = close::explain(*code);
                        let logs = if s.logs.is_some() { " (l: logs)" } else { "" };
                        app.status = Some(format!(
                            "{}: {code} {}{logs} — {}",
                            s.name, ex.name, ex.likely_cause
                        ));
                    }

                    _ => {}
                }
            }
            effects
        }
    }
}

fn on_action(app: &mut App, action: Action) -> Vec<Effect> {
    // Overlays take keys first.
    if let Some(ov) = app.overlay {
        match (ov, action) {
            (Overlay::ConfirmQuit, Action::Quit) => return vec![Effect::Quit],
            (Overlay::ConfirmDelete, Action::Copy) => {
                // y confirms
                app.overlay = None;
                let rows = app.log_rows();
                return run_command(app, "rm", rows);
            }
            (_, Action::QuitNow) => return vec![Effect::Quit],
            (Overlay::Help, Action::Help | Action::Quit)
            | (Overlay::Handshake, Action::Handshake | Action::Quit)
            | (_, Action::Back) => {
                app.overlay = None;
                return vec![];
            }
            (Overlay::ConfirmQuit | Overlay::ConfirmDelete, _) => {
                app.overlay = None;
                return vec![];
            }
            _ => return vec![],
        }
    }
    let rows = app.log_rows();
    match action {
        Action::QuitNow => return vec![Effect::Quit],
        Action::Quit => {
            if app.something_to_lose() {
                app.overlay = Some(Overlay::ConfirmQuit);
                return vec![];
            }
            return vec![Effect::Quit];
        }
        Action::Help => app.overlay = Some(Overlay::Help),
        Action::Filter => {
            let text = app
                .current()
                .and_then(|s| s.filter.as_ref())
                .map(|f| f.source.clone())
                .unwrap_or_default();
            app.prompt = Some(Prompt {
                kind: PromptKind::Filter,
                text,
            });
        }
        Action::AddSession if app.focus == Pane::Sessions => {
            app.form = Some(form::SessionForm::new_session());
        }
        Action::EditSession if app.focus == Pane::Frames => {
            // "new frame like this one": the selected frame into the composer.
            if let Some(Row {
                kind: RowKind::Frame(f),
                ..
            }) = app.current().and_then(SessionView::selected_row)
            {
                let (op, payload) = (f.opcode, f.payload.clone());
                app.composer.load_frame(op, &payload);
                app.composing = true;
            }
        }
        Action::Compose => app.composing = true,
        Action::ReplayStep => {
            if let Some(s) = app.current() {
                return vec![Effect::ReplayControl {
                    id: s.id,
                    ctl: ReplayCtl::Step,
                }];
            }
        }
        Action::EditSession if app.focus == Pane::Sessions => {
            if let Some(s) = app.current() {
                app.form = Some(form::SessionForm::edit(s.id, &s.name, &s.spec));
            }
        }
        Action::DeleteSession if app.focus == Pane::Sessions => {
            if app.current().is_some() {
                app.overlay = Some(Overlay::ConfirmDelete);
            }
        }
        Action::AddSession | Action::EditSession | Action::DeleteSession => {}
        Action::CommandLine => {
            app.prompt = Some(Prompt {
                kind: PromptKind::Command,
                text: String::new(),
            });
        }
        Action::Search => {
            let text = app.search.clone().unwrap_or_default();
            app.prompt = Some(Prompt {
                kind: PromptKind::Search,
                text,
            });
        }
        Action::SearchNext => search_step(app, true, rows),
        Action::ReconnectNew if app.focus != Pane::Sessions => search_step(app, false, rows),
        Action::Copy if app.focus == Pane::Logs => {
            if let Some(l) = app.current().and_then(|s| s.logs.as_ref())
                && let Some(line) = l.lines.get(l.cursor)
            {
                let text = line.text.clone();
                app.status = Some(format!(
                    "copied {} characters (OSC 52)",
                    text.chars().count()
                ));
                return vec![Effect::Copy(text)];
            }
        }
        Action::Copy => {
            if let Some(row) = app.current().and_then(SessionView::selected_row) {
                let text = match &row.kind {
                    RowKind::Frame(f) => match f.text() {
                        Some(t) => t.to_string(),
                        None => hex::encode(&f.payload),
                    },
                    RowKind::Event { text, .. } => text.clone(),
                };
                app.status = Some(format!(
                    "copied {} characters (OSC 52)",
                    text.chars().count()
                ));
                return vec![Effect::Copy(text)];
            }
        }
        Action::Handshake => app.overlay = Some(Overlay::Handshake),
        Action::Back => app.focus = Pane::Frames,
        Action::FocusNext => {
            let logs = app.logs_shown();
            app.focus = match app.focus {
                Pane::Sessions => Pane::Frames,
                Pane::Frames => Pane::Detail,
                Pane::Detail if logs => Pane::Logs,
                Pane::Detail | Pane::Logs => Pane::Sessions,
            }
        }
        Action::FocusPrev => {
            let logs = app.logs_shown();
            app.focus = match app.focus {
                Pane::Sessions if logs => Pane::Logs,
                Pane::Sessions => Pane::Detail,
                Pane::Frames => Pane::Sessions,
                Pane::Detail => Pane::Frames,
                Pane::Logs => Pane::Detail,
            }
        }
        Action::Logs => return toggle_logs(app),
        Action::ToggleTime => {
            app.time_mode = match app.time_mode {
                TimeMode::Relative => TimeMode::Absolute,
                TimeMode::Absolute => TimeMode::Relative,
            }
        }
        Action::NextView => {
            app.detail_view = match app.detail_view {
                DetailView::Auto => DetailView::Hex,
                DetailView::Hex => DetailView::Pcm,
                DetailView::Pcm => DetailView::Auto,
            };
            app.detail_scroll = 0;
        }
        Action::Wrap => app.wrap = !app.wrap,
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Top
        | Action::Bottom => move_in(app, action, rows),
        Action::Enter => match app.focus {
            Pane::Sessions => {
                let i = app.selected;
                let id = app.selected_id().unwrap_or(usize::MAX);
                app.focus = Pane::Frames;
                if let Some(s) = app.sessions.get(i) {
                    if s.read_only {
                        app.status = Some("a capture opened from a file is read-only".into());
                        return vec![];
                    }
                    if !s.running {
                        return vec![Effect::Connect(id)];
                    }
                    if matches!(s.state, ConnState::Closed { .. } | ConnState::Failed(_)) {
                        return vec![Effect::Command(
                            id,
                            SessionCommand::Reconnect { new_id: false },
                        )];
                    }
                }
            }
            Pane::Frames => {
                app.focus = Pane::Detail;
                app.detail_scroll = 0;
            }
            Pane::Detail => {}
            Pane::Logs => jump_to_close_row(app, rows),
        },
        Action::Disconnect => {
            let i = app.selected;
            let id = app.selected_id().unwrap_or(usize::MAX);
            if let Some(s) = app.sessions.get_mut(i)
                && s.auto_reconnect.cancel()
            {
                app.status = Some(format!("{}: automatic reconnect cancelled", s.name));
                return vec![];
            }
            if let Some(s) = app.sessions.get(i)
                && matches!(s.state, ConnState::Open)
            {
                return vec![Effect::Command(
                    id,
                    SessionCommand::Close {
                        code: 1000,
                        reason: String::new(),
                    },
                )];
            }
            app.status = Some("not connected".into());
        }
        Action::Reconnect | Action::ReconnectNew => {
            let i = app.selected;
            let id = app.selected_id().unwrap_or(usize::MAX);
            let new_id = action == Action::ReconnectNew;
            if let Some(s) = app.sessions.get_mut(i) {
                s.auto_reconnect.due = None;
            }
            let Some(s) = app.sessions.get(i) else {
                return vec![];
            };
            if s.read_only {
                app.status = Some("a capture opened from a file is read-only".into());
                return vec![];
            }
            if !s.running {
                if new_id && let Some(s) = app.sessions.get_mut(i) {
                    s.spec.session_id = Some(crate::engine::target::new_session_id());
                }
                return vec![Effect::Connect(id)];
            }
            app.status = Some(if new_id {
                "reconnecting with a new agent_session_id".into()
            } else {
                "reconnecting with the same agent_session_id".into()
            });
            return vec![Effect::Command(id, SessionCommand::Reconnect { new_id })];
        }
    }
    vec![]
}

fn move_in(app: &mut App, action: Action, rows: usize) {
    match app.focus {
        Pane::Sessions => {
            let n = app.sessions.len();
            if n == 0 {
                return;
            }
            app.selected = match action {
                Action::Up => app.selected.saturating_sub(1),
                Action::Down => (app.selected + 1).min(n - 1),
                Action::Top | Action::PageUp => 0,
                _ => n - 1,
            };
            app.detail_scroll = 0;
        }
        Pane::Frames => {
            let Some(s) = app.current_mut() else { return };
            let len = s.view_len();
            if len == 0 {
                return;
            }
            let page = rows.max(1);
            s.cursor = match action {
                Action::Up => s.cursor.saturating_sub(1),
                Action::Down => (s.cursor + 1).min(len - 1),
                Action::PageUp => s.cursor.saturating_sub(page),
                Action::PageDown => (s.cursor + page).min(len - 1),
                Action::Top => 0,
                _ => len - 1,
            };
            // Following resumes at the tail (G/End), and stops as soon as the user moves up.
            s.follow = s.cursor == len - 1
                && matches!(action, Action::Bottom | Action::Down | Action::PageDown);
            keep_cursor_visible(s, rows);
            app.detail_scroll = 0;
        }
        Pane::Logs => {
            let lrows = app.logs_rows();
            let m = match action {
                Action::Up => logs::Move::Up,
                Action::Down => logs::Move::Down,
                Action::PageUp => logs::Move::PageUp,
                Action::PageDown => logs::Move::PageDown,
                Action::Top => logs::Move::Top,
                _ => logs::Move::Bottom,
            };
            if let Some(l) = app.current_mut().and_then(|s| s.logs.as_mut()) {
                l.move_cursor(m, lrows);
            }
        }
        Pane::Detail => {
            app.detail_scroll = match action {
                Action::Up => app.detail_scroll.saturating_sub(1),
                Action::Down => app.detail_scroll + 1,
                Action::PageUp => app.detail_scroll.saturating_sub(rows),
                Action::PageDown => app.detail_scroll + rows,
                Action::Top => 0,
                _ => usize::MAX / 2,
            };
        }
    }
}

fn keep_cursor_visible(s: &mut SessionView, rows: usize) {
    let rows = rows.max(1);
    let len = s.view_len();
    if s.follow && len > 0 {
        s.cursor = len - 1;
    }
    if s.cursor < s.top {
        s.top = s.cursor;
    } else if s.cursor >= s.top + rows {
        s.top = s.cursor + 1 - rows;
    }
    s.top = s.top.min(len.saturating_sub(rows));
}

fn on_session_event(s: &mut SessionView, event: SessionEvent, rows: usize) {
    match event {
        SessionEvent::Connecting {
            at,
            wall,
            url,
            session_id,
        } => {
            s.running = true;
            if s.started.is_none() {
                s.started = Some(wall);
            }
            s.state = ConnState::Connecting;
            s.failure = None;
            // A reconnect with a new id on purpose: the view follows the actor.
            if session_id.is_some() {
                s.spec.session_id = session_id.clone();
            }
            let id = session_id
                .map(|i| format!(" · agent_session_id {i}"))
                .unwrap_or_default();
            s.log.push(Row {
                at,
                kind: RowKind::Event {
                    kind: EventKind::Connecting,
                    text: format!("connecting {url}{id}"),
                },
            });
        }
        SessionEvent::Opened { at, handshake } => {
            s.state = ConnState::Open;
            s.opened_at = Some(at);
            let extra = handshake
                .platform_session_id
                .as_ref()
                .map(|p| format!(" · platform session {p}"))
                .unwrap_or_default();
            s.log.push(Row {
                at,
                kind: RowKind::Event {
                    kind: EventKind::Open,
                    text: format!("open · HTTP {}{extra}", handshake.status),
                },
            });
            s.handshake = Some(handshake);
            s.last_close = None;
        }
        SessionEvent::Frames(frames) => {
            for f in frames {
                let n = f.payload.len() as u64;
                match f.dir {
                    Direction::In => {
                        s.counters.frames_in += 1;
                        s.counters.bytes_in += n;
                    }
                    Direction::Out => {
                        s.counters.frames_out += 1;
                        s.counters.bytes_out += n;
                    }
                }
                s.counters.last_activity = Some(f.at);
                if matches!(f.opcode, Opcode::Ping | Opcode::Pong) {
                    s.rtt.observe(&f);
                }
                s.log.push(Row {
                    at: f.at,
                    kind: RowKind::Frame(f),
                });
            }
        }
        SessionEvent::Closed { at, info } => {
            s.state = ConnState::Closed {
                code: info.code,
                clean: info.clean,
            };
            let ex = close::explain(info.code);
            let by = match info.initiator {
                Initiator::Client => "closed by wsdeck",
                Initiator::Server => "closed by the server",
                Initiator::Transport => "no close frame",
            };
            let reason = if info.reason.is_empty() {
                String::new()
            } else {
                format!(" · {:?}", info.reason)
            };
            let clean = if info.clean { "clean" } else { "not clean" };
            s.log.push(Row {
                at,
                kind: RowKind::Event {
                    kind: EventKind::Close {
                        code: info.code,
                        clean: info.clean,
                    },
                    text: format!(
                        "{} {}{reason} · {by} · {clean} · {}",
                        info.code, ex.name, ex.likely_cause
                    ),
                },
            });
            s.last_close = Some(info);
        }
        SessionEvent::Failed { at, error, request } => {
            let f = Failure::from(&error, request);
            s.state = ConnState::Failed(f.message.clone());
            s.log.push(Row {
                at,
                kind: RowKind::Event {
                    kind: EventKind::Error,
                    text: f.message.clone(),
                },
            });
            s.failure = Some(f);
        }
        SessionEvent::Warning { at, message } => {
            s.log.push(Row {
                at,
                kind: RowKind::Event {
                    kind: EventKind::Warning,
                    text: message,
                },
            });
        }
        SessionEvent::Ended => {
            s.running = false;
        }
    }
    // A filter that has caught up takes new rows as they come; one still scanning gets them later.
    if s.filter.is_some() && s.log.len() - s.scanned <= FILTER_SLICE {
        s.scan(FILTER_SLICE);
    }
    keep_cursor_visible(s, rows);
}

fn on_prompt_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    use crossterm::event::{KeyCode, KeyModifiers};
    let Some(p) = app.prompt.as_mut() else {
        return vec![];
    };
    match key.code {
        KeyCode::Esc => app.prompt = None,
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            return vec![Effect::Quit];
        }
        KeyCode::Backspace => {
            p.text.pop();
        }
        KeyCode::Char(c) => p.text.push(c),
        KeyCode::Enter => {
            let Prompt { kind, text } = p.clone();
            app.prompt = None;
            let rows = app.log_rows();
            match kind {
                PromptKind::Filter => apply_filter(app, &text, rows),
                PromptKind::Command => return run_command(app, &text, rows),
                PromptKind::Search => {
                    if text.trim().is_empty() {
                        app.search = None;
                    } else {
                        app.search = Some(text);
                        search_step(app, true, rows);
                    }
                }
            }
        }
        _ => {}
    }
    vec![]
}

fn apply_filter(app: &mut App, text: &str, rows: usize) {
    let Some(s) = app.sessions.get_mut(app.selected) else {
        return;
    };
    if text.trim().is_empty() {
        s.filter = None;
        s.visible.clear();
        s.scanned = 0;
        s.follow = true;
        keep_cursor_visible(s, rows);
        app.status = Some("filter cleared".into());
        return;
    }
    match Filter::parse(text) {
        Ok(f) => {
            s.filter = Some(f);
            s.visible.clear();
            s.scanned = 0;
            s.cursor = 0;
            s.top = 0;
            s.follow = true;
            s.scan(FILTER_SLICE);
            keep_cursor_visible(s, rows);
        }
        Err(e) => app.status = Some(format!("filter not applied: {e}")),
    }
}

/// Move the cursor to the next (or previous) row in view that contains the search text.
fn search_step(app: &mut App, forward: bool, rows: usize) {
    let Some(needle) = app.search.clone().map(|n| n.to_lowercase()) else {
        app.status = Some("no search yet: / to search".into());
        return;
    };
    if app.focus == Pane::Logs {
        let lrows = app.logs_rows();
        let Some(l) = app.current_mut().and_then(|s| s.logs.as_mut()) else {
            return;
        };
        app.status = Some(match l.find(&needle, forward) {
            Some(i) => {
                l.select(i, lrows);
                format!("/{needle}: log line {} of {}", i + 1, l.lines.len())
            }
            None => format!("/{needle}: no match in the logs"),
        });
        return;
    }
    let Some(s) = app.sessions.get_mut(app.selected) else {
        return;
    };
    let len = s.view_len();
    if len == 0 {
        return;
    }
    let hit = |row: &Row| match &row.kind {
        RowKind::Frame(f) => String::from_utf8_lossy(&f.payload)
            .to_lowercase()
            .contains(&needle),
        RowKind::Event { text, .. } => text.to_lowercase().contains(&needle),
    };
    let found = (1..=len)
        .map(|k| {
            if forward {
                (s.cursor + k) % len
            } else {
                (s.cursor + len - k) % len
            }
        })
        .find(|&i| s.view_row(i).is_some_and(hit));
    match found {
        Some(i) => {
            s.cursor = i;
            s.follow = false;
            keep_cursor_visible(s, rows);
            app.status = Some(format!("/{needle}: row {} of {len}", i + 1));
        }
        None => app.status = Some(format!("/{needle}: no match")),
    }
}

/// The opcode word shown in the log for a row.
pub fn opcode_word(op: Opcode) -> &'static str {
    op.as_str()
}

fn unique_name(app: &App, name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("a session needs a name".into());
    }
    if app.sessions.iter().any(|s| s.name == name) {
        return Err(format!("a session named {name:?} exists already"));
    }
    Ok(name.to_string())
}

fn save(app: &App) -> Vec<Effect> {
    vec![Effect::SaveSessions(app.saved_sessions())]
}

/// Run a `:` command; problems go to the status bar and change nothing.
fn run_command(app: &mut App, line: &str, rows: usize) -> Vec<Effect> {
    use command::ConsoleCommand as C;
    let cmd = match command::parse(line) {
        Ok(c) => c,
        Err(e) => {
            app.status = Some(e);
            return vec![];
        }
    };
    let settings = crate::config::Settings::default();
    match cmd {
        C::Add { name, target } => {
            let name = match unique_name(app, &name) {
                Ok(n) => n,
                Err(e) => {
                    app.status = Some(e);
                    return vec![];
                }
            };
            let mut spec = match crate::cli::target::resolve(&target, None, &settings) {
                Ok(r) => r.spec,
                Err(e) => {
                    app.status = Some(format!("not added: {e:#}"));
                    return vec![];
                }
            };
            if spec.session_id.is_none() {
                spec.session_id = Some(crate::engine::target::new_session_id());
            }
            if let Err(e) = crate::config::SavedSession::from_spec(&name, &spec) {
                app.status = Some(format!("not added: {e}"));
                return vec![];
            }
            let mut v = SessionView::new(name.clone(), spec);
            v.id = app.next_id;
            v.saved = true;
            app.next_id += 1;
            app.sessions.push(v);
            app.selected = app.sessions.len() - 1;
            app.focus = Pane::Sessions;
            save(app)
        }
        C::Edit { target } => {
            let Some(cur) = app.current() else {
                return vec![];
            };
            let (running, old_id, name) =
                (cur.running, cur.spec.session_id.clone(), cur.name.clone());
            if running {
                app.status = Some("disconnect first (x), then :edit".into());
                return vec![];
            }
            let mut spec = match crate::cli::target::resolve(&target, None, &settings) {
                Ok(r) => r.spec,
                Err(e) => {
                    app.status = Some(format!("not changed: {e:#}"));
                    return vec![];
                }
            };
            if target.session_id.is_none() && !target.new_session_id {
                spec.session_id = old_id;
            }
            if let Err(e) = crate::config::SavedSession::from_spec(&name, &spec) {
                app.status = Some(format!("not changed: {e}"));
                return vec![];
            }
            if let Some(s) = app.current_mut() {
                s.target = spec.target.describe();
                s.spec = spec;
            }
            save(app)
        }
        C::Rename { name } => {
            let name = match unique_name(app, &name) {
                Ok(n) => n,
                Err(e) => {
                    app.status = Some(e);
                    return vec![];
                }
            };
            if let Some(s) = app.current_mut() {
                s.name = name;
            }
            save(app)
        }
        C::Dup { name } => {
            let name = match unique_name(app, &name) {
                Ok(n) => n,
                Err(e) => {
                    app.status = Some(e);
                    return vec![];
                }
            };
            let Some(cur) = app.current() else {
                return vec![];
            };
            let mut spec = cur.spec.clone();
            spec.session_id = Some(crate::engine::target::new_session_id());
            let mut v = SessionView::new(name, spec);
            v.id = app.next_id;
            v.saved = true;
            app.next_id += 1;
            app.sessions.insert(app.selected + 1, v);
            app.selected += 1;
            save(app)
        }
        C::Rm => {
            if app.sessions.is_empty() {
                return vec![];
            }
            let s = app.sessions.remove(app.selected);
            app.selected = app.selected.min(app.sessions.len().saturating_sub(1));
            app.status = Some(format!("deleted session {:?}", s.name));
            let mut out = Vec::new();
            if s.running {
                out.push(Effect::Command(s.id, SessionCommand::Shutdown));
            }
            if s.logs.as_ref().is_some_and(|l| l.running) {
                out.push(Effect::StopLogs { id: s.id });
            }
            if s.saved {
                out.extend(save(app));
            }
            out
        }
        C::Connect => {
            app.focus = Pane::Sessions;
            on_action(app, Action::Enter)
        }
        C::Disconnect => on_action(app, Action::Disconnect),
        C::Reconnect { new_id } => {
            let focus = app.focus;
            app.focus = Pane::Sessions;
            let out = on_action(
                app,
                if new_id {
                    Action::ReconnectNew
                } else {
                    Action::Reconnect
                },
            );
            app.focus = focus;
            out
        }
        C::Filter { expr } => {
            apply_filter(app, &expr.join(" "), rows);
            vec![]
        }
        C::Search { text } => {
            app.search = Some(text.join(" "));
            search_step(app, true, rows);
            vec![]
        }
        C::Set { name, value } => {
            let ok =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok || ["session_id", "uuid", "now", "seq"].contains(&name.as_str()) {
                app.status = Some(format!(
                    "{name:?}: a variable name is letters, digits and _, and not a built-in"
                ));
                return vec![];
            }
            let Some(s) = app.current_mut() else {
                return vec![];
            };
            s.vars.insert(name.clone(), value.join(" "));
            let saved = s.saved;
            app.status = Some(format!("{{{{{name}}}}} set"));
            if saved { save(app) } else { vec![] }
        }
        C::Unset { name } => {
            let Some(s) = app.current_mut() else {
                return vec![];
            };
            s.vars.remove(&name);
            let saved = s.saved;
            if saved { save(app) } else { vec![] }
        }
        C::Record { state } => {
            let Some(s) = app.current() else {
                return vec![];
            };
            if s.read_only {
                app.status = Some("a capture opened from a file is already a recording".into());
                return vec![];
            }
            let on = match state.as_deref() {
                Some("on") => true,
                Some("off") => false,
                None => s.recording.is_none(),
                Some(other) => {
                    app.status = Some(format!(":record {other}: on or off"));
                    return vec![];
                }
            };
            vec![Effect::Record { id: s.id, on }]
        }
        C::Open { path } => vec![Effect::OpenCapture(path.into())],
        C::Replay {
            what,
            timing,
            ignore,
        } => {
            let Some(s) = app.current() else {
                return vec![];
            };
            let id = s.id;
            let ctl = match what.as_str() {
                "pause" => Some(ReplayCtl::Pause),
                "resume" => Some(ReplayCtl::Resume),
                "stop" => Some(ReplayCtl::Stop),
                "step" => Some(ReplayCtl::Step),
                _ => None,
            };
            if let Some(ctl) = ctl {
                return vec![Effect::ReplayControl { id, ctl }];
            }
            if !matches!(s.state, ConnState::Open) {
                app.status = Some(format!(
                    "{} is not open: connect first, then :replay FILE",
                    s.name
                ));
                return vec![];
            }
            let step = timing.as_deref() == Some("step");
            let wait_replies =
                (timing.as_deref() == Some("wait")).then(|| Duration::from_millis(500));
            let timing = match timing.as_deref() {
                None | Some("step") => crate::cli::replay::Timing::Original,
                Some("wait") => crate::cli::replay::Timing::Fast,
                Some(t) => match crate::cli::replay::Timing::parse(t) {
                    Ok(t) => t,
                    Err(e) => {
                        app.status = Some(e.to_string());
                        return vec![];
                    }
                },
            };
            // Applied when the replay starts; kept for the comparison.
            app.pending_ignore = ignore;
            vec![Effect::StartReplay {
                id,
                path: what.into(),
                timing,
                step,
                wait_replies,
            }]
        }
        C::Snip {
            action,
            name,
            global,
        } => snip_command(app, &action, name, global),
        C::Like { kind } => {
            open_templates(app, kind);
            vec![]
        }
        C::Logs { what } => {
            let Some(id) = app.selected_id() else {
                return vec![];
            };
            // The words were split like a shell would; a command template needs them back.
            let what = (!what.is_empty()).then(|| {
                shlex::try_join(what.iter().map(String::as_str)).unwrap_or_else(|_| what.join(" "))
            });
            match what.as_deref() {
                Some("stop") => {
                    if let Some(l) = app.by_id_mut(id).and_then(|s| s.logs.as_mut()) {
                        l.running = false;
                        l.message = Some("stopped (:logs starts it again)".into());
                    }
                    vec![Effect::StopLogs { id }]
                }
                None | Some("start") => start_logs(app, id, None),
                Some(src) => match crate::monitor::MonitorSource::parse(src) {
                    Ok(source) => {
                        if let Some(s) = app.by_id_mut(id) {
                            s.logs_source = Some(source);
                        }
                        start_logs(app, id, None)
                    }
                    Err(e) => {
                        app.status = Some(e.to_string());
                        vec![]
                    }
                },
            }
        }
        C::Ping { every } => {
            let every = match every.as_str() {
                "off" | "0" => None,
                n => match n.trim_end_matches('s').parse::<f64>() {
                    Ok(v) if v.is_finite() && v > 0.0 => Some(Duration::from_secs_f64(v.max(0.1))),
                    _ => {
                        app.status = Some(format!("{every:?}: :ping SECS or :ping off"));
                        return vec![];
                    }
                },
            };
            let Some(s) = app.current_mut() else {
                return vec![];
            };
            s.spec.ping_interval = every;
            let (id, running, saved) = (s.id, s.running, s.saved);
            app.status = Some(match every {
                Some(d) => format!(
                    "keepalive ping every {:.1} s (round trips on the pong rows; :pings hide hides them)",
                    d.as_secs_f64()
                ),
                None => "keepalive pings off".into(),
            });
            let mut effects = Vec::new();
            if running {
                effects.push(Effect::Command(id, SessionCommand::Keepalive(every)));
            }
            if saved {
                effects.extend(save(app));
            }
            effects
        }
        C::Pings { what } => {
            let current = app
                .current()
                .and_then(|s| s.filter.as_ref().map(|f| f.source.clone()))
                .unwrap_or_default();
            let others: Vec<&str> = current
                .split(' ')
                .filter(|w| *w != "-ping" && !w.is_empty())
                .collect();
            // A jq expression runs to the end of the filter: the term goes in front.
            let text = match what.as_str() {
                "hide" => std::iter::once("-ping")
                    .chain(others)
                    .collect::<Vec<_>>()
                    .join(" "),
                "show" => others.join(" "),
                _ => {
                    app.status = Some(":pings hide or :pings show".into());
                    return vec![];
                }
            };
            apply_filter(app, &text, rows);
            vec![]
        }
        C::Autoreconnect { state } => {
            let on = match state.as_str() {
                "on" | "true" | "yes" => true,
                "off" | "false" | "no" => false,
                _ => {
                    app.status = Some(":autoreconnect on or :autoreconnect off".into());
                    return vec![];
                }
            };
            let Some(s) = app.current_mut() else {
                return vec![];
            };
            s.auto_reconnect.enabled = on;
            if !on {
                s.auto_reconnect.cancel();
            }
            let saved = s.saved;
            app.status = Some(if on {
                format!(
                    "automatic reconnect on: after an abnormal close, with backoff 1 s … 30 s, {} attempts; x cancels a countdown",
                    keepalive::MAX_ATTEMPTS
                )
            } else {
                "automatic reconnect off".into()
            });
            if saved { save(app) } else { vec![] }
        }
        C::Compare => {
            if app.current().and_then(|s| s.replay.as_ref()).is_some() {
                app.overlay = Some(Overlay::Compare);
            } else {
                app.status = Some("no replay in this session yet: :replay FILE".into());
            }
            vec![]
        }
        C::Theme { name } => vec![Effect::SetTheme(name)],
        C::Quit => on_action(app, Action::Quit),
    }
}

fn on_form_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    use crossterm::event::{KeyCode, KeyModifiers};
    let Some(f) = app.form.as_mut() else {
        return vec![];
    };
    let field = form::FIELDS[f.focus];
    match key.code {
        KeyCode::Esc => app.form = None,
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            return vec![Effect::Quit];
        }
        KeyCode::Tab | KeyCode::Down => f.focus = (f.focus + 1) % form::FIELDS.len(),
        KeyCode::BackTab | KeyCode::Up => {
            f.focus = (f.focus + form::FIELDS.len() - 1) % form::FIELDS.len()
        }
        KeyCode::Left | KeyCode::Right | KeyCode::Char(' ') if field == "kind" => f.cycle_kind(),
        KeyCode::Char(_) if field == "kind" => f.cycle_kind(),
        KeyCode::Backspace => {
            f.values[f.focus].pop();
        }
        KeyCode::Char(c) => f.values[f.focus].push(c),
        KeyCode::Enter => {
            let (name, spec) = match f.build() {
                Ok(v) => v,
                Err(e) => {
                    f.error = Some(e);
                    return vec![];
                }
            };
            let editing = f.editing;
            let taken = app
                .sessions
                .iter()
                .any(|s| s.name == name && Some(s.id) != editing);
            if taken {
                if let Some(f) = app.form.as_mut() {
                    f.error = Some(format!("name: a session named {name:?} exists already"));
                }
                return vec![];
            }
            app.form = None;
            match editing.and_then(|id| app.sessions.iter().position(|s| s.id == id)) {
                Some(i) => {
                    if app.sessions[i].running {
                        app.status = Some("saved; the change applies at the next connect".into());
                    }
                    let s = &mut app.sessions[i];
                    s.name = name;
                    s.target = spec.target.describe();
                    s.spec = spec;
                    s.saved = true;
                }
                None => {
                    let mut v = SessionView::new(name, spec);
                    v.id = app.next_id;
                    v.saved = true;
                    app.next_id += 1;
                    app.sessions.push(v);
                    app.selected = app.sessions.len() - 1;
                }
            }
            return save(app);
        }
        _ => {}
    }
    vec![]
}

fn on_composer_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    use crossterm::event::{KeyCode, KeyModifiers};
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Esc => app.composing = false,
        KeyCode::Char('c') if ctrl => return vec![Effect::Quit],
        KeyCode::Char('t') if ctrl => app.composer.toggle_opcode(),
        KeyCode::Char('k') if ctrl => app.composer.cycle_control(),
        KeyCode::Char('r') if ctrl => open_history(app),
        KeyCode::Char('f') if ctrl => app.composer.reformat(),
        KeyCode::Char('o') if ctrl => app.composer.cycle_mode(),
        KeyCode::Char('p') if ctrl => app.composer.history_step(true),
        KeyCode::Char('n') if ctrl => app.composer.history_step(false),
        KeyCode::Char('s') if ctrl => {
            let Some(s) = app.current() else {
                app.status = Some("no session to send to".into());
                return vec![];
            };
            if !matches!(s.state, ConnState::Open) {
                app.status = Some(format!("{} is not open: connect first", s.name));
                return vec![];
            }
            let id = s.id;
            let vars = s.vars.clone();
            let session_id = s.spec.session_id.clone().unwrap_or_default();
            match app.composer.check(&vars) {
                Ok(_) => {
                    let (mode, opcode, template) =
                        (app.composer.mode, app.composer.send_as, app.composer.text());
                    app.composer.sent();
                    let seq = match app.current_mut() {
                        Some(s) => {
                            s.composed += 1;
                            s.composed
                        }
                        None => 0,
                    };
                    return vec![Effect::SendComposed {
                        id,
                        mode,
                        opcode,
                        template,
                        seq,
                        session_id,
                        vars,
                    }];
                }
                Err(e) => app.status = Some(format!("not sent: {e}")),
            }
        }
        _ => {
            app.composer.editor.input(key);
        }
    }
    vec![]
}

/// A read-only session holding a capture's frames and events.
fn capture_view(name: &str, cap: &crate::capture::Capture) -> SessionView {
    use crate::capture::Entry;
    let url = cap
        .header
        .as_ref()
        .and_then(|h| h.get("target"))
        .and_then(|t| t.get("url"))
        .and_then(|u| u.as_str())
        .and_then(|u| Target::url(u).ok())
        .unwrap_or(Target::Url {
            url: "ws://capture/".into(),
        });
    let mut v = SessionView::new(name, crate::engine::ConnectSpec::new(url));
    v.read_only = true;
    v.state = ConnState::File;
    v.target = format!("capture {name}");
    for e in &cap.entries {
        match e {
            Entry::Frame(f) => {
                let n = f.payload.len() as u64;
                match f.dir {
                    Direction::In => {
                        v.counters.frames_in += 1;
                        v.counters.bytes_in += n;
                    }
                    Direction::Out => {
                        v.counters.frames_out += 1;
                        v.counters.bytes_out += n;
                    }
                }
                v.log.push(Row {
                    at: f.at,
                    kind: RowKind::Frame(f.clone()),
                });
            }
            Entry::Event { at, kind, fields } => {
                let get = |k: &str| fields.get(k).cloned().unwrap_or(serde_json::Value::Null);
                let (ek, text) = match kind.as_str() {
                    "close" => {
                        let code = get("code").as_u64().unwrap_or(0) as u16;
                        let clean = get("clean").as_bool().unwrap_or(false);
                        let ex = close::explain(code);
                        (
                            EventKind::Close { code, clean },
                            format!(
                                "{code} {} · by {} · {}",
                                ex.name,
                                get("by").as_str().unwrap_or("?"),
                                ex.likely_cause
                            ),
                        )
                    }
                    "open" => (EventKind::Open, format!("open · HTTP {}", get("status"))),
                    "connecting" => (
                        EventKind::Connecting,
                        format!("connecting {}", get("url").as_str().unwrap_or("")),
                    ),
                    "error" => (
                        EventKind::Error,
                        get("message").as_str().unwrap_or("error").to_string(),
                    ),
                    _ => (
                        EventKind::Warning,
                        format!("{kind} {}", serde_json::Value::Object(fields.clone())),
                    ),
                };
                v.log.push(Row {
                    at: *at,
                    kind: RowKind::Event { kind: ek, text },
                });
            }
        }
    }
    v
}

fn on_picker_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    use crossterm::event::{KeyCode, KeyModifiers};
    let Some(p) = app.picker.as_mut() else {
        return vec![];
    };
    match key.code {
        KeyCode::Esc => app.picker = None,
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            return vec![Effect::Quit];
        }
        KeyCode::Up => p.selected = p.selected.saturating_sub(1),
        KeyCode::Down => p.selected = (p.selected + 1).min(p.visible().len().saturating_sub(1)),
        KeyCode::Backspace => {
            p.query.pop();
            p.selected = 0;
        }
        KeyCode::Char(c) => {
            p.query.push(c);
            p.selected = 0;
        }
        KeyCode::Enter => {
            if let Some(item) = p.chosen().cloned() {
                app.composer.set_text(item.mode, &item.text);
                app.composing = true;
            }
            app.picker = None;
        }
        _ => {}
    }
    vec![]
}

fn open_history(app: &mut App) {
    let items = app
        .composer
        .history
        .iter()
        .rev()
        .map(|(mode, text)| picker::Item {
            label: text
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(80)
                .collect(),
            mode: *mode,
            text: text.clone(),
        })
        .collect();
    app.picker = Some(picker::Picker::new("History (newest first)", items));
}

/// A template for each message type seen in the selected session: the last frame of each
/// discriminator value (`:like` lists them, `:like TYPE` loads one at once). Looks at the last
/// 50 000 rows, so a huge log does not stall the screen.
fn open_templates(app: &mut App, kind: Option<String>) {
    let Some(s) = app.current() else { return };
    let mut seen: Vec<(String, Direction, Vec<u8>, usize)> = Vec::new();
    let start = s.log.len().saturating_sub(50_000);
    for i in start..s.log.len() {
        let Some(Row {
            kind: RowKind::Frame(f),
            ..
        }) = s.log.get(i)
        else {
            continue;
        };
        if f.opcode != Opcode::Text || f.payload.len() > 64 * 1024 {
            continue;
        }
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&f.payload) else {
            continue;
        };
        let Some((_, d)) = crate::decode::json::discriminator(&v) else {
            continue;
        };
        match seen.iter_mut().find(|x| x.0 == d && x.1 == f.dir) {
            Some(x) => {
                x.2 = f.payload.to_vec();
                x.3 += 1;
            }
            None => seen.push((d, f.dir, f.payload.to_vec(), 1)),
        }
    }
    let items: Vec<picker::Item> = seen
        .into_iter()
        .map(|(d, dir, payload, n)| {
            let pretty = serde_json::from_slice::<serde_json::Value>(&payload)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_default();
            picker::Item {
                label: format!(
                    "{d}  ({}, {n}×)",
                    if dir == Direction::Out {
                        "sent"
                    } else {
                        "received"
                    }
                ),
                mode: composer::Mode::Json,
                text: pretty,
            }
        })
        .collect();
    if items.is_empty() {
        app.status = Some("no JSON message with a type field in this session yet".into());
        return;
    }
    let mut p = picker::Picker::new("New frame like… (message types seen)", items);
    if let Some(k) = kind {
        p.query = k;
        if let Some(item) = p.chosen().cloned() {
            app.composer.set_text(item.mode, &item.text);
            app.composing = true;
            return;
        }
        app.status = Some(format!("no message type like {:?} seen yet", p.query));
        return;
    }
    app.picker = Some(p);
}

fn snip_command(app: &mut App, action: &str, name: Option<String>, global: bool) -> Vec<Effect> {
    let session = app.current().map(|s| s.name.clone());
    match (action, name) {
        ("save", Some(name)) => {
            let text = app.composer.text();
            if text.trim().is_empty() {
                app.status = Some("the composer is empty: write the frame first".into());
                return vec![];
            }
            let owner = if global { None } else { session };
            app.snippets
                .retain(|s| !(s.name == name && s.session == owner));
            app.snippets.push(crate::config::Snippet {
                name: name.clone(),
                mode: picker::mode_name(app.composer.mode).into(),
                text,
                session: owner.clone(),
            });
            app.status = Some(format!(
                "snippet {name:?} saved ({})",
                owner
                    .map(|o| format!("session {o}"))
                    .unwrap_or_else(|| "global".into())
            ));
            vec![Effect::SaveSnippets(app.snippets.clone())]
        }
        ("rm", Some(name)) => {
            let before = app.snippets.len();
            app.snippets
                .retain(|s| !(s.name == name && (s.session.is_none() || s.session == session)));
            if app.snippets.len() == before {
                app.status = Some(format!("no snippet {name:?}"));
                return vec![];
            }
            vec![Effect::SaveSnippets(app.snippets.clone())]
        }
        ("list", _) | ("", _) => {
            let items: Vec<picker::Item> = app
                .snippets
                .iter()
                .filter(|s| s.session.is_none() || s.session == session)
                .map(|s| picker::Item {
                    label: format!(
                        "{}  ({}{})",
                        s.name,
                        s.mode,
                        if s.session.is_some() {
                            ", this session"
                        } else {
                            ""
                        }
                    ),
                    mode: picker::mode_from(&s.mode),
                    text: s.text.clone(),
                })
                .collect();
            app.picker = Some(picker::Picker::new("Snippets", items));
            vec![]
        }
        (other, _) => {
            // `:snip NAME` loads it at once.
            let found = app
                .snippets
                .iter()
                .filter(|s| s.name == other)
                .max_by_key(|s| s.session == session)
                .cloned();
            match found {
                Some(s) => {
                    app.composer.set_text(picker::mode_from(&s.mode), &s.text);
                    app.composing = true;
                }
                None => app.status = Some(format!("no snippet {other:?} (:snip lists them)")),
            }
            vec![]
        }
    }
}

/// The source that reads session `id`'s logs, and the pane that shows them.
fn start_logs(app: &mut App, id: usize, at_close: Option<()>) -> Vec<Effect> {
    let default = app.logs_source.clone();
    let rows = app.logs_rows();
    let Some(s) = app.by_id_mut(id) else {
        return vec![];
    };
    let source = s.logs_source.clone().unwrap_or(default);
    let req = crate::monitor::MonitorRequest::for_spec(
        &s.spec,
        s.handshake
            .as_ref()
            .and_then(|h| h.platform_session_id.clone()),
    );
    let from_row = match at_close {
        // Called before the close's row is added: it will be the next one.
        Some(()) => Some(s.log.len()),
        None => s.logs.as_ref().and_then(|l| l.from_row),
    };
    let mut pane = LogsPane {
        from_row,
        ..Default::default()
    };
    if req.session_id.is_empty() {
        pane.message = Some("no agent_session_id to read the logs for".into());
        s.logs = Some(pane);
        return vec![];
    }
    let effects = match crate::monitor::plan(&source, &req) {
        Ok(plan) => {
            pane.source = plan.describe();
            pane.running = true;
            vec![Effect::StartLogs { id, plan }]
        }
        Err(e) => {
            pane.message = Some(format!("{e}: {}", e.advice()));
            vec![]
        }
    };
    pane.keep_visible(rows);
    s.logs = Some(pane);
    effects
}

/// `l`: show the logs pane (starting a reader when there is none) and focus it, or hide it.
fn toggle_logs(app: &mut App) -> Vec<Effect> {
    let Some(id) = app.selected_id() else {
        return vec![];
    };
    let rows = app.logs_rows();
    let focus = app.focus;
    let Some(s) = app.by_id_mut(id) else {
        return vec![];
    };
    let selected = s.selected_row_index();
    let read_only = s.read_only;
    let mut effects = vec![];
    match s.logs.as_mut() {
        Some(l) if !l.hidden && focus == Pane::Logs => {
            l.hidden = true;
            app.focus = Pane::Frames;
            return effects;
        }
        Some(l) => {
            l.hidden = false;
            // From the close row, land where the crash story starts.
            if l.from_row.is_some()
                && selected == l.from_row
                && let Some(i) = l.first_error()
            {
                l.select(i, rows);
            }
        }
        None if read_only => {
            app.status = Some("a capture opened from a file has no live logs".into());
            return effects;
        }
        None => effects = start_logs(app, id, None),
    }
    app.focus = Pane::Logs;
    effects
}

/// Enter in the logs pane: back to the close that started it, in the frame log.
fn jump_to_close_row(app: &mut App, rows: usize) {
    let Some(s) = app.current_mut() else { return };
    let Some(row) = s.logs.as_ref().and_then(|l| l.from_row) else {
        app.status = Some("these logs were started by hand, not by a close".into());
        return;
    };
    let mut cleared = false;
    let pos = if s.filter.is_some() {
        match s.visible.binary_search(&row) {
            Ok(p) => p,
            Err(_) => {
                // The close is filtered out: show everything rather than land elsewhere.
                s.filter = None;
                s.visible.clear();
                s.scanned = 0;
                cleared = true;
                row
            }
        }
    } else {
        row
    };
    if pos < s.view_len() {
        s.cursor = pos;
        s.follow = false;
        keep_cursor_visible(s, rows);
        app.focus = Pane::Frames;
        app.detail_scroll = 0;
    }
    if cleared {
        app.status = Some("filter cleared to show the close".into());
    }
}

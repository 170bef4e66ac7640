//! One session as the console holds it: where it connects, its connection state, its frame log
//! with the view over it, counters, and what a failure or close said. One ingest serves live
//! frames and frames read from a capture, so both count the same way.

use crate::app::container_logs::ContainerLogs;
use crate::app::frames::FrameView;
use crate::app::reconnect::AutoReconnect;
use crate::app::replay::ReplayState;
use crate::app::vocab::VocabPane;
use crate::engine::close::{self, Initiator};
use crate::engine::diagnose::ConnectError;
use crate::engine::rtt::Rtt;
use crate::engine::session::{CloseInfo, Handshake, SessionEvent};
use crate::engine::{ConnectSpec, Direction, Frame, Opcode, Target};
use crate::store::{EventKind, FrameInfo, FrameLog, Row, RowKind};
use crate::vocab::correlate::Correlator;
use crate::vocab::infer::Vocabulary;
use std::collections::BTreeMap;
use std::path::PathBuf;
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
    /// A proxy session whose listener is up (its clients are sessions of their own).
    Listening,
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
            ConnState::Listening => "listening".into(),
        }
    }
}

/// The .proto files a session reads protobuf frames with, and the message to read them as (the
/// closest fit of the top-level messages when none is named).
#[derive(Debug, Clone)]
pub struct ProtoView {
    pub schema: crate::decode::proto_schema::ProtoSchema,
    pub message: Option<String>,
    pub files: Vec<String>,
}

/// Where a session came from, which decides what it may do and what quitting would lose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Made in this console and not saved (and the sessions tests build by hand).
    Unsaved,
    /// In sessions.toml.
    Saved,
    /// The built-in demo agent's own session: it lives as long as the demo.
    Demo,
    /// A capture opened from a file: nothing to connect or send.
    Capture,
    /// One client of the proxy session `parent` (its id), numbered `client` by the proxy: its
    /// connection is the client's, so it is never dialed from here.
    ProxyClient { parent: usize, client: u64 },
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
    pub fn new(error: &ConnectError, request: Option<(String, Vec<(String, String)>)>) -> Self {
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

/// One named session.
pub struct Session {
    /// Stable identity: effects and events name sessions by id, never by position.
    pub id: usize,
    pub origin: Origin,
    pub name: String,
    pub target: String,
    pub spec: ConnectSpec,
    pub state: ConnState,
    pub log: FrameLog,
    /// Cursor, scroll, follow and filter of the frame log.
    pub view: FrameView,
    pub counters: Counters,
    pub handshake: Option<Handshake>,
    pub failure: Option<Failure>,
    pub last_close: Option<CloseInfo>,
    /// Wall-clock time of the session's monotonic zero.
    pub started: Option<SystemTime>,
    /// Time of the last open, for the "open 00:02:13" clock.
    pub opened_at: Option<Duration>,
    /// Whether an actor runs for this session.
    pub running: bool,
    /// The console clock's reading when this session's actor started (its time zero).
    pub clock_base: Duration,
    /// User-defined variables for composed frames (`:set NAME VALUE`).
    pub vars: BTreeMap<String, String>,
    /// Frames sent from the composer, for `{{seq}}`.
    pub composed: u64,
    /// The capture this session is being recorded to.
    pub recording: Option<PathBuf>,
    pub replay: Option<ReplayState>,
    pub container_logs: Option<ContainerLogs>,
    /// This session's container log source, when it is not the console's (`:logs SOURCE`, the demo).
    pub container_logs_source: Option<crate::monitor::MonitorSource>,
    /// Round trips of our pings.
    pub rtt: Rtt,
    pub auto_reconnect: AutoReconnect,
    /// The message types learned from the frame log, and who replied to whom.
    pub vocab: Vocabulary,
    pub replies: Correlator,
    /// Frame-log rows the vocabulary has learned from (it catches up in slices).
    pub vocab_seen: usize,
    pub vocab_pane: Option<VocabPane>,
    /// How binary frames read as audio (`:pcm RATE [CHANNELS] [le|be]`).
    pub pcm: crate::decode::pcm::PcmFormat,
    /// A frame-log row marked with `m`: the mark and the cursor make a range (`:wav FILE`).
    pub mark: Option<usize>,
    /// The user's .proto files for reading protobuf frames (`:proto FILE… [--message NAME]`).
    pub proto: Option<ProtoView>,
    /// The agent's AsyncAPI document, once `:discover` found one.
    pub published: Option<crate::app::published::Published>,
    /// Set for a proxy session: where it listens for the user's own clients.
    pub proxy: Option<crate::app::proxy::ProxySetup>,
    /// Where a proxy session's listener is up (the port chosen when the setup said 0).
    pub listening_on: Option<std::net::SocketAddr>,
    /// Frames put into this (proxy client's) conversation from the composer, by `seq`.
    pub injected: std::collections::HashSet<u64>,
    /// A `/` search still looking (`app::search`).
    pub(crate) search: Option<super::search::SearchScan>,
    /// Why the filter was given up while it scanned (a jq program stuck on a frame), for the
    /// status line: `update` takes it.
    pub(crate) filter_dropped: Option<String>,
    /// A capture still being read in the background.
    pub opening: Option<crate::app::opening::Opening>,
}

impl Session {
    pub fn new(name: impl Into<String>, spec: ConnectSpec) -> Self {
        Session {
            id: 0,
            origin: Origin::Unsaved,
            name: name.into(),
            target: spec.target.describe(),
            spec,
            state: ConnState::Idle,
            log: FrameLog::default(),
            view: FrameView::default(),
            counters: Counters::default(),
            handshake: None,
            failure: None,
            last_close: None,
            started: None,
            opened_at: None,
            running: false,
            clock_base: Duration::ZERO,
            vars: Default::default(),
            composed: 0,
            recording: None,
            replay: None,
            container_logs: None,
            container_logs_source: None,
            rtt: Default::default(),
            auto_reconnect: Default::default(),
            vocab: Vocabulary::new(),
            replies: Correlator::default(),
            vocab_seen: 0,
            vocab_pane: None,
            pcm: Default::default(),
            mark: None,
            published: None,
            proto: None,
            proxy: None,
            listening_on: None,
            opening: None,
            injected: Default::default(),
            search: None,
            filter_dropped: None,
        }
    }

    pub fn with_origin(mut self, origin: Origin) -> Self {
        self.origin = origin;
        self
    }

    pub fn saved(&self) -> bool {
        self.origin == Origin::Saved
    }

    pub fn read_only(&self) -> bool {
        self.origin == Origin::Capture
    }

    /// Keep this session's payloads within the console's budget (before anything is stored:
    /// a log that holds rows keeps the budget it has).
    pub fn use_budget(&mut self, budget: &crate::store::Budget) {
        if self.log.is_empty() && !self.log.has_source() {
            self.log = FrameLog::new(budget.clone());
        }
    }

    /// The proxy session and client number, when this is one of a proxy's clients.
    pub fn proxy_client(&self) -> Option<(usize, u64)> {
        match self.origin {
            Origin::ProxyClient { parent, client } => Some((parent, client)),
            _ => None,
        }
    }

    /// Whether this frame was injected from the console rather than relayed.
    pub fn is_injected(&self, f: &Frame) -> bool {
        !self.injected.is_empty() && self.injected.contains(&f.seq)
    }

    /// A frame enters the log: counted, matched for round trips, stored.
    pub fn ingest(&mut self, f: Frame) {
        self.count(f.dir, f.payload.len(), f.at);
        if matches!(f.opcode, Opcode::Ping | Opcode::Pong) {
            self.rtt.observe(&f);
        }
        self.log.push(Row {
            at: f.at,
            kind: RowKind::Frame(f),
        });
    }

    /// A frame of a capture opened from a file: counted like any, its payload left in the
    /// file (`line` and `line_len` say where).
    pub fn ingest_indexed(&mut self, f: FrameInfo, line: u64, line_len: u32, injected: bool) {
        self.count(f.dir, f.len, f.at);
        if injected {
            self.injected.insert(f.seq);
        }
        self.log.push_from_source(f, line, line_len);
    }

    fn count(&mut self, dir: Direction, len: usize, at: Duration) {
        let n = len as u64;
        match dir {
            Direction::In => {
                self.counters.frames_in += 1;
                self.counters.bytes_in += n;
            }
            Direction::Out => {
                self.counters.frames_out += 1;
                self.counters.bytes_out += n;
            }
        }
        self.counters.last_activity = Some(at);
    }

    /// A lifecycle row in the log (not a frame).
    pub(crate) fn push_note(&mut self, at: Duration, kind: EventKind, text: String) {
        self.log.push(Row {
            at,
            kind: RowKind::Event { kind, text },
        });
    }

    /// A capture that could not be written: said in the log where it stopped too, since the
    /// status bar moves on. The session and its log go on.
    pub fn recording_failed(&mut self, message: &str, rows: usize) {
        let at = self.counters.last_activity.unwrap_or_default();
        self.push_note(
            at,
            EventKind::Warning,
            format!("recording failed: {message}"),
        );
        self.rows_added(rows);
    }

    /// Apply one event of the session's actor; `rows` is the frame log's height on screen.
    pub fn apply(&mut self, event: SessionEvent, rows: usize) {
        match event {
            SessionEvent::Connecting {
                at,
                wall,
                url,
                session_id,
            } => {
                self.running = true;
                if self.started.is_none() {
                    self.started = Some(wall);
                }
                self.state = ConnState::Connecting;
                self.failure = None;
                // A reconnect with a new id on purpose: the view follows the actor.
                if session_id.is_some() {
                    self.spec.session_id = session_id.clone();
                }
                let id = session_id
                    .map(|i| format!(" · agent_session_id {i}"))
                    .unwrap_or_default();
                self.push_note(at, EventKind::Connecting, format!("connecting {url}{id}"));
            }
            SessionEvent::Opened { at, handshake } => {
                self.state = ConnState::Open;
                self.opened_at = Some(at);
                let extra = handshake
                    .platform_session_id
                    .as_ref()
                    .map(|p| format!(" · platform session {p}"))
                    .unwrap_or_default();
                let text = format!("open · HTTP {}{extra}", handshake.status);
                self.push_note(at, EventKind::Open, text);
                self.handshake = Some(handshake);
                self.last_close = None;
            }
            SessionEvent::Frames(frames) => {
                for f in frames {
                    self.ingest(f);
                }
            }
            SessionEvent::Injected(f) => {
                self.injected.insert(f.seq);
                self.ingest(f);
            }
            SessionEvent::Closed { at, info } => {
                self.state = ConnState::Closed {
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
                let text = format!(
                    "{} {}{reason} · {by} · {clean} · {}",
                    info.code, ex.name, ex.likely_cause
                );
                self.push_note(
                    at,
                    EventKind::Close {
                        code: info.code,
                        clean: info.clean,
                    },
                    text,
                );
                self.last_close = Some(info);
            }
            SessionEvent::Failed { at, error, request } => {
                let f = Failure::new(&error, request);
                self.state = ConnState::Failed(f.message.clone());
                self.push_note(at, EventKind::Error, f.message.clone());
                self.failure = Some(f);
            }
            SessionEvent::Warning { at, message } => {
                self.push_note(at, EventKind::Warning, message)
            }
            SessionEvent::Ended => self.running = false,
        }
        // The memory budget is used up and the disk refused the spill: said once, nothing lost.
        if let Some(problem) = self.log.take_problem() {
            let at = self.counters.last_activity.unwrap_or_default();
            self.push_note(at, EventKind::Warning, problem);
        }
        self.rows_added(rows);
    }

    /// A read-only session holding a capture's frames and events.
    pub fn from_capture(name: &str, cap: &crate::capture::Capture) -> Session {
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
        let mut s = Session::new(name, ConnectSpec::new(url)).with_origin(Origin::Capture);
        s.state = ConnState::File;
        s.target = format!("capture {name}");
        for e in &cap.entries {
            match e {
                Entry::Frame(f) => s.ingest(f.clone()),
                Entry::Event { at, kind, fields } => {
                    let (kind, text) = captured_event(kind, fields);
                    s.push_note(*at, kind, text);
                }
            }
        }
        s.injected = cap.injected.iter().copied().collect();
        // Counted as frames, but not alive: no "last 3s ago" or round trip from a file.
        s.counters.last_activity = None;
        s.rtt.last = None;
        s
    }
}

/// A capture's event line as the log row the live event would have made.
pub(crate) fn captured_event(
    kind: &str,
    fields: &serde_json::Map<String, serde_json::Value>,
) -> (EventKind, String) {
    let get = |k: &str| fields.get(k).cloned().unwrap_or(serde_json::Value::Null);
    match kind {
        "close" => {
            let code = u16::try_from(get("code").as_u64().unwrap_or(0)).unwrap_or(0);
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
    }
}

//! What reaches the update (`Event`) and what the update asks the runtime to do (`Effect`).
//! Time, randomness and I/O results all arrive as events, so the update stays a pure function.

use crate::app::composer::Mode;
use crate::app::replay::ReplayCtl;
use crate::capture::replay::Timing;
use crate::engine::session::{SessionCommand, SessionEvent};
use crate::engine::{Direction, Frame, Opcode};
use crossterm::event::{KeyEvent, MouseEvent};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Everything that reaches the update.
#[derive(Debug)]
pub enum Event {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize {
        width: u16,
        height: u16,
    },
    /// The clock, for the status bar's "open 00:02:13": session-relative times come in events.
    Tick(Duration),
    /// An event of the session with this id (ids are stable; positions change).
    Session {
        id: usize,
        event: SessionEvent,
    },
    /// The runtime started session `id`'s actor when the console clock read `at`.
    Started {
        id: usize,
        at: Duration,
    },
    /// Scan one more slice of a filter, or of the vocabulary, over a long frame log.
    ScanSlice,
    /// Recording of session `id` started (`path`), stopped (`None`), or failed (`error`).
    Recording {
        id: usize,
        path: Option<PathBuf>,
        error: Option<String>,
    },
    Replay {
        id: usize,
        event: ReplayEvent,
    },
    ContainerLogs {
        id: usize,
        event: ContainerLogsEvent,
    },
    /// A capture being opened in the background: what its reading says (`ticket` names it).
    CaptureIndexing {
        ticket: u64,
        name: String,
        step: crate::app::opening::IndexStep,
    },
    /// A capture file was read (or could not be).
    CaptureOpened {
        name: String,
        result: Result<Box<crate::capture::Capture>, String>,
    },
    /// The .proto files of `:proto` were read (or why not).
    ProtoLoaded {
        id: usize,
        result: Result<crate::app::session::ProtoView, String>,
    },
    /// What the agent of session `id` publishes about itself (or why that is not known).
    Discovered {
        id: usize,
        result: Result<crate::vocab::asyncapi::Discovery, String>,
    },
    /// What the proxy of proxy session `id` reports beyond its clients' own sessions.
    Proxy {
        id: usize,
        note: crate::app::proxy::ProxyNote,
    },
    /// The runtime's word on an effect it carried out or could not (saved, not sent, …): a
    /// status-bar message.
    Notice(String),
}

#[derive(Debug)]
pub enum ReplayEvent {
    /// `total` frames to send.
    Started {
        file: String,
        total: usize,
        expected: Vec<Frame>,
        step: bool,
    },
    /// `sent` frames have gone out.
    Progress {
        sent: usize,
    },
    /// All sent (or stopped) and the replies went quiet: time to compare.
    Finished,
    Failed {
        error: String,
    },
}

#[derive(Debug)]
pub enum ContainerLogsEvent {
    Lines(Vec<crate::monitor::LogLine>),
    /// The log source ended (or could not start).
    Ended {
        message: String,
    },
}

/// A composed frame on its way out: the runtime expands its variables (it supplies `now` and
/// `uuid`), encodes it in its mode, and sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct Composed {
    pub mode: Mode,
    pub opcode: Opcode,
    pub template: String,
    pub seq: u64,
    pub session_id: String,
    pub vars: BTreeMap<String, String>,
    /// `Out` toward the agent; `In` toward the client, for a proxy client's session only.
    pub toward: Direction,
}

/// What the runtime must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Start the session's actor (connect), or a proxy session's listener.
    Connect(usize),
    /// Client `client` of proxy session `parent` has its session `child`: route its events
    /// there.
    AttachProxyClient {
        parent: usize,
        client: u64,
        child: usize,
    },
    /// Tell session `id`'s actor something (send, close, reconnect, …).
    ToSession(usize, SessionCommand),
    /// Put this text on the clipboard (OSC 52, works over SSH).
    Copy(String),
    SendComposed {
        id: usize,
        frame: Composed,
    },
    /// Start (true) or stop recording session `id` to a capture file.
    Record {
        id: usize,
        on: bool,
    },
    /// Read a capture (or HAR) file and open it read-only.
    OpenCapture(PathBuf),
    /// Stop reading the capture being opened under `ticket` (what was read stays).
    StopOpening {
        ticket: u64,
    },
    /// Replay a capture's outgoing frames into session `id`.
    StartReplay {
        id: usize,
        path: PathBuf,
        timing: Timing,
        step: bool,
        /// Send each frame only once the replies went quiet for this long.
        wait_replies: Option<Duration>,
    },
    ReplayControl {
        id: usize,
        ctl: ReplayCtl,
    },
    /// Start reading session `id`'s container logs (the runtime adds the session's tokens).
    StartContainerLogs {
        id: usize,
        plan: crate::monitor::Plan,
    },
    StopContainerLogs {
        id: usize,
    },
    /// Write snippets.toml with these snippets.
    SaveSnippets(Vec<crate::config::Snippet>),
    /// Write sessions.toml with these sessions.
    SaveSessions(Vec<crate::config::SavedSession>),
    /// Read these .proto files for session `id` (checking MESSAGE names one of their messages).
    LoadProto {
        id: usize,
        files: Vec<PathBuf>,
        message: Option<String>,
    },
    /// Fetch session `id`'s AsyncAPI document (with the session's token and CA).
    Discover {
        id: usize,
    },
    /// Write these audio chunks as one WAV file.
    ExportWav {
        path: PathBuf,
        format: crate::decode::pcm::PcmFormat,
        chunks: Vec<bytes::Bytes>,
    },
    /// Switch to this theme.
    SetTheme(String),
    Quit,
}

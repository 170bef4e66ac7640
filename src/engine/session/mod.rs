//! One tokio task per session. It owns the socket, takes commands, and emits events; it never
//! waits for a consumer beyond the channel's own backpressure, and frames travel in batches.

mod actor;
mod arena;
mod closing;
mod dial;
mod incoming;
mod keepalive;
mod outbox;
mod wire;

pub(crate) use dial::{DialFailure, WRITE_BUFFER, dial};
pub use outbox::{QUEUE_BYTES, QUEUE_FRAMES};
pub(crate) use wire::{CloseWatch, RawClose};

use crate::engine::auth::TokenProvider;
use crate::engine::close::Initiator;
use crate::engine::diagnose::ConnectError;
use crate::engine::frame::{Frame, Opcode};
use crate::engine::target::ConnectSpec;
use bytes::Bytes;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The upgraded connection: reads pass a tap that follows the peer's frames (`wire.rs`).
pub(crate) type Socket = WebSocketStream<wire::Tap<MaybeTlsStream<TcpStream>>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionCommand {
    /// Send a data or control frame (ping/pong payloads are at most 125 bytes).
    Send { opcode: Opcode, payload: Bytes },
    /// Start the close handshake.
    Close { code: u16, reason: String },
    /// Connect again (after a close, or dropping the current connection); with `new_id`, a new
    /// `agent_session_id` first.
    Reconnect { new_id: bool },
    /// Close (1000, when open) and end the task.
    Shutdown,
    /// Ping every interval while open (`None` stops); a ping still unanswered when the next is
    /// due is reported.
    Keepalive(Option<Duration>),
}

/// What the upgrade looked like, secrets redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub status: u16,
    pub response_headers: Vec<(String, String)>,
    /// `x-agent-session-id` from the response, when the platform sent one.
    pub platform_session_id: Option<String>,
    pub subprotocol: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseInfo {
    /// The code (1006 when no close frame arrived; 1005 when it had no code).
    pub code: u16,
    pub reason: String,
    pub initiator: Initiator,
    /// A completed close handshake with 1000 or 1001.
    pub clean: bool,
}

#[derive(Debug)]
pub enum SessionEvent {
    /// A connection attempt begins. `wall` is the wall-clock time at `at`.
    Connecting {
        at: Duration,
        wall: SystemTime,
        url: String,
        session_id: Option<String>,
    },
    Opened {
        at: Duration,
        handshake: Handshake,
    },
    Frames(Vec<Frame>),
    Closed {
        at: Duration,
        info: CloseInfo,
    },
    /// The attempt failed before the socket opened.
    Failed {
        at: Duration,
        error: ConnectError,
        /// The request that was tried (for a refused upgrade), redacted.
        request: Option<(String, Vec<(String, String)>)>,
    },
    /// Something went wrong that does not end the session (a send on a closed socket, say).
    Warning {
        at: Duration,
        message: String,
    },
    /// A frame the user put into a relayed conversation (a proxy client's session), written
    /// toward the agent (`Out`) or the client (`In`). Shown and recorded as injected, so it is
    /// never taken for the client's or the agent's own.
    Injected(Frame),
    /// The task ended.
    Ended,
}

#[derive(Debug, Clone)]
pub struct SessionHandle {
    tx: mpsc::UnboundedSender<SessionCommand>,
    tokens: Arc<TokenProvider>,
}

impl SessionHandle {
    /// The session's tokens (the log stream of the same session sends the same token).
    pub fn tokens(&self) -> Arc<TokenProvider> {
        self.tokens.clone()
    }

    /// Queue a command; false when the session task has ended. Never waits: the task takes
    /// commands even while the peer is not reading, and its send queue is bounded
    /// (`QUEUE_FRAMES` frames or `QUEUE_BYTES` bytes): a frame past the bound is not sent, and a
    /// `Warning` says so.
    pub fn send(&self, cmd: SessionCommand) -> bool {
        self.tx.send(cmd).is_ok()
    }
}

/// Start a session task that connects at once. Events go to `events`, whose capacity bounds how
/// far the socket reader may run ahead of the consumer.
pub fn spawn_session(
    spec: ConnectSpec,
    events: mpsc::Sender<SessionEvent>,
) -> (SessionHandle, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let tokens = Arc::new(TokenProvider::new(spec.auth.clone()));
    let actor = actor::Actor::new(spec, tokens.clone(), events, rx);
    let join = tokio::spawn(actor.run());
    (SessionHandle { tx, tokens }, join)
}

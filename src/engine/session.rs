//! One tokio task per session. It owns the socket, takes commands, and emits events; it never
//! waits for a consumer beyond the channel's own backpressure, and frames travel in batches.

use crate::engine::auth::{AuthSource, TokenProvider};
use crate::engine::close::{self, Initiator};
use crate::engine::diagnose::{ConnectError, MAX_REFUSAL_BODY, Refusal};
use crate::engine::frame::{Direction, Frame, Opcode, close_payload};
use crate::engine::redact::{header_value_for_display, url_for_display};
use crate::engine::target::{ConnectSpec, new_session_id};
use crate::engine::tls;
use bytes::Bytes;
use futures_util::{FutureExt, SinkExt, StreamExt};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

/// Most frames handed over in one event.
const MAX_BATCH: usize = 512;
/// How long a close frame we sent waits for the peer's answer.
const CLOSE_HANDSHAKE_WAIT: Duration = Duration::from_secs(5);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

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

    /// Queue a command; false when the session task has ended. Never waits.
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
    let actor = Actor {
        spec,
        tokens: tokens.clone(),
        events,
        cmds: rx,
        t0: Instant::now(),
        seq: 0,
        arena: Arena::new(),
        keepalive: Keepalive::default(),
    };
    let join = tokio::spawn(actor.run());
    (SessionHandle { tx, tokens }, join)
}

struct Actor {
    spec: ConnectSpec,
    tokens: Arc<TokenProvider>,
    events: mpsc::Sender<SessionEvent>,
    cmds: mpsc::UnboundedReceiver<SessionCommand>,
    t0: Instant,
    seq: u64,
    arena: Arena,
    keepalive: Keepalive,
}

/// Our keepalive pings: when the next is due, and the one still waiting for its pong.
#[derive(Default)]
struct Keepalive {
    every: Option<Duration>,
    next_at: Option<tokio::time::Instant>,
    sent: u64,
    waiting: Option<(Bytes, tokio::time::Instant)>,
}

impl Keepalive {
    /// Start (or stop) the schedule for a new connection or a new interval.
    fn start(&mut self, every: Option<Duration>) {
        self.every = every.filter(|d| !d.is_zero());
        self.next_at = self.every.map(|d| tokio::time::Instant::now() + d);
        self.waiting = None;
    }

    /// A ping is due: its payload, and a report on the previous one when it had no answer.
    fn due(&mut self) -> (Bytes, Option<String>) {
        let now = tokio::time::Instant::now();
        let missing = self.waiting.take().map(|(p, at)| {
            format!(
                "no pong for keepalive ping {:?} after {:.1} s: the peer or the path may be dead",
                String::from_utf8_lossy(&p),
                now.duration_since(at).as_secs_f64()
            )
        });
        self.sent += 1;
        let payload = Bytes::from(format!("wsdeck-keepalive-{}", self.sent));
        self.waiting = Some((payload.clone(), now));
        self.next_at = self.every.map(|d| now + d);
        (payload, missing)
    }

    fn pong(&mut self, payload: &[u8]) {
        if self.waiting.as_ref().is_some_and(|(p, _)| p == payload) {
            self.waiting = None;
        }
    }
}

/// Payloads up to this size are copied into a shared arena instead of keeping a slice of
/// tungstenite's read buffer alive: while any slice lives, that buffer cannot be reused, and every
/// refill then costs a fresh, zero-filled, cache-cold allocation. Larger payloads fill a buffer on
/// their own, so sharing them is cheaper than copying.
const ARENA_COPY_MAX: usize = 16 * 1024;
const ARENA_CHUNK: usize = 256 * 1024;

/// Many small payloads in one allocation (no per-frame allocation).
struct Arena(bytes::BytesMut);

impl Arena {
    fn new() -> Self {
        Arena(bytes::BytesMut::new())
    }

    fn keep(&mut self, payload: Bytes) -> Bytes {
        if payload.len() > ARENA_COPY_MAX || payload.is_empty() {
            return payload;
        }
        if self.0.capacity() < payload.len() {
            self.0 = bytes::BytesMut::with_capacity(ARENA_CHUNK);
        }
        self.0.extend_from_slice(&payload);
        self.0.split().freeze()
    }
}

/// How a connection ended, as far as the actor's loop cares.
enum After {
    /// Wait for a command (reconnect or shutdown).
    Idle,
    Reconnect,
    Shutdown,
}

impl Actor {
    fn at(&self) -> Duration {
        self.t0.elapsed()
    }

    async fn emit(&self, ev: SessionEvent) -> bool {
        self.events.send(ev).await.is_ok()
    }

    async fn run(mut self) {
        let mut next = After::Reconnect;
        loop {
            match next {
                After::Shutdown => break,
                After::Reconnect => {
                    next = match self.connect().await {
                        Some(ws) => self.pump(ws).await,
                        None => After::Idle,
                    };
                }
                After::Idle => {
                    next = match self.cmds.recv().await {
                        None | Some(SessionCommand::Shutdown) => After::Shutdown,
                        Some(SessionCommand::Reconnect { new_id }) => {
                            if new_id {
                                self.spec.session_id = Some(new_session_id());
                            }
                            After::Reconnect
                        }
                        Some(SessionCommand::Keepalive(every)) => {
                            self.spec.ping_interval = every;
                            After::Idle
                        }
                        Some(_) => {
                            let at = self.at();
                            self.emit(SessionEvent::Warning {
                                at,
                                message: "not connected: reconnect first".into(),
                            })
                            .await;
                            After::Idle
                        }
                    };
                }
            }
        }
        let _ = self.events.send(SessionEvent::Ended).await;
    }

    async fn connect(&mut self) -> Option<Socket> {
        let url = self.spec.request_url();
        let at = self.at();
        let wall = SystemTime::now();
        self.emit(SessionEvent::Connecting {
            at,
            wall,
            url: url_for_display(&url),
            session_id: self.spec.session_id.clone(),
        })
        .await;
        let mut shown_request = None;
        let result = open(&self.spec, &self.tokens, &url, &mut shown_request).await;
        match result {
            Ok((ws, handshake)) => {
                let at = self.at();
                self.emit(SessionEvent::Opened { at, handshake }).await;
                Some(ws)
            }
            Err(error) => {
                if matches!(&error, ConnectError::Refused { refusal } if matches!(refusal.status, 401 | 403))
                {
                    // The next attempt must not reuse a token the server just turned down.
                    self.tokens.invalidate().await;
                }
                let at = self.at();
                self.emit(SessionEvent::Failed {
                    at,
                    error,
                    request: shown_request,
                })
                .await;
                None
            }
        }
    }

    fn frame(&mut self, dir: Direction, opcode: Opcode, payload: Bytes) -> Frame {
        self.seq += 1;
        Frame {
            seq: self.seq,
            at: self.t0.elapsed(),
            dir,
            opcode,
            payload,
        }
    }

    /// Move frames until the connection ends; then say what to do next.
    async fn pump(&mut self, mut ws: Socket) -> After {
        let mut batch: Vec<Frame> = Vec::with_capacity(64);
        // Set once we sent a close frame: (code, reason, deadline).
        let mut closing: Option<(u16, String, tokio::time::Instant)> = None;
        let mut after_close = After::Idle;
        self.keepalive.start(self.spec.ping_interval);
        let far = tokio::time::Instant::now() + Duration::from_secs(86400 * 365);
        loop {
            let ping_at = self.keepalive.next_at.unwrap_or(far);
            let deadline = closing
                .as_ref()
                .map(|c| c.2)
                .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(86400 * 365));
            tokio::select! {
                biased;
                cmd = self.cmds.recv(), if closing.is_none() => {
                    match cmd {
                        None | Some(SessionCommand::Shutdown) => {
                            after_close = After::Shutdown;
                            closing = self.start_close(&mut ws, 1000, "").await;
                            if closing.is_none() { return After::Shutdown; }
                        }
                        Some(SessionCommand::Close { code, reason }) => {
                            closing = self.start_close(&mut ws, code, &reason).await;
                            if closing.is_none() { return After::Idle; }
                        }
                        Some(SessionCommand::Reconnect { new_id }) => {
                            if new_id { self.spec.session_id = Some(new_session_id()); }
                            after_close = After::Reconnect;
                            closing = self.start_close(&mut ws, 1000, "reconnecting").await;
                            if closing.is_none() { return After::Reconnect; }
                        }
                        // A close frame sent as a frame is a close: the peer's answer must be
                        // read as the end of our handshake, not as the peer closing.
                        Some(SessionCommand::Send { opcode: Opcode::Close, payload }) => {
                            let (code, reason) = match crate::engine::frame::parse_close_payload(&payload) {
                                Some(cr) => cr,
                                None => (1000, String::new()),
                            };
                            closing = self.start_close(&mut ws, code, &reason).await;
                            if closing.is_none() { return After::Idle; }
                        }
                        Some(SessionCommand::Send { opcode, payload }) => {
                            if let Some(end) = self.send_frame(&mut ws, opcode, payload).await {
                                self.finish(end).await;
                                return After::Idle;
                            }
                        }
                        Some(SessionCommand::Keepalive(every)) => {
                            self.spec.ping_interval = every;
                            self.keepalive.start(every);
                        }
                    }
                }
                _ = tokio::time::sleep_until(ping_at), if closing.is_none() && self.keepalive.next_at.is_some() => {
                    let (payload, missing) = self.keepalive.due();
                    if let Some(message) = missing {
                        let at = self.at();
                        self.emit(SessionEvent::Warning { at, message }).await;
                    }
                    if let Some(end) = self.send_frame(&mut ws, Opcode::Ping, payload).await {
                        self.finish(end).await;
                        return After::Idle;
                    }
                }
                _ = tokio::time::sleep_until(deadline), if closing.is_some() => {
                    let (code, reason, _) = closing.take().unwrap_or((1000, String::new(), deadline));
                    let at = self.at();
                    self.emit(SessionEvent::Warning { at, message: format!("the peer did not answer our close frame within {}s", CLOSE_HANDSHAKE_WAIT.as_secs()) }).await;
                    self.finish(CloseInfo { code, reason, initiator: Initiator::Client, clean: false }).await;
                    return after_close;
                }
                item = ws.next() => {
                    let mut end = None;
                    let mut item = item;
                    loop {
                        match item {
                            Some(Ok(msg)) => {
                                if let Some(e) = self.take_message(msg, &mut batch, closing.as_ref()) {
                                    end = Some(e);
                                }
                            }
                            Some(Err(e)) => { end = Some(self.read_error(e, &mut ws, closing.as_ref()).await); }
                            None => { end = Some(self.stream_ended(closing.as_ref())); }
                        }
                        if end.is_some() || batch.len() >= MAX_BATCH { break; }
                        // Take what is already buffered without waiting, to hand it over in one go.
                        match ws.next().now_or_never() {
                            Some(next) => item = next,
                            None => break,
                        }
                    }
                    if !batch.is_empty() {
                        let frames = std::mem::replace(&mut batch, Vec::with_capacity(64));
                        if !self.emit(SessionEvent::Frames(frames)).await {
                            return After::Shutdown;
                        }
                    }
                    if let Some(info) = end {
                        // A peer-initiated close: flush tungstenite's queued reply.
                        let _ = tokio::time::timeout(Duration::from_secs(1), ws.flush()).await;
                        self.finish(info).await;
                        return after_close;
                    }
                }
            }
        }
    }

    /// Record an incoming message; returns the end of the connection when it was a close.
    fn take_message(
        &mut self,
        msg: Message,
        batch: &mut Vec<Frame>,
        closing: Option<&(u16, String, tokio::time::Instant)>,
    ) -> Option<CloseInfo> {
        let (opcode, payload) = match msg {
            Message::Text(t) => (Opcode::Text, self.arena.keep(Bytes::from(t))),
            Message::Binary(b) => (Opcode::Binary, self.arena.keep(b)),
            Message::Ping(p) => {
                let f = self.frame(Direction::In, Opcode::Ping, p.clone());
                batch.push(f);
                // tungstenite answers pings itself; record the answer it puts on the wire.
                let f = self.frame(Direction::Out, Opcode::Pong, p);
                batch.push(f);
                return None;
            }
            Message::Pong(p) => {
                self.keepalive.pong(&p);
                (Opcode::Pong, p)
            }
            Message::Close(cf) => {
                let (code, reason, payload) = match cf {
                    Some(cf) => {
                        let code = u16::from(cf.code);
                        let reason = cf.reason.to_string();
                        let payload = close_payload(code, &reason);
                        (code, reason, payload)
                    }
                    None => (close::NO_STATUS, String::new(), Bytes::new()),
                };
                let f = self.frame(Direction::In, Opcode::Close, payload);
                batch.push(f);
                return Some(match closing {
                    // The answer to our close: our code stands.
                    Some((ours, our_reason, _)) => CloseInfo {
                        code: *ours,
                        reason: our_reason.clone(),
                        initiator: Initiator::Client,
                        clean: close::is_clean_code(*ours),
                    },
                    None => {
                        // Our automatic reply echoes the code, as RFC 6455 asks.
                        if code != close::NO_STATUS {
                            let f =
                                self.frame(Direction::Out, Opcode::Close, close_payload(code, ""));
                            batch.push(f);
                        }
                        CloseInfo {
                            code,
                            reason,
                            initiator: Initiator::Server,
                            clean: close::is_clean_code(code),
                        }
                    }
                });
            }
            Message::Frame(_) => return None,
        };
        let f = self.frame(Direction::In, opcode, payload);
        batch.push(f);
        None
    }

    fn stream_ended(&self, closing: Option<&(u16, String, tokio::time::Instant)>) -> CloseInfo {
        match closing {
            // We closed and the peer hung up without answering.
            Some((code, reason, _)) => CloseInfo {
                code: *code,
                reason: reason.clone(),
                initiator: Initiator::Client,
                clean: false,
            },
            None => abnormal("the connection ended without a close frame"),
        }
    }

    async fn read_error(
        &mut self,
        e: tungstenite::Error,
        ws: &mut Socket,
        closing: Option<&(u16, String, tokio::time::Instant)>,
    ) -> CloseInfo {
        use tungstenite::Error as E;
        use tungstenite::error::ProtocolError as P;
        let at = self.at();
        match e {
            E::ConnectionClosed | E::AlreadyClosed => self.stream_ended(closing),
            E::Protocol(P::ResetWithoutClosingHandshake) => {
                if let Some((code, reason, _)) = closing {
                    return CloseInfo {
                        code: *code,
                        reason: reason.clone(),
                        initiator: Initiator::Client,
                        clean: false,
                    };
                }
                abnormal("the TCP connection closed without a close frame")
            }
            E::Io(io) => {
                self.emit(SessionEvent::Warning {
                    at,
                    message: format!("transport error: {io}"),
                })
                .await;
                abnormal(&io.to_string())
            }
            E::Capacity(c) => {
                let limit = self.spec.max_message_size.unwrap_or(usize::MAX);
                let message = format!(
                    "the peer sent a message over wsdeck's limit ({c}); the limit is {limit} bytes (--max-message-size)"
                );
                self.local_close(ws, 1009, "message too big", message).await
            }
            E::Utf8(detail) => {
                let message = format!(
                    "the peer sent a text frame that is not valid UTF-8 ({detail}); binary data belongs in binary frames"
                );
                self.local_close(ws, 1007, "invalid UTF-8 in a text frame", message)
                    .await
            }
            E::Protocol(p) => {
                let message = format!("the peer broke the WebSocket protocol: {p}");
                self.local_close(ws, 1002, "protocol error", message).await
            }
            other => {
                self.emit(SessionEvent::Warning {
                    at,
                    message: format!("read error: {other}"),
                })
                .await;
                abnormal(&other.to_string())
            }
        }
    }

    /// We end the connection because of what the peer sent.
    async fn local_close(
        &mut self,
        ws: &mut Socket,
        code: u16,
        reason: &str,
        message: String,
    ) -> CloseInfo {
        let at = self.at();
        self.emit(SessionEvent::Warning { at, message }).await;
        let frame = self.frame(Direction::Out, Opcode::Close, close_payload(code, reason));
        let sent = tokio::time::timeout(
            Duration::from_secs(1),
            ws.close(Some(CloseFrame {
                code: CloseCode::from(code),
                reason: reason.to_string().into(),
            })),
        )
        .await;
        if matches!(sent, Ok(Ok(()))) {
            self.emit(SessionEvent::Frames(vec![frame])).await;
        }
        CloseInfo {
            code,
            reason: reason.to_string(),
            initiator: Initiator::Client,
            clean: false,
        }
    }

    async fn start_close(
        &mut self,
        ws: &mut Socket,
        code: u16,
        reason: &str,
    ) -> Option<(u16, String, tokio::time::Instant)> {
        let payload = close_payload(code, reason);
        let frame = Message::Close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.to_string().into(),
        }));
        match ws.send(frame).await {
            Ok(()) => {
                let f = self.frame(Direction::Out, Opcode::Close, payload);
                self.emit(SessionEvent::Frames(vec![f])).await;
                Some((
                    code,
                    reason.to_string(),
                    tokio::time::Instant::now() + CLOSE_HANDSHAKE_WAIT,
                ))
            }
            Err(e) => {
                let at = self.at();
                self.emit(SessionEvent::Warning {
                    at,
                    message: format!("could not send the close frame: {e}"),
                })
                .await;
                self.finish(abnormal(&e.to_string())).await;
                None
            }
        }
    }

    /// Send one frame; returns the end of the connection when the socket is gone.
    async fn send_frame(
        &mut self,
        ws: &mut Socket,
        opcode: Opcode,
        payload: Bytes,
    ) -> Option<CloseInfo> {
        let msg = match opcode {
            Opcode::Text => match tungstenite::Utf8Bytes::try_from(payload.clone()) {
                Ok(t) => Message::Text(t),
                Err(_) => {
                    let at = self.at();
                    self.emit(SessionEvent::Warning {
                        at,
                        message: "not sent: a text frame must be valid UTF-8 (send it as binary)"
                            .into(),
                    })
                    .await;
                    return None;
                }
            },
            Opcode::Binary => Message::Binary(payload.clone()),
            Opcode::Ping | Opcode::Pong if payload.len() > 125 => {
                let at = self.at();
                self.emit(SessionEvent::Warning {
                    at,
                    message: format!(
                        "not sent: a {} payload is at most 125 bytes (this one has {})",
                        opcode.as_str(),
                        payload.len()
                    ),
                })
                .await;
                return None;
            }
            Opcode::Ping => Message::Ping(payload.clone()),
            Opcode::Pong => Message::Pong(payload.clone()),
            Opcode::Close => {
                let (code, reason) = if payload.len() >= 2 {
                    (
                        u16::from_be_bytes([payload[0], payload[1]]),
                        String::from_utf8_lossy(&payload[2..]).into_owned(),
                    )
                } else {
                    (1000, String::new())
                };
                let _ = self.start_close(ws, code, &reason).await;
                return None;
            }
        };
        let frame = self.frame(Direction::Out, opcode, payload);
        match ws.send(msg).await {
            Ok(()) => {
                self.emit(SessionEvent::Frames(vec![frame])).await;
                None
            }
            Err(e) => {
                let at = self.at();
                self.emit(SessionEvent::Warning {
                    at,
                    message: format!("send failed: {e}"),
                })
                .await;
                Some(abnormal(&e.to_string()))
            }
        }
    }

    async fn finish(&mut self, info: CloseInfo) {
        let at = self.at();
        self.emit(SessionEvent::Closed { at, info }).await;
    }
}

fn abnormal(why: &str) -> CloseInfo {
    tracing::debug!("abnormal close: {why}");
    CloseInfo {
        code: close::ABNORMAL,
        reason: String::new(),
        initiator: Initiator::Transport,
        clean: false,
    }
}

/// Resolve, connect, TLS, upgrade: each step's failure is its own diagnosis.
async fn open(
    spec: &ConnectSpec,
    tokens: &TokenProvider,
    url: &str,
    shown_request: &mut Option<(String, Vec<(String, String)>)>,
) -> Result<(Socket, Handshake), ConnectError> {
    use crate::engine::target::TargetError;
    let mut request = url.into_client_request().map_err(|e| TargetError::BadUrl {
        url: url_for_display(url),
        why: e.to_string(),
    })?;
    let parsed = url::Url::parse(url).map_err(|e| TargetError::BadUrl {
        url: url_for_display(url),
        why: e.to_string(),
    })?;
    let host = parsed
        .host_str()
        .ok_or_else(|| TargetError::BadUrl {
            url: url_for_display(url),
            why: "it has no host".into(),
        })?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let secure = parsed.scheme() == "wss";
    let port = parsed.port().unwrap_or(if secure { 443 } else { 80 });

    let headers = request.headers_mut();
    let mut extra = spec.target.extra_headers();
    extra.extend(spec.headers.iter().cloned());
    for (name, value) in &extra {
        let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) else {
            return Err(TargetError::BadHeader {
                header: name.clone(),
                why: "not a valid header".into(),
            }
            .into());
        };
        headers.append(n, v);
    }
    if !spec.subprotocols.is_empty() {
        let joined = spec.subprotocols.join(", ");
        let v = http::HeaderValue::from_str(&joined).map_err(|_| TargetError::BadHeader {
            header: "Sec-WebSocket-Protocol".into(),
            why: format!("bad subprotocol list {joined:?}"),
        })?;
        headers.insert(http::header::SEC_WEBSOCKET_PROTOCOL, v);
    }
    let has_auth_header = headers.contains_key(http::header::AUTHORIZATION);
    if !has_auth_header && spec.auth != AuthSource::None {
        let token = tokens.token().await?;
        if let Some(token) = token {
            let mut v = http::HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .map_err(|_| crate::engine::auth::AuthError::CommandFailed {
                    status: "token rejected".into(),
                    stderr: "the token has characters a header cannot carry".into(),
                })?;
            v.set_sensitive(true);
            headers.insert(http::header::AUTHORIZATION, v);
        }
    }
    let request_shown: Vec<(String, String)> = display_headers(request.headers());
    *shown_request = Some((url_for_display(url), request_shown.clone()));

    let timeout = spec.connect_timeout;
    let addrs: Vec<std::net::SocketAddr> =
        match tokio::time::timeout(timeout, tokio::net::lookup_host((host.as_str(), port))).await {
            Err(_) => {
                return Err(ConnectError::Timeout {
                    phase: "resolving the host name",
                    after: timeout,
                });
            }
            Ok(Err(e)) => {
                return Err(ConnectError::Dns {
                    host: host.clone(),
                    message: e.to_string(),
                });
            }
            Ok(Ok(a)) => a.collect(),
        };
    if addrs.is_empty() {
        return Err(ConnectError::Dns {
            host,
            message: "no address".into(),
        });
    }
    let mut tcp = None;
    let mut last_err = String::new();
    for addr in &addrs {
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                tcp = Some(s);
                break;
            }
            Ok(Err(e)) => last_err = format!("{addr}: {e}"),
            Err(_) => {
                return Err(ConnectError::Timeout {
                    phase: "opening the TCP connection",
                    after: timeout,
                });
            }
        }
    }
    let Some(tcp) = tcp else {
        return Err(ConnectError::Tcp {
            addr: format!("{host}:{port}"),
            message: last_err,
        });
    };
    let _ = tcp.set_nodelay(true);

    let connector = if secure {
        Connector::Rustls(tls::client_config(spec.ca_cert.as_deref())?)
    } else {
        Connector::Plain
    };
    let mut config = WebSocketConfig::default();
    config = config
        .max_message_size(spec.max_message_size)
        .max_frame_size(spec.max_message_size);
    let upgrade = tokio_tungstenite::client_async_tls_with_config(
        request,
        tcp,
        Some(config),
        Some(connector),
    );
    let (ws, response) = match tokio::time::timeout(timeout, upgrade).await {
        Err(_) => {
            return Err(ConnectError::Timeout {
                phase: if secure {
                    "in the TLS and WebSocket handshakes"
                } else {
                    "waiting for the server to answer the upgrade"
                },
                after: timeout,
            });
        }
        Ok(Ok(pair)) => pair,
        Ok(Err(e)) => return Err(handshake_error(e, &host, secure)),
    };
    let response_headers: Vec<(String, String)> = display_headers(response.headers());
    let platform_session_id = response
        .headers()
        .get("x-agent-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let subprotocol = response
        .headers()
        .get(http::header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    Ok((
        ws,
        Handshake {
            url: url_for_display(url),
            request_headers: request_shown,
            status: response.status().as_u16(),
            response_headers,
            platform_session_id,
            subprotocol,
        },
    ))
}

fn handshake_error(e: tungstenite::Error, host: &str, secure: bool) -> ConnectError {
    use tungstenite::Error as E;
    match e {
        E::Http(resp) => {
            let status = resp.status();
            let headers: Vec<(String, String)> = display_headers(resp.headers());
            let declared_len = resp
                .headers()
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<usize>().ok());
            let mut body = resp.body().clone().unwrap_or_default();
            body.truncate(MAX_REFUSAL_BODY);
            ConnectError::Refused {
                refusal: Box::new(Refusal {
                    status: status.as_u16(),
                    reason: status.canonical_reason().unwrap_or("").to_string(),
                    headers,
                    body,
                    declared_len,
                }),
            }
        }
        E::Tls(t) => ConnectError::Tls {
            host: host.to_string(),
            message: t.to_string(),
        },
        E::Io(io) if secure && io.kind() == std::io::ErrorKind::InvalidData => ConnectError::Tls {
            host: host.to_string(),
            message: io.to_string(),
        },
        E::Io(io) => ConnectError::Tcp {
            addr: host.to_string(),
            message: format!("the connection failed during the upgrade: {io}"),
        },
        E::Protocol(p) => ConnectError::Handshake {
            message: p.to_string(),
        },
        other => ConnectError::Handshake {
            message: other.to_string(),
        },
    }
}

/// Headers as they may be shown: names lower-cased as sent, credentials redacted.
fn display_headers(h: &http::HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| {
            let value = String::from_utf8_lossy(v.as_bytes());
            (k.to_string(), header_value_for_display(k.as_str(), &value))
        })
        .collect()
}

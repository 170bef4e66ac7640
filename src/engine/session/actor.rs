//! The session's actor: one task that owns the socket, takes commands, emits events, and hands
//! incoming frames over in batches.

use super::arena::Arena;
use super::closing::{Closing, abnormal};
use super::dial::open;
use super::keepalive::PingSchedule;
use super::{CloseInfo, SessionCommand, SessionEvent, Socket};
use crate::engine::auth::TokenProvider;
use crate::engine::close::{self, Initiator};
use crate::engine::diagnose::ConnectError;
use crate::engine::frame::{Direction, Frame, Opcode, close_payload};
use crate::engine::redact::url_for_display;
use crate::engine::target::{ConnectSpec, new_session_id};
use bytes::Bytes;
use futures_util::{FutureExt, SinkExt, StreamExt};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

/// Most frames handed over in one event.
const MAX_BATCH: usize = 512;
/// Most payload bytes handed over in one event. 512 frames of 64 KiB (32 MiB) pin that much of
/// tungstenite's read buffers until the consumer is done, so every refill takes fresh memory
/// (page faults, 2 MiB huge pages zeroed). With 4 MiB, `connect` at 64 KiB used 410 instead of
/// 630 ms of CPU (medians of 8 alternating runs); 1 MiB and 256 KiB cost more in hand-overs
/// than they saved.
const MAX_BATCH_BYTES: usize = 4 << 20;

pub(super) struct Actor {
    spec: ConnectSpec,
    tokens: Arc<TokenProvider>,
    events: mpsc::Sender<SessionEvent>,
    cmds: mpsc::UnboundedReceiver<SessionCommand>,
    t0: Instant,
    seq: u64,
    arena: Arena,
    pings: PingSchedule,
}

/// How a connection ended, as far as the actor's loop cares.
enum After {
    /// Wait for a command (reconnect or shutdown).
    Idle,
    Reconnect,
    Shutdown,
}

impl Actor {
    pub(super) fn new(
        spec: ConnectSpec,
        tokens: Arc<TokenProvider>,
        events: mpsc::Sender<SessionEvent>,
        cmds: mpsc::UnboundedReceiver<SessionCommand>,
    ) -> Self {
        Actor {
            spec,
            tokens,
            events,
            cmds,
            t0: Instant::now(),
            seq: 0,
            arena: Arena::new(),
            pings: PingSchedule::default(),
        }
    }

    fn at(&self) -> Duration {
        self.t0.elapsed()
    }

    async fn emit(&self, ev: SessionEvent) -> bool {
        self.events.send(ev).await.is_ok()
    }

    pub(super) async fn run(mut self) {
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
        let mut closing = Closing::default();
        let mut after_close = After::Idle;
        self.pings.start(self.spec.ping_interval);
        let far = tokio::time::Instant::now() + Duration::from_secs(86400 * 365);
        loop {
            let ping_at = self.pings.next_at().unwrap_or(far);
            let deadline = closing.deadline().unwrap_or(far);
            tokio::select! {
                biased;
                cmd = self.cmds.recv(), if !closing.started() => {
                    match cmd {
                        None | Some(SessionCommand::Shutdown) => {
                            after_close = After::Shutdown;
                            closing = self.start_close(&mut ws, 1000, "").await;
                            if !closing.started() { return After::Shutdown; }
                        }
                        Some(SessionCommand::Close { code, reason }) => {
                            closing = self.start_close(&mut ws, code, &reason).await;
                            if !closing.started() { return After::Idle; }
                        }
                        Some(SessionCommand::Reconnect { new_id }) => {
                            if new_id { self.spec.session_id = Some(new_session_id()); }
                            after_close = After::Reconnect;
                            closing = self.start_close(&mut ws, 1000, "reconnecting").await;
                            if !closing.started() { return After::Reconnect; }
                        }
                        // A close frame sent as a frame is a close: the peer's answer must be
                        // read as the end of our handshake, not as the peer closing.
                        Some(SessionCommand::Send { opcode: Opcode::Close, payload }) => {
                            let (code, reason) = match crate::engine::frame::parse_close_payload(&payload) {
                                Some(cr) => cr,
                                None => (1000, String::new()),
                            };
                            closing = self.start_close(&mut ws, code, &reason).await;
                            if !closing.started() { return After::Idle; }
                        }
                        Some(SessionCommand::Send { opcode, payload }) => {
                            if let Some(end) = self.send_frame(&mut ws, opcode, payload).await {
                                self.finish(end).await;
                                return After::Idle;
                            }
                        }
                        Some(SessionCommand::Keepalive(every)) => {
                            self.spec.ping_interval = every;
                            self.pings.start(every);
                        }
                    }
                }
                _ = tokio::time::sleep_until(ping_at), if !closing.started() && self.pings.next_at().is_some() => {
                    let (payload, missing) = self.pings.due();
                    if let Some(message) = missing {
                        let at = self.at();
                        self.emit(SessionEvent::Warning { at, message }).await;
                    }
                    if let Some(end) = self.send_frame(&mut ws, Opcode::Ping, payload).await {
                        self.finish(end).await;
                        return After::Idle;
                    }
                }
                _ = tokio::time::sleep_until(deadline), if closing.started() => {
                    let (message, info) = closing.timed_out();
                    let at = self.at();
                    self.emit(SessionEvent::Warning { at, message }).await;
                    self.finish(info).await;
                    return after_close;
                }
                item = ws.next() => {
                    let mut end = None;
                    let mut item = item;
                    let mut bytes = 0;
                    loop {
                        match item {
                            Some(Ok(msg)) => {
                                bytes += msg.len();
                                if let Some(e) = self.take_message(msg, &mut batch, &closing) {
                                    end = Some(e);
                                }
                            }
                            Some(Err(e)) => { end = Some(self.read_error(e, &mut ws, &closing).await); }
                            None => { end = Some(self.stream_ended(&closing)); }
                        }
                        if end.is_some() || batch.len() >= MAX_BATCH || bytes >= MAX_BATCH_BYTES { break; }
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
        closing: &Closing,
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
                self.pings.pong(&p);
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
                // When the peer closes first, our automatic reply echoes the code, as RFC 6455
                // asks.
                if !closing.started() && code != close::NO_STATUS {
                    let f = self.frame(Direction::Out, Opcode::Close, close_payload(code, ""));
                    batch.push(f);
                }
                return Some(closing.peer_sent(code, reason));
            }
            Message::Frame(_) => return None,
        };
        let f = self.frame(Direction::In, opcode, payload);
        batch.push(f);
        None
    }

    fn stream_ended(&self, closing: &Closing) -> CloseInfo {
        closing.unanswered("the connection ended without a close frame")
    }

    async fn read_error(
        &mut self,
        e: tungstenite::Error,
        ws: &mut Socket,
        closing: &Closing,
    ) -> CloseInfo {
        use tungstenite::Error as E;
        use tungstenite::error::ProtocolError as P;
        let at = self.at();
        match e {
            E::ConnectionClosed | E::AlreadyClosed => self.stream_ended(closing),
            E::Protocol(P::ResetWithoutClosingHandshake) => {
                closing.unanswered("the TCP connection closed without a close frame")
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

    /// Send our close frame and wait for the answer; when the socket is already gone, the end is
    /// reported at once and there is nothing to wait for.
    async fn start_close(&mut self, ws: &mut Socket, code: u16, reason: &str) -> Closing {
        let payload = close_payload(code, reason);
        let frame = Message::Close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.to_string().into(),
        }));
        match ws.send(frame).await {
            Ok(()) => {
                let f = self.frame(Direction::Out, Opcode::Close, payload);
                self.emit(SessionEvent::Frames(vec![f])).await;
                Closing::sent(code, reason)
            }
            Err(e) => {
                let at = self.at();
                self.emit(SessionEvent::Warning {
                    at,
                    message: format!("could not send the close frame: {e}"),
                })
                .await;
                self.finish(abnormal(&e.to_string())).await;
                Closing::default()
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

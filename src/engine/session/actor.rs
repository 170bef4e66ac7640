//! The session's actor: one task that owns the socket, takes commands, emits events, and hands
//! incoming frames over in batches.

use super::arena::Arena;
use super::closing::{Closing, abnormal, dropped_unread};
use super::dial::open;
use super::keepalive::PingSchedule;
use super::outbox::{Io, Outbox};
use super::wire::Follow;
use super::{CloseInfo, SessionCommand, SessionEvent, Socket};
use crate::engine::auth::TokenProvider;
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
    pub(super) spec: ConnectSpec,
    tokens: Arc<TokenProvider>,
    events: mpsc::Sender<SessionEvent>,
    cmds: mpsc::UnboundedReceiver<SessionCommand>,
    t0: Instant,
    seq: u64,
    pub(super) arena: Arena,
    pub(super) pings: PingSchedule,
    /// False once the consumer is gone (an emit failed while handing frames over).
    events_open: bool,
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
            events_open: true,
        }
    }

    pub(super) fn at(&self) -> Duration {
        self.t0.elapsed()
    }

    pub(super) async fn emit(&self, ev: SessionEvent) -> bool {
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
        let result = open(
            &self.spec,
            &self.tokens,
            &url,
            &mut shown_request,
            Follow::All,
        )
        .await;
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

    pub(super) fn frame(&mut self, dir: Direction, opcode: Opcode, payload: Bytes) -> Frame {
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
        let mut out = Outbox::new(&ws);
        self.pings.start(self.spec.ping_interval);
        let far = tokio::time::Instant::now() + Duration::from_secs(86400 * 365);
        loop {
            let ping_at = self.pings.next_at().unwrap_or(far);
            let deadline = closing.deadline(out.stalled_since()).unwrap_or(far);
            let notice = out.notice_at().filter(|_| !closing.started());
            tokio::select! {
                biased;
                cmd = self.cmds.recv(), if !closing.started() => {
                    match cmd {
                        None | Some(SessionCommand::Shutdown) => {
                            after_close = After::Shutdown;
                            closing = self.start_close(&mut out, 1000, "");
                        }
                        Some(SessionCommand::Close { code, reason }) => {
                            closing = self.start_close(&mut out, code, &reason);
                        }
                        Some(SessionCommand::Reconnect { new_id }) => {
                            if new_id { self.spec.session_id = Some(new_session_id()); }
                            after_close = After::Reconnect;
                            closing = self.start_close(&mut out, 1000, "reconnecting");
                        }
                        // A close frame sent as a frame is a close: the peer's answer must be
                        // read as the end of our handshake, not as the peer closing.
                        Some(SessionCommand::Send { opcode: Opcode::Close, payload }) => {
                            let (code, reason) = crate::engine::frame::parse_close_payload(&payload)
                                .unwrap_or((1000, String::new()));
                            closing = self.start_close(&mut out, code, &reason);
                        }
                        Some(SessionCommand::Send { opcode, payload }) => {
                            self.queue_frame(&mut out, &ws, opcode, payload).await;
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
                        self.warn(message).await;
                    }
                    self.queue_frame(&mut out, &ws, Opcode::Ping, payload).await;
                }
                _ = tokio::time::sleep_until(notice.unwrap_or(far)), if notice.is_some() => {
                    let message = out.tell_stall(&ws);
                    self.warn(message).await;
                }
                _ = tokio::time::sleep_until(deadline), if closing.started() => {
                    let (message, info) = if out.is_idle() {
                        closing.timed_out()
                    } else {
                        dropped_unread(&out.waiting(&ws))
                    };
                    self.warn(message).await;
                    self.finish(info).await;
                    return after_close;
                }
                io = std::future::poll_fn(|cx| out.poll(&mut ws, cx)) => {
                    match io {
                        Io::Wrote(sent) => {
                            let frames = sent
                                .into_iter()
                                .map(|(opcode, payload)| self.frame(Direction::Out, opcode, payload))
                                .collect();
                            if !self.emit(SessionEvent::Frames(frames)).await {
                                return After::Shutdown;
                            }
                            if let Some(n) = out.refused_report() {
                                self.warn(format!("the send queue drained: {n} frames were refused while it was full, and not sent")).await;
                            }
                        }
                        Io::WriteFailed(e) => {
                            self.warn(format!("send failed: {e}")).await;
                            if closing.started() {
                                self.finish(closing.unanswered(&e.to_string())).await;
                                return after_close;
                            }
                            self.finish(abnormal(&e.to_string())).await;
                            return After::Idle;
                        }
                        Io::Read(item) => {
                            if let Some(info) = self.read_batch(item, &mut ws, &mut batch, &closing).await {
                                if !out.is_idle() && !closing.started() {
                                    let message = format!("not sent, the connection ended first: {}", out.waiting(&ws));
                                    self.warn(message).await;
                                }
                                // A peer-initiated close: flush tungstenite's queued reply.
                                let _ = tokio::time::timeout(Duration::from_secs(1), ws.flush()).await;
                                self.finish(info).await;
                                return after_close;
                            }
                            if !self.events_open {
                                return After::Shutdown;
                            }
                        }
                    }
                }
            }
        }
    }

    /// One read, and whatever else is already buffered, handed over as one batch; returns the end
    /// of the connection when it ended.
    async fn read_batch(
        &mut self,
        mut item: Option<Result<Message, tungstenite::Error>>,
        ws: &mut Socket,
        batch: &mut Vec<Frame>,
        closing: &Closing,
    ) -> Option<CloseInfo> {
        let mut end = None;
        let mut bytes = 0;
        let mut warnings = Vec::new();
        loop {
            match item {
                Some(Ok(msg)) => {
                    bytes += msg.len();
                    let wire = ws.get_ref().log();
                    if let Some(e) = self.take_message(msg, batch, closing, wire, &mut warnings) {
                        end = Some(e);
                    }
                }
                Some(Err(e)) => end = Some(self.read_error(e, ws, closing, batch).await),
                None => {
                    if closing.started() {
                        warnings.push(super::incoming::HUNG_UP.into());
                    }
                    end = Some(self.stream_ended(closing));
                }
            }
            if end.is_some() || batch.len() >= MAX_BATCH || bytes >= MAX_BATCH_BYTES {
                break;
            }
            // Take what is already buffered without waiting, to hand it over in one go.
            match ws.next().now_or_never() {
                Some(next) => item = next,
                None => break,
            }
        }
        self.flush_batch(batch).await;
        for message in warnings {
            self.warn(message).await;
        }
        end
    }

    /// Hand the frames gathered so far over.
    pub(super) async fn flush_batch(&mut self, batch: &mut Vec<Frame>) {
        if !batch.is_empty() {
            let frames = std::mem::replace(batch, Vec::with_capacity(64));
            self.events_open &= self.emit(SessionEvent::Frames(frames)).await;
        }
    }

    pub(super) async fn warn(&mut self, message: String) {
        let at = self.at();
        self.emit(SessionEvent::Warning { at, message }).await;
    }

    /// Queue our close frame behind what is queued; the peer's answer (or the wait running out)
    /// ends the connection.
    fn start_close(&mut self, out: &mut Outbox, code: u16, reason: &str) -> Closing {
        let msg = Message::Close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.to_string().into(),
        }));
        out.push(msg, Opcode::Close, close_payload(code, reason));
        Closing::sent(code, reason)
    }

    /// Queue one frame for sending, unless it cannot be sent or the queue is full (said either
    /// way).
    async fn queue_frame(&mut self, out: &mut Outbox, ws: &Socket, opcode: Opcode, payload: Bytes) {
        let msg = match opcode {
            Opcode::Text => match tungstenite::Utf8Bytes::try_from(payload.clone()) {
                Ok(t) => Message::Text(t),
                Err(_) => {
                    self.warn(
                        "not sent: a text frame must be valid UTF-8 (send it as binary)".into(),
                    )
                    .await;
                    return;
                }
            },
            Opcode::Binary => Message::Binary(payload.clone()),
            Opcode::Ping | Opcode::Pong if payload.len() > 125 => {
                self.warn(format!(
                    "not sent: a {} payload is at most 125 bytes (this one has {})",
                    opcode.as_str(),
                    payload.len()
                ))
                .await;
                return;
            }
            Opcode::Ping => Message::Ping(payload.clone()),
            Opcode::Pong => Message::Pong(payload.clone()),
            // Closes go through start_close.
            Opcode::Close => return,
        };
        if let Err(full) = out.room(payload.len()) {
            if full.first {
                let message = format!(
                    "not sent: the send queue is full ({}; the peer is not reading); frames are refused until it drains",
                    out.waiting(ws)
                );
                self.warn(message).await;
            }
            return;
        }
        out.push(msg, opcode, payload);
    }

    pub(super) async fn finish(&mut self, info: CloseInfo) {
        let at = self.at();
        self.emit(SessionEvent::Closed { at, info }).await;
    }
}

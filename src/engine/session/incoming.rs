//! What the peer sent, as the session reports it: messages become frames, and the ways a peer
//! breaks the protocol become a close we explain. Where tungstenite rewrote or dropped what came
//! (a close code not allowed on the wire, bytes that are not UTF-8), the wire log (`wire.rs`)
//! gives back what the peer really sent, so the frame that explains the close is in the log and
//! the capture.

use super::actor::Actor;
use super::closing::{Closing, abnormal};
use super::wire::{BadText, RawClose, TEXT_KEEP, WireLog};
use super::{CloseInfo, Socket};
use crate::engine::close::{self, Initiator};
use crate::engine::frame::{Direction, Frame, Opcode, close_payload};
use bytes::Bytes;
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

/// After our close frame, the connection ended without the peer's.
pub(super) const HUNG_UP: &str = "the peer hung up without answering our close frame";

impl Actor {
    /// Record an incoming message; returns the end of the connection when it was a close.
    pub(super) fn take_message(
        &mut self,
        msg: Message,
        batch: &mut Vec<Frame>,
        closing: &Closing,
        wire: &WireLog,
        warnings: &mut Vec<String>,
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
            Message::Close(cf) => return Some(self.take_close(cf, batch, closing, wire, warnings)),
            Message::Frame(_) => return None,
        };
        let f = self.frame(Direction::In, opcode, payload);
        batch.push(f);
        None
    }

    fn take_close(
        &mut self,
        cf: Option<CloseFrame>,
        batch: &mut Vec<Frame>,
        closing: &Closing,
        wire: &WireLog,
        warnings: &mut Vec<String>,
    ) -> CloseInfo {
        let (code, reason) = match &cf {
            Some(cf) => (u16::from(cf.code), cf.reason.to_string()),
            None => (close::NO_STATUS, String::new()),
        };
        // tungstenite puts 1002 "Protocol violation" in place of a code not allowed on the
        // wire (and answers with it): the peer's own code is in the wire log.
        if let Some(raw) = wire.first_close()
            && let Some(real) = raw.code()
            && real != code
            && !closing.started()
        {
            let reason_sent = String::from_utf8_lossy(raw.reason()).into_owned();
            let f = self.frame(Direction::In, Opcode::Close, raw.payload.clone());
            batch.push(f);
            let f = self.frame(Direction::Out, Opcode::Close, close_payload(code, &reason));
            batch.push(f);
            warnings.push(format!(
                "the peer sent close {real} (invalid on the wire; tungstenite answered {code}): a close frame may carry 1000-1003, 1007-1014 or 3000-4999 (RFC 6455 7.4)"
            ));
            return CloseInfo {
                code: real,
                reason: reason_sent,
                initiator: Initiator::Server,
                clean: false,
            };
        }
        let payload = match &cf {
            Some(_) => close_payload(code, &reason),
            None => Bytes::new(),
        };
        let f = self.frame(Direction::In, Opcode::Close, payload);
        batch.push(f);
        // When the peer closes first, our automatic reply echoes the code, as RFC 6455 asks.
        if !closing.started() && code != close::NO_STATUS {
            let f = self.frame(Direction::Out, Opcode::Close, close_payload(code, ""));
            batch.push(f);
        }
        closing.peer_sent(code, reason)
    }

    pub(super) fn stream_ended(&self, closing: &Closing) -> CloseInfo {
        closing.unanswered("the connection ended without a close frame")
    }

    pub(super) async fn read_error(
        &mut self,
        e: tungstenite::Error,
        ws: &mut Socket,
        closing: &Closing,
        batch: &mut Vec<Frame>,
    ) -> CloseInfo {
        use tungstenite::Error as E;
        use tungstenite::error::ProtocolError as P;
        match e {
            E::ConnectionClosed | E::AlreadyClosed => self.stream_ended(closing),
            E::Protocol(P::ResetWithoutClosingHandshake) => {
                if closing.started() {
                    self.flush_batch(batch).await;
                    self.warn(HUNG_UP.into()).await;
                }
                closing.unanswered("the TCP connection closed without a close frame")
            }
            E::Io(io) => {
                self.flush_batch(batch).await;
                self.warn(format!("transport error: {io}")).await;
                abnormal(&io.to_string())
            }
            E::Capacity(c) => {
                let message = match self.spec.max_message_size {
                    Some(limit) => format!(
                        "the peer sent a message over wsdeck's limit of {} ({c}); raise it with --max-message-size BYTES (0 = no limit), or max_message_size in config.toml",
                        size(limit)
                    ),
                    None => format!("the peer sent a message too big to take ({c})"),
                };
                self.local_close(ws, batch, 1009, "message too big", message)
                    .await
            }
            E::Utf8(detail) => self.not_utf8(detail, ws, batch).await,
            E::Protocol(P::InvalidCloseSequence) => {
                // A one-byte close payload: keep it, it is the frame that broke the rule.
                if let Some(raw) = ws.get_ref().log().first_close().cloned() {
                    let f = self.frame(Direction::In, Opcode::Close, raw.payload);
                    batch.push(f);
                }
                let message = "the peer sent a close frame of one byte: a close payload is empty, or a 2-byte code and a reason".to_string();
                self.local_close(ws, batch, 1002, "protocol error", message)
                    .await
            }
            E::Protocol(p) => {
                let message = format!("the peer broke the WebSocket protocol: {p}");
                self.local_close(ws, batch, 1002, "protocol error", message)
                    .await
            }
            other => {
                self.flush_batch(batch).await;
                self.warn(format!("read error: {other}")).await;
                abnormal(&other.to_string())
            }
        }
    }

    /// Bytes that are not UTF-8 where the protocol wants text: a text message, or a close
    /// frame's reason. The offending frame goes into the log as the peer sent it.
    async fn not_utf8(
        &mut self,
        detail: String,
        ws: &mut Socket,
        batch: &mut Vec<Frame>,
    ) -> CloseInfo {
        let wire = ws.get_ref().log();
        let text = wire.bad_text();
        let close = wire
            .first_close()
            .filter(|c| std::str::from_utf8(c.reason()).is_err())
            .cloned();
        match (text, close) {
            (Some(t), Some(c)) if c.frame_no < t.frame_no => {
                self.bad_close_reason(c, ws, batch).await
            }
            (None, Some(c)) => self.bad_close_reason(c, ws, batch).await,
            (Some(t), _) => {
                let message = bad_text_message(&t);
                let f = self.frame(Direction::In, Opcode::Text, t.bytes);
                batch.push(f);
                self.local_close(ws, batch, 1007, "invalid UTF-8 in a text frame", message)
                    .await
            }
            (None, None) => {
                let message = format!(
                    "the peer sent a text frame that is not valid UTF-8 ({detail}); binary data belongs in binary frames"
                );
                self.local_close(ws, batch, 1007, "invalid UTF-8 in a text frame", message)
                    .await
            }
        }
    }

    /// The peer closed, with a reason that is not UTF-8: its code stands, the handshake did not
    /// complete (we answer 1007).
    async fn bad_close_reason(
        &mut self,
        raw: RawClose,
        ws: &mut Socket,
        batch: &mut Vec<Frame>,
    ) -> CloseInfo {
        let code = raw.code().unwrap_or(close::NO_STATUS);
        let reason = String::from_utf8_lossy(raw.reason()).into_owned();
        let message = format!(
            "the peer closed with {code} and a reason that is not valid UTF-8 ({}); wsdeck answered 1007",
            hex_preview(raw.reason(), 32)
        );
        let f = self.frame(Direction::In, Opcode::Close, raw.payload);
        batch.push(f);
        self.local_close(
            ws,
            batch,
            1007,
            "invalid UTF-8 in the close reason",
            message,
        )
        .await;
        CloseInfo {
            code,
            reason,
            initiator: Initiator::Server,
            clean: false,
        }
    }

    /// We end the connection because of what the peer sent.
    async fn local_close(
        &mut self,
        ws: &mut Socket,
        batch: &mut Vec<Frame>,
        code: u16,
        reason: &str,
        message: String,
    ) -> CloseInfo {
        self.flush_batch(batch).await;
        self.warn(message).await;
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
            batch.push(frame);
            self.flush_batch(batch).await;
        }
        CloseInfo {
            code,
            reason: reason.to_string(),
            initiator: Initiator::Client,
            clean: false,
        }
    }
}

fn bad_text_message(t: &BadText) -> String {
    let at = match t.bad_at {
        Some(i) => format!(
            "at byte {i}: {}",
            hex_preview(t.bytes.get(i..).unwrap_or_default(), 4)
        ),
        None => format!("past its first {} bytes", TEXT_KEEP),
    };
    let kept = if t.cut {
        format!("its first {} of {} bytes are", t.bytes.len(), t.len)
    } else {
        format!("its {} bytes are", t.bytes.len())
    };
    format!(
        "the peer sent a text frame that is not valid UTF-8 ({at}); wsdeck closed with 1007. {kept} in the log as the peer sent them (shown as hex); binary data belongs in binary frames"
    )
}

/// The first `n` bytes as hex pairs ("c3 28 …").
fn hex_preview(bytes: &[u8], n: usize) -> String {
    let mut s: Vec<String> = bytes.iter().take(n).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > n {
        s.push("…".into());
    }
    if s.is_empty() {
        return "no bytes".into();
    }
    s.join(" ")
}

fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB ({bytes} bytes)", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

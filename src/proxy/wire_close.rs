//! The agent's close as it was on the wire. tungstenite hands a relay 1002 "Protocol violation"
//! in place of a code not allowed on the wire (999, or 1005 sent as a code) and answers the
//! agent with it; the tap under the upstream socket (`engine::session::wire`) saw the real
//! bytes. The client is given the close the agent sent, and the record shows it, so a proxy
//! hides nothing a direct connection would have shown.

use crate::engine::frame::close_payload;
use crate::engine::session::{CloseWatch, RawClose};
use bytes::Bytes;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// A close as it is reported and passed on.
pub(super) struct AgentClose {
    pub code: u16,
    pub reason: String,
    /// The payload for the record: the wire's bytes when they differ from what tungstenite gave.
    pub payload: Bytes,
    /// The message for the client, when it must differ from tungstenite's.
    pub forward: Option<Message>,
    /// Why, when the close was rewritten.
    pub warning: Option<String>,
}

/// `code`/`reason` as tungstenite gave them; the wire's close (if the tap saw one) decides.
pub(super) fn as_sent(code: u16, reason: String, watch: Option<&CloseWatch>) -> AgentClose {
    match watch.and_then(CloseWatch::first_close) {
        Some(raw) if raw.code().is_some_and(|real| real != code) => rewritten(raw, code),
        _ => AgentClose {
            payload: close_payload(code, &reason),
            code,
            reason,
            forward: None,
            warning: None,
        },
    }
}

fn rewritten(raw: RawClose, tungstenite: u16) -> AgentClose {
    let real = raw.code().unwrap_or(tungstenite);
    let reason = String::from_utf8_lossy(raw.reason()).into_owned();
    let forward = Message::Close(Some(CloseFrame {
        code: CloseCode::from(real),
        reason: reason.clone().into(),
    }));
    AgentClose {
        code: real,
        warning: Some(format!(
            "the agent sent close {real} (invalid on the wire; tungstenite answered the agent with {tungstenite}); passed on to the client as sent: a close frame may carry 1000-1003, 1007-1014 or 3000-4999 (RFC 6455 7.4)"
        )),
        reason,
        payload: raw.payload,
        forward: Some(forward),
    }
}

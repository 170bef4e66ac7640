//! How one direction of a relay ends: a close, a drop, a failed write, a broken frame; and
//! tungstenite's errors read as those ends.

use crate::engine::close::{self, Initiator};
use crate::engine::session::CloseInfo;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

/// How one direction ended.
#[derive(Debug)]
pub(super) enum End {
    /// The sending side closed (code 1005: a close frame without one); the close was forwarded.
    Closed { code: u16, reason: String },
    /// The sending side's connection ended or failed without a close frame.
    Dropped(String),
    /// Writing to the receiving side failed: it is gone.
    PeerGone(String),
    /// The sending side broke the protocol (or went over the size limit): close both with this.
    Broken {
        code: u16,
        reason: &'static str,
        message: String,
    },
}

pub(super) fn close_parts(cf: Option<&CloseFrame>) -> (u16, String) {
    match cf {
        Some(cf) => (u16::from(cf.code), cf.reason.to_string()),
        None => (close::NO_STATUS, String::new()),
    }
}

/// A connection that ended without a close frame.
pub(super) fn abnormal() -> CloseInfo {
    CloseInfo {
        code: close::ABNORMAL,
        reason: String::new(),
        initiator: Initiator::Transport,
        clean: false,
    }
}

/// A failed read, as the end of that direction.
pub(super) fn read_error(e: WsError) -> End {
    use tokio_tungstenite::tungstenite::error::ProtocolError as P;
    match e {
        WsError::ConnectionClosed | WsError::AlreadyClosed => {
            End::Dropped("the stream ended".into())
        }
        WsError::Protocol(P::ResetWithoutClosingHandshake) => {
            End::Dropped("the TCP connection closed".into())
        }
        WsError::Io(io) => End::Dropped(io.to_string()),
        WsError::Capacity(c) => End::Broken {
            code: 1009,
            reason: "message too big",
            message: format!(
                "a message over wsdeck's limit ({c}; raise it with --max-message-size, 0 = no limit)"
            ),
        },
        WsError::Utf8(detail) => End::Broken {
            code: 1007,
            reason: "invalid UTF-8 in a text frame",
            message: format!("a text frame that is not valid UTF-8 ({detail})"),
        },
        WsError::Protocol(p) => End::Broken {
            code: 1002,
            reason: "protocol error",
            message: format!("a frame that breaks the WebSocket protocol ({p})"),
        },
        other => End::Dropped(other.to_string()),
    }
}

/// A failed write: `None` when the receiving side is merely closing (what still comes is not
/// sent), else the end of the relay.
pub(super) fn classify_write(e: WsError) -> Option<End> {
    use tokio_tungstenite::tungstenite::error::ProtocolError as P;
    match e {
        WsError::Protocol(P::SendAfterClosing)
        | WsError::ConnectionClosed
        | WsError::AlreadyClosed => None,
        other => Some(End::PeerGone(other.to_string())),
    }
}

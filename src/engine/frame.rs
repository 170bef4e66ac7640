//! One WebSocket frame as wsdeck records it: both directions, control frames included.

use bytes::Bytes;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// Received from the peer.
    In,
    /// Sent by wsdeck.
    Out,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "in" => Some(Direction::In),
            "out" => Some(Direction::Out),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Opcode {
    Text,
    Binary,
    Ping,
    Pong,
    Close,
}

impl Opcode {
    pub fn as_str(self) -> &'static str {
        match self {
            Opcode::Text => "text",
            Opcode::Binary => "binary",
            Opcode::Ping => "ping",
            Opcode::Pong => "pong",
            Opcode::Close => "close",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "text" => Opcode::Text,
            "binary" => Opcode::Binary,
            "ping" => Opcode::Ping,
            "pong" => Opcode::Pong,
            "close" => Opcode::Close,
            _ => return None,
        })
    }
}

/// A frame in either direction.
///
/// `payload` is the frame's application data exactly as on the wire (for a close frame: the
/// two-byte code followed by the reason), shared with the socket's buffer rather than copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Position in the session, from 1, counting both directions.
    pub seq: u64,
    /// Monotonic time since the session's connection attempt started.
    pub at: Duration,
    pub dir: Direction,
    pub opcode: Opcode,
    pub payload: Bytes,
}

impl Frame {
    /// The text of a text frame. Text frames are validated as UTF-8 by the socket layer, so this
    /// fails only for a hand-made frame, or for the one a peer sent with bytes that are not
    /// UTF-8, kept in the log to explain the 1007 that followed (captures write it as `b64`).
    pub fn text(&self) -> Option<&str> {
        if self.opcode == Opcode::Text {
            std::str::from_utf8(&self.payload).ok()
        } else {
            None
        }
    }

    /// Code and reason of a close frame (`None` for an empty close payload or another opcode).
    pub fn close_code(&self) -> Option<(u16, String)> {
        if self.opcode != Opcode::Close {
            return None;
        }
        parse_close_payload(&self.payload)
    }
}

/// The payload of a close frame with `code` and `reason`, as on the wire.
pub fn close_payload(code: u16, reason: &str) -> Bytes {
    let mut v = Vec::with_capacity(2 + reason.len());
    v.extend_from_slice(&code.to_be_bytes());
    v.extend_from_slice(reason.as_bytes());
    Bytes::from(v)
}

/// Code and reason from a close payload (`None` when it has no code).
pub fn parse_close_payload(payload: &[u8]) -> Option<(u16, String)> {
    if payload.len() < 2 {
        return None;
    }
    let code = u16::from_be_bytes([payload[0], payload[1]]);
    Some((code, String::from_utf8_lossy(&payload[2..]).into_owned()))
}

//! Frames the console puts into a client's relayed conversation, toward the agent or toward the
//! client. The relay writes them between the frames it passes on and reports each as injected, so
//! the log never passes one off as the client's or the agent's own.

use crate::engine::frame::{Direction, Opcode, parse_close_payload};
use bytes::Bytes;
use thiserror::Error;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// Injected frames waiting for the relay, per direction: a user types them, so a few suffice,
/// and a full queue says the side is not reading rather than growing.
pub(super) const QUEUE: usize = 64;

/// Puts frames into one client's conversation while it is relayed. Cheap to clone; once the
/// relay ends every call says so.
#[derive(Debug, Clone)]
pub struct Injector {
    pub(super) to_agent: mpsc::Sender<Message>,
    pub(super) to_client: mpsc::Sender<Message>,
    pub(super) close: mpsc::Sender<(u16, String)>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum InjectError {
    #[error("this client's connection has ended")]
    Ended,
    #[error("not sent: the {0} is not reading (64 injected frames are waiting)")]
    Busy(&'static str),
    #[error("not sent: a text frame must be valid UTF-8 (send it as binary)")]
    NotUtf8,
    #[error("not sent: a {opcode} payload is at most 125 bytes (this one has {len})")]
    ControlTooLong { opcode: &'static str, len: usize },
}

/// The receiving ends, one per pump, and the close request for the relay itself.
pub(super) struct Injections {
    pub(super) to_agent: mpsc::Receiver<Message>,
    pub(super) to_client: mpsc::Receiver<Message>,
    pub(super) close: mpsc::Receiver<(u16, String)>,
}

pub(super) fn channel() -> (Injector, Injections) {
    let (to_agent, agent_rx) = mpsc::channel(QUEUE);
    let (to_client, client_rx) = mpsc::channel(QUEUE);
    let (close, close_rx) = mpsc::channel(1);
    (
        Injector {
            to_agent,
            to_client,
            close,
        },
        Injections {
            to_agent: agent_rx,
            to_client: client_rx,
            close: close_rx,
        },
    )
}

impl Injector {
    /// Send one frame toward the agent (`Out`) or the client (`In`). A close ends the
    /// conversation on both sides with its code and reason (1000 when the payload has none), as
    /// the proxy's own stop does: half a relayed conversation would show neither side the truth.
    pub fn inject(
        &self,
        toward: Direction,
        opcode: Opcode,
        payload: Bytes,
    ) -> Result<(), InjectError> {
        let msg = match opcode {
            Opcode::Close => {
                let (code, reason) = parse_close_payload(&payload).unwrap_or((1000, String::new()));
                return match self.close.try_send((code, reason)) {
                    // A close already asked for is one close.
                    Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => Ok(()),
                    Err(mpsc::error::TrySendError::Closed(_)) => Err(InjectError::Ended),
                };
            }
            Opcode::Text => {
                Message::Text(Utf8Bytes::try_from(payload).map_err(|_| InjectError::NotUtf8)?)
            }
            Opcode::Binary => Message::Binary(payload),
            Opcode::Ping | Opcode::Pong if payload.len() > 125 => {
                return Err(InjectError::ControlTooLong {
                    opcode: opcode.as_str(),
                    len: payload.len(),
                });
            }
            Opcode::Ping => Message::Ping(payload),
            Opcode::Pong => Message::Pong(payload),
        };
        let (queue, side) = match toward {
            Direction::Out => (&self.to_agent, "agent"),
            Direction::In => (&self.to_client, "client"),
        };
        queue.try_send(msg).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => InjectError::Busy(side),
            mpsc::error::TrySendError::Closed(_) => InjectError::Ended,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_are_checked_before_they_are_queued() {
        let (inj, mut rx) = channel();
        assert_eq!(
            inj.inject(Direction::Out, Opcode::Text, Bytes::from_static(b"\xff")),
            Err(InjectError::NotUtf8)
        );
        let long = Bytes::from(vec![0u8; 126]);
        assert!(matches!(
            inj.inject(Direction::In, Opcode::Ping, long),
            Err(InjectError::ControlTooLong { len: 126, .. })
        ));
        inj.inject(Direction::Out, Opcode::Text, Bytes::from_static(b"hi"))
            .expect("queued");
        inj.inject(Direction::In, Opcode::Binary, Bytes::from_static(b"\x01"))
            .expect("queued");
        assert_eq!(rx.to_agent.recv().await, Some(Message::text("hi")));
        assert_eq!(
            rx.to_client.recv().await,
            Some(Message::Binary(Bytes::from_static(b"\x01")))
        );
        let mut close = vec![0x0f, 0xa0];
        close.extend_from_slice(b"bye");
        inj.inject(Direction::In, Opcode::Close, Bytes::from(close))
            .expect("asked");
        assert_eq!(rx.close.recv().await, Some((4000, "bye".to_string())));
    }

    #[test]
    fn a_full_queue_or_an_ended_relay_is_said() {
        let (inj, rx) = channel();
        for _ in 0..QUEUE {
            inj.inject(Direction::In, Opcode::Text, Bytes::from_static(b"x"))
                .expect("room");
        }
        assert_eq!(
            inj.inject(Direction::In, Opcode::Text, Bytes::from_static(b"x")),
            Err(InjectError::Busy("client"))
        );
        drop(rx);
        assert_eq!(
            inj.inject(Direction::Out, Opcode::Text, Bytes::from_static(b"x")),
            Err(InjectError::Ended)
        );
    }
}

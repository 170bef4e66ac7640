//! The closing handshake of one connection. Once we sent a close frame, the connection ends with
//! the peer's answer, its hang-up, or `CLOSE_HANDSHAKE_WAIT` of silence, and in each case our code
//! stands; until then, a close frame from the peer is the peer closing. A close frame that cannot
//! even be written (the peer stopped reading, our frames queued before it) is given up on after
//! `CLOSE_WRITE_WAIT` without progress, and the connection dropped.

use super::CloseInfo;
use crate::engine::close::{self, Initiator};
use std::time::Duration;

/// How long a close frame we sent waits for the peer's answer.
const CLOSE_HANDSHAKE_WAIT: Duration = Duration::from_secs(5);
/// How long our writes may make no progress, once we are closing: a peer that reads takes our
/// bytes at once, and one that stopped will not take them in the full wait either.
pub(super) const CLOSE_WRITE_WAIT: Duration = Duration::from_secs(2);

/// Where one connection's closing handshake stands.
#[derive(Default)]
pub(super) struct Closing {
    /// Set once we sent a close frame.
    ours: Option<Sent>,
}

struct Sent {
    code: u16,
    reason: String,
    deadline: tokio::time::Instant,
}

impl Closing {
    /// We sent a close frame: the peer has `CLOSE_HANDSHAKE_WAIT` to answer it.
    pub(super) fn sent(code: u16, reason: &str) -> Self {
        Closing {
            ours: Some(Sent {
                code,
                reason: reason.to_string(),
                deadline: tokio::time::Instant::now() + CLOSE_HANDSHAKE_WAIT,
            }),
        }
    }

    /// Whether we sent a close frame (after which no command is taken).
    pub(super) fn started(&self) -> bool {
        self.ours.is_some()
    }

    /// When we stop waiting: for the peer's answer, or for our writes stalled since
    /// `stalled_since` to move.
    pub(super) fn deadline(
        &self,
        stalled_since: Option<tokio::time::Instant>,
    ) -> Option<tokio::time::Instant> {
        let ours = self.ours.as_ref()?;
        Some(match stalled_since {
            Some(t) => ours.deadline.min(t + CLOSE_WRITE_WAIT),
            None => ours.deadline,
        })
    }

    /// The peer's close frame ends the connection.
    pub(super) fn peer_sent(&self, code: u16, reason: String) -> CloseInfo {
        match &self.ours {
            // The answer to our close: our code stands.
            Some(ours) => CloseInfo {
                code: ours.code,
                reason: ours.reason.clone(),
                initiator: Initiator::Client,
                clean: close::is_clean_code(ours.code),
            },
            None => CloseInfo {
                code,
                reason,
                initiator: Initiator::Server,
                clean: close::is_clean_code(code),
            },
        }
    }

    /// The connection ended without the peer's close frame: after ours, the peer hung up without
    /// answering; before, the transport dropped.
    pub(super) fn unanswered(&self, why: &str) -> CloseInfo {
        match &self.ours {
            Some(ours) => CloseInfo {
                code: ours.code,
                reason: ours.reason.clone(),
                initiator: Initiator::Client,
                clean: false,
            },
            None => abnormal(why),
        }
    }

    /// The wait ran out: the warning to show, and how the connection ended.
    pub(super) fn timed_out(&self) -> (String, CloseInfo) {
        let message = format!(
            "the peer did not answer our close frame within {}s",
            CLOSE_HANDSHAKE_WAIT.as_secs()
        );
        (message, self.unanswered("the close handshake timed out"))
    }
}

/// Our close frame could not be written: the peer stopped reading and we dropped the
/// connection. No close frame went either way, so the code is 1006; wsdeck ended it.
pub(super) fn dropped_unread(waiting: &str) -> (String, CloseInfo) {
    let message = format!(
        "the peer stopped reading: our close frame could not be written within {}s ({waiting}); wsdeck dropped the connection",
        CLOSE_WRITE_WAIT.as_secs()
    );
    let info = CloseInfo {
        code: close::ABNORMAL,
        reason: String::new(),
        initiator: Initiator::Client,
        clean: false,
    };
    (message, info)
}

/// No close frame at all: reported as 1006, with the cause in the debug log only.
pub(super) fn abnormal(why: &str) -> CloseInfo {
    tracing::debug!("abnormal close: {why}");
    CloseInfo {
        code: close::ABNORMAL,
        reason: String::new(),
        initiator: Initiator::Transport,
        clean: false,
    }
}

//! The keepalive pings a session sends while open, so a dead peer or path shows up as a missing
//! pong. The round trips are matched elsewhere (`engine::rtt`), and the console's automatic
//! reconnect is `app::reconnect`.

use bytes::Bytes;
use std::time::Duration;

/// Our keepalive pings: when the next is due, and the one still waiting for its pong.
#[derive(Default)]
pub(super) struct PingSchedule {
    every: Option<Duration>,
    next_at: Option<tokio::time::Instant>,
    sent: u64,
    waiting: Option<(Bytes, tokio::time::Instant)>,
}

impl PingSchedule {
    /// Start (or stop) the schedule for a new connection or a new interval.
    pub(super) fn start(&mut self, every: Option<Duration>) {
        self.every = every.filter(|d| !d.is_zero());
        self.next_at = self.every.map(|d| tokio::time::Instant::now() + d);
        self.waiting = None;
    }

    /// When the next ping is due (`None`: pings are off).
    pub(super) fn next_at(&self) -> Option<tokio::time::Instant> {
        self.next_at
    }

    /// A ping is due: its payload, and a report on the previous one when it had no answer.
    pub(super) fn due(&mut self) -> (Bytes, Option<String>) {
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

    pub(super) fn pong(&mut self, payload: &[u8]) {
        if self.waiting.as_ref().is_some_and(|(p, _)| p == payload) {
            self.waiting = None;
        }
    }
}

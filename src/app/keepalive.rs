//! Per-session liveness, as the console sees it: round-trip times matched from our pings and the
//! peer's pongs in the frame log, and the automatic reconnect's schedule (off by default).

use crate::engine::{Direction, Frame, Opcode};
use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// Outgoing pings remembered while waiting for their pong.
const PINGS_KEPT: usize = 32;
/// Automatic reconnects tried in a row before giving up.
pub const MAX_ATTEMPTS: u32 = 10;
/// The longest pause between automatic reconnects.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Default)]
pub struct Rtt {
    pings: VecDeque<(Bytes, Duration)>,
    /// Round trip of each pong row, by (seq, time) of the pong frame.
    by_pong: HashMap<(u64, Duration), Duration>,
    pub last: Option<Duration>,
}

impl Rtt {
    /// Look at a frame as it enters the log: our pings are remembered, the pong with the same
    /// payload gives the round trip (any ping: keepalive or composed by hand).
    pub fn observe(&mut self, f: &Frame) {
        match (f.dir, f.opcode) {
            (Direction::Out, Opcode::Ping) => {
                if self.pings.len() == PINGS_KEPT {
                    self.pings.pop_front();
                }
                self.pings.push_back((f.payload.clone(), f.at));
            }
            (Direction::In, Opcode::Pong) => {
                if let Some(i) = self.pings.iter().rposition(|(p, _)| *p == f.payload)
                    && let Some((_, sent)) = self.pings.remove(i)
                {
                    let rtt = f.at.saturating_sub(sent);
                    self.by_pong.insert((f.seq, f.at), rtt);
                    self.last = Some(rtt);
                }
            }
            _ => {}
        }
    }

    pub fn of_pong(&self, f: &Frame) -> Option<Duration> {
        self.by_pong.get(&(f.seq, f.at)).copied()
    }
}

/// The automatic reconnect of one session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AutoReconnect {
    pub enabled: bool,
    /// Attempts since the connection was last open.
    pub attempt: u32,
    /// When the next attempt goes, on the console clock.
    pub due: Option<Duration>,
}

impl AutoReconnect {
    /// The connection ended badly (or an attempt failed): plan the next attempt, unless off or
    /// out of attempts. Returns whether one was planned.
    pub fn schedule(&mut self, now: Duration) -> bool {
        if !self.enabled || self.attempt >= MAX_ATTEMPTS {
            self.due = None;
            return false;
        }
        self.due = Some(now + backoff(self.attempt));
        true
    }

    /// Whether the attempt is due now (it is then taken).
    pub fn take_due(&mut self, now: Duration) -> bool {
        match self.due {
            Some(d) if now >= d => {
                self.due = None;
                self.attempt += 1;
                true
            }
            _ => false,
        }
    }

    pub fn opened(&mut self) {
        self.attempt = 0;
        self.due = None;
    }

    pub fn cancel(&mut self) -> bool {
        self.attempt = 0;
        self.due.take().is_some()
    }

    /// Seconds left, for the countdown.
    pub fn left(&self, now: Duration) -> Option<u64> {
        self.due
            .map(|d| d.saturating_sub(now).as_secs_f64().ceil() as u64)
    }
}

/// 1 s, 2 s, 4 s … up to 30 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.min(5)).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: u64, ms: u64, dir: Direction, opcode: Opcode, p: &'static str) -> Frame {
        Frame {
            seq,
            at: Duration::from_millis(ms),
            dir,
            opcode,
            payload: Bytes::from_static(p.as_bytes()),
        }
    }

    #[test]
    fn pongs_are_matched_to_their_pings() {
        let mut r = Rtt::default();
        r.observe(&frame(1, 100, Direction::Out, Opcode::Ping, "a"));
        r.observe(&frame(2, 110, Direction::Out, Opcode::Ping, "b"));
        let pong_b = frame(3, 135, Direction::In, Opcode::Pong, "b");
        let stray = frame(4, 140, Direction::In, Opcode::Pong, "zz");
        r.observe(&pong_b);
        r.observe(&stray);
        assert_eq!(r.of_pong(&pong_b), Some(Duration::from_millis(25)));
        assert_eq!(r.of_pong(&stray), None);
        assert_eq!(r.last, Some(Duration::from_millis(25)));
    }

    #[test]
    fn backoff_doubles_and_gives_up() {
        let mut a = AutoReconnect {
            enabled: true,
            ..Default::default()
        };
        let t = Duration::from_secs(100);
        assert!(a.schedule(t));
        assert_eq!(a.left(t), Some(1));
        assert!(!a.take_due(t));
        assert!(a.take_due(t + Duration::from_secs(1)));
        assert!(a.schedule(t));
        assert_eq!(a.left(t), Some(2));
        a.attempt = MAX_ATTEMPTS;
        assert!(!a.schedule(t));
        assert_eq!(backoff(9), Duration::from_secs(30));
        let mut off = AutoReconnect::default();
        assert!(!off.schedule(t));
    }
}

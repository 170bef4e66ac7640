//! Round-trip times matched from our pings and the peer's pongs, as frames pass (the console's
//! pong rows and `connect`'s rtt lines both use it).

use crate::engine::{Direction, Frame, Opcode};
use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// Outgoing pings remembered while waiting for their pong.
const PINGS_KEPT: usize = 32;

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
}

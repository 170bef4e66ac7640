//! The replay scheduler, once for `wsdeck replay` and the console's `:replay`: which of a
//! capture's outgoing frames goes next, and when (original gaps, scaled, as fast as possible, or
//! once the replies to the previous frame went quiet), with pause, resume and step. It keeps no
//! clock of its own: callers pass `now` and the time of the last reply, so it is tested without
//! sleeping.

use crate::capture::Capture;
use crate::engine::{Direction, Frame, Opcode};
use bytes::Bytes;
use std::time::{Duration, Instant};
use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Timing {
    Original,
    Fast,
    /// Gaps divided by this factor (x2 = twice as fast, x0.5 = half speed).
    Scaled(f64),
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("timing {0:?}: original, fast, or xN (x2 twice as fast, x0.5 half speed)")]
pub struct TimingError(pub String);

impl Timing {
    pub fn parse(s: &str) -> Result<Timing, TimingError> {
        Ok(match s {
            "original" => Timing::Original,
            "fast" => Timing::Fast,
            _ => {
                let n = s
                    .strip_prefix('x')
                    .or_else(|| s.strip_prefix('×'))
                    .unwrap_or(s);
                match n.parse::<f64>() {
                    Ok(f) if f.is_finite() && f > 0.0 => Timing::Scaled(f),
                    _ => return Err(TimingError(s.to_string())),
                }
            }
        })
    }

    pub fn gap(self, d: Duration) -> Duration {
        match self {
            Timing::Original => d,
            Timing::Fast => Duration::ZERO,
            Timing::Scaled(f) => d.div_f64(f),
        }
    }
}

/// A frame to send: its time in the capture, opcode and payload.
pub type Outgoing = (Duration, Opcode, Bytes);

fn is_data(f: &Frame) -> bool {
    matches!(f.opcode, Opcode::Text | Opcode::Binary)
}

/// The capture's outgoing data frames, in order (what a replay sends).
pub fn outgoing(cap: &Capture) -> Vec<Outgoing> {
    cap.frames()
        .filter(|f| f.dir == Direction::Out && is_data(f))
        .map(|f| (f.at, f.opcode, f.payload.clone()))
        .collect()
}

/// The capture's incoming data frames, in order (what a replay's replies are compared with).
pub fn expected_replies(cap: &Capture) -> Vec<Frame> {
    cap.frames()
        .filter(|f| f.dir == Direction::In && is_data(f))
        .cloned()
        .collect()
}

/// How the frames of one replay go out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    pub timing: Timing,
    /// Send each frame only once the replies went quiet for this long.
    pub wait_replies: Option<Duration>,
    /// Only `step()` sends.
    pub step: bool,
}

#[derive(Debug, Clone)]
pub struct Schedule {
    frames: Vec<Outgoing>,
    pace: Pace,
    next: usize,
    /// When sending began, moved forward by each pause so pauses do not count against the gaps.
    start: Option<Instant>,
    paused_at: Option<Instant>,
    last_sent: Option<Instant>,
}

impl Schedule {
    pub fn new(frames: Vec<Outgoing>, pace: Pace) -> Self {
        Schedule {
            frames,
            pace,
            next: 0,
            start: None,
            paused_at: None,
            last_sent: None,
        }
    }

    /// The connection is open: gaps count from now.
    pub fn begin(&mut self, now: Instant) {
        self.start.get_or_insert(now);
    }

    pub fn total(&self) -> usize {
        self.frames.len()
    }

    pub fn sent(&self) -> usize {
        self.next
    }

    pub fn done(&self) -> bool {
        self.next >= self.frames.len()
    }

    pub fn last_sent(&self) -> Option<Instant> {
        self.last_sent
    }

    /// When the next frame is due, given the last reply's arrival; `None` while nothing will go
    /// by itself (not begun, paused, stepping, or all sent).
    pub fn due(&self, last_reply: Option<Instant>) -> Option<Instant> {
        let start = self.start?;
        if self.done() || self.paused_at.is_some() || self.pace.step {
            return None;
        }
        let t0 = self.frames.first().map(|f| f.0).unwrap_or_default();
        let by_time = start
            + self
                .pace
                .timing
                .gap(self.frames[self.next].0.saturating_sub(t0));
        match self.pace.wait_replies {
            // The previous frame's replies must have gone quiet first.
            Some(quiet) if self.next > 0 => {
                let active = match (last_reply, self.last_sent) {
                    (Some(r), Some(s)) => Some(r.max(s)),
                    (r, s) => r.or(s),
                };
                Some(active.map_or(by_time, |a| by_time.max(a + quiet)))
            }
            _ => Some(by_time),
        }
    }

    /// The next frame when it is due at `now` (it then counts as sent).
    pub fn poll(&mut self, now: Instant, last_reply: Option<Instant>) -> Option<(Opcode, Bytes)> {
        match self.due(last_reply) {
            Some(due) if due <= now => self.take(now),
            _ => None,
        }
    }

    /// The next frame at once, whatever the timing (a step).
    pub fn step(&mut self, now: Instant) -> Option<(Opcode, Bytes)> {
        self.take(now)
    }

    fn take(&mut self, now: Instant) -> Option<(Opcode, Bytes)> {
        let (_, opcode, payload) = self.frames.get(self.next)?.clone();
        self.next += 1;
        self.last_sent = Some(now);
        Some((opcode, payload))
    }

    pub fn pause(&mut self, now: Instant) {
        self.paused_at.get_or_insert(now);
    }

    pub fn resume(&mut self, now: Instant) {
        if let (Some(p), Some(start)) = (self.paused_at.take(), self.start.as_mut()) {
            *start += now.saturating_duration_since(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(at_ms: &[u64]) -> Vec<Outgoing> {
        at_ms
            .iter()
            .map(|&ms| {
                (
                    Duration::from_millis(ms),
                    Opcode::Text,
                    Bytes::from(ms.to_string()),
                )
            })
            .collect()
    }

    fn pace(timing: Timing) -> Pace {
        Pace {
            timing,
            wait_replies: None,
            step: false,
        }
    }

    #[test]
    fn original_gaps_scaled_and_fast() {
        let t = Instant::now();
        let ms = Duration::from_millis;
        let mut s = Schedule::new(frames(&[1000, 1100, 1400]), pace(Timing::Original));
        assert_eq!(
            s.due(None),
            None,
            "nothing goes before the connection is open"
        );
        s.begin(t);
        assert_eq!(s.due(None), Some(t));
        assert!(s.poll(t, None).is_some());
        assert_eq!(s.due(None), Some(t + ms(100)));
        assert!(s.poll(t + ms(50), None).is_none());
        let mut x2 = Schedule::new(frames(&[0, 400]), pace(Timing::Scaled(2.0)));
        x2.begin(t);
        x2.poll(t, None);
        assert_eq!(x2.due(None), Some(t + ms(200)));
        let mut fast = Schedule::new(frames(&[0, 400]), pace(Timing::Fast));
        fast.begin(t);
        fast.poll(t, None);
        assert_eq!(fast.due(None), Some(t));
    }

    #[test]
    fn pauses_do_not_count_and_steps_send_at_once() {
        let t = Instant::now();
        let ms = Duration::from_millis;
        let mut s = Schedule::new(frames(&[0, 100]), pace(Timing::Original));
        s.begin(t);
        s.poll(t, None);
        s.pause(t + ms(50));
        assert_eq!(s.due(None), None);
        s.resume(t + ms(550));
        assert_eq!(s.due(None), Some(t + ms(600)));
        let mut st = Schedule::new(
            frames(&[0, 100]),
            Pace {
                step: true,
                ..pace(Timing::Original)
            },
        );
        st.begin(t);
        assert_eq!(st.due(None), None);
        assert!(st.step(t).is_some());
        assert!(st.step(t).is_some());
        assert!(st.step(t).is_none());
        assert!(st.done());
    }

    #[test]
    fn waiting_for_replies_to_go_quiet() {
        let t = Instant::now();
        let ms = Duration::from_millis;
        let mut s = Schedule::new(
            frames(&[0, 0]),
            Pace {
                wait_replies: Some(ms(500)),
                ..pace(Timing::Fast)
            },
        );
        s.begin(t);
        assert!(
            s.poll(t, None).is_some(),
            "the first frame waits for nothing"
        );
        assert_eq!(s.due(Some(t + ms(300))), Some(t + ms(800)));
        assert!(s.poll(t + ms(700), Some(t + ms(300))).is_none());
        assert!(s.poll(t + ms(800), Some(t + ms(300))).is_some());
    }

    #[test]
    fn timing_words() {
        assert_eq!(Timing::parse("x0.5"), Ok(Timing::Scaled(0.5)));
        assert_eq!(Timing::parse("fast"), Ok(Timing::Fast));
        assert!(Timing::parse("soon").is_err());
    }
}

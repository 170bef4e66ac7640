//! The automatic reconnect of one session (off by default): after a close we did not ask for,
//! attempts with a growing pause, counted down on the console clock.

use std::time::Duration;

/// Automatic reconnects tried in a row before giving up.
pub const MAX_ATTEMPTS: u32 = 10;
/// The longest pause between automatic reconnects.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

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

//! The container logs pane of one session: the lines a log source sent, a cursor, following, and
//! search. Pure state; the reader runs in the runtime.

use crate::monitor::{LogLine, Stream};

/// Lines kept per session; older ones are dropped (a `--follow` may run for days).
pub const MAX_LINES: usize = 100_000;

#[derive(Debug, Clone)]
pub struct LogsPane {
    /// The command or stream, as shown in the title.
    pub source: String,
    /// A ring: past `MAX_LINES` the oldest go, in O(1) per line (a flooding source must not
    /// make every batch move the whole pane).
    pub lines: std::collections::VecDeque<LogLine>,
    /// Lines dropped from the front to stay under `MAX_LINES`.
    pub dropped: usize,
    pub running: bool,
    /// Why it stopped, or that it printed nothing.
    pub message: Option<String>,
    /// Frame-log row of the close that started it (Enter in the pane jumps back to it).
    pub from_row: Option<usize>,
    pub cursor: usize,
    pub top: usize,
    /// Stick to the newest line until the user moves up.
    pub follow: bool,
    /// Hidden with `l` (the reader goes on).
    pub hidden: bool,
}

impl Default for LogsPane {
    fn default() -> Self {
        LogsPane {
            source: String::new(),
            lines: Default::default(),
            dropped: 0,
            running: false,
            message: None,
            from_row: None,
            cursor: 0,
            top: 0,
            follow: true,
            hidden: false,
        }
    }
}

/// A cursor move in the pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
}

impl LogsPane {
    pub fn push(&mut self, lines: Vec<LogLine>, rows: usize) {
        self.lines.extend(lines);
        if self.lines.len() > MAX_LINES {
            let cut = self.lines.len() - MAX_LINES;
            self.lines.drain(..cut);
            self.dropped += cut;
            self.cursor = self.cursor.saturating_sub(cut);
            self.top = self.top.saturating_sub(cut);
        }
        self.keep_visible(rows);
    }

    pub fn move_cursor(&mut self, m: Move, rows: usize) {
        let len = self.lines.len();
        if len == 0 {
            return;
        }
        let page = rows.max(1);
        self.cursor = match m {
            Move::Up => self.cursor.saturating_sub(1),
            Move::Down => (self.cursor + 1).min(len - 1),
            Move::PageUp => self.cursor.saturating_sub(page),
            Move::PageDown => (self.cursor + page).min(len - 1),
            Move::Top => 0,
            Move::Bottom => len - 1,
        };
        self.follow =
            self.cursor == len - 1 && matches!(m, Move::Bottom | Move::Down | Move::PageDown);
        self.keep_visible(rows);
    }

    /// Put the cursor on line `i` and stop following.
    pub fn select(&mut self, i: usize, rows: usize) {
        if i < self.lines.len() {
            self.cursor = i;
            self.follow = false;
            self.keep_visible(rows);
        }
    }

    pub fn keep_visible(&mut self, rows: usize) {
        let rows = rows.max(1);
        let len = self.lines.len();
        if self.follow && len > 0 {
            self.cursor = len - 1;
        }
        if self.cursor < self.top {
            self.top = self.cursor;
        } else if self.cursor >= self.top + rows {
            self.top = self.cursor + 1 - rows;
        }
        self.top = self.top.min(len.saturating_sub(rows));
    }

    /// The next line (after the cursor, or before it going back) whose text holds `needle`
    /// (case-insensitive), wrapping around.
    pub fn find(&self, needle: &str, forward: bool) -> Option<usize> {
        let len = self.lines.len();
        if len == 0 || needle.is_empty() {
            return None;
        }
        let needle = needle.to_lowercase();
        (1..=len)
            .map(|k| {
                if forward {
                    (self.cursor + k) % len
                } else {
                    (self.cursor + len - k % len) % len
                }
            })
            .find(|&i| self.lines[i].text.to_lowercase().contains(&needle))
    }

    /// Where the story of a crash starts: the last `Traceback` (Python), else the last line that
    /// names an error, else the last stderr line.
    pub fn first_error(&self) -> Option<usize> {
        let rev = || self.lines.iter().enumerate().rev();
        rev()
            .find(|(_, l)| l.text.starts_with("Traceback"))
            .or_else(|| rev().find(|(_, l)| looks_like_error(&l.text)))
            .or_else(|| rev().find(|(_, l)| l.stream == Stream::Stderr))
            .map(|(i, _)| i)
    }
}

/// Whether a log line reads like an error (it is drawn in the error colour).
pub fn looks_like_error(text: &str) -> bool {
    [
        "Traceback",
        "Error",
        "Exception",
        "panicked",
        "FATAL",
        "raised",
    ]
    .iter()
    .any(|w| text.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str, stream: Stream) -> LogLine {
        LogLine {
            stream,
            at: None,
            text: s.into(),
        }
    }

    #[test]
    fn follow_search_and_the_crash_start() {
        let mut p = LogsPane::default();
        p.push(
            vec![
                line("starting", Stream::Stdout),
                line("Traceback (most recent call last):", Stream::Stderr),
                line("  File \"agent.py\", line 9", Stream::Stderr),
                line("RuntimeError: boom", Stream::Stderr),
                line("shutting down", Stream::Stdout),
            ],
            3,
        );
        assert_eq!((p.cursor, p.top), (4, 2), "follows the tail");
        assert_eq!(p.first_error(), Some(1));
        assert_eq!(p.find("BOOM", true), Some(3));
        p.select(3, 3);
        assert_eq!(p.find("boom", true), Some(3), "wraps around to itself");
        assert_eq!(p.find("start", false), Some(0));
        assert!(!p.follow);
        p.push(vec![line("more", Stream::Stdout)], 3);
        assert_eq!(p.cursor, 3, "a user who moved up is not dragged down");
        p.move_cursor(Move::Bottom, 3);
        assert!(p.follow);
        assert_eq!(p.find("nothing like it", true), None);
    }

    #[test]
    fn old_lines_are_dropped_past_the_cap() {
        let mut p = LogsPane::default();
        p.push(
            (0..MAX_LINES + 10)
                .map(|i| line(&i.to_string(), Stream::Stdout))
                .collect(),
            5,
        );
        assert_eq!(p.lines.len(), MAX_LINES);
        assert_eq!(p.dropped, 10);
        assert_eq!(p.lines[0].text, "10");
    }
}

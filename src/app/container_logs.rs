//! The container logs of one session: the lines a log source sent, a cursor, following, and
//! search, and what starts and toggles them. Pure state; the reader runs in the runtime.

use crate::app::frames::{Move, step, window};
use crate::app::{App, Effect, Pane};
use crate::monitor::{LogLine, Stream};

/// Lines kept per session; older ones are dropped (a `--follow` may run for days).
pub const MAX_LINES: usize = 100_000;

#[derive(Debug, Clone)]
pub struct ContainerLogs {
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

impl Default for ContainerLogs {
    fn default() -> Self {
        ContainerLogs {
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

impl ContainerLogs {
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
        if self.lines.is_empty() {
            return;
        }
        (self.cursor, self.follow) = step(self.cursor, self.lines.len(), m, rows);
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
        (self.cursor, self.top) =
            window(self.cursor, self.top, self.follow, self.lines.len(), rows);
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

/// Why a reader starts: a close we did not ask for (the pane then leads back to its row), or the
/// user (`l`, `:logs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartedBy {
    AbnormalClose,
    User,
}

/// The source that reads session `id`'s container logs, and the pane that shows them.
pub fn start(app: &mut App, id: usize, by: StartedBy) -> Vec<Effect> {
    let default = app.config.container_logs_source.clone();
    let azd = app.config.azd_on_path;
    let rows = app.container_log_rows();
    let Some(s) = app.by_id_mut(id) else {
        return vec![];
    };
    let source = s.container_logs_source.clone().unwrap_or(default);
    let req = crate::monitor::MonitorRequest::for_spec(
        &s.spec,
        s.handshake
            .as_ref()
            .and_then(|h| h.platform_session_id.clone()),
    );
    let from_row = match by {
        // Called before the close's row is added: it will be the next one.
        StartedBy::AbnormalClose => Some(s.log.len()),
        StartedBy::User => s.container_logs.as_ref().and_then(|l| l.from_row),
    };
    let mut pane = ContainerLogs {
        from_row,
        ..Default::default()
    };
    if req.session_id.is_empty() {
        pane.message = Some("no agent_session_id to read the logs for".into());
        s.container_logs = Some(pane);
        return vec![];
    }
    let effects = match crate::monitor::plan_with(&source, &req, azd) {
        Ok(plan) => {
            pane.source = plan.describe();
            pane.running = true;
            vec![Effect::StartContainerLogs { id, plan }]
        }
        Err(e) => {
            pane.message = Some(format!("{e}: {}", e.advice()));
            vec![]
        }
    };
    pane.keep_visible(rows);
    s.container_logs = Some(pane);
    effects
}

/// Stop session `id`'s reader by hand; the pane keeps saying so.
pub fn stop(app: &mut App, id: usize) -> Vec<Effect> {
    if let Some(l) = app.by_id_mut(id).and_then(|s| s.container_logs.as_mut()) {
        l.running = false;
        l.message = Some("stopped (:logs starts it again)".into());
    }
    vec![Effect::StopContainerLogs { id }]
}

/// `l`: show the pane (starting a reader when there is none) and focus it, or hide it.
pub fn toggle(app: &mut App) -> Vec<Effect> {
    let Some(id) = app.selected_id() else {
        return vec![];
    };
    let rows = app.container_log_rows();
    let focus = app.focus;
    let Some(s) = app.by_id_mut(id) else {
        return vec![];
    };
    let selected = s.selected_row_index();
    let read_only = s.read_only();
    let mut effects = vec![];
    match s.container_logs.as_mut() {
        Some(l) if !l.hidden && focus == Pane::Logs => {
            l.hidden = true;
            app.focus = Pane::Frames;
            return effects;
        }
        Some(l) => {
            l.hidden = false;
            // From the close row, land where the crash story starts.
            if l.from_row.is_some()
                && selected == l.from_row
                && let Some(i) = l.first_error()
            {
                l.select(i, rows);
            }
        }
        None if read_only => {
            app.status = Some("a capture opened from a file has no live logs".into());
            return effects;
        }
        None => effects = start(app, id, StartedBy::User),
    }
    app.focus = Pane::Logs;
    effects
}

/// Enter in the pane: back to the close that started it, in the frame log.
pub fn jump_to_close(app: &mut App) {
    let rows = app.frame_rows();
    let Some(s) = app.current_mut() else { return };
    let Some(row) = s.container_logs.as_ref().and_then(|l| l.from_row) else {
        app.status = Some("these logs were started by hand, not by a close".into());
        return;
    };
    if row >= s.log.len() {
        return;
    }
    let cleared = s.show_log_row(row, rows);
    app.focus = Pane::Frames;
    app.detail.scroll = 0;
    if cleared {
        app.status = Some("filter cleared to show the close".into());
    }
}

/// Lines arrived from session `id`'s reader.
pub fn lines(app: &mut App, id: usize, lines: Vec<LogLine>) {
    let rows = app.container_log_rows();
    if let Some(l) = app.by_id_mut(id).and_then(|s| s.container_logs.as_mut()) {
        l.push(lines, rows);
    }
}

/// Session `id`'s reader ended; a reader the user stopped keeps saying so.
pub fn ended(app: &mut App, id: usize, message: String) {
    if let Some(l) = app
        .by_id_mut(id)
        .and_then(|s| s.container_logs.as_mut())
        .filter(|l| l.running)
    {
        l.running = false;
        l.message = Some(if l.lines.is_empty() && message.is_empty() {
            "the log source printed nothing".into()
        } else {
            message
        });
    }
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
        let mut p = ContainerLogs::default();
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
        let mut p = ContainerLogs::default();
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

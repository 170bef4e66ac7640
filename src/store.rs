//! The frame log of one session: append-only rows (frames and lifecycle events), indexed by
//! position. Rows keep the payload as shared `Bytes`; summaries are computed only for the rows a
//! screen shows, so drawing costs what is visible, not what is stored.

use crate::engine::Frame;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum RowKind {
    Frame(Frame),
    /// A lifecycle event read in place: open, close, error, warning.
    Event {
        kind: EventKind,
        text: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Connecting,
    Open,
    Close { code: u16, clean: bool },
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub at: Duration,
    pub kind: RowKind,
}

#[derive(Debug, Default)]
pub struct FrameLog {
    rows: Vec<Row>,
}

impl FrameLog {
    pub fn push(&mut self, row: Row) {
        self.rows.push(row);
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&Row> {
        self.rows.get(i)
    }

    /// Rows `start..start+count` (clamped).
    pub fn window(&self, start: usize, count: usize) -> &[Row] {
        let start = start.min(self.rows.len());
        let end = start.saturating_add(count).min(self.rows.len());
        &self.rows[start..end]
    }
}

//! The frame-log view of one session: cursor, scroll, follow, and the filter that scans the log
//! in slices between other events (so a million-row scan never stalls the keys), plus search.

use crate::app::session::Session;
use crate::engine::Opcode;
use crate::filter::{Filter, FilterError};
use crate::store::{Row, RowKind};

/// Rows a filter scans per slice, between other events (keeps a million-row scan responsive).
pub const FILTER_SLICE: usize = 20_000;
/// A jq filter scans FILTER_SLICE / this rows a slice (30–37 ms a 20 000-row slice measured by
/// `cargo bench --bench suite -- store`).
pub const JQ_SLICE_DIVISOR: usize = 8;
/// A jq slice's payloads are copied for the jq thread: at most this many bytes at a time.
const JQ_BATCH_BYTES: usize = 16 << 20;
/// What a jq slice should take, to answer keys between slices (the slice's row count follows
/// the program's pace, from one row up).
const JQ_SLICE_TIME: std::time::Duration = std::time::Duration::from_millis(8);
/// A jq program is tried on this many of the log's newest JSON frames…
const JQ_SAMPLES: usize = 16;
/// …looked for among this many of its newest rows.
const JQ_SAMPLE_ROWS: usize = 2_000;

#[derive(Debug)]
pub struct FrameView {
    /// Selected row of the view.
    pub cursor: usize,
    /// First row on screen.
    pub top: usize,
    /// Stick to the tail until the user moves up.
    pub follow: bool,
    /// The active filter; `visible` then lists the matching log rows scanned so far.
    pub filter: Option<Filter>,
    pub visible: Vec<usize>,
    /// Log rows the filter has looked at.
    pub scanned: usize,
    /// How long a jq filter may take on one frame before it is given up.
    pub jq_limit: std::time::Duration,
    /// Rows a jq slice takes now: fewer when the program is slow.
    pub jq_slice: usize,
}

impl Default for FrameView {
    fn default() -> Self {
        FrameView {
            cursor: 0,
            top: 0,
            follow: true,
            filter: None,
            visible: Vec::new(),
            scanned: 0,
            jq_limit: crate::filter::JQ_TRIAL,
            jq_slice: FILTER_SLICE / JQ_SLICE_DIVISOR,
        }
    }
}

/// A cursor move in a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
}

/// A list's cursor after a move, and whether it now follows the tail: following resumes at the
/// tail (G/End, or moving down onto it), and stops as soon as the user moves up.
pub fn step(cursor: usize, len: usize, m: Move, rows: usize) -> (usize, bool) {
    let page = rows.max(1);
    let last = len.saturating_sub(1);
    let c = match m {
        Move::Up => cursor.saturating_sub(1),
        Move::Down => (cursor + 1).min(last),
        Move::PageUp => cursor.saturating_sub(page),
        Move::PageDown => (cursor + page).min(last),
        Move::Top => 0,
        Move::Bottom => last,
    };
    (
        c,
        c == last && matches!(m, Move::Bottom | Move::Down | Move::PageDown),
    )
}

/// The first row on screen that keeps the cursor in a window of `rows` (a following cursor
/// goes to the tail first). Returns (cursor, top).
pub fn window(cursor: usize, top: usize, follow: bool, len: usize, rows: usize) -> (usize, usize) {
    let rows = rows.max(1);
    let cursor = if follow && len > 0 { len - 1 } else { cursor };
    let top = if cursor < top {
        cursor
    } else if cursor >= top + rows {
        cursor + 1 - rows
    } else {
        top
    };
    (cursor, top.min(len.saturating_sub(rows)))
}

impl Session {
    /// Rows in view: the filtered ones, or the whole log.
    pub fn view_len(&self) -> usize {
        if self.view.filter.is_some() {
            self.view.visible.len()
        } else {
            self.log.len()
        }
    }

    /// Row `i` of the view.
    pub fn view_row(&self, i: usize) -> Option<Row> {
        if self.view.filter.is_some() {
            self.view.visible.get(i).and_then(|&j| self.log.get(j))
        } else {
            self.log.get(i)
        }
    }

    pub fn selected_row(&self) -> Option<Row> {
        self.view_row(self.view.cursor)
    }

    /// The frame-log index of the selected row.
    pub fn selected_row_index(&self) -> Option<usize> {
        if self.view.filter.is_some() {
            self.view.visible.get(self.view.cursor).copied()
        } else {
            (self.view.cursor < self.log.len()).then_some(self.view.cursor)
        }
    }

    /// Whether the filter still has rows to look at.
    pub fn filter_pending(&self) -> bool {
        self.view.filter.is_some() && self.view.scanned < self.log.len()
    }

    /// Look at up to `budget` more rows (an eighth of it for a jq filter: a jq program costs
    /// about 1.5 µs a row, and a slice must stay within a frame's 16 ms).
    pub fn scan(&mut self, budget: usize) {
        let Some(f) = &mut self.view.filter else {
            return;
        };
        let jq = f.uses_jq();
        let budget = if jq {
            (budget / JQ_SLICE_DIVISOR).min(self.view.jq_slice).max(1)
        } else {
            budget
        };
        let start = self.view.scanned;
        let end = self.log.len().min(start + budget);
        // What the rows' fields decide (most rows, without reading a payload back), and the
        // payloads left to jq, which runs them on its own thread as one batch.
        let mut decided: Vec<Option<bool>> = Vec::with_capacity(end - start);
        let (mut batch, mut batch_rows) = (crate::filter::JqBatch::default(), Vec::new());
        let mut end = end;
        for j in start..end {
            if batch.bytes() >= JQ_BATCH_BYTES {
                // Large payloads: the rest in the next slice.
                end = j;
                break;
            }
            let d = match f.matches_without_payload(self.log.frame_info(j).as_ref()) {
                Some(hit) => Some(hit),
                None => match self.log.get(j).map(|r| f.before_jq(&r)) {
                    None => Some(false),
                    Some(Ok(hit)) => Some(hit),
                    Some(Err(payload)) => {
                        batch.push(&payload);
                        batch_rows.push(j);
                        None
                    }
                },
            };
            decided.push(d);
        }
        let asked = batch.len();
        let began = std::time::Instant::now();
        let verdicts = match f.jq_verdicts(batch) {
            Ok(v) => v,
            Err(failed) => {
                let seq = failed
                    .at
                    .and_then(|k| batch_rows.get(k))
                    .and_then(|&j| self.log.frame_info(j))
                    .map_or(0, |i| i.seq);
                let why = f.jq_failure(failed, seq);
                self.clear_filter();
                self.view.follow = true;
                self.filter_dropped = Some(format!("filter removed: {why}"));
                return;
            }
        };
        if jq && asked > 0 {
            // The next slice sized to take about JQ_SLICE_TIME at this pace.
            let took = began.elapsed().max(std::time::Duration::from_micros(1));
            let pace = JQ_SLICE_TIME.as_secs_f64() / took.as_secs_f64();
            let next = ((end - start) as f64 * pace.min(2.0)) as usize;
            self.view.jq_slice = next.clamp(1, FILTER_SLICE / JQ_SLICE_DIVISOR);
        }
        let mut verdicts = verdicts.into_iter();
        for (k, d) in decided.into_iter().enumerate() {
            if d.unwrap_or_else(|| verdicts.next().unwrap_or(false)) {
                self.view.visible.push(start + k);
            }
        }
        self.view.scanned = end;
    }

    /// New rows arrived: a filter that has caught up takes them now (one still scanning gets
    /// them later), and a following cursor moves to the tail.
    pub fn rows_added(&mut self, rows: usize) {
        if self.view.filter.is_some() && self.log.len() - self.view.scanned <= FILTER_SLICE {
            self.scan(FILTER_SLICE);
        }
        // Likewise the vocabulary: current as frames come, in slices after a burst.
        if self.log.len() - self.vocab_seen <= crate::app::vocab::VOCAB_SLICE {
            self.learn(crate::app::vocab::VOCAB_SLICE);
        }
        self.keep_cursor_visible(rows);
    }

    pub fn keep_cursor_visible(&mut self, rows: usize) {
        let rows = rows.max(1);
        let len = self.view_len();
        let v = &mut self.view;
        if v.follow && len > 0 {
            v.cursor = len - 1;
        }
        if v.cursor < v.top {
            v.top = v.cursor;
        } else if v.cursor >= v.top + rows {
            v.top = v.cursor + 1 - rows;
        }
        v.top = v.top.min(len.saturating_sub(rows));
    }

    pub fn move_cursor(&mut self, m: Move, rows: usize) {
        let len = self.view_len();
        if len == 0 {
            return;
        }
        let page = rows.max(1);
        let c = self.view.cursor;
        self.view.cursor = match m {
            Move::Up => c.saturating_sub(1),
            Move::Down => (c + 1).min(len - 1),
            Move::PageUp => c.saturating_sub(page),
            Move::PageDown => (c + page).min(len - 1),
            Move::Top => 0,
            Move::Bottom => len - 1,
        };
        // Following resumes at the tail (G/End), and stops as soon as the user moves up.
        self.view.follow =
            self.view.cursor == len - 1 && matches!(m, Move::Bottom | Move::Down | Move::PageDown);
        self.keep_cursor_visible(rows);
    }

    /// Put the cursor on view row `i` and stop following.
    pub fn select(&mut self, i: usize, rows: usize) {
        self.view.cursor = i;
        self.view.follow = false;
        self.keep_cursor_visible(rows);
    }

    /// Apply a filter (empty clears it); the error says why it was not applied.
    pub fn set_filter(&mut self, text: &str, rows: usize) -> Result<(), FilterError> {
        if text.trim().is_empty() {
            self.clear_filter();
            self.view.follow = true;
            self.keep_cursor_visible(rows);
            return Ok(());
        }
        let mut f = Filter::parse(text)?;
        if f.uses_jq() {
            f.run_jq_apart(self.view.jq_limit)?;
            f.trial(self.jq_samples())?;
        }
        // A search under way counts rows of the view it started in.
        self.search = None;
        self.view.filter = Some(f);
        self.view.visible.clear();
        self.view.scanned = 0;
        self.view.cursor = 0;
        self.view.top = 0;
        self.view.follow = true;
        self.scan(FILTER_SLICE);
        self.keep_cursor_visible(rows);
        Ok(())
    }

    /// The newest JSON-looking text frames (at most `JQ_SAMPLES`, from the last
    /// `JQ_SAMPLE_ROWS` rows): what a jq program is tried on before it filters the log.
    fn jq_samples(&self) -> Vec<bytes::Bytes> {
        let end = self.log.len();
        let mut out = Vec::new();
        for j in (end.saturating_sub(JQ_SAMPLE_ROWS)..end).rev() {
            let is_text = self
                .log
                .frame_info(j)
                .is_some_and(|i| i.opcode == Opcode::Text);
            if !is_text {
                continue;
            }
            if let Some(Row {
                kind: RowKind::Frame(f),
                ..
            }) = self.log.get(j)
                && matches!(f.payload.trim_ascii_start().first(), Some(b'{' | b'['))
            {
                out.push(f.payload.clone());
                if out.len() == JQ_SAMPLES {
                    break;
                }
            }
        }
        out
    }

    pub fn clear_filter(&mut self) {
        self.search = None;
        self.view.filter = None;
        self.view.visible.clear();
        self.view.scanned = 0;
    }

    /// Move the cursor to frame-log row `row`, clearing a filter that hides it; returns whether
    /// the filter had to go.
    pub fn show_log_row(&mut self, row: usize, rows: usize) -> bool {
        let mut cleared = false;
        let pos = if self.view.filter.is_some() {
            match self.view.visible.binary_search(&row) {
                Ok(p) => p,
                Err(_) => {
                    // Filtered out: show everything rather than land elsewhere.
                    self.clear_filter();
                    cleared = true;
                    row
                }
            }
        } else {
            row
        };
        if pos < self.view_len() {
            self.select(pos, rows);
        }
        cleared
    }
}

#[cfg(test)]
#[path = "frames_tests.rs"]
mod tests;

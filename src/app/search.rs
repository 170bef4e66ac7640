//! `/` and `n`/`N` over the frame log, in slices like a filter: a search with no match over a
//! million rows held the loop for one 208 ms event. The first slice runs with the key (a hit
//! near the cursor answers at once), the rest one slice per `Event::ScanSlice`.

use super::App;
use super::session::Session;
use crate::needle::Needle;
use crate::store::{Row, RowKind};

/// Rows a slice looks at, at most.
pub const SEARCH_SLICE: usize = 20_000;
/// Payload bytes a slice reads, at most: big frames end a slice sooner.
const SEARCH_SLICE_BYTES: usize = 16 << 20;

/// A search under way in one session's view.
#[derive(Debug, Clone)]
pub struct SearchScan {
    needle: Needle,
    forward: bool,
    /// The row the search started from, and the view's length then.
    from: usize,
    len: usize,
    /// Steps taken from `from` (1..=len are the rows after it, wrapping).
    done: usize,
}

pub enum Progress {
    Found(usize),
    NoMatch,
    Pending { percent: usize },
}

impl SearchScan {
    fn row_at(&self, k: usize) -> usize {
        if self.forward {
            (self.from + k) % self.len
        } else {
            (self.from + self.len - k % self.len) % self.len
        }
    }
}

fn holds(needle: &Needle, row: &Row) -> bool {
    match &row.kind {
        RowKind::Frame(f) => needle.is_in(&f.payload),
        RowKind::Event { text, .. } => needle.is_in(text.as_bytes()),
    }
}

impl Session {
    /// Start a search from the cursor (replacing one under way).
    pub fn start_search(&mut self, needle: Needle, forward: bool) {
        self.search = Some(SearchScan {
            needle,
            forward,
            from: self.view.cursor,
            len: self.view_len(),
            done: 0,
        });
    }

    pub fn search_pending(&self) -> bool {
        self.search.is_some()
    }

    /// Look at the next slice of rows; the search ends when it finds one or has seen them all.
    pub fn search_slice(&mut self) -> Progress {
        let Some(mut scan) = self.search.take() else {
            return Progress::NoMatch;
        };
        let mut bytes = 0usize;
        let end = scan.len.min(scan.done + SEARCH_SLICE);
        while scan.done < end && bytes < SEARCH_SLICE_BYTES {
            scan.done += 1;
            let i = scan.row_at(scan.done);
            if let Some(row) = self.view_row(i) {
                if let RowKind::Frame(f) = &row.kind {
                    bytes += f.payload.len();
                }
                if holds(&scan.needle, &row) {
                    return Progress::Found(i);
                }
            }
        }
        if scan.done >= scan.len {
            return Progress::NoMatch;
        }
        let percent = scan.done * 100 / scan.len.max(1);
        self.search = Some(scan);
        Progress::Pending { percent }
    }
}

/// Run a slice of session `idx`'s search and say how it went (a found row is selected).
pub fn run_slice(app: &mut App, idx: usize) {
    let rows = app.frame_rows();
    let current = idx == app.selected;
    let Some(s) = app.sessions.get_mut(idx) else {
        return;
    };
    let Some(needle) = s
        .search
        .as_ref()
        .map(|scan| scan.needle.as_str().to_string())
    else {
        return;
    };
    let len = s.view_len();
    let status = match s.search_slice() {
        Progress::Found(i) => {
            s.select(i, rows);
            format!("/{needle}: row {} of {len}", i + 1)
        }
        Progress::NoMatch => format!("/{needle}: no match"),
        Progress::Pending { percent } => format!("/{needle}: searching… {percent}%"),
    };
    if current {
        app.status = Some(status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Event, actions, update};
    use crate::engine::session::SessionEvent;
    use crate::engine::target::{ConnectSpec, Target};
    use crate::engine::{Direction, Frame, Opcode};
    use bytes::Bytes;
    use std::time::Duration;

    const ROWS: usize = 100_000;
    const HIT: usize = 90_000;

    /// A console with ROWS text frames, only row HIT (0-based) holding `NEEDLE-xyz`.
    fn app() -> App {
        let spec = ConnectSpec::new(Target::url("ws://127.0.0.1:1/x").expect("url"));
        let mut app = App::new(vec![Session::new("s", spec)]);
        update(
            &mut app,
            Event::Resize {
                width: 120,
                height: 40,
            },
        );
        let plain = Bytes::from_static(br#"{"type":"response.output_text.delta","delta":"you"}"#);
        let frames = (0..ROWS as u64)
            .map(|i| Frame {
                seq: i + 1,
                at: Duration::from_micros(i),
                dir: Direction::In,
                opcode: Opcode::Text,
                payload: if i as usize == HIT {
                    Bytes::from_static(br#"{"type":"x","text":"a NEEDLE-xyz here"}"#)
                } else {
                    plain.clone()
                },
            })
            .collect();
        update(
            &mut app,
            Event::Session {
                id: 0,
                event: SessionEvent::Frames(frames),
            },
        );
        // Let the vocabulary catch up, so the loop below counts the search's slices alone.
        while app.has_work() {
            update(&mut app, Event::ScanSlice);
        }
        app.sessions[0].view.cursor = 0;
        app
    }

    /// Search for `text`, then run slices to the end; how many events it took.
    fn search(app: &mut App, text: &str, forward: bool) -> usize {
        app.search = Some(text.into());
        actions::search_step(app, forward);
        let mut events = 1;
        while app.has_work() {
            assert!(
                app.status
                    .as_deref()
                    .is_some_and(|s| s.contains("searching…")),
                "{:?}",
                app.status
            );
            update(app, Event::ScanSlice);
            events += 1;
        }
        events
    }

    #[test]
    fn a_search_runs_in_slices_and_lands_on_the_match() {
        let mut app = app();
        let events = search(&mut app, "needle-XYZ", true);
        assert_eq!(events, HIT.div_ceil(SEARCH_SLICE));
        assert_eq!(app.sessions[0].view.cursor, HIT);
        assert_eq!(
            app.status.as_deref(),
            Some(format!("/needle-xyz: row {} of {ROWS}", HIT + 1).as_str())
        );
        // Backward from the first row wraps past the end to the same row.
        app.sessions[0].view.cursor = 0;
        search(&mut app, "needle", false);
        assert_eq!(app.sessions[0].view.cursor, HIT);
    }

    #[test]
    fn a_miss_looks_at_every_row_once_then_says_so() {
        let mut app = app();
        let events = search(&mut app, "no-such-word", true);
        assert_eq!(events, ROWS.div_ceil(SEARCH_SLICE));
        assert_eq!(app.sessions[0].view.cursor, 0, "the cursor stays");
        assert_eq!(app.status.as_deref(), Some("/no-such-word: no match"));
        assert!(!app.has_work());
    }

    #[test]
    fn a_new_filter_ends_a_search_under_way() {
        let mut app = app();
        app.search = Some("needle".into());
        actions::search_step(&mut app, true);
        assert!(app.sessions[0].search_pending());
        let rows = app.frame_rows();
        app.sessions[0].set_filter("in", rows).expect("filter");
        assert!(!app.sessions[0].search_pending());
    }
}

//! The store as the console uses it: one screen drawn with 10³ and with 10⁶ frames stored
//! (the cost must follow the screen, not the log), and a filter, a jq filter and a search over
//! 10⁶ frames, typed as a user types them and run the way the loop runs them (the filter in
//! slices, one per `ScanSlice` event; the search likewise, its first slice in the key's update).

use crate::support::{Draws, app_with, draw_ratio};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::time::Instant;
use wsdeck::app::{App, Event, update};

fn press(app: &mut App, code: KeyCode) {
    update(app, Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn type_line(app: &mut App, opener: char, line: &str) {
    press(app, KeyCode::Char(opener));
    for c in line.chars() {
        press(app, KeyCode::Char(c));
    }
    press(app, KeyCode::Enter);
}

/// Let the vocabulary finish learning first, so the filter's slices are the filter's alone.
pub fn settle(app: &mut App) {
    while app.has_work() {
        update(app, Event::ScanSlice);
    }
}

pub struct Scan {
    pub total_ms: f64,
    /// The longest the loop was held by one event (a slice, or the search's key).
    pub longest_ms: f64,
    pub matched: usize,
}

/// A filter typed after `f`, then scanned to the end; cleared afterwards.
pub fn filter(app: &mut App, text: &str) -> Scan {
    let t0 = Instant::now();
    type_line(app, 'f', text);
    let mut longest = t0.elapsed().as_secs_f64();
    while app.sessions[0].filter_pending() {
        let t = Instant::now();
        update(app, Event::ScanSlice);
        longest = longest.max(t.elapsed().as_secs_f64());
    }
    let total_ms = t0.elapsed().as_secs_f64() * 1e3;
    let matched = app.sessions[0].view_len();
    app.sessions[0].clear_filter();
    Scan {
        total_ms,
        longest_ms: longest * 1e3,
        matched,
    }
}

/// A search for text no frame holds: every row is looked at, a slice per event.
pub fn search_miss(app: &mut App) -> Scan {
    let t0 = Instant::now();
    type_line(app, '/', "no-such-word");
    let mut longest = t0.elapsed().as_secs_f64();
    while app.sessions[0].search_pending() {
        let t = Instant::now();
        update(app, Event::ScanSlice);
        longest = longest.max(t.elapsed().as_secs_f64());
    }
    Scan {
        total_ms: t0.elapsed().as_secs_f64() * 1e3,
        longest_ms: longest * 1e3,
        matched: 0,
    }
}

pub struct Report {
    pub draws: Draws,
    pub word: Scan,
    pub jq: Scan,
    pub search: Scan,
}

pub fn run(runs: usize) -> Report {
    let small = app_with(1_000);
    let mut big = app_with(1_000_000);
    settle(&mut big);
    let draws = draw_ratio(runs, &small, &big);
    let word = filter(&mut big, "in delta");
    let jq = filter(&mut big, r#".type == "response.output_text.delta""#);
    let search = search_miss(&mut big);
    Report {
        draws,
        word,
        jq,
        search,
    }
}

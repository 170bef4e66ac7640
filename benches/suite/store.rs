//! The store as the console uses it: one screen drawn with 10³ and with 10⁶ frames stored
//! (the cost must follow the screen, not the log), and a filter, a jq filter and a search over
//! 10⁶ frames, typed as a user types them and run the way the loop runs them (the filter in
//! slices, one per `ScanSlice` event; the search likewise, its first slice in the key's update).

use crate::support::{Draws, app_with, bench_frames, draw_ratio};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime};
use wsdeck::app::opening::IndexStep;
use wsdeck::app::{App, Event, update};
use wsdeck::capture::index::index_capture;
use wsdeck::capture::source::CaptureSource;
use wsdeck::capture::writer::{CaptureMeta, CaptureWriter};

/// `n` of `app_with`'s frames written to a capture in `dir` and opened as `:open` opens it:
/// indexed, the payloads left in the file and read back as rows are drawn.
pub fn opened_capture(n: usize, dir: &Path) -> App {
    let path = dir.join("draw.jsonl");
    let mut w =
        CaptureWriter::create(&path, &CaptureMeta::default(), SystemTime::now()).expect("capture");
    for chunk in bench_frames(n).chunks(4096) {
        w.frames(chunk).expect("write");
    }
    w.flush().expect("flush");
    drop(w);
    let mut app = App::new(vec![]);
    update(
        &mut app,
        Event::Resize {
            width: 160,
            height: 48,
        },
    );
    let step = |step| Event::CaptureIndexing {
        ticket: 1,
        name: "draw.jsonl".into(),
        step,
    };
    let source = Arc::new(CaptureSource::open(&path).expect("open"));
    let total_bytes = std::fs::metadata(&path).expect("size").len();
    update(
        &mut app,
        step(IndexStep::Started {
            source,
            total_bytes,
        }),
    );
    let summary = index_capture(&path, 50_000, |records, progress| {
        update(&mut app, step(IndexStep::Batch { records, progress }));
        ControlFlow::Continue(())
    })
    .expect("index");
    update(&mut app, step(IndexStep::Done(Ok(summary))));
    app
}

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
    /// 10⁶ frames opened from a capture against 10³ in memory.
    pub capture_draws: Draws,
    pub word: Scan,
    pub jq: Scan,
    pub search: Scan,
}

pub fn run(runs: usize) -> Report {
    let small = app_with(1_000);
    let mut big = app_with(1_000_000);
    settle(&mut big);
    let draws = draw_ratio(runs, &small, &big);
    let dir = tempfile::tempdir().expect("dir");
    let opened = opened_capture(1_000_000, dir.path());
    assert_eq!(
        opened.sessions[0].log.len(),
        1_000_000,
        "every frame opened"
    );
    let capture_draws = draw_ratio(runs, &small, &opened);
    drop(opened);
    let word = filter(&mut big, "in delta");
    let jq = filter(&mut big, r#".type == "response.output_text.delta""#);
    let search = search_miss(&mut big);
    Report {
        draws,
        capture_draws,
        word,
        jq,
        search,
    }
}

//! A jq filter that gets stuck on one frame of the log: the console's loop goes on, the filter
//! is removed with the frame named, and the next filter works.

use crate::app::session::Session;
use crate::app::{App, Event, actions, update};
use crate::engine::session::SessionEvent;
use crate::engine::target::{ConnectSpec, Target};
use crate::engine::{Direction, Frame, Opcode};
use bytes::Bytes;
use std::time::{Duration, Instant};

/// A console whose one session holds text frames 1..=n with `payload(n)`, scanned.
fn app_of(n: u64, payload: impl Fn(u64) -> String) -> App {
    let spec = ConnectSpec::new(Target::url("ws://127.0.0.1:1/x").expect("url"));
    let mut app = App::new(vec![Session::new("s", spec)]);
    update(
        &mut app,
        Event::Resize {
            width: 120,
            height: 40,
        },
    );
    let frames = (1..=n)
        .map(|i| Frame {
            seq: i,
            at: Duration::from_micros(i),
            dir: Direction::In,
            opcode: Opcode::Text,
            payload: Bytes::from(payload(i)),
        })
        .collect();
    update(
        &mut app,
        Event::Session {
            id: 0,
            event: SessionEvent::Frames(frames),
        },
    );
    while app.has_work() {
        update(&mut app, Event::ScanSlice);
    }
    app
}

fn app_with(n: u64) -> App {
    app_of(n, |i| format!("{{\"type\":\"t\",\"n\":{i}}}"))
}

#[test]
fn a_jq_filter_stuck_on_an_old_frame_is_removed_and_the_console_goes_on() {
    let _turn = crate::filter::RUNAWAY_TESTS
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut app = app_with(30_000);
    app.sessions[0].view.jq_limit = Duration::from_millis(20);
    // Fine on the newest frames it is tried on; stuck on the 12 000th, which a later slice of
    // the scan reaches (long but finite, so no thread is left spinning after the test).
    actions::apply_filter(
        &mut app,
        ".n | if . == 12000 then last(range(1e7)) else . > 29990 end",
    );
    assert!(app.status.is_none(), "{:?}", app.status);
    assert!(app.sessions[0].view.filter.is_some(), "applied");
    let started = Instant::now();
    let mut slices = 0;
    while app.has_work() {
        update(&mut app, Event::ScanSlice);
        slices += 1;
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the loop went on"
        );
    }
    let s = &app.sessions[0];
    assert!(s.view.filter.is_none(), "removed");
    assert_eq!(s.view_len(), s.log.len(), "every row shown again");
    assert!(slices >= 3, "{slices} slices");
    let status = app.status.clone().unwrap_or_default();
    assert!(
        status.starts_with("filter removed: jq:") && status.contains("on frame #12000"),
        "{status}"
    );
    // The next filter works while the stuck one's thread still runs.
    actions::apply_filter(&mut app, ".n > 29990");
    while app.has_work() {
        update(&mut app, Event::ScanSlice);
    }
    assert_eq!(app.sessions[0].view_len(), 10);
    let until = Instant::now() + Duration::from_secs(120);
    while crate::filter::runaways() > 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(crate::filter::runaways(), 0);
}

/// A slow jq program gets smaller slices, so keys are answered between them; large payloads
/// are taken a few at a time (they are copied for the jq thread).
#[test]
fn jq_slices_follow_the_programs_pace_and_the_payloads_size() {
    let mut app = app_with(300);
    actions::apply_filter(&mut app, ".n | last(range(2e4)) > 0");
    let s = &app.sessions[0];
    assert_eq!(
        s.view.scanned,
        s.log.len(),
        "the first slice took every row"
    );
    assert!(s.view.jq_slice < 300, "next slice {} rows", s.view.jq_slice);

    let mib = "x".repeat(1 << 20);
    let mut big = app_of(40, |i| format!("{{\"n\":{i},\"s\":\"{mib}\"}}"));
    actions::apply_filter(&mut big, ".n > 30");
    assert!(
        big.sessions[0].view.scanned <= 17,
        "{} rows of 1 MiB in one slice",
        big.sessions[0].view.scanned
    );
    while big.has_work() {
        update(&mut big, Event::ScanSlice);
    }
    assert_eq!(big.sessions[0].view_len(), 10);
}

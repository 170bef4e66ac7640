//! The console's sessions over the bounded store: past `[store] memory_mb` a session keeps its
//! order and count, reads spilled frames back byte-identical (in the log, the detail, a
//! filter), and its spill file goes when the session is deleted.

use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::time::{Duration, SystemTime};
use wsdeck::app::{App, ConsoleConfig, Event, Session, update};
use wsdeck::engine::session::SessionEvent;
use wsdeck::engine::target::{ConnectSpec, Target};
use wsdeck::engine::{Direction, Frame, Opcode};
use wsdeck::store::{Budget, RowKind};

fn frame(i: u64) -> Frame {
    let text = format!(
        "{{\"type\":\"tick\",\"n\":{i},\"pad\":\"{}\"}}",
        "x".repeat((i % 900) as usize)
    );
    Frame {
        seq: i + 1,
        at: Duration::from_micros(i * 100),
        dir: if i.is_multiple_of(2) {
            Direction::In
        } else {
            Direction::Out
        },
        opcode: Opcode::Text,
        payload: Bytes::from(text),
    }
}

fn key(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

#[test]
fn a_session_past_the_budget_keeps_every_frame_and_its_spill_file_goes_with_it() {
    let dir = tempfile::tempdir().expect("dir");
    let spill_dir = dir.path().join("spill");
    let config = ConsoleConfig {
        store: Budget::new(1 << 20, Some(spill_dir.clone())),
        ..Default::default()
    };
    let spec = ConnectSpec::new(Target::url("ws://127.0.0.1:9/").expect("url"));
    let mut app = App::new(vec![Session::new("big", spec)]).with_config(config);
    update(
        &mut app,
        Event::Resize {
            width: 120,
            height: 36,
        },
    );
    update(
        &mut app,
        Event::Session {
            id: 0,
            event: SessionEvent::Connecting {
                at: Duration::ZERO,
                wall: SystemTime::UNIX_EPOCH,
                url: "ws://127.0.0.1:9/".into(),
                session_id: None,
            },
        },
    );
    let n = 20_000u64;
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let frames = chunk.iter().map(|&i| frame(i)).collect();
        update(
            &mut app,
            Event::Session {
                id: 0,
                event: SessionEvent::Frames(frames),
            },
        );
    }
    let s = &app.sessions[0];
    let m = s.log.memory();
    assert!(
        m.spilled > 5 << 20,
        "about 9 MB of payload, 1 MB kept: {m:?}"
    );
    assert_eq!(
        s.log.len(),
        n as usize + 1,
        "the connect row and every frame"
    );
    for i in [0u64, 1, 777, 10_000, n - 1] {
        match s.log.get(i as usize + 1).map(|r| r.kind) {
            Some(RowKind::Frame(f)) => assert_eq!(f, frame(i), "frame {i}"),
            other => panic!("row {}: {other:?}", i + 1),
        }
    }
    assert_eq!(
        (s.counters.frames_in, s.counters.frames_out),
        (n / 2, n / 2)
    );
    let spill = s.log.spill_path().expect("spilled").to_path_buf();
    assert!(spill.starts_with(&spill_dir) && spill.exists());

    // A filter over the spilled frames finds them all, in order.
    update(&mut app, key('f'));
    for c in "\"n\":1234,".chars() {
        update(&mut app, key(c));
    }
    update(
        &mut app,
        Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    while app.has_work() {
        update(&mut app, Event::ScanSlice);
    }
    let s = &app.sessions[0];
    assert_eq!(s.view.visible, vec![1235], "frame 1234 is row 1235");

    // Deleting the session removes its spill file.
    app.focus = wsdeck::app::Pane::Sessions;
    update(&mut app, key('d'));
    update(&mut app, key('y'));
    assert!(app.sessions.is_empty());
    assert!(
        !spill.exists(),
        "the spill file is removed with its session"
    );
}

fn write_capture(path: &std::path::Path, frames: u64) {
    use wsdeck::capture::writer::{CaptureMeta, CaptureWriter};
    let meta = CaptureMeta {
        session_name: Some("long".into()),
        target_kind: "url".into(),
        target: "ws://127.0.0.1:8088/invocations_ws".into(),
        url: "ws://127.0.0.1:8088/invocations_ws".into(),
        agent_session_id: Some("s-1".into()),
    };
    let mut w = CaptureWriter::create(path, &meta, SystemTime::UNIX_EPOCH).expect("create");
    for i in 0..frames {
        w.frame(&frame(i)).expect("frame");
    }
    w.flush().expect("flush");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_capture_opens_in_the_background_indexed_and_reads_back_byte_identical() {
    use crate::console_support::{Console, key as code_key, wait_for};
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("long.jsonl");
    let n = 150_000u64;
    write_capture(&path, n);
    let config = ConsoleConfig {
        store: Budget::new(1 << 20, Some(dir.path().join("spill"))),
        ..Default::default()
    };
    let app = App::new(vec![]).with_config(config);
    let console = Console::start(app, (140, 40), Default::default());
    let mut screens = console.screens.clone();
    let line = format!(":open {}", path.display());
    console
        .press(line.chars().map(|c| code_key(KeyCode::Char(c))).collect())
        .await;
    console.press(vec![code_key(KeyCode::Enter)]).await;
    let screen = wait_for(&mut screens, "opened long.jsonl (read-only)").await;
    assert!(screen.contains("▲ 75000 frames"), "{screen}");
    // To the top: the first frame, read back from the file.
    console.press(vec![code_key(KeyCode::Char('g'))]).await;
    let screen = wait_for(&mut screens, "\"n\":0,").await;
    assert!(screen.contains("tick"), "{screen}");
    let app = console.quit().await;
    let s = &app.sessions[0];
    assert!(s.read_only() && s.opening.is_none());
    assert_eq!(s.log.len(), n as usize);
    assert_eq!(s.log.memory().payloads, 0, "the payloads stay in the file");
    for i in [0u64, 1, 4_999, 77_777, n - 1] {
        match s.log.get(i as usize).map(|r| r.kind) {
            Some(RowKind::Frame(f)) => assert_eq!(f, frame(i), "frame {i}"),
            other => panic!("row {i}: {other:?}"),
        }
    }
    assert_eq!(
        s.spec.target.describe(),
        "ws://127.0.0.1:8088/invocations_ws"
    );
}

#[test]
fn esc_stops_a_capture_being_read_and_what_was_read_stays() {
    use wsdeck::app::opening::{IndexStep, Opening};
    use wsdeck::app::{Effect, Pane};
    use wsdeck::capture::index::{IndexSummary, Indexed, LineLoc, Progress};
    struct Nothing;
    impl wsdeck::store::PayloadSource for Nothing {
        fn read(&self, _: u64, _: u32) -> Result<Bytes, String> {
            Err("not in this test".into())
        }
    }
    let mut app = App::new(vec![]);
    update(
        &mut app,
        Event::Resize {
            width: 120,
            height: 30,
        },
    );
    let step = |step| Event::CaptureIndexing {
        ticket: 7,
        name: "huge.jsonl".into(),
        step,
    };
    update(
        &mut app,
        step(IndexStep::Started {
            source: std::sync::Arc::new(Nothing),
            total_bytes: 1_000_000,
        }),
    );
    let records = (0..1000u64)
        .map(|i| Indexed::Frame {
            seq: i + 1,
            at: Duration::from_millis(i),
            dir: Direction::In,
            opcode: Opcode::Binary,
            len: 10,
            injected: false,
            line: LineLoc {
                offset: i * 100,
                len: 99,
            },
        })
        .collect();
    update(
        &mut app,
        step(IndexStep::Batch {
            records,
            progress: Progress {
                bytes_read: 420_000,
                total_bytes: 1_000_000,
                records: 1000,
            },
        }),
    );
    assert_eq!(
        app.sessions[0].opening,
        Some(Opening {
            ticket: 7,
            bytes_read: 420_000,
            total_bytes: 1_000_000,
            records: 1000,
            stopping: false
        })
    );
    assert_eq!(app.focus, Pane::Frames);
    let effects = update(
        &mut app,
        Event::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
    );
    assert_eq!(effects, vec![Effect::StopOpening { ticket: 7 }]);
    update(
        &mut app,
        step(IndexStep::Done(Ok(IndexSummary {
            header: None,
            warnings: vec![],
            records: 1000,
        }))),
    );
    let s = &app.sessions[0];
    assert_eq!(s.opening, None);
    assert_eq!(s.log.len(), 1000);
    assert_eq!(s.counters.frames_in, 1000);
    assert!(
        app.status
            .as_deref()
            .is_some_and(|t| t.contains("stopped reading huge.jsonl at 42%")),
        "{:?}",
        app.status
    );
}

#[test]
fn a_json_file_that_is_no_capture_leaves_no_empty_session() {
    use wsdeck::app::opening::IndexStep;
    struct Nothing;
    impl wsdeck::store::PayloadSource for Nothing {
        fn read(&self, _: u64, _: u32) -> Result<Bytes, String> {
            Err("nothing".into())
        }
    }
    let spec = ConnectSpec::new(Target::url("ws://127.0.0.1:9/").expect("url"));
    let mut app = App::new(vec![Session::new("live", spec)]);
    let step = |step| Event::CaptureIndexing {
        ticket: 3,
        name: "package.json".into(),
        step,
    };
    update(
        &mut app,
        step(IndexStep::Started {
            source: std::sync::Arc::new(Nothing),
            total_bytes: 10,
        }),
    );
    assert_eq!(app.sessions.len(), 2);
    update(
        &mut app,
        step(IndexStep::Done(Err(
            "package.json is not a wsdeck capture".into()
        ))),
    );
    assert_eq!(app.sessions.len(), 1);
    assert_eq!(app.current().map(|s| s.name.as_str()), Some("live"));
    assert_eq!(
        app.status.as_deref(),
        Some("package.json is not a wsdeck capture")
    );
}

#[test]
fn a_jq_filter_scans_in_smaller_slices() {
    let spec = ConnectSpec::new(Target::url("ws://127.0.0.1:9/").expect("url"));
    let mut app = App::new(vec![Session::new("s", spec)]);
    update(
        &mut app,
        Event::Resize {
            width: 120,
            height: 36,
        },
    );
    let frames: Vec<Frame> = (0..60_000).map(frame).collect();
    update(
        &mut app,
        Event::Session {
            id: 0,
            event: SessionEvent::Frames(frames),
        },
    );
    update(&mut app, key('f'));
    for c in ".n >= 0".chars() {
        update(&mut app, key(c));
    }
    update(
        &mut app,
        Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    let per_slice = wsdeck::app::FILTER_SLICE / wsdeck::app::frames::JQ_SLICE_DIVISOR;
    assert_eq!(app.sessions[0].view.scanned, per_slice);
    while app.has_work() {
        update(&mut app, Event::ScanSlice);
    }
    assert_eq!(
        app.sessions[0].view.visible.len(),
        60_000,
        "every frame matches"
    );
}

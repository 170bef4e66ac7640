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
        dir: if i % 2 == 0 {
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

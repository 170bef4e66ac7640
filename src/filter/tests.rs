//! The filter's words, fields and jq programs; jq on a thread of its own, and given up when stuck.

use super::*;
use crate::engine::Frame;
use bytes::Bytes;
use std::time::Duration;

fn row(dir: Direction, op: Opcode, p: &str) -> Row {
    Row {
        at: Duration::ZERO,
        kind: RowKind::Frame(Frame {
            seq: 1,
            at: Duration::ZERO,
            dir,
            opcode: op,
            payload: Bytes::from(p.to_string()),
        }),
    }
}

/// Wait (up to two minutes) until no jq thread given up on still runs.
fn runaways_end() {
    let until = std::time::Instant::now() + Duration::from_secs(120);
    while RUNAWAYS.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        RUNAWAYS.load(Ordering::SeqCst),
        0,
        "the finished threads let go"
    );
}

#[test]
fn a_jq_program_that_does_not_finish_on_the_samples_is_refused() {
    let _turn = RUNAWAY_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    let samples = vec![Bytes::from_static(br#"{"type":"pong"}"#)];
    let mut fine = Filter::parse(".type == \"pong\"").expect("parse");
    fine.run_jq_apart(Duration::from_secs(30)).expect("thread");
    assert_eq!(fine.trial(samples.clone()), Ok(()));
    assert_eq!(fine.trial(vec![]), Ok(()), "nothing to try it on");
    let mut words = Filter::parse("in").expect("words");
    words
        .run_jq_apart(Duration::ZERO)
        .expect("no jq, no thread");
    assert_eq!(words.trial(samples.clone()), Ok(()), "no jq, no trial");
    // Long but finite, so the test leaves no thread spinning: refused at 20 ms, then its
    // thread ends on its own and is no longer counted.
    let mut slow = Filter::parse(".a | last(range(1e7))").expect("parse");
    slow.run_jq_apart(Duration::from_millis(20))
        .expect("thread");
    let e = slow.trial(samples).expect_err("refused");
    assert!(matches!(&e, FilterError::JqTooSlow { ms: 20, .. }), "{e}");
    assert!(e.to_string().contains("does it loop without end?"), "{e}");
    assert!(RUNAWAYS.load(Ordering::SeqCst) >= 1);
    drop(slow);
    runaways_end();
}

/// On its thread, the program's verdicts are those it gives on the caller's, in order; one
/// frame it does not finish on stops the batch there, and names that frame.
#[test]
fn jq_apart_gives_the_same_verdicts_and_names_the_frame_it_is_stuck_on() {
    let _turn = RUNAWAY_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    let payloads: Vec<Bytes> = (0..300)
        .map(|n| match n % 7 {
            0 => Bytes::from("not json"),
            1 => Bytes::from(format!("[{n}]")),
            _ => Bytes::from(format!("{{\"n\":{n},\"type\":\"t{}\"}}", n % 3)),
        })
        .collect();
    let program = ".n > 100 and .type == \"t1\"";
    let here = Filter::parse(program).expect("parse");
    let want: Vec<bool> = payloads
        .iter()
        .map(|p| {
            here.matches(&row(
                Direction::In,
                Opcode::Text,
                std::str::from_utf8(p).expect("utf-8"),
            ))
        })
        .collect();
    assert!(want.iter().filter(|h| **h).count() > 20);
    let mut apart = Filter::parse(program).expect("parse");
    apart.run_jq_apart(Duration::from_secs(30)).expect("thread");
    assert_eq!(
        apart.jq_verdicts(payloads[..120].iter().cloned().collect()),
        Ok(want[..120].to_vec())
    );
    assert_eq!(
        apart.jq_verdicts(payloads[120..].iter().cloned().collect()),
        Ok(want[120..].to_vec())
    );
    assert_eq!(apart.jq_verdicts(JqBatch::default()), Ok(vec![]));

    let mut stuck =
        Filter::parse(".n | if . == 9 then last(range(1e7)) else . > 3 end").expect("parse");
    stuck
        .run_jq_apart(Duration::from_millis(20))
        .expect("thread");
    let batch: JqBatch = (0..12)
        .map(|n| Bytes::from(format!("{{\"n\":{n}}}")))
        .collect();
    let failed = stuck.jq_verdicts(batch).expect_err("stuck on n = 9");
    assert_eq!(failed.at, Some(9));
    let e = stuck.jq_failure(failed, 4242);
    assert!(e.to_string().contains("on frame #4242"), "{e}");
    drop(stuck);
    runaways_end();
}

#[test]
fn direction_opcode_words_and_jq() {
    let pong = row(Direction::In, Opcode::Text, r#"{"type":"pong","id":"X1"}"#);
    let ping = row(Direction::Out, Opcode::Text, r#"{"type":"ping"}"#);
    let bin = row(Direction::In, Opcode::Binary, "\u{1}\u{2}");
    let f = Filter::parse("in").expect("f");
    assert!(f.matches(&pong) && !f.matches(&ping) && f.matches(&bin));
    let f = Filter::parse("op:binary").expect("f");
    assert!(!f.matches(&pong) && f.matches(&bin));
    let f = Filter::parse("x1").expect("f");
    assert!(f.matches(&pong) && !f.matches(&ping));
    let f = Filter::parse(r#"in .type == "pong""#).expect("f");
    assert!(f.matches(&pong) && !f.matches(&ping) && !f.matches(&bin));
    let f = Filter::parse(r#"jq:.type|startswith("pi")"#).expect("f");
    assert!(f.matches(&ping) && !f.matches(&pong));
    assert!(Filter::parse(".type ==").is_err());
    assert!(Filter::parse(".nosuchfn(1)").is_err() || Filter::parse("nosuchfn").is_ok());
    assert!(Filter::parse("op:blob").is_err());
    let f = Filter::parse("-ping in").expect("f");
    assert!(!f.matches(&row(Direction::In, Opcode::Ping, "x")));
    assert!(!f.matches(&row(Direction::In, Opcode::Pong, "x")));
    assert!(f.matches(&row(Direction::In, Opcode::Text, "x")));
}

#[test]
fn a_frame_nested_past_any_reader_is_not_json_to_jq_and_no_stack_overflow() {
    // jaq's reader recurses once a level: 100 000 `[` from the peer overflowed the stack
    // (tests/hostile, the jq_input fuzz target). Run where a tokio worker would: 2 MiB.
    let f = Filter::parse("jq:true").expect("f");
    let deep = |open: &str, n: usize| row(Direction::In, Opcode::Text, &open.repeat(n));
    let ok = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let shallow = format!("{}1{}", "[".repeat(100), "]".repeat(100));
            [
                f.matches(&deep("[", 100_000)),
                f.matches(&deep("{\"a\":", 100_000)),
                // A comment (jaq reads `#` to the end of the line) hides no brackets.
                f.matches(&deep("#\"\n[", 100_000)),
                f.matches(&row(Direction::In, Opcode::Text, &shallow)),
            ]
        })
        .expect("thread")
        .join()
        .expect("no overflow");
    assert_eq!(ok, [false, false, false, true]);
}

#[test]
fn the_fixed_fields_answer_as_the_whole_row_would() {
    let rows = [
        row(Direction::In, Opcode::Text, r#"{"type":"a"}"#),
        row(Direction::Out, Opcode::Binary, "xyz"),
        row(Direction::In, Opcode::Ping, ""),
        Row {
            at: Duration::ZERO,
            kind: RowKind::Event {
                kind: crate::store::EventKind::Open,
                text: "open".into(),
            },
        },
    ];
    for src in [
        "in",
        "out",
        "op:binary",
        "-ping",
        "in op:text",
        "",
        "open",
        "in .type",
    ] {
        let Ok(f) = Filter::parse(src) else { continue };
        for r in &rows {
            let info = match &r.kind {
                RowKind::Frame(fr) => Some(crate::store::FrameInfo {
                    seq: fr.seq,
                    at: fr.at,
                    dir: fr.dir,
                    opcode: fr.opcode,
                    len: fr.payload.len(),
                }),
                RowKind::Event { .. } => None,
            };
            if let Some(quick) = f.matches_without_payload(info.as_ref()) {
                assert_eq!(quick, f.matches(r), "{src:?} on {r:?}");
            }
        }
    }
}

/// A batch given a total bound is given up once it has taken that long, even while each of its
/// frames finishes well within the per-frame limit (the trial: 16 frames of a slow program
/// would hold the console 16 times the limit).
#[test]
fn a_batch_past_its_total_bound_is_given_up() {
    let _turn = RUNAWAY_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    let mut slow = Filter::parse(".n | last(range(3e5)) > 0").expect("parse");
    slow.run_jq_apart(Duration::from_secs(30)).expect("thread");
    let batch: Vec<Bytes> = (0..12)
        .map(|n| Bytes::from(format!("{{\"n\":{n}}}")))
        .collect();
    let started = std::time::Instant::now();
    let runner = slow.runner.as_mut().expect("a runner");
    let failed = runner
        .run(batch.into_iter().collect(), Some(Duration::from_millis(20)))
        .expect_err("past 20 ms in all");
    assert!(matches!(failed, Failed::Stuck { .. }), "{failed:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(slow);
    runaways_end();
}

//! The output with workers reading spans ahead is the output of the reading in order, byte for
//! byte (stdout, stderr and the exit code), whatever the spans' size: every span boundary falls
//! somewhere new in lines of every kind, and the reader's state that only the reading in order
//! keeps (line numbers in warnings, the seq of frames without one, the held warnings, a newer
//! header after its warning) comes out the same.

use super::super::Reading;
use super::super::ahead::Plan;
use super::stream_json_to;
use crate::capture::index::records::{Opened, Records};
use crate::capture::line::{LineEncoder, fields};
use crate::decode::DecoderKind;
use crate::engine::frame::{Direction, Frame, Opcode, close_payload};
use crate::test_rng::Rng;
use serde_json::json;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Stdout, stderr, the exit code, and how many spans workers printed.
fn run(path: &Path, kind: DecoderKind, plan: Plan) -> (Vec<u8>, String, i32, usize) {
    let mut out = Vec::new();
    let (err, code, spans) = run_to(path, kind, plan, &mut out);
    (out, err, code.expect("stream"), spans)
}

/// Stderr, the exit code (or the error, said), and the spans workers printed.
fn run_to(
    path: &Path,
    kind: DecoderKind,
    plan: Plan,
    out: &mut dyn Write,
) -> (String, Result<i32, String>, usize) {
    let reading = match Reading::new(kind, &[], None) {
        Ok(r) => r,
        Err(code) => panic!("reading: {code}"),
    };
    let recs = match Records::open(path).expect("open") {
        Opened::Lines(r) => r,
        Opened::Har => panic!("not a HAR"),
    };
    let mut err = Vec::new();
    let (code, spans) = stream_json_to(path, recs, &reading, plan, out, &mut err);
    let err = String::from_utf8(err).expect("utf-8");
    (err, code.map_err(|e| e.to_string()), spans)
}

fn in_order() -> Plan {
    plan(1 << 20, 0)
}

fn plan(span: u64, workers: usize) -> Plan {
    Plan {
        span,
        workers,
        overrun: 16 << 20,
    }
}

/// The same output for each decoder with spans of each size; spans of at least `min_used`
/// bytes are mostly printed by workers (so the comparison is not of the reading in order with
/// itself).
#[track_caller]
fn same_with_workers(path: &Path, runs: &[(DecoderKind, &[u64])], min_used: u64) {
    let size = std::fs::metadata(path).expect("size").len();
    for &(kind, spans) in runs {
        let want = run(path, kind, in_order());
        assert_eq!(want.2, 0, "{}", want.1);
        assert_eq!(want.3, 0);
        for &span in spans {
            for workers in [1, 2, 3] {
                let got = run(path, kind, plan(span, workers));
                if span >= min_used {
                    let spans = size / span;
                    assert!(
                        got.3 as u64 >= spans / 2,
                        "span {span}: workers printed {} of {spans} spans",
                        got.3
                    );
                }
                assert_eq!(got.2, want.2, "span {span}, {workers} workers, {kind:?}");
                assert_eq!(got.1, want.1, "span {span}, {workers} workers, {kind:?}");
                if got.0 != want.0 {
                    let at = got
                        .0
                        .iter()
                        .zip(&want.0)
                        .take_while(|(a, b)| a == b)
                        .count();
                    panic!(
                        "span {span}, {workers} workers, {kind:?}: the output differs at byte {at} of {}: {:?} instead of {:?}",
                        want.0.len(),
                        String::from_utf8_lossy(
                            &got.0[at.saturating_sub(80)..(at + 80).min(got.0.len())]
                        ),
                        String::from_utf8_lossy(
                            &want.0[at.saturating_sub(80)..(at + 80).min(want.0.len())]
                        ),
                    );
                }
            }
        }
    }
}

fn frame(seq: u64, opcode: Opcode, payload: Vec<u8>) -> Frame {
    Frame {
        seq,
        at: Duration::from_micros(seq * 997),
        dir: if seq.is_multiple_of(3) {
            Direction::Out
        } else {
            Direction::In
        },
        opcode,
        payload: payload.into(),
    }
}

/// A capture with every kind of line between frame lines in the writer's shape, at random
/// places: events, blank and blank-looking lines, `\r\n` ends, frames in another field order
/// and without a seq, injected and proxied frames, a line that is not JSON, a second header and
/// a newer format's, a line longer than most spans; the last line is cut off.
pub(in crate::cli::inspect) fn mixed_capture(path: &Path, lines: usize) {
    let started = SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000);
    let mut enc = LineEncoder::new(started);
    let mut out = Vec::new();
    out.extend_from_slice(
        br#"{"wsdeck_capture":1,"wsdeck_version":"0.1.0","started":"2026-05-28T20:26:40Z","session":"t","target":{"kind":"","describe":"","url":""},"agent_session_id":null}"#,
    );
    out.push(b'\n');
    let mut rng = Rng(0x005e_ed0f_5aa5);
    let mut seq = 0;
    for i in 0..lines {
        seq += 1;
        // The rare kinds at least once each, the rest at random.
        let roll = match i {
            700 => 80,
            400 | 1100 => 81,
            _ => rng.below(100),
        };
        let n = rng.below(90);
        let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        let line_start = out.len();
        match roll {
            0..=39 => enc.frame(&mut out, &frame(seq, Opcode::Binary, bytes)),
            40..=49 => {
                // Some of these are CBOR and MessagePack maps, for the decoders to claim.
                let mut b = bytes;
                b.insert(0, [0xa1, 0x81, 0x08][seq as usize % 3]);
                enc.frame(&mut out, &frame(seq, Opcode::Binary, b));
            }
            50..=64 => {
                let text = format!("{{\"type\":\"delta\",\"n\":{seq},\"s\":\"a\\\"b\\n漢 {n}\"}}");
                enc.frame(&mut out, &frame(seq, Opcode::Text, text.into_bytes()));
            }
            65..=67 => enc.frame(&mut out, &frame(seq, Opcode::Text, vec![b'a', 0xc3, 0x28])),
            68 => enc.frame(&mut out, &frame(seq, Opcode::Ping, bytes)),
            69 => enc.frame(
                &mut out,
                &frame(seq, Opcode::Close, close_payload(1000, "bye").to_vec()),
            ),
            70..=72 => {
                enc.event(
                    &mut out,
                    Duration::from_micros(seq * 997),
                    "note",
                    fields(json!({"n": seq})),
                );
                seq -= 1;
            }
            73 | 74 => {
                out.extend_from_slice(if roll == 73 { b"\n" } else { b"  \t\n" });
                seq -= 1;
            }
            75 | 76 => {
                enc.frame(&mut out, &frame(seq, Opcode::Binary, bytes));
                out.pop();
                out.extend_from_slice(b"\r\n");
            }
            77 => {
                // Another field order: read with serde, and a seq numbered from the last one.
                out.extend_from_slice(
                    format!(
                        "{{\"dir\":\"in\",\"op\":\"text\",\"text\":\"late {n}\",\"ms\":{seq}.5}}\n"
                    )
                    .as_bytes(),
                );
            }
            78 => {
                enc.frame(&mut out, &frame(seq, Opcode::Binary, bytes));
                out.truncate(out.len() - 2);
                out.extend_from_slice(if n.is_multiple_of(2) {
                    b",\"injected\":true}\n".as_slice()
                } else {
                    b",\"client\":7}\n".as_slice()
                });
            }
            79 => {
                out.extend_from_slice(b"{\"seq\":12,\"op\": not json\n");
                seq -= 1;
            }
            80 if i == 700 || seq.is_multiple_of(7) => {
                out.extend_from_slice(br#"{"wsdeck_capture":9,"started":"2030-01-01T00:00:00Z"}"#);
                out.push(b'\n');
                seq -= 1;
            }
            81 if i % 700 == 400 || seq.is_multiple_of(5) => {
                let long = vec![b'z'; 2500 + n * 40];
                enc.frame(&mut out, &frame(seq, Opcode::Binary, long));
            }
            _ => enc.frame(&mut out, &frame(seq, Opcode::Binary, bytes)),
        }
        debug_assert!(out.len() > line_start);
    }
    enc.frame(&mut out, &frame(seq + 1, Opcode::Text, b"cut".to_vec()));
    out.truncate(out.len() - 4);
    std::fs::write(path, out).expect("write");
}

#[test]
fn spans_read_ahead_print_what_the_reading_in_order_prints() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("mixed.jsonl");
    mixed_capture(&path, 1500);
    // The warnings and the cut-off last line are what the reader says of this file, so the
    // comparison covers them.
    let (_, err, _, _) = run(&path, DecoderKind::Auto, in_order());
    assert!(err.contains("not JSON"), "{err}");
    assert!(err.contains("format version 9"), "{err}");
    assert!(err.contains("cut off mid-line"), "{err}");
    same_with_workers(
        &path,
        &[
            (DecoderKind::Auto, &[1, 50, 199, 1000, 4099, 65_536]),
            (DecoderKind::Hex, &[3, 777]),
        ],
        1000,
    );
}

#[test]
fn a_capture_of_only_frame_lines_is_the_same_in_any_spans() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("frames.jsonl");
    let started = SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000);
    let mut enc = LineEncoder::new(started);
    let mut out = b"{\"wsdeck_capture\":1,\"started\":\"2026-05-28T20:26:40Z\"}\n".to_vec();
    let mut rng = Rng(77);
    for seq in 1..=2000 {
        let bytes: Vec<u8> = (0..rng.below(70)).map(|_| rng.next() as u8).collect();
        enc.frame(&mut out, &frame(seq, Opcode::Binary, bytes));
    }
    std::fs::write(&path, out).expect("write");
    same_with_workers(&path, &[(DecoderKind::Auto, &[7, 190, 8192])], 190);
}

/// A capture whose first line is a frame, not a header: the times come from the header further
/// on, and the warnings held until the first record come out once.
#[test]
fn a_capture_without_a_header_first_is_the_same_with_workers() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("late-header.jsonl");
    let started = SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000);
    let mut enc = LineEncoder::new(started);
    let mut out = b"{\"broken\": \n{\"event\":\"open\"}\n".to_vec();
    for seq in 1..=500 {
        enc.frame(&mut out, &frame(seq, Opcode::Binary, vec![seq as u8; 20]));
    }
    out.extend_from_slice(b"{\"wsdeck_capture\":1,\"started\":\"2026-05-28T20:26:40Z\"}\n");
    for seq in 501..=900 {
        enc.frame(&mut out, &frame(seq, Opcode::Text, b"{\"k\":1}".to_vec()));
    }
    std::fs::write(&path, out).expect("write");
    same_with_workers(&path, &[(DecoderKind::Auto, &[5, 333, 4096])], 333);
}

/// A capture of some megabytes, past the reader's first chunk (so skipping a span's lines
/// seeks): a stretch of events longer than several spans, a line longer than what a worker
/// reads past its span at first, and one longer than it reads at all.
#[test]
fn long_stretches_and_long_lines_are_read_in_order_as_before() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("long.jsonl");
    let started = SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000);
    let mut enc = LineEncoder::new(started);
    let mut out = b"{\"wsdeck_capture\":1,\"started\":\"2026-05-28T20:26:40Z\"}\n".to_vec();
    let mut rng = Rng(91);
    let mut seq = 0;
    let mut frames = |out: &mut Vec<u8>, enc: &mut LineEncoder, n: usize, seq: &mut u64| {
        for _ in 0..n {
            *seq += 1;
            let bytes: Vec<u8> = (0..rng.below(60)).map(|_| rng.next() as u8).collect();
            enc.frame(out, &frame(*seq, Opcode::Binary, bytes));
        }
    };
    frames(&mut out, &mut enc, 4000, &mut seq);
    for i in 0..3000u64 {
        let at = Duration::from_micros(seq * 997 + i);
        enc.event(&mut out, at, "note", fields(json!({ "i": i })));
    }
    frames(&mut out, &mut enc, 4000, &mut seq);
    for len in [150_000, 400_000] {
        seq += 1;
        enc.frame(&mut out, &frame(seq, Opcode::Binary, vec![7; len]));
        frames(&mut out, &mut enc, 3000, &mut seq);
    }
    std::fs::write(&path, &out).expect("write");
    assert!(out.len() > 2 << 20, "{} bytes", out.len());
    let want = run(&path, DecoderKind::Hex, in_order());
    for workers in [1, 2] {
        let p = Plan {
            span: 64 << 10,
            workers,
            // Reads past a span: 64 KiB at first, then up to 300 KB, which the 150 KB frame's
            // line (200 KB) needs and the 400 KB frame's (530 KB) is past.
            overrun: 300_000,
        };
        let got = run(&path, DecoderKind::Hex, p);
        assert_eq!(got.1, want.1);
        assert_eq!(got.2, want.2);
        assert!(got.0 == want.0, "{workers} workers: the output differs");
        assert!(got.3 > 20, "{} spans printed by workers", got.3);
    }
}

/// Stdout that refuses every write (`/dev/full`): the error, and the warnings said before it,
/// are those of the reading in order.
#[test]
fn a_write_that_fails_fails_as_in_order() {
    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from_raw_os_error(28))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("mixed.jsonl");
    // Output of about a megabyte: several times what is written at once.
    mixed_capture(&path, 6000);
    let want = run_to(&path, DecoderKind::Auto, in_order(), &mut Full);
    assert!(
        want.1.as_ref().is_err_and(|e| e.contains("os error 28")),
        "{:?}",
        want.1
    );
    // Some warnings come before the first write and some would come after it.
    let all = run(&path, DecoderKind::Auto, in_order()).1;
    assert!(!want.0.is_empty() && want.0.len() < all.len(), "{}", want.0);
    for span in [100, 5000, 1 << 20] {
        let got = run_to(&path, DecoderKind::Auto, plan(span, 2), &mut Full);
        assert_eq!(
            (got.0, got.1),
            (want.0.clone(), want.1.clone()),
            "span {span}"
        );
    }
}

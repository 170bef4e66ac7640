//! `wsdeck inspect --json` streams a capture line by line; what it prints (stdout and stderr)
//! is byte for byte what it printed when it read the capture whole: every record re-encoded by
//! `LineEncoder` from `read_capture`'s entries, binary frames with what the decoder read.

use super::{every_kind, frame, write, written};
use crate::support::wsdeck;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, SystemTime};
use wsdeck::capture::line::{LineEncoder, add_field, fields};
use wsdeck::capture::writer::{CaptureMeta, CaptureWriter};
use wsdeck::capture::{Entry, read_capture};
use wsdeck::decode::{DecoderKind, decode};
use wsdeck::engine::{Direction, Opcode};

/// What `inspect --json [--decode kind]` printed before it streamed: the whole capture read,
/// then each entry encoded (stdout), and the reader's warnings or its error (stderr).
fn printed_whole(path: &Path, kind: DecoderKind) -> (Vec<u8>, String, i32) {
    let cap = match read_capture(path) {
        Ok(cap) => cap,
        Err(e) => return (Vec::new(), format!("wsdeck: {e}\n"), 2),
    };
    let err: String = cap
        .warnings
        .iter()
        .map(|w| format!("wsdeck: {}: {w}\n", path.display()))
        .collect();
    let started = cap
        .header
        .as_ref()
        .and_then(|h| h.get("started"))
        .and_then(|s| s.as_str())
        .and_then(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        })
        .map(SystemTime::from)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut enc = LineEncoder::new(started);
    let mut out = Vec::new();
    for e in &cap.entries {
        match e {
            Entry::Frame(f) => {
                enc.frame(&mut out, f);
                let d = (f.opcode == Opcode::Binary && kind != DecoderKind::Hex)
                    .then(|| decode(kind, &f.payload))
                    .flatten();
                if let Some(d) = d {
                    out.truncate(out.len() - 2);
                    out.extend_from_slice(
                        format!(",\"decoder\":\"{}\",\"decoded\":", d.kind.name()).as_bytes(),
                    );
                    serde_json::to_writer(&mut out, &d.lines).unwrap();
                    out.extend_from_slice(b"}\n");
                }
            }
            Entry::Event { at, kind, fields } => enc.event(&mut out, *at, kind, fields.clone()),
        }
    }
    (out, err, 0)
}

#[track_caller]
fn assert_streams_as_before(path: &Path) {
    let home = tempfile::tempdir().unwrap();
    for (args, kind) in [
        (&[][..], DecoderKind::Auto),
        (&["--decode", "hex"][..], DecoderKind::Hex),
        (&["--decode", "cbor"][..], DecoderKind::Cbor),
    ] {
        let o = wsdeck(home.path())
            .args(["inspect", "--json"])
            .args(args)
            .arg(path)
            .output()
            .unwrap();
        let (out, err, code) = printed_whole(path, kind);
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&out),
            "{} {args:?}",
            path.display()
        );
        assert_eq!(String::from_utf8_lossy(&o.stderr), err, "{args:?}");
        assert_eq!(o.status.code(), Some(code), "{args:?}");
    }
}

#[test]
fn written_and_proxy_captures_print_as_before() {
    let dir = tempfile::tempdir().unwrap();
    assert_streams_as_before(&written(dir.path()));

    // Binary frames a decoder claims (CBOR {"a":1}, a MessagePack array) next to ones it
    // does not; client and injected fields, which the printed lines drop.
    let mut enc = LineEncoder::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    let mut buf = Vec::new();
    let mut frames = every_kind();
    frames.push(frame(
        90,
        1,
        Direction::In,
        Opcode::Binary,
        vec![0xa1, 0x61, 0x61, 0x01],
    ));
    frames.push(frame(
        91,
        2,
        Direction::Out,
        Opcode::Binary,
        vec![0x92, 0x01, 0xa1, 0x78],
    ));
    for (i, f) in frames.iter().enumerate() {
        enc.frame(&mut buf, f);
        add_field(&mut buf, "client", &(i % 2 + 1).to_string());
        if i % 3 == 0 {
            add_field(&mut buf, "injected", "true");
        }
    }
    assert_streams_as_before(&write(dir.path(), "proxy.jsonl", &buf));
}

#[test]
fn headers_late_or_missing_and_damaged_lines_print_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let mut enc =
        LineEncoder::new(SystemTime::UNIX_EPOCH + Duration::from_micros(1_777_000_000_654_321));
    let mut frames = Vec::new();
    for f in every_kind() {
        enc.frame(&mut frames, &f);
    }
    let mut events = Vec::new();
    enc.event(
        &mut events,
        Duration::from_millis(1),
        "open",
        fields(json!({"status": 101, "url": "ws://é/"})),
    );
    let header = b"{\"wsdeck_capture\":1,\"started\":\"2026-05-24T03:06:40.654321Z\"}\n";
    let newer = b"{\"wsdeck_capture\":2,\"started\":\"2030-01-01T00:00:00Z\"}\n";
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("headerless", [&events[..], &frames].concat()),
        ("header-later", [&frames[..], header, &events].concat()),
        ("two-headers", [&header[..], &frames, newer, &events].concat()),
        ("newer", [&newer[..], &frames].concat()),
        (
            "damaged",
            [
                &header[..],
                b"junk\n{\"dir\":\"in\",\"op\":\"text\",\"text\":\"\\u00e9\"}\n[1]\n\n",
                &frames,
                b"{\"seq\":5,\"ms\":1e400}\n{\"seq\":77,\"t\":\"x\",\"ms\":2.000,\"dir\":\"in\",\"op\":\"text\",\"len\":1,\"text\":\"\\/\"}\n",
                &events,
                b"{\"seq\":99,\"t\":\"x\",\"ms\":9.000,\"dir\":\"in\",\"op\":\"bin",
            ]
            .concat(),
        ),
        ("not-a-capture", b"{\"a\":1}\n{\"b\":2}\n".to_vec()),
        ("not-json", b"hello\n".to_vec()),
        ("empty", Vec::new()),
    ];
    for (name, bytes) in cases {
        assert_streams_as_before(&write(dir.path(), name, &bytes));
    }
}

/// Seeded xorshift64: the same capture every run.
fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

/// Frames that steer every fast path: text with escapes, control bytes and UTF-8 at every
/// position near 8, 32 and 64-byte boundaries (and text that is not UTF-8), binary frames the
/// decoders claim next to random ones with every first byte, times that cross seconds.
fn generated_frames(n: u64) -> Vec<wsdeck::engine::Frame> {
    let mut next = rng(0x2545_f491_4f6c_dd1d);
    let pieces = [
        "\"",
        "\\",
        "\n",
        "\t",
        "\r",
        "\u{8}",
        "\u{c}",
        "\u{1}",
        "\u{1f}",
        "\u{7f}",
        "é",
        "😀",
        "/",
        "a",
        "bcdefgh",
        "{\"k\":\"v\"}",
    ];
    let claimed: [&[u8]; 4] = [
        &[0xa1, 0x61, 0x61, 0x01],
        &[0x92, 0x01, 0xa1, 0x78],
        &[0x0a, 0x02, b'h', b'i', 0x10, 0x05],
        &[0x81, 0xa1, b'a', 0x01],
    ];
    let mut at = 0u64;
    (1..=n)
        .map(|seq| {
            at += match seq % 9 {
                0 => next() % 700_000,
                _ => next() % 3_000,
            };
            let dir = if seq % 3 == 0 {
                Direction::Out
            } else {
                Direction::In
            };
            match seq % 4 {
                0 | 1 => {
                    let mut t = "x".repeat((seq % 140) as usize);
                    for _ in 0..next() % 8 {
                        t.push_str(pieces[(next() % pieces.len() as u64) as usize]);
                    }
                    frame(seq, at, dir, Opcode::Text, t)
                }
                2 => {
                    let len = (next() % 100) as usize;
                    let mut b: Vec<u8> = (0..len).map(|_| (next() >> 24) as u8).collect();
                    if let Some(first) = b.first_mut() {
                        *first = (seq / 4 % 256) as u8;
                    }
                    frame(seq, at, dir, Opcode::Binary, b)
                }
                _ => match seq % 16 {
                    3 => frame(seq, at, dir, Opcode::Text, vec![b'a', 0xff, b'"']),
                    7 => frame(seq, at, dir, Opcode::Ping, vec![1, 2, 3]),
                    _ => {
                        let c = claimed[(seq / 4 % 4) as usize];
                        frame(seq, at, dir, Opcode::Binary, c.to_vec())
                    }
                },
            }
        })
        .collect()
}

/// The last digit of a frame line's `t` changed, so the line's times are no longer what the
/// encoder writes for the header's `started` and are re-stamped.
fn edit_fraction(line: &mut [u8]) {
    if let Some(z) = line.windows(2).position(|w| w == b"Z\"") {
        line[z - 1] = if line[z - 1] == b'9' {
            b'0'
        } else {
            line[z - 1] + 1
        };
    }
}

/// Many generated frames through the copied path (the header's `started` is the writer's) and
/// the formatted one (another `started`; lines whose `t` was edited), as the reference prints
/// them.
#[test]
fn many_generated_frames_print_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("generated.jsonl");
    let started = SystemTime::UNIX_EPOCH + Duration::from_nanos(1_764_064_799_987_654_321);
    let mut w = CaptureWriter::create(&path, &CaptureMeta::default(), started).unwrap();
    let frames = generated_frames(4000);
    w.frames(&frames).unwrap();
    w.flush().unwrap();
    drop(w);
    assert_streams_as_before(&path);

    let bytes = std::fs::read(&path).unwrap();
    let (head, rest) = bytes.split_at(bytes.iter().position(|b| *b == b'\n').unwrap() + 1);
    let mut header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(head).unwrap();
    for (name, other) in [
        ("later", "2025-11-25T10:00:00.5Z"),
        ("sub-microsecond", "2025-11-25T09:59:59.987654999Z"),
    ] {
        header.insert("started".into(), other.into());
        let mut b = serde_json::to_vec(&header).unwrap();
        b.push(b'\n');
        b.extend_from_slice(rest);
        assert_streams_as_before(&write(dir.path(), name, &b));
    }

    // Every fifth frame's fraction of a second edited: those lines are re-stamped.
    let mut edited = head.to_vec();
    for (i, line) in rest.split_inclusive(|b| *b == b'\n').enumerate() {
        let mut line = line.to_vec();
        if i % 5 == 0 {
            edit_fraction(&mut line);
        }
        edited.extend_from_slice(&line);
    }
    assert_streams_as_before(&write(dir.path(), "edited", &edited));
}

/// A capture of several megabytes, which `inspect --json` reads in spans on worker threads (on
/// a machine with more than one core): events, blank lines and lines in another shape among
/// the frames, and every seventh frame line re-stamped, print as the reference prints them.
#[test]
fn a_capture_of_many_spans_prints_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spans.jsonl");
    let started = SystemTime::UNIX_EPOCH + Duration::from_nanos(1_764_064_799_987_654_321);
    let mut w = CaptureWriter::create(&path, &CaptureMeta::default(), started).unwrap();
    w.frames(&generated_frames(30_000)).unwrap();
    w.flush().unwrap();
    drop(w);
    let bytes = std::fs::read(&path).unwrap();
    let mut enc = LineEncoder::new(started);
    let mut mixed = Vec::with_capacity(bytes.len() + (1 << 20));
    for (i, line) in bytes.split_inclusive(|b| *b == b'\n').enumerate() {
        match i % 1009 {
            500 => enc.event(
                &mut mixed,
                Duration::from_millis(i as u64),
                "note",
                fields(json!({"i": i})),
            ),
            700 => mixed.extend_from_slice(b"\n"),
            // A frame without its seq, numbered from the one before.
            900 => mixed.extend_from_slice(b"{\"dir\":\"in\",\"op\":\"text\",\"text\":\"x\"}\n"),
            _ => {}
        }
        let mut line = line.to_vec();
        if i % 7 == 3 {
            edit_fraction(&mut line);
        }
        mixed.extend_from_slice(&line);
    }
    assert!(mixed.len() > 4 << 20, "{} bytes", mixed.len());
    assert_streams_as_before(&write(dir.path(), "mixed.jsonl", &mixed));
}

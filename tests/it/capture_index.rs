//! `capture::index`: a capture indexed without its payloads gives the same frames, events and
//! warnings as `read_capture`, and every payload read back from its line is byte-identical.

mod inspect_json;

use bytes::Bytes;
use serde_json::json;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use wsdeck::capture::index::{
    IndexSummary, Indexed, Progress, index_capture, is_har_refusal, read_payload,
};
use wsdeck::capture::line::{LineEncoder, add_field, fields};
use wsdeck::capture::writer::{CaptureMeta, CaptureWriter};
use wsdeck::capture::{CaptureError, Entry, read_capture};
use wsdeck::engine::frame::close_payload;
use wsdeck::engine::{Direction, Frame, Opcode};

fn frame(seq: u64, at_us: u64, dir: Direction, opcode: Opcode, payload: impl Into<Bytes>) -> Frame {
    Frame {
        seq,
        at: Duration::from_micros(at_us),
        dir,
        opcode,
        payload: payload.into(),
    }
}

/// Frames of every kind the writer meets: every opcode, text with escapes and non-ASCII,
/// binary of every length modulo 3, close frames with and without a reason.
fn every_kind() -> Vec<Frame> {
    let texts = [
        "{\"type\":\"ping\"}",
        "quote \" backslash \\ slash / tab \t newline \n cr \r bell \u{7} nul \u{0} del \u{7f}",
        "é ü 漢字 😀 \u{2028}",
        "",
    ];
    let mut v = Vec::new();
    let mut seq = 0;
    let mut next = || {
        seq += 1;
        seq
    };
    for t in texts {
        let s = next();
        v.push(frame(
            s,
            s * 1_337,
            Direction::Out,
            Opcode::Text,
            t.to_string(),
        ));
    }
    for n in 0..7u8 {
        let payload: Vec<u8> = (0..n)
            .map(|i| i.wrapping_mul(97).wrapping_add(250))
            .collect();
        let s = next();
        v.push(frame(s, s * 1_001, Direction::In, Opcode::Binary, payload));
    }
    v.push(frame(
        next(),
        70_000,
        Direction::In,
        Opcode::Text,
        vec![0xff, 0x00, b'a'],
    ));
    v.push(frame(
        next(),
        71_000,
        Direction::Out,
        Opcode::Ping,
        &b"keepalive"[..],
    ));
    v.push(frame(
        next(),
        71_500,
        Direction::In,
        Opcode::Pong,
        &b"keepalive"[..],
    ));
    v.push(frame(
        next(),
        72_000,
        Direction::In,
        Opcode::Close,
        close_payload(1011, "Internal \"server\" error é"),
    ));
    v.push(frame(
        next(),
        72_100,
        Direction::Out,
        Opcode::Close,
        close_payload(1000, ""),
    ));
    v.push(frame(
        next(),
        72_200,
        Direction::Out,
        Opcode::Close,
        Bytes::new(),
    ));
    v.push(frame(
        next(),
        3_600_000_000_001,
        Direction::In,
        Opcode::Binary,
        vec![7u8; 70_000],
    ));
    v
}

/// A capture as `CaptureWriter` writes it: header, events, frames, injected frames.
fn written(dir: &Path) -> PathBuf {
    let path = dir.join("written.jsonl");
    let started = SystemTime::UNIX_EPOCH + Duration::from_micros(1_764_064_800_123_456);
    let meta = CaptureMeta {
        session_name: Some("s".into()),
        target_kind: "url".into(),
        target: "ws://x".into(),
        url: "ws://x/".into(),
        agent_session_id: None,
    };
    let mut w = CaptureWriter::create(&path, &meta, started).unwrap();
    w.event(
        Duration::ZERO,
        "connecting",
        fields(json!({"url": "ws://x/", "agent_session_id": null})),
    )
    .unwrap();
    w.event(
        Duration::from_millis(3),
        "open",
        fields(json!({"status": 101, "request_headers": [["a", "b"]]})),
    )
    .unwrap();
    let frames = every_kind();
    for (i, f) in frames.iter().enumerate() {
        if i % 5 == 2 {
            w.injected_frame(f).unwrap();
        } else {
            w.frame(f).unwrap();
        }
    }
    w.event(
        Duration::from_secs(9),
        "close",
        fields(json!({"code": 1000, "reason": "", "clean": true, "by": "client"})),
    )
    .unwrap();
    drop(w);
    path
}

/// Index `path` and hold it against `read_capture`: the same header, warnings, records (in
/// order), injected marks, and payloads read back byte for byte. The progress it reported.
fn assert_same_as_reader(path: &Path, batch: usize) -> Vec<Progress> {
    let mut got = Vec::new();
    let mut progress = Vec::new();
    let indexed = index_capture(path, batch, |b, p| {
        assert!(b.len() <= batch);
        got.extend(b);
        progress.push(p);
        ControlFlow::Continue(())
    });
    let cap = match (read_capture(path), indexed) {
        (Ok(cap), Ok(summary)) => {
            assert_eq!(summary.header, cap.header);
            assert_eq!(summary.warnings, cap.warnings);
            assert_eq!(summary.records as usize, cap.entries.len());
            cap
        }
        (Err(a), Err(b)) => {
            assert_eq!(a.to_string(), b.to_string());
            return progress;
        }
        (a, b) => panic!("read_capture {a:?}\nindex_capture {b:?}"),
    };
    assert_eq!(got.len(), cap.entries.len());
    // The reader lists injected frames by seq, in order.
    let injected: Vec<u64> = got
        .iter()
        .filter_map(|x| match x {
            Indexed::Frame {
                seq,
                injected: true,
                ..
            } => Some(*seq),
            _ => None,
        })
        .collect();
    assert_eq!(injected, cap.injected);
    let file = std::fs::File::open(path).unwrap();
    for (i, (e, x)) in cap.entries.iter().zip(&got).enumerate() {
        match (e, x) {
            (
                Entry::Frame(f),
                Indexed::Frame {
                    seq,
                    at,
                    dir,
                    opcode,
                    len,
                    line,
                    ..
                },
            ) => {
                assert_eq!(
                    (*seq, *at, *dir, *opcode),
                    (f.seq, f.at, f.dir, f.opcode),
                    "record {i}"
                );
                assert_eq!(*len as usize, f.payload.len(), "record {i}");
                assert_eq!(read_payload(&file, *line).unwrap(), f.payload, "record {i}");
            }
            (
                Entry::Event { at, kind, fields },
                Indexed::Event {
                    at: a,
                    kind: k,
                    fields: fs,
                },
            ) => {
                assert_eq!((at, kind, fields), (a, k, fs), "record {i}");
            }
            (e, x) => panic!("record {i}: {e:?} against {x:?}"),
        }
    }
    let last = progress.last().expect("a last batch");
    assert_eq!(last.bytes_read, last.total_bytes);
    assert_eq!(last.total_bytes, std::fs::metadata(path).unwrap().len());
    assert_eq!(last.records, got.len() as u64);
    assert!(
        progress
            .windows(2)
            .all(|w| w[0].bytes_read <= w[1].bytes_read && w[0].records <= w[1].records)
    );
    progress
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn a_written_capture_indexes_as_the_reader_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = written(dir.path());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"injected\":true") && text.contains("\"reason\":\"Internal"));
    for batch in [1, 2, 7, 1000] {
        assert_same_as_reader(&path, batch);
    }
    let n = text.lines().count() as u64 - 1;
    assert_eq!(
        assert_same_as_reader(&path, 1).len() as u64,
        n + 1,
        "one call per record, then the end"
    );
}

#[test]
fn a_proxy_capture_with_client_fields_indexes_as_the_reader_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut enc = LineEncoder::new(SystemTime::UNIX_EPOCH);
    let mut buf = Vec::new();
    enc.event(
        &mut buf,
        Duration::ZERO,
        "listening",
        fields(json!({"addr": "127.0.0.1:1"})),
    );
    for (i, f) in every_kind().iter().enumerate() {
        enc.frame(&mut buf, f);
        add_field(&mut buf, "client", &(i % 3 + 1).to_string());
        if i % 4 == 0 {
            add_field(&mut buf, "injected", "true");
        }
    }
    let path = write(dir.path(), "proxy.jsonl", &buf);
    assert_same_as_reader(&path, 4);
}

#[test]
fn hand_written_and_damaged_lines_index_as_the_reader_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        r#"{"wsdeck_capture":1,"started":"2026-01-01T00:00:00Z"}"#,
        r#"{"dir":"out","op":"text","text":"no seq, no len, no times"}"#,
        r#"{"op":"binary","dir":"in","b64":"AAEC","seq":10,"ms":2.5}"#,
        r#"{"seq":11,"t":"x","ms":3.000,"dir":"in","op":"text","len":8,"text":"\u00e9\/\u0041\ud83d\ude00"}"#,
        r#"{"seq":12,"t":"x","ms":3.000,"dir":"in","op":"text","len":2,"text":"hi","dir":"out"}"#,
        r#"{"seq":13,"t":"x","ms":3.000,"dir":"in","op":"text","len":9,"text":"hi"}"#,
        r#"{"seq":14,"t":"x","ms":3.000,"dir":"in","op":"binary","len":1,"b64":"***"}"#,
        r#"{"seq":15,"t":"x","ms":3.000,"dir":"in","op":"binary","len":1,"b64":"AA==","event":"odd"}"#,
        r#"{"seq":16,"t":"x","ms":3.000,"dir":"sideways","op":"text","len":0,"text":""}"#,
        r#"{"seq":17,"t":"x","ms":-4.000,"dir":"in","op":"nope","len":0,"text":""}"#,
        r#"{"seq":18, "t":"x", "ms":3.5, "dir":"in", "op":"ping", "len":0, "b64":""}"#,
        "",
        "   ",
        "nonsense in the middle",
        "[1,2,3]",
        r#"{"t":"x","ms":4,"event":"warning","message":"m","extra":[1,{"a":null}]}"#,
        r#"{"wsdeck_capture":7,"started":"2026-01-01T00:00:01Z"}"#,
        "{\"seq\":19,\"t\":\"x\",\"ms\":5.000,\"dir\":\"in\",\"op\":\"text\",\"len\":2,\"text\":\"ok\"}\r",
        r#"{"seq":20,"t":"x","ms":5.000,"dir":"in","op":"text","len":2,"text":"ok"}   "#,
        r#"{"seq":21,"t":"x","ms":5.000,"dir":"in","op":"text","len":1,"text":"\t"}"#,
        r#"{"dir":"in","op":"pong"}"#,
        r#"{"seq":22,"t":"x","ms":6.000,"dir":"in","op":"binary","len":3,"b64":"AAEC","injected":true,"client":2,"x":{"y":[]}}"#,
    ];
    let mut text = lines.join("\n").into_bytes();
    text.extend_from_slice(b"\n{\"seq\":23,\"t\":\"x\",\"ms\":7.000,\"dir\":\"in\",\"op\":\"bin");
    let path = write(dir.path(), "hand.jsonl", &text);
    let cap = read_capture(&path).unwrap();
    assert!(
        cap.warnings.iter().any(|w| w.contains("line 23: cut off")),
        "{:?}",
        cap.warnings
    );
    assert!(cap.warnings.len() >= 8, "{:?}", cap.warnings);
    for batch in [1, 3, 100] {
        assert_same_as_reader(&path, batch);
    }
    // The same lines without a line end after the last one, and with one after a cut line.
    text.truncate(text.iter().rposition(|b| *b == b'\n').unwrap());
    assert_same_as_reader(&write(dir.path(), "no-end.jsonl", &text), 5);
    text.extend_from_slice(b"\n{\"seq\":24,\"t\":\"x\"\n");
    assert_same_as_reader(&write(dir.path(), "cut-middle.jsonl", &text), 5);
}

#[test]
fn files_that_are_not_captures_fail_alike() {
    let dir = tempfile::tempdir().unwrap();
    let mut garbage: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    garbage[0] = 0xfe;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("blank", b"\n\n  \n".to_vec()),
        ("words", b"hello world\n".to_vec()),
        ("object", b"{\"a\":1}\n".to_vec()),
        ("garbage", garbage.clone()),
        ("brace-garbage", [b"{".as_slice(), &garbage].concat()),
        ("json-doc", b"{\n  \"a\": [1,\n 2]\n}\n".to_vec()),
        ("one-brace", b"{".to_vec()),
    ];
    for (name, bytes) in cases {
        let path = write(dir.path(), name, &bytes);
        assert!(read_capture(&path).is_err(), "{name}");
        assert_same_as_reader(&path, 10);
    }
    let missing = index_capture(&dir.path().join("missing"), 10, |_, _| {
        ControlFlow::Continue(())
    });
    assert!(matches!(missing, Err(CaptureError::Io { .. })));
}

#[test]
fn a_50_mb_line_is_read_or_refused_whole_without_panic() {
    let dir = tempfile::tempdir().unwrap();
    // A frame of 38 MiB (50 MB of base64), between two small ones.
    let big = frame(2, 5, Direction::In, Opcode::Binary, vec![0x5au8; 38 << 20]);
    let mut buf = Vec::new();
    let mut enc = LineEncoder::new(SystemTime::UNIX_EPOCH);
    enc.frame(&mut buf, &frame(1, 1, Direction::Out, Opcode::Text, "a"));
    enc.frame(&mut buf, &big);
    enc.frame(&mut buf, &frame(3, 9, Direction::Out, Opcode::Text, "b"));
    assert!(buf.len() > 50 << 20);
    let path = write(dir.path(), "big.jsonl", &buf);
    let mut frames = Vec::new();
    let s = index_capture(&path, 100, |b, _| {
        frames.extend(b);
        ControlFlow::Continue(())
    })
    .unwrap();
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(frames.len(), 3);
    let Indexed::Frame { line, len, .. } = frames[1] else {
        panic!("{:?}", frames[1])
    };
    assert_eq!(len as usize, big.payload.len());
    let file = std::fs::File::open(&path).unwrap();
    assert_eq!(read_payload(&file, line).unwrap(), big.payload);

    // 50 MB of one garbage line, with and without a brace in front.
    let junk = vec![b'x'; 50 << 20];
    let path = write(dir.path(), "junk", &junk);
    let e = index_capture(&path, 10, |_, _| ControlFlow::Continue(())).unwrap_err();
    assert_eq!(e.to_string(), read_capture(&path).unwrap_err().to_string());
    let path = write(
        dir.path(),
        "brace-junk",
        &[b"{\"seq\":1,".as_slice(), &junk].concat(),
    );
    let e = index_capture(&path, 10, |_, _| ControlFlow::Continue(())).unwrap_err();
    assert!(e.to_string().contains("none of its 1 lines"), "{e}");
}

#[test]
fn break_stops_indexing_early() {
    let dir = tempfile::tempdir().unwrap();
    let mut buf = Vec::new();
    let mut enc = LineEncoder::new(SystemTime::UNIX_EPOCH);
    for i in 1..=10_000 {
        enc.frame(
            &mut buf,
            &frame(i, i, Direction::In, Opcode::Binary, vec![1u8; 64]),
        );
    }
    let path = write(dir.path(), "many.jsonl", &buf);
    let mut calls = Vec::new();
    let s: IndexSummary = index_capture(&path, 100, |b, p| {
        calls.push((b.len(), p));
        if calls.len() == 3 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    assert_eq!(calls.len(), 3);
    assert_eq!(s.records, 300);
    let (_, p) = calls[2];
    assert_eq!(p.records, 300);
    assert!(p.bytes_read < p.total_bytes / 10, "{p:?}");
    assert_eq!(p.total_bytes, buf.len() as u64);
}

#[test]
fn a_har_file_is_refused_for_read_capture_to_read_whole() {
    let har = crate::support::repo().join("tests/fixtures/chrome-devtools.har");
    let e = index_capture(&har, 10, |_, _| ControlFlow::Continue(())).unwrap_err();
    assert!(is_har_refusal(&e), "{e}");
    assert!(e.to_string().contains("HAR"), "{e}");
    assert!(read_capture(&har).unwrap().frames().count() > 0);
    let other = CaptureError::NotACapture {
        path: har.clone(),
        why: "x".into(),
    };
    assert!(!is_har_refusal(&other));
}

#[test]
fn a_payload_whose_line_changed_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = written(dir.path());
    let mut locs = Vec::new();
    index_capture(&path, 1000, |b, _| {
        locs.extend(b.into_iter().filter_map(|x| match x {
            Indexed::Frame { line, .. } => Some(line),
            Indexed::Event { .. } => None,
        }));
        ControlFlow::Continue(())
    })
    .unwrap();
    let text = std::fs::read(&path).unwrap();
    // Shift every line by one byte, truncate, then write something else entirely.
    std::fs::write(&path, [b" ".as_slice(), &text].concat()).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    for loc in &locs {
        assert!(read_payload(&file, *loc).is_err(), "{loc:?}");
    }
    let cut = text.len() as u64 / 2;
    std::fs::write(&path, &text[..cut as usize]).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    for loc in &locs {
        let fits = loc.offset + loc.len as u64 <= cut;
        assert_eq!(
            read_payload(&file, *loc).is_ok(),
            fits,
            "{loc:?}, cut at {cut}"
        );
    }
    std::fs::write(&path, vec![b'\n'; text.len()]).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    for loc in &locs {
        let e = read_payload(&file, *loc).unwrap_err();
        assert!(e.to_string().contains("changed"), "{e}");
    }
    // A location no index gave: past the end, or absurdly long.
    let far = wsdeck::capture::index::LineLoc {
        offset: u64::MAX - 3,
        len: 10,
    };
    assert!(read_payload(&file, far).is_err());
    let huge = wsdeck::capture::index::LineLoc {
        offset: 0,
        len: u32::MAX,
    };
    assert!(read_payload(&file, huge).is_err());
}

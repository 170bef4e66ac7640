//! The capture reader, both of it: `read_capture` (the whole file, for inspect, replay, vocab,
//! export) and `index_capture` + `read_payload` (the console's opening of a capture). Besides
//! not panicking, the two must agree: `capture/index.rs` promises the same frames, events and
//! warnings for every file `read_capture` accepts, so a difference is a finding too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::ops::ControlFlow;
use wsdeck::capture::index::{Indexed, index_capture, is_har_file, read_payload};
use wsdeck::capture::{Entry, read_capture};

fuzz_target!(|data: &[u8]| {
    let path = wsdeck_fuzz::scratch_file("capture.jsonl", data);
    let whole = read_capture(&path);
    let har = is_har_file(&path).unwrap_or(false);
    let mut indexed = Vec::new();
    let summary = index_capture(&path, 7, |batch, _| {
        indexed.extend(batch);
        ControlFlow::Continue(())
    });
    let file = std::fs::File::open(&path).expect("open the scratch file");
    // Every indexed frame's payload reads back, whatever else happens.
    let payloads: Vec<_> = indexed
        .iter()
        .map(|i| match i {
            Indexed::Frame { line, .. } => Some(read_payload(&file, *line)),
            Indexed::Event { .. } => None,
        })
        .collect();
    if har {
        return;
    }
    match (&whole, &summary) {
        (Ok(cap), Ok(summary)) => {
            assert_eq!(cap.entries.len(), indexed.len(), "records");
            for ((entry, ix), payload) in cap.entries.iter().zip(&indexed).zip(&payloads) {
                match (entry, ix) {
                    (
                        Entry::Frame(f),
                        Indexed::Frame {
                            seq,
                            at,
                            dir,
                            opcode,
                            len,
                            ..
                        },
                    ) => {
                        assert_eq!((f.seq, f.at, f.dir, f.opcode), (*seq, *at, *dir, *opcode));
                        assert_eq!(f.payload.len(), *len as usize, "len of seq {seq}");
                        let back = payload.as_ref().and_then(|p| p.as_ref().ok());
                        assert_eq!(back, Some(&f.payload), "payload of seq {seq}");
                    }
                    (
                        Entry::Event { at, kind, fields },
                        Indexed::Event {
                            at: at2,
                            kind: kind2,
                            fields: fields2,
                        },
                    ) => assert_eq!((at, kind, fields), (at2, kind2, fields2)),
                    (a, b) => panic!("read {a:?}, indexed {b:?}"),
                }
            }
            assert_eq!(cap.header, summary.header, "header");
            assert_eq!(cap.warnings, summary.warnings, "warnings");
        }
        (Err(_), Err(_)) => {}
        (a, b) => panic!(
            "read_capture {:?} but index_capture {:?}",
            a.as_ref().map(|c| c.entries.len()),
            b.as_ref().map(|s| s.records)
        ),
    }
});

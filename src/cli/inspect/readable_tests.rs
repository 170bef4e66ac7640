//! `inspect` streamed prints what it printed when it read the capture whole: the header line,
//! every record, and the reader's warnings (stdout and stderr byte for byte when each goes to a
//! file of its own; only their interleaving on one terminal differs).

use super::super::Reading;
use super::super::stream::tests::mixed_capture;
use super::{stream_readable_to, write_header, write_readable};
use crate::capture::index::records::{Opened, Records};
use crate::capture::read_capture;
use crate::decode::DecoderKind;
use crate::exit;
use std::path::Path;

fn whole(path: &Path, reading: &Reading) -> (Vec<u8>, String, i32) {
    let cap = match read_capture(path) {
        Ok(cap) => cap,
        Err(e) => return (Vec::new(), format!("wsdeck: {e}\n"), exit::USAGE),
    };
    let err = cap
        .warnings
        .iter()
        .map(|w| format!("wsdeck: {}: {w}\n", path.display()))
        .collect();
    let mut out = Vec::new();
    if let Some(h) = &cap.header {
        write_header(&mut out, path, h).expect("header");
    }
    write_readable(&mut out, &cap.entries, 4096, reading).expect("records");
    (out, err, exit::OK)
}

fn streamed(path: &Path, reading: &Reading) -> (Vec<u8>, String, i32) {
    let recs = match Records::open(path) {
        Ok(Opened::Lines(r)) => r,
        Ok(Opened::Har) => panic!("a HAR"),
        Err(e) => return (Vec::new(), format!("wsdeck: {e}\n"), exit::USAGE),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = stream_readable_to(path, recs, 4096, reading, &mut out, &mut err).expect("stream");
    (out, String::from_utf8(err).expect("utf-8"), code)
}

#[test]
fn streamed_inspect_prints_what_the_whole_read_printed() {
    let dir = tempfile::tempdir().expect("dir");
    let mixed = dir.path().join("mixed.jsonl");
    mixed_capture(&mixed, 1500);
    let late = dir.path().join("late.jsonl");
    let body = std::fs::read(&mixed).expect("read");
    let nl = body.iter().position(|b| *b == b'\n').expect("a line") + 1;
    // The header after some records, and a file with no record at all.
    let cut = nl
        + 5000
        + body[nl + 5000..]
            .iter()
            .position(|b| *b == b'\n')
            .expect("a line")
        + 1;
    std::fs::write(&late, [&body[nl..cut], &body[..nl], &body[cut..]].concat()).expect("write");
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, b"{\"a\":1}\n").expect("write");
    for kind in [DecoderKind::Auto, DecoderKind::Hex] {
        let reading = Reading::new(kind, &[], None).unwrap_or_else(|c| panic!("{c}"));
        for path in [&mixed, &late, &empty] {
            let want = whole(path, &reading);
            if path == &late {
                assert!(
                    String::from_utf8_lossy(&want.0).starts_with("capture "),
                    "the header line first"
                );
            }
            let got = streamed(path, &reading);
            assert_eq!(got.2, want.2, "{}", path.display());
            assert_eq!(got.1, want.1, "{}", path.display());
            assert!(
                got.0 == want.0,
                "{}: {:?} … instead of {:?} …",
                path.display(),
                String::from_utf8_lossy(&got.0[..got.0.len().min(300)]),
                String::from_utf8_lossy(&want.0[..want.0.len().min(300)]),
            );
        }
    }
}

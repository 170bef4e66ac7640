//! A frame written as a capture line and read back (the encoder, its base64 with the AVX-512
//! code where the CPU has it, the hand-written canonical reader and serde's): every payload
//! comes back byte for byte.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, UNIX_EPOCH};
use wsdeck::capture::Entry;
use wsdeck::capture::LineEncoder;
use wsdeck::capture::index::payload_from_line;
use wsdeck::capture::reader::entry_from;
use wsdeck::engine::{Direction, Frame, Opcode};

fuzz_target!(|data: &[u8]| {
    let Some((&head, payload)) = data.split_first() else {
        return;
    };
    let dir = if head & 1 == 0 {
        Direction::In
    } else {
        Direction::Out
    };
    let opcode = match (head >> 1) % 5 {
        0 => Opcode::Text,
        1 => Opcode::Binary,
        2 => Opcode::Ping,
        3 => Opcode::Pong,
        _ => Opcode::Close,
    };
    // A text frame is UTF-8 on the wire; the engine never makes one that is not.
    let payload = match opcode {
        Opcode::Text => match std::str::from_utf8(payload) {
            Ok(_) => payload,
            Err(_) => return,
        },
        _ => payload,
    };
    let frame = Frame {
        seq: u64::from(head) * 977,
        at: Duration::from_micros(u64::from(head) * 1_234_567),
        dir,
        opcode,
        payload: Bytes::copy_from_slice(payload),
    };
    let mut enc = LineEncoder::new(UNIX_EPOCH);
    let mut out = Vec::new();
    enc.frame(&mut out, &frame);
    let line = out.strip_suffix(b"\n").expect("a line ends in a newline");
    assert!(!line.contains(&b'\n'), "one line");
    let back = payload_from_line(line).expect("the writer's line reads back");
    assert_eq!(&back[..], payload);
    let obj = match serde_json::from_slice(line).expect("the line is JSON") {
        serde_json::Value::Object(o) => o,
        other => panic!("not an object: {other}"),
    };
    match entry_from(obj, &mut 0).expect("a record") {
        Entry::Frame(f) => {
            assert_eq!((f.seq, f.dir, f.opcode), (frame.seq, dir, opcode));
            assert_eq!(f.payload, frame.payload);
        }
        other => panic!("not a frame: {other:?}"),
    }
});

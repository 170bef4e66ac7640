//! The frame filter (`/` in the console): any text the user types, parsed (words, `op:`, `jq:`
//! compiled by jaq), then asked about rows that do not run the jq program (events, binary).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use std::time::Duration;
use wsdeck::engine::{Direction, Frame, Opcode};
use wsdeck::filter::Filter;
use wsdeck::store::{EventKind, FrameInfo, Row, RowKind};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(f) = Filter::parse(text) else {
        return;
    };
    let event = Row {
        at: Duration::ZERO,
        kind: RowKind::Event {
            kind: EventKind::Close {
                code: 1011,
                clean: false,
            },
            text: "close 1011 Internal server error".into(),
        },
    };
    // Not JSON, so a jq program is never run (its input does not parse).
    let ping = Frame {
        seq: 1,
        at: Duration::ZERO,
        dir: Direction::In,
        opcode: Opcode::Ping,
        payload: Bytes::from_static(b"\x00\x01 ping"),
    };
    let info = FrameInfo {
        seq: 1,
        at: Duration::ZERO,
        dir: Direction::In,
        opcode: Opcode::Ping,
        len: ping.payload.len(),
    };
    let _ = f.matches(&event);
    let row = Row {
        at: Duration::ZERO,
        kind: RowKind::Frame(ping),
    };
    let whole = f.matches(&row);
    if let Some(quick) = f.matches_without_payload(Some(&info)) {
        assert_eq!(quick, whole, "the fixed fields answer as the whole row");
    }
    let _ = f.matches_without_payload(None);
    let _ = f.uses_jq();
});

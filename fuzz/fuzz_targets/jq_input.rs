//! jq filters over what the peer sends: fixed programs (field tests, recursion over every
//! value, string functions, arithmetic) run on arbitrary payload bytes, as a console filter
//! runs on every frame of a session.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use std::time::Duration;
use wsdeck::engine::{Direction, Frame, Opcode};
use wsdeck::filter::Filter;
use wsdeck::store::{Row, RowKind};

const PROGRAMS: &[&str] = &[
    r#".type == "pong""#,
    r#"jq:.a[0].b.c? // false"#,
    "jq:[.. | numbers] | length > 2",
    "jq:tostring | length > 10",
    r#"jq:.. | strings | test("^x")"#,
    "jq:(.n // 0) * 2 > 7",
    "jq:keys? | length > 0",
    "jq:tojson | fromjson | . != null",
];

fn filters() -> &'static [Filter] {
    static F: OnceLock<Vec<Filter>> = OnceLock::new();
    F.get_or_init(|| {
        PROGRAMS
            .iter()
            .map(|p| Filter::parse(p).unwrap_or_else(|e| panic!("{p}: {e}")))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let row = Row {
        at: Duration::ZERO,
        kind: RowKind::Frame(Frame {
            seq: 1,
            at: Duration::ZERO,
            dir: Direction::In,
            opcode: Opcode::Text,
            payload: Bytes::copy_from_slice(data),
        }),
    };
    for f in filters() {
        let _ = f.matches(&row);
    }
});

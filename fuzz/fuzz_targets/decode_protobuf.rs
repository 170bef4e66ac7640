//! The protobuf decoder, strict (as `auto` tries it) and lenient (`--decode protobuf`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdeck::decode::{DecoderKind, protobuf};

fuzz_target!(|data: &[u8]| {
    for strict in [true, false] {
        if let Some(lines) = protobuf::decode(data, strict) {
            assert!(
                lines.len() <= wsdeck::decode::tree::MAX_LINES + 1,
                "{} lines",
                lines.len()
            );
            assert!(
                lines
                    .iter()
                    .all(|l| l.depth <= wsdeck::decode::tree::MAX_DEPTH + 1),
                "depth bounded"
            );
        }
    }
    let _ = wsdeck::decode::decode(DecoderKind::Protobuf, data);
});

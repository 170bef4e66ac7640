//! The cbor decoder, strict (as `auto` tries it) and lenient (`--decode cbor`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdeck::decode::{DecoderKind, cbor};

fuzz_target!(|data: &[u8]| {
    for strict in [true, false] {
        if let Some(lines) = cbor::decode(data, strict) {
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
    let _ = wsdeck::decode::decode(DecoderKind::Cbor, data);
});

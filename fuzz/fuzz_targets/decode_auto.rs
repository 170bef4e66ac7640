//! `--decode auto` and hex, as the detail view and `inspect` run them on every binary frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdeck::decode::{DecoderKind, decode};

fuzz_target!(|data: &[u8]| {
    for kind in [DecoderKind::Auto, DecoderKind::Hex] {
        if let Some(d) = decode(kind, data) {
            assert_ne!(
                d.kind,
                DecoderKind::Auto,
                "auto names the decoder it picked"
            );
            assert!(
                d.lines.len() <= wsdeck::decode::tree::MAX_LINES + 1,
                "{} lines",
                d.lines.len()
            );
            let _ = serde_json::to_string(&d.lines).expect("tree lines serialise");
        }
    }
});

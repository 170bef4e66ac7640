//! `snippets.toml`: saved frames, and what the composer does with one (hex and base64 parsed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdeck::decode::payload::{parse_base64, parse_hex};

fuzz_target!(|data: &[u8]| {
    let path = wsdeck_fuzz::scratch_file("snippets.toml", data);
    if let Ok(snippets) = wsdeck::config::snippets::load(&path) {
        for s in &snippets {
            match s.mode.as_str() {
                "hex" => drop(parse_hex(&s.text)),
                "base64" => drop(parse_base64(&s.text)),
                _ => {}
            }
        }
    }
});

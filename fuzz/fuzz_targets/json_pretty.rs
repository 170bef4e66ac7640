//! The detail view's JSON: pretty-printed token by token after a check by serde_json. What it
//! shows must be the same JSON: the pretty text parses back to the value the input parses to.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdeck::decode::json::{JsonView, discriminator, view};
use wsdeck::decode::pretty::pretty;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match pretty(text) {
        Ok(p) => {
            let shown = p.to_text();
            // serde_json's check accepts numbers its Value refuses (past f64: `1e400`).
            let Ok(want) = serde_json::from_str::<serde_json::Value>(text) else {
                return;
            };
            let got: serde_json::Value =
                serde_json::from_str(&shown).expect("the pretty text is JSON");
            assert_eq!(want, got, "pretty changed the value");
            let n = p.line_count();
            assert_eq!(p.lines(0, usize::MAX).count(), n);
            let _ = p.lines(n / 2, 40).count();
            let _ = p.lines(usize::MAX, usize::MAX).count();
            let _ = discriminator(&want);
        }
        Err(e) => assert!(e.line >= 1 || text.is_empty(), "line {}", e.line),
    }
    if let JsonView::Invalid { line, column, .. } = view(text) {
        let _ = (line, column);
    }
});

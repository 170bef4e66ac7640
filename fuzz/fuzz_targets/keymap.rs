//! `keymap.toml`: the user's keys over the defaults, then everything that reads the table (the
//! `wsdeck keys` listing, the status-bar hints, a key looked up).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdeck::keymap::{Keymap, Layer};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(k) = Keymap::with_overrides(text, "keymap.toml") {
        let _ = k.to_string();
        for layer in Layer::ALL {
            let _ = k.hints(*layer);
            for b in k.bindings() {
                let _ = k.keys_text(*layer, b.action);
            }
        }
    }
});

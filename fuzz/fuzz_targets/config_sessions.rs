//! `sessions.toml`: saved sessions, each checked (its target and proxy settings) at load.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdeck::config::SessionStore;

fuzz_target!(|data: &[u8]| {
    let path = wsdeck_fuzz::scratch_file("sessions.toml", data);
    if let Ok(store) = SessionStore::load(&path) {
        for s in &store.sessions {
            // `sessions list` describes each; connecting builds its request.
            if let Ok(spec) = s.to_spec() {
                let _ = spec.target.describe();
                let _ = spec.request_url();
            }
        }
    }
});

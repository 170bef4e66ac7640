//! `config.toml`: the user's settings, loaded from a file as the binary loads it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdeck::config::Settings;

fuzz_target!(|data: &[u8]| {
    let path = wsdeck_fuzz::scratch_file("config.toml", data);
    if let Ok(s) = Settings::load(&path) {
        // What the commands do with settings next.
        let _ = s.connect.defaults();
        let _ = wsdeck::monitor::MonitorSource::parse(&s.monitor.source);
    }
});

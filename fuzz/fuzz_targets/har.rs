//! The HAR reader: any JSON document (what a HAR holds is DevTools' or HTTP Toolkit's to get
//! wrong), then the capture it gives written out as a HAR again and read back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdeck::capture::har::{is_har, read_har, write_har};

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let _ = is_har(&v);
    if let Ok(cap) = read_har(&v) {
        let again = write_har(&cap);
        let _ = serde_json::to_string(&again).expect("a HAR serialises");
        let back = read_har(&again).expect("a HAR we wrote reads back");
        let data = |c: &wsdeck::capture::Capture| -> Vec<(
            wsdeck::engine::Direction,
            wsdeck::engine::Opcode,
            bytes::Bytes,
        )> {
            c.frames()
                .filter(|f| {
                    matches!(
                        f.opcode,
                        wsdeck::engine::Opcode::Text | wsdeck::engine::Opcode::Binary
                    )
                })
                .map(|f| (f.dir, f.opcode, f.payload.clone()))
                .collect()
        };
        assert_eq!(
            data(&cap),
            data(&back),
            "text and binary frames survive a HAR round trip"
        );
    }
});

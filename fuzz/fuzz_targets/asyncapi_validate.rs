//! An agent's AsyncAPI document compiled into a validator (its payload schemas go to
//! jsonschema, `pattern`s included), then frames checked against it: the document's own
//! examples and the input's last line as a payload, both ways.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdeck::engine::Direction;
use wsdeck::vocab::asyncapi::parse_json;
use wsdeck::vocab::validate::Validator;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The document, then after the last newline a frame to check.
    let (doc_text, frame) = text.rsplit_once('\n').unwrap_or((text, ""));
    let Ok(doc) = parse_json(doc_text) else {
        return;
    };
    let Ok(v) = Validator::new(&doc) else {
        return;
    };
    for dir in [Direction::In, Direction::Out] {
        let _ = v.check(dir, frame.as_bytes());
        for m in doc.messages.iter().take(16) {
            let example = serde_json::to_vec(&m.example).expect("an example serialises");
            let _ = v.check(dir, &example);
        }
    }
});

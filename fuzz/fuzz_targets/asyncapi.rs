//! The AsyncAPI reader: a document an agent serves (its bytes are the agent's), read as JSON
//! and as YAML, then what `discover` prints of it (fields, payload types, examples).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdeck::vocab::asyncapi::{Document, parse_json, parse_yaml};

fn walk(doc: &Document) {
    for m in &doc.messages {
        let _ = m.fields();
        let _ = m.payload_types();
        let _ = serde_json::to_string(&m.example).expect("an example serialises");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(doc) = parse_json(text) {
        walk(&doc);
    }
    match parse_yaml(text) {
        Ok(doc) => walk(&doc),
        Err(e) => {
            let _ = (e.exit_code(), e.advice());
        }
    }
});

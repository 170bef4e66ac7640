//! The `.proto` parser (`inspect --proto FILE`): any text, then, when it parses, a fixed frame
//! read as each of its messages.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdeck::decode::decode_protobuf_with;
use wsdeck::decode::proto_schema::ProtoSchema;

/// Field 1 a string, 2 a varint, 3 a nested message with a varint, 4 packed varints.
const FRAME: &[u8] = b"\x0a\x02hi\x10\x96\x01\x1a\x02\x08\x01\x22\x03\x01\x02\x03";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(schema) = ProtoSchema::parse(text, "fuzz.proto") else {
        return;
    };
    let _ = schema.unresolved();
    let _ = schema.files();
    let _ = decode_protobuf_with(&schema, None, FRAME);
    for m in schema.messages().into_iter().take(32) {
        let _ = schema.lookup(&m);
        let _ = decode_protobuf_with(&schema, Some(&m), FRAME);
    }
    // A schema merged with itself is a duplicate, said as an error.
    let again = ProtoSchema::parse(text, "again.proto").expect("parses twice");
    let _ = schema.merge(again);
});

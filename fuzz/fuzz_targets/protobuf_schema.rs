//! Protobuf read with a schema (`inspect --proto`): a fixed schema with every kind of field
//! (scalars, enums, nested and recursive messages, maps, packed, oneof, a well-known type, an
//! unresolved type), arbitrary bytes, as each message and as "whichever fits".
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use wsdeck::decode::decode_protobuf_with;
use wsdeck::decode::proto_schema::ProtoSchema;

const SCHEMA: &str = r#"
syntax = "proto3";
package t;
import "google/protobuf/timestamp.proto";

message All {
  double d = 1; float f = 2; int32 i32 = 3; int64 i64 = 4; uint32 u32 = 5; uint64 u64 = 6;
  sint32 s32 = 7; sint64 s64 = 8; fixed32 x32 = 9; fixed64 x64 = 10; sfixed32 sx32 = 11;
  sfixed64 sx64 = 12; bool b = 13; string s = 14; bytes raw = 15;
}

message Voice {
  enum Kind { KIND_UNSPECIFIED = 0; AUDIO = 1; TEXT = 2; }
  message Meta { string codec = 1; uint32 rate = 2; }
  Kind kind = 1;
  Meta meta = 2;
  repeated int32 levels = 3;
  repeated Kind history = 4;
  repeated float gains = 5;
  repeated string words = 6;
  map<string, string> attrs = 7;
  map<int32, Meta> tracks = 8;
  oneof payload { bytes audio = 9; string control = 10; }
  google.protobuf.Timestamp at = 11;
  string api_key = 12;
  Missing gone = 13;
}

message Node { Node child = 1; int32 v = 2; repeated Node kids = 3; }
"#;

fn schema() -> &'static ProtoSchema {
    static S: OnceLock<ProtoSchema> = OnceLock::new();
    S.get_or_init(|| ProtoSchema::parse(SCHEMA, "t.proto").expect("the fixed schema parses"))
}

fuzz_target!(|data: &[u8]| {
    let s = schema();
    let _ = decode_protobuf_with(s, None, data);
    for m in [
        "t.All",
        "t.Voice",
        "Node",
        "Meta",
        "google.protobuf.Timestamp",
    ] {
        if let Some(read) = decode_protobuf_with(s, Some(m), data) {
            assert!(read.decoded.lines.len() <= wsdeck::decode::tree::MAX_LINES + 1);
        }
    }
});

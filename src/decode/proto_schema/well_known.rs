//! Google's well-known types, built in: schemas import `google/protobuf/timestamp.proto` and its
//! siblings far more often than users have those files at hand. Only the messages' fields
//! matter for reading frames, so each file is its messages, written out here.

use super::ParsedFile;
use super::parse::parse_file;

const FILES: &[(&str, &str)] = &[
    (
        "google/protobuf/timestamp.proto",
        "message Timestamp { int64 seconds = 1; int32 nanos = 2; }",
    ),
    (
        "google/protobuf/duration.proto",
        "message Duration { int64 seconds = 1; int32 nanos = 2; }",
    ),
    ("google/protobuf/empty.proto", "message Empty {}"),
    (
        "google/protobuf/any.proto",
        "message Any { string type_url = 1; bytes value = 2; }",
    ),
    (
        "google/protobuf/field_mask.proto",
        "message FieldMask { repeated string paths = 1; }",
    ),
    (
        "google/protobuf/wrappers.proto",
        "message DoubleValue { double value = 1; }
         message FloatValue { float value = 1; }
         message Int64Value { int64 value = 1; }
         message UInt64Value { uint64 value = 1; }
         message Int32Value { int32 value = 1; }
         message UInt32Value { uint32 value = 1; }
         message BoolValue { bool value = 1; }
         message StringValue { string value = 1; }
         message BytesValue { bytes value = 1; }",
    ),
    (
        "google/protobuf/struct.proto",
        "message Struct { map<string, Value> fields = 1; }
         message Value {
           oneof kind {
             NullValue null_value = 1;
             double number_value = 2;
             string string_value = 3;
             bool bool_value = 4;
             Struct struct_value = 5;
             ListValue list_value = 6;
           }
         }
         enum NullValue { NULL_VALUE = 0; }
         message ListValue { repeated Value values = 1; }",
    ),
];

/// The well-known files that `files` import but do not include (matched by the end of their
/// path, so `protos/google/protobuf/timestamp.proto` given by the user counts), and that do not
/// clash with a message the user's files define.
pub(super) fn needed(files: &[ParsedFile]) -> Vec<ParsedFile> {
    let given = |import: &str| {
        files
            .iter()
            .any(|f| f.name.replace('\\', "/").ends_with(import))
    };
    let defined = |name: &str| {
        files
            .iter()
            .any(|f| f.messages.iter().any(|m| m.full_name == name))
    };
    let mut out: Vec<ParsedFile> = Vec::new();
    for import in files.iter().flat_map(|f| &f.imports) {
        let Some((path, body)) = FILES.iter().find(|(p, _)| p == import) else {
            continue;
        };
        if given(path) || out.iter().any(|f| f.name == *path) {
            continue;
        }
        let text = format!("syntax = \"proto3\"; package google.protobuf;\n{body}");
        if let Ok(parsed) = parse_file(&text, path)
            && !parsed.messages.iter().any(|m| defined(&m.full_name))
        {
            out.push(parsed);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_file_parses() {
        for (path, body) in FILES {
            let text = format!("syntax = \"proto3\"; package google.protobuf;\n{body}");
            let f = parse_file(&text, path).expect(path);
            assert!(!f.messages.is_empty(), "{path}");
            assert!(
                f.messages
                    .iter()
                    .all(|m| m.full_name.starts_with("google.protobuf."))
            );
        }
    }
}

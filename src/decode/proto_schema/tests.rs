use super::*;

/// A schema as people write them: package and options, imports, nested types, every label,
/// packed repeated, a map, a oneof, reserved ranges, a service, comments of both kinds.
pub(crate) const VOICE: &str = r#"
// Voice frames, as a bridge might send them.
syntax = "proto3";

package voice.v1;

import "google/protobuf/timestamp.proto";
import public "common/" "meta.proto";  // split literal, joined
option java_package = "com.example.voice";
option (my.custom) = { a: 1; b: "}" };

/* The envelope
   of every frame. */
message Frame {
  enum Kind {
    option allow_alias = true;
    KIND_UNSPECIFIED = 0;
    AUDIO = 1;
    TEXT = 2;
    SOUND = 1;  // an alias: AUDIO is shown
    CONTROL = -3 [deprecated = true];
  }
  message Meta {
    string codec = 1;
    uint32 rate = 2;
    sint32 offset_ms = 0x3;
  }
  Kind kind = 1;
  string text = 2 [json_name = "Text"];
  Meta meta = 3;
  repeated int32 levels = 4 [packed = true, deprecated = false];
  map<string, string> attrs = 5;
  oneof payload {
    bytes audio = 6;
    string control = 7;
  }
  fixed64 seq = 8;
  optional double gain = 9;
  map<int32, Meta> tracks = 10;
  google.protobuf.Timestamp sent_at = 11;
  reserved 13, 15 to 20;
  reserved "old_name";
  repeated Kind history = 14;
  .voice.v1.Ack last_ack = 21;
  common.Meta common = 22;
  string message = 23;
  extensions 100 to max;
}

message Ack {
  string id = 1;
  float latency_ms = 2;
}

service Voice {
  rpc Stream (stream Frame) returns (stream Ack) { option deprecated = true; }
}
"#;

fn field<'a>(m: &'a MessageDef, name: &str) -> &'a FieldDef {
    m.fields
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no field {name} in {m:#?}"))
}

#[test]
fn a_realistic_file_parses_into_messages_fields_and_enums() {
    let s = ProtoSchema::parse(VOICE, "voice.proto").expect("parses");
    assert_eq!(
        s.messages(),
        ["voice.v1.Frame", "voice.v1.Frame.Meta", "voice.v1.Ack"]
    );
    assert_eq!(s.files(), ["voice.proto"]);
    let tops: Vec<&str> = s
        .top_level_messages()
        .map(|m| m.full_name.as_str())
        .collect();
    assert_eq!(tops, ["voice.v1.Frame", "voice.v1.Ack"]);
    let f = &s.files[0];
    assert_eq!(
        (f.syntax.as_str(), f.package.as_str()),
        ("proto3", "voice.v1")
    );
    assert_eq!(
        f.imports,
        ["google/protobuf/timestamp.proto", "common/meta.proto"]
    );

    let frame = s.lookup("voice.v1.Frame").expect("Frame");
    assert!(frame.top_level);
    assert_eq!(frame.fields.len(), 15);
    let describe: Vec<String> = frame
        .fields
        .iter()
        .map(|f| {
            format!(
                "{:?} {} {} = {}",
                f.label,
                f.kind.describe(),
                f.name,
                f.number
            )
        })
        .collect();
    assert_eq!(
        describe[..12],
        [
            "Singular voice.v1.Frame.Kind kind = 1",
            "Singular string text = 2",
            "Singular voice.v1.Frame.Meta meta = 3",
            "Repeated int32 levels = 4",
            "Singular map<string, string> attrs = 5",
            "Singular bytes audio = 6",
            "Singular string control = 7",
            "Singular fixed64 seq = 8",
            "Optional double gain = 9",
            "Singular map<int32, voice.v1.Frame.Meta> tracks = 10",
            "Singular google.protobuf.Timestamp sent_at = 11",
            "Repeated voice.v1.Frame.Kind history = 14",
        ]
    );
    assert_eq!(
        field(frame, "kind").kind,
        FieldKind::Enum("voice.v1.Frame.Kind".into())
    );
    assert_eq!(field(frame, "levels").packed, Some(true));
    assert_eq!(field(frame, "text").packed, None);
    assert_eq!(field(frame, "audio").oneof.as_deref(), Some("payload"));
    assert_eq!(field(frame, "control").oneof.as_deref(), Some("payload"));
    assert_eq!(field(frame, "seq").oneof, None);
    assert_eq!(
        field(frame, "last_ack").kind,
        FieldKind::Message("voice.v1.Ack".into())
    );
    // A keyword is a fine field name.
    assert_eq!(
        field(frame, "message").kind,
        FieldKind::Scalar(Scalar::String)
    );
    assert_eq!(frame.field(22).map(|f| f.name.as_str()), Some("common"));
    assert!(frame.field(13).is_none());

    // The imported common/meta.proto was not given: its type stays unresolved, and says so.
    assert_eq!(
        field(frame, "common").kind,
        FieldKind::Unresolved("common.Meta".into())
    );
    assert_eq!(
        s.unresolved(),
        [Unresolved {
            message: "voice.v1.Frame".into(),
            field: "common".into(),
            type_name: "common.Meta".into(),
        }]
    );

    let meta = s.lookup("Meta").expect("short name");
    assert_eq!(meta.full_name, "voice.v1.Frame.Meta");
    assert!(!meta.top_level);
    assert_eq!(field(meta, "offset_ms").number, 3);
    assert_eq!(
        field(meta, "offset_ms").kind,
        FieldKind::Scalar(Scalar::Sint32)
    );

    let kind = s.enumeration("voice.v1.Frame.Kind").expect("enum");
    assert_eq!(kind.name_of(1), Some("AUDIO"));
    assert_eq!(kind.name_of(-3), Some("CONTROL"));
    assert_eq!(kind.name_of(9), None);

    // The well-known Timestamp is built in.
    let ts = s.lookup("google.protobuf.Timestamp").expect("built in");
    assert_eq!(ts.fields.len(), 2);
    assert!(!s.messages().iter().any(|m| m.starts_with("google.")));
}

#[test]
fn lookup_by_full_suffix_and_short_names() {
    let s = ProtoSchema::parse(VOICE, "voice.proto").expect("parses");
    for name in ["voice.v1.Ack", ".voice.v1.Ack", "v1.Ack", "Ack", " Ack "] {
        assert_eq!(
            s.lookup(name).map(|m| m.full_name.as_str()),
            Ok("voice.v1.Ack")
        );
    }
    assert!(s.message("Frame.Meta").is_some());
    assert!(s.message("1.Ack").is_none(), "a suffix ends at a dot");
    let e = s.lookup("Nope").expect_err("unknown");
    assert_eq!(
        e.to_string(),
        "no message \"Nope\" in the .proto files; they define: voice.v1.Frame, voice.v1.Frame.Meta, voice.v1.Ack"
    );

    let other = ProtoSchema::parse("package other; message Ack { int32 n = 1; }", "other.proto")
        .expect("parses");
    let both = s.merge(other).expect("merges");
    assert_eq!(
        both.lookup("Ack").expect_err("two").to_string(),
        "\"Ack\" is ambiguous: other.Ack, voice.v1.Ack"
    );
    assert_eq!(both.files(), ["voice.proto", "other.proto"]);
    assert!(both.message("other.Ack").is_some());
}

#[test]
fn merged_files_resolve_each_others_types_by_scope() {
    let common = "syntax = \"proto3\"; package common; message Meta { string who = 1; }";
    let a = ProtoSchema::parse(VOICE, "voice.proto").expect("voice");
    let b = ProtoSchema::parse(common, "protos/common/meta.proto").expect("common");
    let s = a.merge(b).expect("merges");
    let frame = s.lookup("Frame").expect("Frame");
    assert_eq!(
        field(frame, "common").kind,
        FieldKind::Message("common.Meta".into())
    );
    assert!(s.unresolved().is_empty());

    // Inner scopes win: `Meta` inside Frame is Frame.Meta, not common.Meta or a top-level Meta.
    let text = "package p; message Meta {} message Outer { message Meta {} Meta m = 1; }
                message Other { Meta m = 1; Outer.Meta o = 2; }";
    let s = ProtoSchema::parse(text, "p.proto").expect("parses");
    let outer = s.lookup("p.Outer").expect("Outer");
    assert_eq!(
        field(outer, "m").kind,
        FieldKind::Message("p.Outer.Meta".into())
    );
    let other = s.lookup("p.Other").expect("Other");
    assert_eq!(field(other, "m").kind, FieldKind::Message("p.Meta".into()));
    assert_eq!(
        field(other, "o").kind,
        FieldKind::Message("p.Outer.Meta".into())
    );

    // The same name defined twice across files is an error at the second definition.
    let dup = ProtoSchema::parse("package common;\n\nmessage  Meta {}", "dup.proto").expect("dup");
    let e = ProtoSchema::parse(common, "protos/common/meta.proto")
        .expect("common")
        .merge(dup)
        .expect_err("clash");
    assert_eq!(
        e.to_string(),
        "dup.proto:3:10: common.Meta is already defined in protos/common/meta.proto"
    );
    // Merging a file with itself (given twice) is not a clash.
    let once = ProtoSchema::parse(common, "c.proto").expect("c");
    assert!(once.clone().merge(once).is_ok());
}

#[test]
fn proto2_files_and_a_package_after_the_messages() {
    let text = "message Req { required int64 id = 1; optional string q = 2 [default = \"x\"];
                repeated sfixed32 v = 3; }
                package late.pkg;";
    let s = ProtoSchema::parse(text, "p2.proto").expect("parses");
    assert_eq!(s.files[0].syntax, "proto2");
    let req = s.lookup("late.pkg.Req").expect("Req");
    assert_eq!(req.fields[0].label, Label::Required);
    assert_eq!(req.fields[2].kind, FieldKind::Scalar(Scalar::Sfixed32));
}

fn parse_error(text: &str) -> String {
    ProtoSchema::parse(text, "bad.proto")
        .expect_err("should not parse")
        .to_string()
}

#[test]
fn broken_files_name_the_line_column_and_what_was_expected() {
    let cases = [
        (
            "syntax = \"proto3\";\nmessage A {\n  string name 1;\n}",
            "bad.proto:3:15: expected `=` after the field name `name`, found `1`",
        ),
        (
            "message A {\n  int32 x = 1\n}",
            "bad.proto:3:1: expected `;` after field `x`, found `}`",
        ),
        (
            "message A {\n  int32 x = 0;\n}",
            "bad.proto:2:13: expected a field number from 1 to 536870911, found `0`",
        ),
        (
            "message A {\n  int32 x = 1;\n  string y = 1;\n}",
            "bad.proto:3:3: field number 1 is already used by `x` in message `A`",
        ),
        (
            "message A {\n  int32 x = 1;",
            "bad.proto:2:15: expected `}` to close message `A`, found the end of the file",
        ),
        (
            "message A { map<float, string> m = 1; }",
            "bad.proto:1:17: expected an integer, bool or string type as the map's key, found `float`",
        ),
        (
            "message A { oneof o { repeated int32 x = 1; } }",
            "bad.proto:1:23: expected a field type (fields of oneof `o` have no label), found `repeated`",
        ),
        (
            "enum E { A = 1; B = x; }",
            "bad.proto:1:21: expected an enum value number (a 32-bit integer), found `x`",
        ),
        (
            "message A {}\n  mesage B {}",
            "bad.proto:2:3: expected `syntax`, `package`, `import`, `option`, `message`, `enum`, `service` or `extend`, found `mesage`",
        ),
        (
            "syntax = proto3;",
            "bad.proto:1:10: expected a string literal such as \"proto3\", found `proto3`",
        ),
        (
            "message A {\n  /* never closed\n}",
            "bad.proto:2:3: a `/*` comment that is never closed",
        ),
        (
            "import \"x.proto\nmessage A {}",
            "bad.proto:1:8: a string literal that runs past its line",
        ),
        (
            "message A { optional group G = 1 { int32 x = 2; } }",
            "bad.proto:1:22: group fields are not supported (deprecated since proto2; the wire reader does not read groups)",
        ),
        (
            "option x = 1\nmessage A {}",
            "bad.proto:2:13: expected `;` to end the statement at 1:1, found the end of the file",
        ),
        (
            "message A { int32 x = 1 [packed = true; }",
            "bad.proto:1:39: expected `]` to close the field options at 1:25, found `;`",
        ),
        (
            "package a;\npackage b;",
            "bad.proto:2:1: a second `package` line",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(parse_error(text), want, "{text}");
    }
    // Nesting is bounded: a deep file is an error, not a stack overflow.
    let deep = "message A { ".repeat(10_000);
    assert!(parse_error(&deep).contains("messages nested more than 64 deep"));
}

#[test]
fn load_proto_files_reads_merges_and_names_the_file_in_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let a = dir.path().join("voice.proto");
    let b = dir.path().join("meta.proto");
    std::fs::write(&a, VOICE).expect("write");
    std::fs::write(&b, "package common; message Meta { string who = 1; }").expect("write");
    let s = load_proto_files(&[a.clone(), b.clone()]).expect("loads");
    assert_eq!(s.messages().len(), 4);
    assert!(s.unresolved().is_empty());

    let missing = dir.path().join("nope.proto");
    let e = load_proto_files(&[a.clone(), missing.clone()]).expect_err("missing");
    assert!(
        matches!(&e, ProtoError::Io { file, .. } if *file == missing.display().to_string()),
        "{e}"
    );
    std::fs::write(&b, "message {").expect("write");
    let e = load_proto_files(&[a, b.clone()]).expect_err("broken");
    assert_eq!(
        e.to_string(),
        format!("{}:1:9: expected a message name, found `{{`", b.display())
    );
    std::fs::write(&b, [0xff, 0xfe]).expect("write");
    assert!(
        load_proto_files(&[b])
            .expect_err("binary")
            .to_string()
            .contains("not UTF-8")
    );
    assert!(load_proto_files(&[]).expect("none").messages().is_empty());
}

/// xorshift64: deterministic, so a failure names its iteration.
use crate::test_rng::Rng;

#[test]
fn random_truncated_and_mutated_text_never_panics() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let chars: Vec<char> = VOICE.chars().collect();
    // Every prefix: unclosed blocks, strings and comments at every point.
    for cut in 0..chars.len() {
        let text: String = chars[..cut].iter().collect();
        let _ = ProtoSchema::parse(&text, "cut.proto");
    }
    // Mutations drawn from the language's own characters reach deeper than noise.
    let alphabet: Vec<char> = "{}[]()<>;=,.\"'/*-+0x9 \nmessage enum map oneof repeated é\u{0}"
        .chars()
        .collect();
    for i in 0..3000 {
        let mut c = chars.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(c.len());
            let ch = alphabet[rng.below(alphabet.len())];
            match rng.below(3) {
                0 => c[at] = ch,
                1 => c.insert(at, ch),
                _ => {
                    c.remove(at);
                }
            }
        }
        let text: String = c.iter().collect();
        if let Ok(s) = ProtoSchema::parse(&text, "m.proto") {
            // Whatever parsed is consistent: every listed message can be looked up.
            for m in s.messages() {
                assert!(s.message(&m).is_some(), "mutation {i}: {m}");
            }
        }
    }
    for _ in 0..2000 {
        let len = rng.below(200);
        let text: String = (0..len)
            .map(|_| alphabet[rng.below(alphabet.len())])
            .collect();
        let _ = ProtoSchema::parse(&text, "r.proto");
    }
}

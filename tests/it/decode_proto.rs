//! Protobuf frames read with the user's `.proto` file (`wsdeck inspect --proto`): the file is
//! written here, the frames are made by Python's protobuf from a descriptor that mirrors it
//! (tests/agents/make_samples.py; no protoc), and the test first checks that the mirror is
//! faithful.

use crate::decode::{samples, write_capture};
use crate::support::{assert_exit, json_lines, wsdeck};
use serde_json::{Value, json};
use wsdeck::decode::proto_schema::{FieldKind, Label, load_proto_files};

/// The schema the voice samples are made from: make_samples.py builds the same definition as
/// a descriptor (no protoc), and the test checks that the two agree before using it.
const VOICE_PROTO: &str = r#"// The frames of a voice bridge, for wsdeck's decoder tests.
syntax = "proto3";

package voice.v1;

import "google/protobuf/timestamp.proto";

option go_package = "example.com/voice/v1";

/* Every frame the bridge sends. */
message Frame {
  enum Kind {
    KIND_UNSPECIFIED = 0;
    AUDIO = 1;
    TEXT = 2;
    CONTROL = 3;
  }
  message Meta {
    string codec = 1;
    uint32 rate = 2;
    sint32 offset_ms = 3;
  }
  Kind kind = 1;
  string text = 2;
  Meta meta = 3;
  repeated int32 levels = 4 [packed = true];
  map<string, string> attrs = 5;
  oneof payload {
    bytes audio = 6;
    string control = 7;
  }
  fixed64 seq = 8;
  double gain = 9;
  map<string, Meta> tracks = 10;
  google.protobuf.Timestamp sent_at = 11;
  string api_key = 12;  // a credential: never printed
  reserved 13;
  repeated Kind history = 14;
}

message Ack {
  string id = 1;
  float latency_ms = 2;
}
"#;

#[test]
fn inspect_reads_protobuf_with_the_users_proto_file() {
    let s = samples();
    let home = tempfile::tempdir().expect("home");
    let proto = home.path().join("voice.proto");
    std::fs::write(&proto, VOICE_PROTO).expect("proto");

    // Our reading of the file is what Python's protobuf resolved for its mirror of it.
    let schema = load_proto_files(std::slice::from_ref(&proto)).expect("parses");
    let mut messages = serde_json::Map::new();
    for name in schema.messages() {
        let m = schema.lookup(&name).expect("listed");
        let fields: Vec<Value> = m
            .fields
            .iter()
            .map(|f| {
                let label = match (&f.kind, f.label) {
                    (FieldKind::Map { .. }, _) => "map",
                    (_, Label::Repeated) => "repeated",
                    _ => "singular",
                };
                json!([f.name, f.number, f.kind.describe(), label, f.oneof])
            })
            .collect();
        messages.insert(name, fields.into());
    }
    let kind = schema.enumeration("voice.v1.Frame.Kind").expect("enum");
    let ours = json!({"messages": messages, "enums": {"voice.v1.Frame.Kind": kind.values}});
    assert_eq!(ours, s.voice_descriptor);
    assert!(schema.unresolved().is_empty(), "{:?}", schema.unresolved());

    // The Frame, the Ack, the Frame with a field the schema does not declare (as a relay that
    // appends one would send it), bytes that are no message, and a text frame.
    let mut extended = s.voice_frame.clone();
    extended.extend_from_slice(&[0x98, 0x06, 0x07]); // field 99, varint 7
    let cap = home.path().join("voice.jsonl");
    write_capture(
        &cap,
        &[
            ("in", Ok(&s.voice_frame)),
            ("in", Ok(&s.voice_ack)),
            ("in", Ok(&extended)),
            ("in", Ok(&[0xff, 0x01])),
            ("out", Err(r#"{"type":"ping"}"#.into())),
        ],
    );
    let run = |args: &[&str]| {
        let mut c = wsdeck(home.path());
        c.arg("inspect").arg(&cap).args(args);
        c.output().expect("inspect")
    };
    let stdout = |args: &[&str]| {
        let o = run(args);
        assert_exit(&o, 0);
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let p = proto.to_str().expect("utf-8 path");

    let text = stdout(&[
        "--decode",
        "protobuf",
        "--proto",
        p,
        "--message",
        "voice.v1.Frame",
    ]);
    for want in [
        "B  protobuf voice.v1.Frame\n",
        "B  protobuf voice.v1.Frame (2 fields not as declared)\n",
        "B  protobuf voice.v1.Frame (1 field not as declared)\n",
        "    kind (1): TEXT  · enum voice.v1.Frame.Kind · = 2\n",
        "    text (2): \"hello from the bridge\"  · string · 21 bytes\n",
        "    meta (3): {  · voice.v1.Frame.Meta · 12 bytes\n",
        "      codec (1): \"opus\"  · string · 4 bytes\n",
        "      rate (2): 48000  · uint32\n",
        "      offset_ms (3): -20  · sint32\n",
        "    levels (4): [3, 1, 4, 1, 5, 900]  · repeated int32 · packed · 6 values\n",
        "    attrs (5): \"lang\" → \"en-US\"  · map<string, string>\n",
        "    attrs (5): \"voice\" → \"alloy\"  · map<string, string>\n",
        "    audio (6): 00 01 02 ff  · bytes · 4 · oneof payload\n",
        "    seq (8): 7  · fixed64\n",
        "    gain (9): 0.5  · double\n",
        "    tracks (10): \"mic\" → {  · map<string, voice.v1.Frame.Meta> · voice.v1.Frame.Meta · 11 bytes\n",
        "      codec (1): \"pcm16\"  · string · 5 bytes\n",
        "      rate (2): 24000  · uint32\n",
        "    sent_at (11): {  · google.protobuf.Timestamp · 2023-11-14T22:13:20.25Z · 11 bytes\n",
        "      seconds (1): 1700000000  · int64\n",
        "    api_key (12): <redacted, 17 chars>  · string · 17 bytes\n",
        "    history (14): [AUDIO, TEXT, CONTROL]  · repeated enum voice.v1.Frame.Kind · packed · 3 values\n",
        // The Ack read as a Frame, as asked: its fields by number where the types disagree.
        "    kind (1): \"ack-1\"  · wire type 2, declared voice.v1.Frame.Kind · string · 5 bytes\n",
        // The appended field, as the schema-less reader shows it.
        "    99: 7  · unknown field · varint · zigzag -4\n",
        "    (not a voice.v1.Frame message; shown as hex)\n",
        "\"type\": \"ping\"",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
    assert!(!text.contains("sk-live-not-shown"), "{text}");

    // Without --message (and without --decode: --proto implies protobuf), each frame is read
    // as the first top-level message that fits it; the extended Frame fits none exactly and
    // is read as the closest, so its credential stays redacted.
    let text = stdout(&["--proto", p]);
    let summaries: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| l.split("B  ").nth(1).unwrap_or(""))
        .collect();
    assert_eq!(
        summaries,
        [
            "protobuf voice.v1.Frame",
            "protobuf voice.v1.Ack",
            "protobuf voice.v1.Frame (closest fit: 1 field not as declared)",
            "",
            "ping",
        ],
        "{text}"
    );
    for want in [
        "    id (1): \"ack-1\"  · string · 5 bytes\n",
        "    latency_ms (2): 12.5  · float\n",
        "    (not a protobuf message; shown as hex)\n",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
    assert!(!text.contains("sk-live-not-shown"), "{text}");
    assert_eq!(
        text.matches("api_key (12): <redacted, 17 chars>").count(),
        2,
        "{text}"
    );

    // --json: the message that read each frame, and the named lines.
    let lines = json_lines(stdout(&["--json", "--proto", p]).as_bytes());
    assert_eq!(lines[0]["decoder"], "protobuf");
    assert_eq!(lines[0]["message"], "voice.v1.Frame");
    assert_eq!(lines[0]["misfits"], 0);
    assert_eq!(lines[1]["message"], "voice.v1.Ack");
    assert_eq!(
        (&lines[2]["message"], &lines[2]["misfits"]),
        (&json!("voice.v1.Frame"), &json!(1))
    );
    assert!(lines[3].get("decoder").is_none(), "{}", lines[3]);
    let decoded = lines[0]["decoded"].as_array().expect("decoded");
    assert_eq!(
        decoded[0],
        json!({"depth": 0, "label": "kind (1)", "value": "TEXT", "note": "enum voice.v1.Frame.Kind · = 2"})
    );
    assert!(
        decoded
            .iter()
            .any(|d| d["depth"] == 1 && d["label"] == "codec (1)" && d["value"] == "\"opus\"")
    );

    // A short name is enough when it is unique.
    assert!(stdout(&["--proto", p, "--message", "Ack"]).contains("B  protobuf voice.v1.Ack\n"));

    // Bad usage: exit 2, saying where and what.
    let usage = |args: &[&str], want: &str| {
        let o = run(args);
        assert_exit(&o, 2);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{want:?} not in {err}");
    };
    let broken = home.path().join("broken.proto");
    std::fs::write(
        &broken,
        "syntax = \"proto3\";\nmessage A {\n  string name 1;\n}\n",
    )
    .expect("broken");
    let b = broken.to_str().expect("utf-8 path");
    usage(
        &["--proto", p, "--proto", b],
        &format!("{b}:3:15: expected `=` after the field name `name`, found `1`"),
    );
    usage(
        &["--proto", p, "--message", "Nope"],
        "no message \"Nope\" in the .proto files; they define: voice.v1.Frame, voice.v1.Frame.Meta, voice.v1.Ack",
    );
    let missing = home.path().join("missing.proto");
    usage(
        &["--proto", missing.to_str().expect("utf-8 path")],
        "missing.proto: ",
    );
    usage(
        &["--decode", "cbor", "--proto", p],
        "--decode cbor contradicts it",
    );
    usage(&["--message", "Frame"], "--proto");
}

use super::*;
use crate::decode::tree::MAX_LINES;

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

message Node { Node child = 1; int32 v = 2; }
"#;

fn schema() -> ProtoSchema {
    ProtoSchema::parse(SCHEMA, "t.proto").expect("parses")
}

fn enc_varint(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn vint(v: u64) -> Vec<u8> {
    let mut o = Vec::new();
    enc_varint(v, &mut o);
    o
}

fn field(num: u64, wt: u64, body: &[u8]) -> Vec<u8> {
    let mut out = vint(num << 3 | wt);
    if wt == 2 {
        enc_varint(body.len() as u64, &mut out);
    }
    out.extend_from_slice(body);
    out
}

fn show(lines: &[TreeLine]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            format!(
                "{}{} = {} ({})",
                "  ".repeat(l.depth as usize),
                l.label,
                l.value,
                l.note
            )
        })
        .collect()
}

fn with(message: &str, bytes: &[u8]) -> Vec<String> {
    show(&decode_with(&schema(), message, bytes).expect("claimed"))
}

fn all_sample() -> Vec<u8> {
    [
        field(1, 1, &2.5f64.to_le_bytes()),
        field(2, 5, &1.5f32.to_le_bytes()),
        field(3, 0, &vint(-5i64 as u64)),
        field(4, 0, &vint(-7i64 as u64)),
        field(5, 0, &vint(4_000_000_000)),
        field(6, 0, &vint(u64::MAX)),
        field(7, 0, &vint(83)),
        field(8, 0, &vint(1)),
        field(9, 5, &7u32.to_le_bytes()),
        field(10, 1, &9u64.to_le_bytes()),
        field(11, 5, &(-2i32).to_le_bytes()),
        field(12, 1, &(-3i64).to_le_bytes()),
        field(13, 0, &[1]),
        field(14, 2, "héllo".as_bytes()),
        field(15, 2, &[0, 1, 0xff]),
    ]
    .concat()
}

#[test]
fn every_scalar_type_reads_as_declared() {
    assert_eq!(
        with("All", &all_sample()),
        [
            "d (1) = 2.5 (double)",
            "f (2) = 1.5 (float)",
            "i32 (3) = -5 (int32)",
            "i64 (4) = -7 (int64)",
            "u32 (5) = 4000000000 (uint32)",
            "u64 (6) = 18446744073709551615 (uint64)",
            "s32 (7) = -42 (sint32)",
            "s64 (8) = -1 (sint64)",
            "x32 (9) = 7 (fixed32)",
            "x64 (10) = 9 (fixed64)",
            "sx32 (11) = -2 (sfixed32)",
            "sx64 (12) = -3 (sfixed64)",
            "b (13) = true (bool)",
            "s (14) = \"héllo\" (string · 6 bytes)",
            "raw (15) = 00 01 ff (bytes · 3)",
        ]
    );
}

fn meta(codec: &str, rate: Option<u64>) -> Vec<u8> {
    let mut m = field(1, 2, codec.as_bytes());
    if let Some(r) = rate {
        m.extend(field(2, 0, &vint(r)));
    }
    m
}

fn voice_sample() -> Vec<u8> {
    let gains = [0.5f32.to_le_bytes(), 1.0f32.to_le_bytes()].concat();
    let ts = [
        field(1, 0, &vint(1_700_000_000)),
        field(2, 0, &vint(500_000_000)),
    ]
    .concat();
    [
        field(1, 0, &[2]),
        field(2, 2, &meta("opus", Some(48_000))),
        field(3, 2, &[1, 2, 0xac, 0x02]),
        field(4, 0, &[1]),
        field(4, 0, &[7]),
        field(5, 2, &gains),
        field(6, 2, b"a"),
        field(6, 2, b"b"),
        field(7, 2, &[field(1, 2, b"lang"), field(2, 2, b"en")].concat()),
        field(7, 2, &[field(1, 2, b"token"), field(2, 2, b"abc")].concat()),
        field(7, 2, &field(1, 2, b"empty")),
        field(
            8,
            2,
            &[field(1, 0, &[3]), field(2, 2, &meta("pcm", None))].concat(),
        ),
        field(8, 2, &field(1, 0, &[4])),
        field(10, 2, b"stop"),
        field(11, 2, &ts),
        field(12, 2, b"sk-secret"),
        field(13, 2, b"zz"),
    ]
    .concat()
}

#[test]
fn enums_nested_packed_maps_oneofs_well_known_and_secrets() {
    assert_eq!(
        with("t.Voice", &voice_sample()),
        [
            "kind (1) = TEXT (enum t.Voice.Kind · = 2)",
            "meta (2) = { (t.Voice.Meta · 10 bytes)",
            "  codec (1) = \"opus\" (string · 4 bytes)",
            "  rate (2) = 48000 (uint32)",
            "levels (3) = [1, 2, 300] (repeated int32 · packed · 3 values)",
            "history (4) = AUDIO (repeated enum t.Voice.Kind · = 1)",
            "history (4) = 7 (repeated enum t.Voice.Kind · not a value of the enum)",
            "gains (5) = [0.5, 1.0] (repeated float · packed · 2 values)",
            "words (6) = \"a\" (repeated string · 1 bytes)",
            "words (6) = \"b\" (repeated string · 1 bytes)",
            "attrs (7) = \"lang\" → \"en\" (map<string, string>)",
            "attrs (7) = \"token\" → <redacted, 3 chars> (map<string, string>)",
            "attrs (7) = \"empty\" → \"\" (map<string, string>)",
            "tracks (8) = 3 → { (map<int32, t.Voice.Meta> · t.Voice.Meta · 5 bytes)",
            "  codec (1) = \"pcm\" (string · 3 bytes)",
            "tracks (8) = 4 → {} (map<int32, t.Voice.Meta> · t.Voice.Meta · 0 bytes)",
            "control (10) = \"stop\" (string · 4 bytes · oneof payload)",
            "at (11) = { (google.protobuf.Timestamp · 2023-11-14T22:13:20.5Z · 12 bytes)",
            "  seconds (1) = 1700000000 (int64)",
            "  nanos (2) = 500000000 (int32)",
            "api_key (12) = <redacted, 9 chars> (string · 9 bytes)",
            "gone (13) = \"zz\" (type Missing is not in the .proto files · string · 2 bytes)",
        ]
    );
    // Packed enums, and a packed run of a field the sender did not pack, read alike.
    let m = [field(4, 2, &[1, 2, 9]), field(3, 0, &[5])].concat();
    assert_eq!(
        with("Voice", &m),
        [
            "history (4) = [AUDIO, TEXT, 9] (repeated enum t.Voice.Kind · packed · 3 values)",
            "levels (3) = 5 (repeated int32)",
        ]
    );
    // An empty frame is the message with every field at its default.
    assert_eq!(
        with("Voice", &[]),
        ["Voice = {} (t.Voice · empty: every field at its default)"]
    );
}

#[test]
fn unknown_fields_and_other_wire_types_are_shown_without_the_schema() {
    let m = [
        field(1, 2, b"x"),
        field(99, 0, &vint(5)),
        field(7, 2, &[field(1, 0, &[1]), field(2, 2, b"v")].concat()),
        field(10, 2, &[0xff, 0xfe]),
    ]
    .concat();
    assert_eq!(
        with("Voice", &m),
        [
            "kind (1) = \"x\" (wire type 2, declared t.Voice.Kind · string · 1 bytes)",
            "99 = 5 (unknown field · varint · zigzag -3)",
            "attrs (7) = { (map entry not as declared · message (guessed) · 5 bytes)",
            "  1 = 1 (varint)",
            "  2 = \"v\" (string · 1 bytes)",
            "control (10) = ff fe (not a valid string · bytes · 2)",
        ]
    );
    let s = schema();
    assert_eq!(decode_with_fit(&s, "Voice", &m).map(|f| f.misfits), Some(4));
    // No message reads any of those fields as declared, so none is chosen for it.
    assert!(decode_any(&s, &m).is_none());
}

#[test]
fn a_frame_that_is_not_the_message_is_not_claimed() {
    let s = schema();
    let good = voice_sample();
    assert!(decode_with(&s, "Voice", &good).is_some());
    let mut trailing = good.clone();
    trailing.push(0x08);
    assert!(decode_with(&s, "Voice", &trailing).is_none());
    for bad in [
        field(2, 2, &[0xff]),                // meta is not a Meta
        field(5, 2, &[0, 0, 0x80, 0x3f, 0]), // 5 bytes of packed floats
        field(3, 2, &[0x80]),                // a packed varint cut short
        vec![0x0b, 0x0c],                    // a group
        field(8, 2, &[0x0a]),                // a map entry cut short
    ] {
        assert!(decode_with(&s, "Voice", &bad).is_none(), "{bad:?}");
    }
    assert!(decode_with(&s, "NoSuch", &good).is_none());
}

#[test]
fn without_a_name_the_first_top_level_message_that_fits_is_chosen() {
    let s = schema();
    let fit = decode_any(&s, &all_sample()).expect("All fits");
    assert_eq!(
        (fit.message, fit.misfits, fit.lines.len()),
        ("t.All", 0, 15)
    );
    // All is tried first: its field 1 is a double, Voice's kind a varint.
    let fit = decode_any(&s, &voice_sample()).expect("Voice fits");
    assert_eq!((fit.message, fit.misfits), ("t.Voice", 0));
    assert_eq!(fit.lines[0].label, "kind (1)");
    let node = field(1, 2, &field(2, 0, &[1]));
    assert_eq!(decode_any(&s, &node).map(|f| f.message), Some("t.Node"));

    // A field appended by a relay fits no message exactly; the closest fit keeps the names,
    // and with them the credential's redaction.
    let mut relayed = voice_sample();
    relayed.extend(field(99, 0, &[7]));
    let fit = decode_any(&s, &relayed).expect("closest");
    assert_eq!((fit.message, fit.misfits), ("t.Voice", 1));
    let shown = show(&fit.lines);
    assert!(shown.contains(&"99 = 7 (unknown field · varint · zigzag -4)".to_string()));
    assert!(shown.contains(&"api_key (12) = <redacted, 9 chars> (string · 9 bytes)".to_string()));
    // Of the lenient readings the one with the fewest misfits wins, wherever it comes.
    let m = [field(3, 0, &[1]), field(14, 2, b"s"), field(40, 0, &[1])].concat();
    assert_eq!(
        decode_any(&s, &m).map(|f| (f.message, f.misfits)),
        Some(("t.All", 1))
    );
    let m = [field(3, 2, &[1]), field(6, 2, b"w"), field(40, 0, &[1])].concat();
    assert_eq!(
        decode_any(&s, &m).map(|f| (f.message, f.misfits)),
        Some(("t.Voice", 1))
    );
    assert!(decode_any(&s, &[]).is_none());
    assert!(decode_any(&s, &field(50, 0, &[1])).is_none());
}

#[test]
fn depth_and_lines_are_bounded() {
    let s = schema();
    let mut m = field(2, 0, &[1]);
    for _ in 0..200 {
        m = field(1, 2, &m);
    }
    let lines = decode_with(&s, "Node", &m).expect("claimed");
    let deepest = lines.iter().map(|l| l.depth).max().unwrap_or(0);
    assert_eq!(deepest, MAX_DEPTH - 1);
    let last = lines.last().expect("a line");
    assert!(last.note.contains("not read"), "{last:?}");

    let one = field(3, 0, &[1]);
    let many: Vec<u8> = one
        .iter()
        .copied()
        .cycle()
        .take(one.len() * 20_000)
        .collect();
    let lines = decode_with(&s, "Voice", &many).expect("claimed");
    assert_eq!(lines.len(), MAX_LINES + 1);
    assert_eq!(lines[MAX_LINES].note, "10000 more lines not shown");
    // A packed run of a hundred thousand values is one line, its values cut.
    let run = field(3, 2, &vec![1u8; 100_000]);
    let lines = decode_with(&s, "Voice", &run).expect("claimed");
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].value.ends_with(", … 99936 more]"),
        "{}",
        lines[0].value
    );
}

/// xorshift64: deterministic, so a failure names its iteration.
use crate::test_rng::Rng;

fn every_message(s: &ProtoSchema, bytes: &[u8], what: &str) {
    for name in s
        .messages()
        .iter()
        .map(String::as_str)
        .chain(["google.protobuf.Timestamp"])
    {
        if let Some(lines) = decode_with(s, name, bytes) {
            assert!(lines.len() <= MAX_LINES + 1, "{what}: {name}");
            assert!(lines.iter().all(|l| l.depth < MAX_DEPTH), "{what}: {name}");
        }
    }
    if let Some(fit) = decode_any(s, bytes) {
        assert!(fit.lines.len() <= MAX_LINES + 1, "{what}");
        assert!(s.message(fit.message).is_some(), "{what}");
    }
}

#[test]
fn random_truncated_and_mutated_bytes_never_panic() {
    let s = schema();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..3000 {
        let len = rng.below(200);
        let b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        every_message(&s, &b, &format!("random {i}"));
    }
    for valid in [voice_sample(), all_sample()] {
        for cut in 0..valid.len() {
            every_message(&s, &valid[..cut], &format!("cut at {cut}"));
        }
        for i in 0..1500 {
            let mut m = valid.clone();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(m.len());
                m[at] = rng.next() as u8;
            }
            every_message(&s, &m, &format!("mutation {i}"));
        }
    }
}

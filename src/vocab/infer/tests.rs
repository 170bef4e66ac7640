use super::*;
use bytes::Bytes;
use std::time::Duration;

fn frame(seq: u64, dir: Direction, opcode: Opcode, payload: impl Into<Bytes>) -> Frame {
    Frame {
        seq,
        at: Duration::from_millis(seq * 10),
        dir,
        opcode,
        payload: payload.into(),
    }
}

pub(super) fn text(seq: u64, dir: Direction, s: &str) -> Frame {
    frame(seq, dir, Opcode::Text, Bytes::from(s.to_string()))
}

/// Observe `(dir, text)` frames in order.
pub(super) fn learn(frames: &[(Direction, &str)]) -> Vocabulary {
    let mut v = Vocabulary::new();
    for (i, (d, s)) in frames.iter().enumerate() {
        v.observe(&text(i as u64 + 1, *d, s));
    }
    v
}

const OUT: Direction = Direction::Out;
const IN: Direction = Direction::In;

/// PLATFORM.md's example exchange with the Voice host.
pub(crate) const VOICE: [(Direction, &str); 8] = [
    (
        OUT,
        r#"{"type":"session.start","id":"m_1","ts":"2026-11-25T09:37:47.240Z","protocol_version":"1.0","reconnect":false,"response_timeouts":{"first_output_ms":5000,"idle_ms":3000,"max_duration_ms":60000}}"#,
    ),
    (
        IN,
        r#"{"type":"session.ready","id":"m_e16c","ts":"2026-11-25T09:37:47.244Z"}"#,
    ),
    (
        OUT,
        r#"{"type":"user.message","id":"m_2","ts":"2026-11-25T09:37:48.246Z","item_id":"in_0001","content":[{"type":"input_text","text":"hello"}]}"#,
    ),
    (
        IN,
        r#"{"type":"response.created","id":"m_a1","ts":"2026-11-25T09:37:48.250Z","response_id":"r_be3c","in_reply_to":["in_0001"]}"#,
    ),
    (
        IN,
        r#"{"type":"response.output_text.delta","id":"m_b2","ts":"2026-11-25T09:37:48.251Z","response_id":"r_be3c","item_id":"it_068e","delta":"you "}"#,
    ),
    (
        IN,
        r#"{"type":"response.output_text.delta","id":"m_c3","ts":"2026-11-25T09:37:48.252Z","response_id":"r_be3c","item_id":"it_068e","delta":"said: hello"}"#,
    ),
    (
        IN,
        r#"{"type":"response.output_text.done","id":"m_d4","ts":"2026-11-25T09:37:48.253Z","response_id":"r_be3c","item_id":"it_068e","text":"you said: hello"}"#,
    ),
    (
        IN,
        r#"{"type":"response.done","id":"m_e5","ts":"2026-11-25T09:37:48.254Z","response_id":"r_be3c"}"#,
    ),
];

fn key(dir: Direction, name: &str) -> TypeKey {
    TypeKey::new(dir, name)
}

#[test]
fn voice_vocabulary_types_fields_and_order() {
    let v = learn(&VOICE);
    assert_eq!(v.discriminator(), Some("type"));
    assert_eq!(v.frames(), 8);
    let names: Vec<String> = v.types().iter().map(|t| t.key.label()).collect();
    assert_eq!(
        names,
        [
            "out:session.start",
            "out:user.message",
            "in:response.output_text.delta",
            "in:session.ready",
            "in:response.created",
            "in:response.output_text.done",
            "in:response.done",
        ]
    );
    let start = v.get(&key(OUT, "session.start")).expect("session.start");
    let paths: Vec<&str> = start.fields.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "type",
            "id",
            "ts",
            "protocol_version",
            "reconnect",
            "response_timeouts",
            "response_timeouts.first_output_ms",
            "response_timeouts.idle_ms",
            "response_timeouts.max_duration_ms",
        ]
    );
    let idle = start.field("response_timeouts.idle_ms").expect("idle_ms");
    assert_eq!(idle.types, [JsonType::Integer]);
    assert!(idle.required(start));
    assert_eq!(idle.example.as_deref(), Some("3000"));
    assert_eq!(
        start.field("reconnect").expect("reconnect").types,
        [JsonType::Boolean]
    );
    let msg = v.get(&key(OUT, "user.message")).expect("user.message");
    let ty = msg.field("content[].type").expect("content[].type");
    assert_eq!(
        (ty.types.as_slice(), ty.example.as_deref()),
        ([JsonType::String].as_slice(), Some("input_text"))
    );
    assert_eq!(
        msg.field("content").expect("content").types,
        [JsonType::Array]
    );
    assert_eq!(
        msg.field("content[]").expect("content[]").types,
        [JsonType::Object]
    );
    let delta = v
        .get(&key(IN, "response.output_text.delta"))
        .expect("delta");
    assert_eq!(delta.count, 2);
    assert!(delta.field("delta").expect("delta").required(delta));
    assert_eq!(delta.latest["delta"], "said: hello");
    let created = v.get(&key(IN, "response.created")).expect("created");
    assert_eq!(
        created
            .field("in_reply_to[]")
            .expect("list")
            .example
            .as_deref(),
        Some("in_0001")
    );
}

#[test]
fn observe_and_classify_names_the_type_counted_even_across_a_rebuild() {
    let mut v = Vocabulary::new();
    let mut named = Vec::new();
    for i in 0..12u64 {
        let verb = ["get", "put", "ack"][i as usize % 3];
        let f = text(
            i + 1,
            OUT,
            &format!(r#"{{"verb":"{verb}","rid":"r{i:05}"}}"#),
        );
        named.push(v.observe_and_classify(&f).map(|k| k.name));
        assert_eq!(
            named.last().cloned().flatten(),
            v.classify(&f).map(|k| k.name)
        );
    }
    // Before `verb` was settled on, frames had no type; from the rebuild on, their verb.
    assert_eq!(named[0].as_deref(), Some(NO_TYPE));
    assert_eq!(named[11].as_deref(), Some("ack"));
    assert_eq!(
        v.observe_and_classify(&frame(99, IN, Opcode::Ping, Bytes::new())),
        None
    );
}

#[test]
fn transitions_interleave_both_directions_with_self_transitions() {
    let v = learn(&VOICE);
    let t: Vec<(String, String, u64)> = v
        .transitions()
        .into_iter()
        .map(|t| (t.from.label(), t.to.label(), t.count))
        .collect();
    let has = |a: &str, b: &str, n: u64| t.iter().any(|(x, y, c)| x == a && y == b && *c == n);
    assert!(has("out:session.start", "in:session.ready", 1), "{t:?}");
    assert!(has("in:session.ready", "out:user.message", 1));
    assert!(has("out:user.message", "in:response.created", 1));
    assert!(has(
        "in:response.created",
        "in:response.output_text.delta",
        1
    ));
    assert!(has(
        "in:response.output_text.delta",
        "in:response.output_text.delta",
        1
    ));
    assert!(has("in:response.output_text.done", "in:response.done", 1));
    assert_eq!(t.len(), 7);
    // Most frequent first, ties in wire order: the conversation reads in order.
    assert_eq!(
        (t[0].0.as_str(), t[0].1.as_str()),
        ("out:session.start", "in:session.ready")
    );
    assert_eq!(
        (t[4].0.as_str(), t[4].1.as_str()),
        (
            "in:response.output_text.delta",
            "in:response.output_text.delta"
        )
    );
    assert_eq!(
        (t[6].0.as_str(), t[6].1.as_str()),
        ("in:response.output_text.done", "in:response.done")
    );
    // Most frequent first.
    let mut w = Vocabulary::new();
    for i in 0..5 {
        w.observe(&text(i * 2 + 1, OUT, r#"{"type":"ping"}"#));
        w.observe(&text(i * 2 + 2, IN, r#"{"type":"pong"}"#));
    }
    let tr = w.transitions();
    assert_eq!(
        (tr[0].from.label(), tr[0].to.label(), tr[0].count),
        ("out:ping".into(), "in:pong".into(), 5)
    );
    assert_eq!((tr[1].from.label(), tr[1].count), ("in:pong".into(), 4));
}

#[test]
fn op_is_found_in_another_vocabulary() {
    let v = learn(&[
        (
            OUT,
            r#"{"op":"subscribe","args":["trades.BTC"],"req_id":"a1"}"#,
        ),
        (
            IN,
            r#"{"op":"subscribe","success":true,"req_id":"a1","conn_id":"c77"}"#,
        ),
        (
            IN,
            r#"{"topic":"trades.BTC","data":[{"p":"1.0"}],"op":"data"}"#,
        ),
        (OUT, r#"{"op":"ping"}"#),
        (IN, r#"{"op":"pong","ts":1700000000}"#),
    ]);
    assert_eq!(v.discriminator(), Some("op"));
    assert_eq!(v.get(&key(IN, "subscribe")).expect("in subscribe").count, 1);
    assert!(
        v.get(&key(IN, "data"))
            .expect("data")
            .field("data[].p")
            .is_some()
    );
}

#[test]
fn an_uncommon_discriminator_is_learned_once_its_values_repeat() {
    // `verb` is in no list: it wins because it is everywhere and repeats, while `path`, `rid`
    // and `ts` do not look like names or never repeat.
    let mut frames = Vec::new();
    for i in 0..12 {
        let verb = ["get", "put", "ack"][i % 3];
        frames.push(format!(
            r#"{{"verb":"{verb}","rid":"req{i:04}","path":"/k/{i}","ts":"2026-01-01T00:00:0{}Z"}}"#,
            i % 10
        ));
    }
    let mut v = Vocabulary::new();
    for (i, f) in frames.iter().enumerate() {
        v.observe(&text(i as u64 + 1, OUT, f));
    }
    assert_eq!(v.discriminator(), Some("verb"));
    // The frames before the choice were counted again under it.
    let counts: Vec<(String, u64)> = v
        .types()
        .iter()
        .map(|t| (t.key.name.clone(), t.count))
        .collect();
    assert_eq!(
        counts,
        [("get".into(), 4), ("put".into(), 4), ("ack".into(), 4)]
    );
    assert_eq!(v.transitions().iter().map(|t| t.count).sum::<u64>(), 11);
}

#[test]
fn common_names_win_ties_and_a_settled_choice_stays() {
    let v = learn(&[
        (OUT, r#"{"kind":"a","event":"x"}"#),
        (OUT, r#"{"kind":"b","event":"y"}"#),
    ]);
    assert_eq!(v.discriminator(), Some("event"));
    let mut w = Vocabulary::new();
    for i in 0..100u64 {
        w.observe(&text(
            i + 1,
            IN,
            &format!(r#"{{"type":"t{}","n":{i}}}"#, ["a", "b"][i as usize % 2]),
        ));
    }
    // After settling, frames that name their type differently are `(no type)`, not a new choice.
    for i in 0..200u64 {
        w.observe(&text(
            i + 101,
            IN,
            &format!(r#"{{"event":"e{}"}}"#, ["a", "b"][i as usize % 2]),
        ));
    }
    assert_eq!(w.discriminator(), Some("type"));
    assert_eq!(w.get(&key(IN, NO_TYPE)).expect("no type").count, 200);
}

#[test]
fn pseudo_types_make_counts_add_up_and_control_frames_are_ignored() {
    let mut v = Vocabulary::new();
    let frames = [
        text(1, OUT, r#"{"type":"hello"}"#),
        text(2, IN, r#"{"type":"hello"}"#),
        text(3, IN, r#"{"no":"discriminator"}"#),
        text(4, IN, "[1,2,3]"),
        text(5, IN, "\"just a string\""),
        text(6, IN, "not json at all"),
        frame(7, IN, Opcode::Binary, Bytes::from_static(b"RIFF....")),
        frame(8, IN, Opcode::Ping, Bytes::new()),
        frame(9, OUT, Opcode::Pong, Bytes::new()),
        frame(10, IN, Opcode::Close, Bytes::from_static(b"\x03\xe8")),
    ];
    frames.iter().for_each(|f| v.observe(f));
    assert_eq!(v.frames(), 7);
    assert_eq!(v.types().iter().map(|t| t.count).sum::<u64>(), 7);
    assert_eq!(v.get(&key(IN, NO_TYPE)).expect("no type").count, 1);
    assert_eq!(
        v.get(&key(IN, NOT_AN_OBJECT)).expect("not an object").count,
        2
    );
    assert_eq!(
        v.get(&key(IN, NOT_JSON)).expect("not json").latest,
        "not json at all"
    );
    assert_eq!(v.get(&key(IN, BINARY)).expect("binary").count, 1);
    assert!(
        v.get(&key(IN, NOT_AN_OBJECT))
            .expect("array")
            .field("[]")
            .is_some()
    );
    assert_eq!(v.classify(&frames[7]), None);
    assert_eq!(v.classify(&frames[5]), Some(key(IN, NOT_JSON)));
    assert_eq!(v.classify(&frames[0]), Some(key(OUT, "hello")));
    assert_eq!(
        v.classify(&text(11, OUT, r#"{"type":"new.one"}"#)),
        Some(key(OUT, "new.one"))
    );
}

#[test]
fn fields_required_optional_types_and_examples() {
    let v = learn(&[
        (IN, r#"{"type":"m","a":1,"b":"x","o":{"p":true}}"#),
        (
            IN,
            r#"{"type":"m","a":2.5,"o":{"p":false,"q":null},"l":[{"k":1},{"k":2,"j":"y"},"s"]}"#,
        ),
        (
            IN,
            r#"{"type":"m","a":null,"b":"a long value that goes on and on and on past the example limit"}"#,
        ),
    ]);
    let t = v.get(&key(IN, "m")).expect("m");
    assert_eq!(t.count, 3);
    let f = |p: &str| t.field(p).unwrap_or_else(|| panic!("{p}"));
    assert!(f("type").required(t) && f("a").required(t));
    assert!(!f("b").required(t) && !f("o").required(t) && !f("l").required(t));
    assert_eq!(
        f("a").types,
        [JsonType::Integer, JsonType::Number, JsonType::Null]
    );
    assert_eq!(f("a").example.as_deref(), Some("1"));
    assert_eq!(f("o.p").types, [JsonType::Boolean]);
    assert_eq!(f("o.q").types, [JsonType::Null]);
    assert_eq!(f("l[]").types, [JsonType::Object, JsonType::String]);
    // A path inside an array is seen once per frame, however many elements have it.
    assert_eq!((f("l[].k").seen, f("l[].k").occurrences), (1, 2));
    assert_eq!(f("o").example, None);
    let long = v
        .get(&key(IN, "m"))
        .and_then(|t| t.field("b"))
        .and_then(|f| f.example.clone())
        .expect("example");
    assert_eq!(long, "x");
    let mut w = Vocabulary::new();
    w.observe(&text(
        1,
        IN,
        r#"{"type":"n","b":"a long value that goes on and on and on past the example limit"}"#,
    ));
    let ex = w
        .get(&key(IN, "n"))
        .and_then(|t| t.field("b"))
        .and_then(|f| f.example.clone())
        .expect("b");
    assert!(ex.ends_with('…') && ex.chars().count() == 49, "{ex}");
}

#[test]
fn secrets_are_redacted_in_examples_and_latest() {
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
    let frame_text = format!(
        r#"{{"type":"auth","token":"s3cr3t-1","headers":{{"Authorization":"Bearer abc.def"}},"password":1234,
           "credentials":{{"user":"u","pin":"9"}},"api_key":"k-1","apiKey":"k-2","subscriptionKey":"k-3",
           "note":"{jwt}","other":"Bearer xyz","max_tokens":100,"key_id":"kid-1","list":[{{"secret":"s"}}]}}"#
    );
    let v = learn(&[(OUT, &frame_text)]);
    let t = v.get(&key(OUT, "auth")).expect("auth");
    let ex = |p: &str| {
        t.field(p)
            .and_then(|f| f.example.clone())
            .unwrap_or_else(|| panic!("{p}"))
    };
    for p in [
        "token",
        "headers.Authorization",
        "password",
        "credentials.user",
        "credentials.pin",
        "api_key",
        "apiKey",
        "subscriptionKey",
        "note",
        "other",
        "list[].secret",
    ] {
        assert_eq!(ex(p), "<redacted>", "{p}");
    }
    assert_eq!(ex("max_tokens"), "100");
    assert_eq!(ex("key_id"), "kid-1");
    // The type seen stays the real one.
    assert_eq!(
        t.field("password").expect("password").types,
        [JsonType::Integer]
    );
    let latest = serde_json::to_string(&t.latest).expect("json");
    for secret in [
        "s3cr3t", "abc.def", "1234", "\"u\"", "k-1", "k-2", "k-3", jwt, "xyz",
    ] {
        assert!(!latest.contains(secret), "{secret} in {latest}");
    }
    assert!(latest.contains("kid-1") && latest.contains("100"));
    // Text that is not JSON keeps no secret either.
    let w = learn(&[
        (OUT, "Bearer eyJabc.def.ghi"),
        (IN, "login ok, token=abc123"),
    ]);
    assert_eq!(
        w.get(&key(OUT, NOT_JSON)).expect("text").latest,
        "<redacted>"
    );
    assert_eq!(
        w.get(&key(IN, NOT_JSON)).expect("text").latest,
        "<redacted>"
    );
    // Nor does the vocabulary's debug form, while it still keeps raw frames to settle on a
    // discriminator.
    let v = learn(&[(OUT, &frame_text)]);
    assert!(!format!("{v:?}").contains("s3cr3t"));
}

#[test]
fn secret_keys_by_words() {
    use super::walk::{is_secret_key, looks_secret};
    for k in [
        "token",
        "access_token",
        "sessionToken",
        "Authorization",
        "client_secret",
        "api_key",
        "x-api-key",
        "APIKey",
        "key",
        "password",
        "credential",
        "Cookie",
        "auth",
    ] {
        assert!(is_secret_key(k), "{k}");
    }
    for k in [
        "max_tokens",
        "key_id",
        "keyboard",
        "monkey",
        "author",
        "type",
        "id",
        "tokens_used",
    ] {
        assert!(!is_secret_key(k), "{k}");
    }
    assert!(looks_secret("Bearer x") && looks_secret("basic dXNlcg=="));
    assert!(!looks_secret("Bearer") && !looks_secret("hello"));
}

#[test]
fn binary_shapes_by_magic_and_size_class() {
    let mut v = Vocabulary::new();
    let mut seq = 0;
    let mut push = |v: &mut Vocabulary, dir, bytes: Vec<u8>| {
        seq += 1;
        v.observe(&frame(seq, dir, Opcode::Binary, bytes));
    };
    for len in [100usize, 200, 1000] {
        let mut b = b"RIFF".to_vec();
        b.resize(len, 0);
        push(&mut v, IN, b);
    }
    push(&mut v, IN, vec![0xff]);
    push(&mut v, OUT, vec![]);
    // Audio: first bytes all different; past 16 distinct beginnings they gather under `*`.
    for i in 0..40u8 {
        push(&mut v, OUT, vec![i, i ^ 0x55, 1, 2, 3, 4, 5, 6]);
    }
    let shapes = v.binary();
    let riff = shapes.iter().find(|s| s.magic == "52494646").expect("RIFF");
    assert_eq!(
        (riff.dir, riff.count, riff.min_len, riff.max_len),
        (IN, 3, 100, 1000)
    );
    assert_eq!(riff.sizes, [(128, 1), (256, 1), (1024, 1)]);
    assert!(shapes.iter().any(|s| s.magic == "ff" && s.count == 1));
    let empty = shapes
        .iter()
        .find(|s| s.dir == OUT && s.magic.is_empty())
        .expect("empty");
    assert_eq!(empty.sizes, [(0, 1)]);
    let outs: Vec<_> = shapes.iter().filter(|s| s.dir == OUT).collect();
    assert_eq!(outs.len(), 17);
    assert_eq!(outs[0].magic, "*");
    assert_eq!(outs[0].count, 40 - 15);
    assert_eq!(v.get(&key(OUT, BINARY)).expect("binary").count, 41);
}

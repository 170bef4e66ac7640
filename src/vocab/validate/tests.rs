use super::*;
use crate::vocab::asyncapi::parse_json;
use crate::vocab::asyncapi::tests::{ECHO_DOC, Rng, mutations};
use Direction::{In, Out};

fn echo() -> Validator {
    Validator::new(&parse_json(ECHO_DOC).expect("doc")).expect("validator")
}

fn ok(message: &str) -> Option<Verdict> {
    Some(Verdict {
        message: message.into(),
        ok: true,
        errors: Vec::new(),
    })
}

#[test]
fn frames_that_fit_are_named_and_ok() {
    let v = echo();
    assert_eq!(v.check(Out, br#"{"type":"whoami"}"#), ok("whoami"));
    assert_eq!(
        v.check(
            In,
            br#"{"type":"whoami","query":"agent_session_id=s1","agent_session_id":"s1"}"#
        ),
        ok("whoami")
    );
    assert_eq!(
        v.check(
            In,
            br#"{"type":"whoami","query":"","agent_session_id":null}"#
        ),
        ok("whoami")
    );
    assert_eq!(v.check(Out, br#"{"type":"close"}"#), ok("close"));
    // Plain text is the `text/plain` message; so is JSON that names no message.
    assert_eq!(v.check(Out, b"hello"), ok("text"));
    assert_eq!(v.check(In, br#"{"hello":1}"#), ok("text"));
    assert!(v.skipped().is_empty());
}

#[test]
fn a_frame_that_breaks_its_schema_says_where_and_which_rule() {
    let v = echo();
    let verdict = v
        .check(Out, br#"{"type":"whoami","query":5}"#)
        .expect("claimed");
    assert_eq!(verdict.message, "whoami");
    assert!(!verdict.ok);
    assert_eq!(
        verdict.errors,
        vec![Violation {
            path: "/query".into(),
            rule: "type: \"string\" expected, got integer".into()
        }]
    );
    let verdict = v
        .check(In, br#"{"type":"whoami","agent_session_id":["no"]}"#)
        .expect("claimed");
    assert_eq!(verdict.errors[0].path, "/agent_session_id");
    assert_eq!(
        verdict.errors[0].rule,
        "type: \"null\" or \"string\" expected, got array"
    );
}

#[test]
fn binary_and_unknown_frames_claim_nothing() {
    let doc = parse_json(
        r##"{"asyncapi": "3.0.0", "info": {"title": "t", "version": "1"},
        "channels": {"c": {"messages": {
          "start": {"payload": {"type": "object", "required": ["type", "id"],
             "properties": {"type": {"const": "session.start"}, "id": {"type": "string", "minLength": 3},
                            "token": {"type": "string", "maxLength": 4}}}},
          "ready": {"payload": {"type": "object", "required": ["event"], "properties": {"event": {"const": "ready"}}}},
          "blob": {"contentType": "application/octet-stream", "payload": {"type": "string"}},
          "remote": {"payload": {"$ref": "https://example.com/schema.json"}}}}},
        "operations": {"o": {"action": "receive", "channel": {"$ref": "#/channels/c"},
           "messages": [{"$ref": "#/channels/c/messages/start"}]},
           "i": {"action": "send", "channel": {"$ref": "#/channels/c"},
           "messages": [{"$ref": "#/channels/c/messages/ready"}]}}}"##,
    )
    .expect("doc");
    let v = Validator::new(&doc).expect("validator");
    assert_eq!(
        v.skipped()
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        vec!["blob", "remote"]
    );
    assert!(v.skipped()[1].1.contains("https://example.com/schema.json"));
    assert_eq!(v.check(In, &[0xff, 0x00, 0x81]), None);
    assert_eq!(v.check(Out, br#"{"type":"other"}"#), None);
    assert_eq!(v.check(Out, b"not json"), None);
    assert_eq!(v.check(In, br#"{"event":"ready"}"#), ok("ready"));
    // The discriminator names the message even the other way; the missing field is reported
    // at the object, and the secret-looking value is not quoted.
    let verdict = v
        .check(
            In,
            br#"{"type":"session.start","id":"ab","token":"hunter22"}"#,
        )
        .expect("claimed");
    assert_eq!(verdict.message, "start");
    let rules: Vec<(&str, &str)> = verdict
        .errors
        .iter()
        .map(|e| (e.path.as_str(), e.rule.as_str()))
        .collect();
    assert_eq!(rules.len(), 2, "{rules:?}");
    assert!(
        rules
            .iter()
            .any(|(p, r)| *p == "/id" && r.starts_with("minLength: ")),
        "{rules:?}"
    );
    assert!(
        rules
            .iter()
            .any(|(p, r)| *p == "/token" && r.starts_with("maxLength: ")),
        "{rules:?}"
    );
    assert!(!format!("{rules:?}").contains("hunter22"), "{rules:?}");
    let verdict = v
        .check(Out, br#"{"type":"session.start"}"#)
        .expect("claimed");
    assert_eq!(
        verdict.errors,
        vec![Violation {
            path: String::new(),
            rule: "required: \"id\" is a required property".into()
        }]
    );
}

#[test]
fn a_schema_that_does_not_compile_is_an_error_naming_the_message() {
    let doc = parse_json(
        r##"{"asyncapi": "3.0.0", "info": {"title": "t", "version": "1"},
        "channels": {"c": {"messages": {"bad": {"payload": {"type": "object", "properties": {"s": {"type": "string", "pattern": "(unclosed"}}}}}}}}"##,
    )
    .expect("doc");
    let e = Validator::new(&doc).err().expect("error");
    assert!(
        e.to_string()
            .starts_with("message \"bad\": its payload schema does not compile"),
        "{e}"
    );
}

#[test]
fn violations_are_bounded() {
    let doc = parse_json(
        r##"{"asyncapi": "3.0.0", "info": {"title": "t", "version": "1"},
        "channels": {"c": {"messages": {"list": {"payload": {"type": "object", "required": ["type"],
          "properties": {"type": {"const": "list"}, "items": {"type": "array", "items": {"type": "integer"}}}}}}}}}"##,
    )
    .expect("doc");
    let v = Validator::new(&doc).expect("validator");
    let items: Vec<String> = (0..1000).map(|i| format!("\"s{i}\"")).collect();
    let frame = format!("{{\"type\":\"list\",\"items\":[{}]}}", items.join(","));
    let verdict = v.check(Out, frame.as_bytes()).expect("claimed");
    assert_eq!(verdict.errors.len(), MAX_VIOLATIONS);
    assert_eq!(verdict.errors[3].path, "/items/3");
}

#[test]
fn hostile_frames_never_panic() {
    let v = echo();
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let seeds: [&[u8]; 3] = [
        br#"{"type":"whoami","query":"a=1","agent_session_id":null}"#,
        br#"{"type":"close"}"#,
        b"hello there",
    ];
    let mut claimed = 0;
    for round in 0..5000 {
        let frame = mutations(seeds[round % seeds.len()], &mut rng);
        let dir = if round % 2 == 0 { Out } else { In };
        claimed += usize::from(v.check(dir, &frame).is_some());
    }
    assert!(claimed > 0);
    let deep = format!(
        "{{\"type\":\"whoami\",\"query\":{}{}}}",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let verdict = v.check(Out, deep.as_bytes());
    // Too deep for serde_json: the frame is still UTF-8 text, so it is the text message.
    assert_eq!(verdict, ok("text"));
}

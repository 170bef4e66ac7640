use super::*;
use crate::engine::target::{PreviewFlag, ProjectEndpoint, Route};
use crate::engine::{Direction, Target};
use serde_json::json;

/// `tests/agents/asyncapi_agent.py`'s document, as the SDK serves it.
pub(crate) const ECHO_DOC: &str = r##"{"asyncapi": "3.0.0", "info": {"title": "wsdeck echo agent", "version": "1.0.0", "description": "Echoes text and binary frames; a few JSON control messages."}, "channels": {"invocations_ws": {"address": "/invocations_ws", "messages": {"text": {"name": "text", "contentType": "text/plain", "payload": {"type": "string"}}, "whoami": {"name": "whoami", "contentType": "application/json", "payload": {"type": "object", "required": ["type"], "properties": {"type": {"const": "whoami"}, "query": {"type": "string"}, "agent_session_id": {"type": ["string", "null"]}}}}, "close": {"name": "close", "contentType": "application/json", "payload": {"type": "object", "properties": {"type": {"const": "close"}}}}, "raise": {"name": "raise", "contentType": "application/json", "payload": {"type": "object", "properties": {"type": {"const": "raise"}}}}}}}, "operations": {"sendToAgent": {"action": "receive", "channel": {"$ref": "#/channels/invocations_ws"}, "messages": [{"$ref": "#/channels/invocations_ws/messages/text"}, {"$ref": "#/channels/invocations_ws/messages/whoami"}, {"$ref": "#/channels/invocations_ws/messages/close"}, {"$ref": "#/channels/invocations_ws/messages/raise"}]}, "receiveFromAgent": {"action": "send", "channel": {"$ref": "#/channels/invocations_ws"}, "messages": [{"$ref": "#/channels/invocations_ws/messages/text"}, {"$ref": "#/channels/invocations_ws/messages/whoami"}]}}}"##;

/// The same document in YAML, as an author would write it.
const ECHO_YAML: &str = r##"
asyncapi: 3.0.0
info:
  title: wsdeck echo agent
  version: 1.0.0
  description: Echoes text and binary frames; a few JSON control messages.
channels:
  invocations_ws:
    address: /invocations_ws
    messages:
      text:
        name: text
        contentType: text/plain
        payload: {type: string}
      whoami:
        name: whoami
        contentType: application/json
        payload:
          type: object
          required: [type]
          properties:
            type: {const: whoami}
            query: {type: string}
            agent_session_id: {type: [string, "null"]}
      close:
        name: close
        contentType: application/json
        payload:
          type: object
          properties:
            type: {const: close}
      raise:
        name: raise
        contentType: application/json
        payload:
          type: object
          properties:
            type: {const: raise}
operations:
  sendToAgent:
    action: receive
    channel: {$ref: '#/channels/invocations_ws'}
    messages:
      - $ref: '#/channels/invocations_ws/messages/text'
      - $ref: '#/channels/invocations_ws/messages/whoami'
      - $ref: '#/channels/invocations_ws/messages/close'
      - $ref: '#/channels/invocations_ws/messages/raise'
  receiveFromAgent:
    action: send
    channel: {$ref: '#/channels/invocations_ws'}
    messages:
      - $ref: '#/channels/invocations_ws/messages/text'
      - $ref: '#/channels/invocations_ws/messages/whoami'
"##;

fn find<'a>(doc: &'a Document, name: &str, dir: Option<Direction>) -> &'a Message {
    doc.messages
        .iter()
        .find(|m| m.name == name && m.direction == dir)
        .unwrap_or_else(|| panic!("no {name} {dir:?} in {:#?}", doc.messages))
}

#[test]
fn the_echo_agents_document_reads_with_directions_fields_and_examples() {
    let doc = parse_json(ECHO_DOC).expect("doc");
    assert_eq!(doc.title, "wsdeck echo agent");
    assert_eq!(doc.version, "1.0.0");
    assert_eq!(doc.asyncapi, "3.0.0");
    assert_eq!(
        doc.description.as_deref(),
        Some("Echoes text and binary frames; a few JSON control messages.")
    );
    assert_eq!(
        doc.channels,
        vec![Channel {
            name: "invocations_ws".into(),
            address: Some("/invocations_ws".into())
        }]
    );
    let seen: Vec<(&str, Option<Direction>)> = doc
        .messages
        .iter()
        .map(|m| (m.name.as_str(), m.direction))
        .collect();
    use Direction::{In, Out};
    assert_eq!(
        seen,
        vec![
            ("text", Some(Out)),
            ("text", Some(In)),
            ("whoami", Some(Out)),
            ("whoami", Some(In)),
            ("close", Some(Out)),
            ("raise", Some(Out)),
        ]
    );
    let who = find(&doc, "whoami", Some(Out));
    assert_eq!(who.channel.as_deref(), Some("invocations_ws"));
    assert_eq!(who.content_type.as_deref(), Some("application/json"));
    assert_eq!(who.type_const.as_deref(), Some("whoami"));
    assert_eq!(who.example, json!({"type": "whoami"}));
    assert_eq!(
        who.fields(),
        vec![
            Field {
                name: "type".into(),
                types: "const \"whoami\"".into(),
                required: true
            },
            Field {
                name: "query".into(),
                types: "string".into(),
                required: false
            },
            Field {
                name: "agent_session_id".into(),
                types: "string | null".into(),
                required: false
            },
        ]
    );
    // Not required, but a const: the example carries it, or it would not be a `close`.
    assert_eq!(
        find(&doc, "close", Some(Out)).example,
        json!({"type": "close"})
    );
    let text = find(&doc, "text", Some(In));
    assert_eq!(text.type_const, None);
    assert_eq!(text.example, json!(""));
    assert_eq!(text.payload_types(), "string");
    assert!(text.fields().is_empty());
}

#[test]
fn the_yaml_form_reads_as_the_json_form() {
    assert_eq!(
        parse_yaml(ECHO_YAML).expect("yaml"),
        parse_json(ECHO_DOC).expect("json")
    );
    // JSON is YAML too.
    assert_eq!(
        parse_yaml(ECHO_DOC).expect("json as yaml"),
        parse_json(ECHO_DOC).expect("json")
    );
}

#[test]
fn yaml_keys_that_are_not_strings_become_text() {
    let doc = parse_yaml(
        "asyncapi: '3.0.0'\ninfo: {title: t, version: 1}\ncomponents:\n  messages:\n    200: {payload: {type: object, properties: {true: {type: integer}}}}\n",
    )
    .expect("doc");
    assert_eq!(doc.version, "1");
    let m = &doc.messages[0];
    assert_eq!(
        (m.name.as_str(), m.channel.as_ref(), m.direction),
        ("200", None, None)
    );
    assert_eq!(m.fields()[0].name, "true");
}

const V2: &str = r##"{
  "asyncapi": "2.6.0",
  "info": {"title": "Legacy", "version": "0.9"},
  "defaultContentType": "application/json",
  "channels": {
    "/ws": {
      "publish": {"operationId": "toAgent", "message": {"oneOf": [
        {"$ref": "#/components/messages/Ping"},
        {"messageId": "say", "payload": {"type": "object", "required": ["type", "text"],
          "properties": {"type": {"const": "say"}, "text": {"type": "string"}}}}
      ]}},
      "subscribe": {"message": {"$ref": "#/components/messages/Ping"}}
    }
  },
  "components": {"messages": {
    "Ping": {"payload": {"type": "object", "properties": {"type": {"enum": ["ping"]}, "at": {"type": "string", "format": "date-time"}}}},
    "Unused": {"payload": {"type": "integer"}}
  }}
}"##;

#[test]
fn asyncapi_2_publish_is_out_and_subscribe_is_in() {
    let doc = parse_json(V2).expect("v2");
    assert_eq!(doc.asyncapi, "2.6.0");
    assert_eq!(
        doc.channels,
        vec![Channel {
            name: "/ws".into(),
            address: Some("/ws".into())
        }]
    );
    let seen: Vec<(&str, Option<Direction>, Option<&str>)> = doc
        .messages
        .iter()
        .map(|m| (m.name.as_str(), m.direction, m.channel.as_deref()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("Ping", Some(Direction::Out), Some("/ws")),
            ("Ping", Some(Direction::In), Some("/ws")),
            ("say", Some(Direction::Out), Some("/ws")),
            ("Unused", None, None),
        ]
    );
    let ping = &doc.messages[0];
    assert_eq!(ping.type_const.as_deref(), Some("ping"));
    assert_eq!(ping.content_type.as_deref(), Some("application/json"));
    assert_eq!(ping.fields()[1].types, "string (date-time)");
    let say = &doc.messages[2];
    assert_eq!(say.example, json!({"type": "say", "text": ""}));
}

#[test]
fn local_refs_are_inlined_with_siblings_escapes_and_recursion() {
    let doc = parse_json(
        r##"{"asyncapi": "3.0.0", "info": {"title": "r", "version": "1"},
        "channels": {"c": {"$ref": "#/components/channels/main"}},
        "operations": {"o": {"action": "send", "channel": {"$ref": "#/channels/c"},
            "messages": [{"$ref": "#/components/channels/main/messages/node"}]}},
        "components": {
          "channels": {"main": {"address": "/m", "messages": {"node": {"$ref": "#/components/messages/Node"}}}},
          "messages": {"Node": {"name": "node", "payload": {"$ref": "#/components/schemas/a~1b%20c"},
             "examples": [{"payload": {"type": "node", "children": []}}]}},
          "schemas": {
            "a/b c": {"$ref": "#/components/schemas/Tree", "description": "beside the ref"},
            "Tree": {"type": "object", "required": ["type"], "properties": {
              "type": {"const": "node"},
              "children": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}}}}
          }}}"##,
    )
    .expect("doc");
    assert_eq!(doc.channels[0].address.as_deref(), Some("/m"));
    let m = &doc.messages[0];
    assert_eq!(
        (m.name.as_str(), m.direction),
        ("node", Some(Direction::In))
    );
    assert_eq!(m.payload["description"], "beside the ref");
    assert_eq!(m.payload["properties"]["type"]["const"], "node");
    assert_eq!(
        m.payload["properties"]["children"]["items"]["$comment"],
        "recursive $ref #/components/schemas/Tree not expanded"
    );
    assert_eq!(m.type_const.as_deref(), Some("node"));
    assert_eq!(m.example, json!({"type": "node", "children": []}));
    assert_eq!(m.fields()[1].types, "array of any");
}

#[test]
fn an_operation_without_messages_takes_the_whole_channel_and_unknown_actions_say_nothing() {
    let doc = parse_json(
        r##"{"asyncapi": "3.0.0", "info": {"title": "t", "version": "1"},
        "channels": {"a": {"messages": {"x": {}, "y": {}}}, "b": {"messages": {"z": {}}}},
        "operations": {"o": {"action": "receive", "channel": {"$ref": "#/channels/a"}},
                       "p": {"action": "wave", "channel": {"$ref": "#/channels/b"}}}}"##,
    )
    .expect("doc");
    let seen: Vec<(&str, Option<Direction>)> = doc
        .messages
        .iter()
        .map(|m| (m.name.as_str(), m.direction))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("x", Some(Direction::Out)),
            ("y", Some(Direction::Out)),
            ("z", None)
        ]
    );
    assert_eq!(doc.messages[0].payload, Value::Null);
    assert_eq!(doc.messages[0].payload_types(), "none");
}

#[test]
fn broken_documents_each_say_what_is_wrong() {
    let cases: [(&str, &str); 12] = [
        ("{\"asyncapi\": ", "not JSON: EOF while parsing"),
        ("[1, 2]", "the top level is a list, not an object"),
        (
            "{\"openapi\": \"3.1.0\"}",
            "it has no \"asyncapi\" version field",
        ),
        (
            "{\"asyncapi\": \"1.2.0\", \"info\": {}}",
            "asyncapi version \"1.2.0\": wsdeck reads 3.x",
        ),
        (
            "{\"asyncapi\": true}",
            "its \"asyncapi\" field is a boolean",
        ),
        ("{\"asyncapi\": \"3.0.0\"}", "at /info: is missing"),
        (
            "{\"asyncapi\": \"3.0.0\", \"info\": {}, \"channels\": []}",
            "at /channels: is a list, not an object",
        ),
        (
            r##"{"asyncapi": "3.0.0", "info": {}, "channels": {"c": {"messages": {"m": {"payload": {"$ref": "#/components/schemas/Nope"}}}}}}"##,
            "broken $ref \"#/components/schemas/Nope\" at /channels/c/messages/m/payload: nothing in the document is at that pointer",
        ),
        (
            r##"{"asyncapi": "3.0.0", "info": {}, "channels": {"c": {"messages": {"m": {"$ref": "other.yaml#/M"}}}}}"##,
            "points outside the document",
        ),
        (
            r##"{"asyncapi": "3.0.0", "info": {}, "channels": {"c": {"messages": {"m": {"payload": {"$ref": "#anchor"}}}}}}"##,
            "not anchors",
        ),
        (
            r##"{"asyncapi": "3.0.0", "info": {}, "channels": {"c": {"$ref": "#/channels/d"}, "d": {"$ref": "#/channels/c"}}}"##,
            "(a loop?)",
        ),
        (
            r##"{"asyncapi": "3.0.0", "info": {}, "channels": {"c": {"messages": {"m": "text"}}}}"##,
            "at /channels/c/messages/m: is a string, not an object",
        ),
    ];
    for (text, want) in cases {
        let e = parse_json(text).expect_err(text);
        assert!(e.to_string().contains(want), "{text}: {e}");
        assert_eq!(e.exit_code(), crate::exit::USAGE, "{e}");
    }
    let e = parse_yaml("asyncapi: [\n").expect_err("yaml");
    assert!(e.to_string().starts_with("not YAML: "), "{e}");
    let e = parse_yaml("{? [a]: 1}").expect_err("list key");
    assert!(e.to_string().contains("a mapping key is a list"), "{e}");
}

#[test]
fn refs_that_multiply_are_stopped() {
    // Each level points twice at the next: 2^40 values if inlined.
    let mut schemas = serde_json::Map::new();
    for i in 0..40 {
        let next = format!("#/components/schemas/s{}", i + 1);
        schemas.insert(
            format!("s{i}"),
            json!({"properties": {"a": {"$ref": next}, "b": {"$ref": next}}}),
        );
    }
    schemas.insert("s40".into(), json!({"type": "string"}));
    let doc = json!({"asyncapi": "3.0.0", "info": {},
        "channels": {"c": {"messages": {"m": {"payload": {"$ref": "#/components/schemas/s0"}}}}},
        "components": {"schemas": schemas}});
    let t = std::time::Instant::now();
    let e = parse_json(&doc.to_string()).expect_err("bomb");
    assert!(matches!(e, AsyncApiError::Expansion(_)), "{e}");
    assert!(t.elapsed() < std::time::Duration::from_secs(10));
    // Odd `$schema`s: a custom meta-schema wsdeck will not fetch, a number.
    for meta in [json!("https://example.com/custom-meta"), json!(5)] {
        let doc = json!({"asyncapi": "3.0.0", "info": {},
            "channels": {"c": {"messages": {"m": {"payload": {"$schema": meta, "type": "object"}}}}}});
        let doc = parse_json(&doc.to_string()).expect("reads");
        let v = crate::vocab::validate::Validator::new(&doc).expect("read as draft 7");
        assert!(v.check(Direction::Out, b"{}").is_some_and(|v| v.ok));
        assert_eq!(v.check(Direction::Out, b"[]"), None);
    }
    // A chain as deep as MAX_DEPTH through refs: refused, not a stack overflow.
    let mut schemas = serde_json::Map::new();
    for i in 0..400 {
        schemas.insert(
            format!("s{i}"),
            json!({"items": {"$ref": format!("#/components/schemas/s{}", i + 1)}}),
        );
    }
    schemas.insert("s400".into(), json!({}));
    let doc = json!({"asyncapi": "3.0.0", "info": {},
        "channels": {"c": {"messages": {"m": {"payload": {"$ref": "#/components/schemas/s0"}}}}},
        "components": {"schemas": schemas}});
    let e = parse_json(&doc.to_string()).expect_err("deep");
    assert!(e.to_string().contains("nested deeper than"), "{e}");
}

#[test]
fn too_large_documents_are_refused_unread() {
    let big = " ".repeat(MAX_DOCUMENT_BYTES + 1);
    assert!(matches!(
        parse_json(&big),
        Err(AsyncApiError::TooLarge { .. })
    ));
    assert!(matches!(
        parse_yaml(&big),
        Err(AsyncApiError::TooLarge { .. })
    ));
}

#[test]
fn document_urls_for_each_target_form() {
    assert_eq!(
        document_urls(&Target::local(8099)),
        vec![
            "http://localhost:8099/invocations/docs/asyncapi.json",
            "http://localhost:8099/invocations/docs/asyncapi.yaml"
        ]
    );
    let url = |raw: &str| document_urls(&Target::url(raw).expect("url"));
    assert_eq!(
        url("ws://127.0.0.1:9000/invocations_ws?agent_session_id=s")[0],
        "http://127.0.0.1:9000/invocations/docs/asyncapi.json?agent_session_id=s"
    );
    assert_eq!(
        url("wss://gw.example/team/a/invocations_ws")[1],
        "https://gw.example/team/a/invocations/docs/asyncapi.yaml"
    );
    assert_eq!(
        url("wss://h.example:8443/some/socket?k=v")[0],
        "https://h.example:8443/invocations/docs/asyncapi.json?k=v"
    );
    let ep = "https://acct.services.ai.azure.com/api/projects/proj";
    assert_eq!(
        document_urls(&Target::foundry(ep, "my-agent").expect("t")),
        vec![
            "https://acct.services.ai.azure.com/api/projects/proj/agents/my-agent/endpoint/protocols/invocations/docs/asyncapi.json?api-version=v1",
            "https://acct.services.ai.azure.com/api/projects/proj/agents/my-agent/endpoint/protocols/invocations/docs/asyncapi.yaml?api-version=v1",
        ]
    );
    let preview = |flag| {
        let e = ProjectEndpoint::parse(ep).expect("ep");
        document_urls(&Target::foundry_with(e, "a", Route::Preview, flag).expect("t")).remove(0)
    };
    assert_eq!(
        preview(PreviewFlag::Query),
        "https://acct.services.ai.azure.com/api/projects/agents/endpoint/protocols/invocations/docs/asyncapi.json?project_name=proj&agent_name=a&foundry_features=HostedAgents=V1Preview"
    );
    assert_eq!(
        preview(PreviewFlag::Header),
        "https://acct.services.ai.azure.com/api/projects/agents/endpoint/protocols/invocations/docs/asyncapi.json?project_name=proj&agent_name=a"
    );
    assert_eq!(
        document_urls(
            &Target::foundry("http://127.0.0.1:9000/api/projects/_default", "a").expect("t")
        )[0],
        "http://127.0.0.1:9000/api/projects/_default/agents/a/endpoint/protocols/invocations/docs/asyncapi.json?api-version=v1"
    );
}

/// Deterministic xorshift64*, so a failure reproduces.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Hostile variants of `seed`: truncated, bytes flipped, spans repeated, random bytes.
pub(crate) fn mutations(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = seed.to_vec();
    match rng.below(5) {
        0 => b.truncate(rng.below(seed.len() + 1)),
        1 => {
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(b.len());
                b[i] = rng.next() as u8;
            }
        }
        2 => {
            let i = rng.below(b.len());
            let j = (i + rng.below(64)).min(b.len());
            let span = b[i..j].to_vec();
            for _ in 0..rng.below(50) {
                b.splice(i..i, span.iter().copied());
            }
        }
        3 => {
            let tokens: [&[u8]; 8] = [
                b"{",
                b"[",
                b"\"$ref\": \"#/\"",
                b"&a",
                b"*a",
                b": ",
                b"- ",
                b"\n  ",
            ];
            for _ in 0..1 + rng.below(6) {
                let i = rng.below(b.len());
                let t = tokens[rng.below(tokens.len())];
                b.splice(i..i, t.iter().copied());
            }
        }
        _ => b = (0..rng.below(512)).map(|_| rng.next() as u8).collect(),
    }
    b
}

#[test]
fn hostile_documents_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let seeds = [ECHO_DOC.as_bytes(), ECHO_YAML.as_bytes(), V2.as_bytes()];
    let mut parsed = 0;
    for round in 0..3000 {
        let input = mutations(seeds[round % seeds.len()], &mut rng);
        let text = String::from_utf8_lossy(&input);
        for doc in [parse_json(&text), parse_yaml(&text)].into_iter().flatten() {
            parsed += 1;
            // What reads must also compile (or fail to) and check frames without a panic.
            if let Ok(v) = crate::vocab::validate::Validator::new(&doc) {
                for frame in [
                    &b"{\"type\":\"whoami\"}"[..],
                    b"hi",
                    &input[..input.len().min(64)],
                ] {
                    let _ = v.check(Direction::Out, frame);
                    let _ = v.check(Direction::In, frame);
                }
            }
        }
    }
    // Some mutations still read (a flipped byte in a description): the loop reaches the readers.
    assert!(parsed > 0);
    // Nesting past the parsers' limits is an error, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(parse_json(&deep).is_err());
    assert!(parse_yaml(&deep).is_err());
    let aliases = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    let e = parse_yaml(aliases).expect_err("aliases");
    assert!(
        matches!(e, AsyncApiError::NotYaml(_) | AsyncApiError::Expansion(_)),
        "{e}"
    );
}

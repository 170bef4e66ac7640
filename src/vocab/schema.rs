//! JSON Schemas (draft 2020-12) from inferred message types: what the frames seen so far have in
//! common, so that every one of them validates. Objects list their properties (nested), with
//! `required` for those present in every object at that place (each array element counted on
//! its own); the discriminator is a `const`. Nothing is closed (`additionalProperties` stays
//! open): a field never seen is not a field that cannot come. What inference did not look at
//! (levels past 16, elements past the 64th of an array, fields past 512 per type) is left
//! unconstrained or judged from the elements that were looked at.

use super::infer::{Field, JsonType, MessageType, is_pseudo_type};
use serde_json::{Map, Value, json};

pub const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

/// A JSON Schema (draft 2020-12) for one message type: object, properties (nested), required,
/// the discriminator as a `const`.
pub fn json_schema(t: &MessageType, discriminator: Option<&str>) -> Value {
    let mut root = Map::new();
    root.insert("$schema".into(), json!(DRAFT));
    root.insert(
        "title".into(),
        json!(format!("{} {}", t.key.dir.as_str(), t.key.name)),
    );
    root.insert(
        "description".into(),
        json!(format!(
            "Inferred by wsdeck from {} {} frame{}",
            t.count,
            match t.key.dir {
                crate::engine::Direction::Out => "sent",
                crate::engine::Direction::In => "received",
            },
            if t.count == 1 { "" } else { "s" }
        )),
    );
    if t.root_types.is_empty() {
        // Binary frames and text that is not JSON: there is nothing a JSON Schema can say.
        return Value::Object(root);
    }
    shape(t, None, &t.root_types, t.root_objects, &mut root);
    // The type name is the discriminator's value unless it was cut (long values) or the field
    // held more than one JSON type; only then is it a `const`.
    let whole_name = t.key.name.len() + 4 <= super::infer::MAX_NAME_BYTES;
    if let (Some(d), false, true) = (discriminator, is_pseudo_type(&t.key.name), whole_name)
        && let Some(Value::Object(props)) = root.get_mut("properties")
        && let Some(Value::Object(p)) = props.get_mut(d)
    {
        let value = match p.get("type").and_then(Value::as_str) {
            Some("integer") => t.key.name.parse::<i64>().ok().map(Value::from),
            Some("string") => Some(json!(t.key.name)),
            _ => None,
        };
        if let Some(value) = value {
            p.insert("const".into(), value);
        }
    }
    Value::Object(root)
}

/// The types, properties and items of the value at `node` (`None`: the frame) into `out`.
fn shape(
    t: &MessageType,
    node: Option<usize>,
    types: &[JsonType],
    objects: u64,
    out: &mut Map<String, Value>,
) {
    let names: Vec<&str> = types.iter().map(|ty| ty.name()).collect();
    match names.as_slice() {
        [] => {}
        [one] => {
            out.insert("type".into(), json!(one));
        }
        many => {
            out.insert("type".into(), json!(many));
        }
    }
    if types.contains(&JsonType::Object) {
        let mut props = Map::new();
        let mut required = Vec::new();
        for (i, f) in t.children(node) {
            let Some(key) = key_of(f) else { continue };
            let mut p = Map::new();
            shape(t, Some(i), &f.types, f.as_object, &mut p);
            props.insert(key.to_string(), Value::Object(p));
            if f.occurrences == objects && objects > 0 {
                required.push(json!(key));
            }
        }
        if !props.is_empty() {
            out.insert("properties".into(), Value::Object(props));
        }
        if !required.is_empty() {
            out.insert("required".into(), Value::Array(required));
        }
    }
    if types.contains(&JsonType::Array)
        && let Some(i) = t.items_of(node)
    {
        let f = &t.fields[i];
        let mut items = Map::new();
        shape(t, Some(i), &f.types, f.as_object, &mut items);
        out.insert("items".into(), Value::Object(items));
    }
}

fn key_of(f: &Field) -> Option<&str> {
    match &f.segment {
        super::infer::Segment::Key(k) => Some(k),
        super::infer::Segment::Items => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Direction, Frame, Opcode};
    use crate::vocab::infer::{TypeKey, Vocabulary};
    use bytes::Bytes;
    use std::time::Duration;

    fn text(seq: u64, dir: Direction, s: &str) -> Frame {
        Frame {
            seq,
            at: Duration::from_millis(seq),
            dir,
            opcode: Opcode::Text,
            payload: Bytes::from(s.to_string()),
        }
    }

    const VOICE: [(Direction, &str); 8] = [
        (
            Direction::Out,
            r#"{"type":"session.start","id":"m_1","ts":"2026-11-25T09:37:47.240Z","protocol_version":"1.0","reconnect":false,"response_timeouts":{"first_output_ms":5000,"idle_ms":3000,"max_duration_ms":60000}}"#,
        ),
        (
            Direction::In,
            r#"{"type":"session.ready","id":"m_e16c","ts":"2026-11-25T09:37:47.244Z"}"#,
        ),
        (
            Direction::Out,
            r#"{"type":"user.message","id":"m_2","ts":"2026-11-25T09:37:48.246Z","item_id":"in_0001","content":[{"type":"input_text","text":"hello"},{"type":"input_text","text":"again","lang":"en"}]}"#,
        ),
        (
            Direction::Out,
            r#"{"type":"user.message","id":"m_3","ts":"2026-11-25T09:37:49.246Z","item_id":"in_0002","content":[{"type":"input_text","text":"x"}],"extra":null}"#,
        ),
        (
            Direction::In,
            r#"{"type":"response.created","id":"m_a","ts":"2026-11-25T09:37:48.250Z","response_id":"r_be3c","in_reply_to":["in_0001"]}"#,
        ),
        (
            Direction::In,
            r#"{"type":"response.output_text.delta","id":"m_b","ts":"2026-11-25T09:37:48.251Z","response_id":"r_be3c","item_id":"it_068e","delta":"you "}"#,
        ),
        (
            Direction::In,
            r#"{"type":"response.output_text.delta","id":"m_c","ts":"2026-11-25T09:37:48.252Z","response_id":"r_be3c","item_id":"it_068e","delta":"said","n":1.5}"#,
        ),
        (
            Direction::In,
            r#"{"type":"response.output_text.delta","id":"m_d","ts":"2026-11-25T09:37:48.253Z","response_id":"r_be3c","item_id":"it_068e","delta":"!","n":2}"#,
        ),
    ];

    #[test]
    fn every_frame_validates_against_its_types_schema() {
        let frames: Vec<Frame> = VOICE
            .iter()
            .enumerate()
            .map(|(i, (d, s))| text(i as u64 + 1, *d, s))
            .collect();
        let mut v = Vocabulary::new();
        frames.iter().for_each(|f| v.observe(f));
        for f in &frames {
            let key = v.classify(f).expect("data frame");
            let t = v.get(&key).expect("learned");
            let schema = json_schema(t, v.discriminator());
            let validator = jsonschema::validator_for(&schema).expect("a valid schema");
            let instance: Value = serde_json::from_slice(&f.payload).expect("json");
            assert!(
                validator.is_valid(&instance),
                "{} does not validate against {schema:#}",
                f.text().unwrap_or_default()
            );
        }
        // And the schema says something: a frame of another type does not fit.
        let t = v
            .get(&TypeKey::new(Direction::Out, "user.message"))
            .expect("type");
        let schema = json_schema(t, v.discriminator());
        let validator = jsonschema::validator_for(&schema).expect("schema");
        let other: Value = serde_json::from_str(VOICE[0].1).expect("json");
        assert!(!validator.is_valid(&other));
        let wrong: Value = serde_json::from_str(
            r#"{"type":"user.message","id":"m_9","ts":"x","item_id":"in_9","content":[{"text":"no type"}]}"#,
        )
        .expect("json");
        assert!(!validator.is_valid(&wrong), "content[].type is required");
    }

    #[test]
    fn schema_shape_is_nested_with_required_and_const() {
        let mut v = Vocabulary::new();
        VOICE
            .iter()
            .enumerate()
            .for_each(|(i, (d, s))| v.observe(&text(i as u64 + 1, *d, s)));
        let t = v
            .get(&TypeKey::new(Direction::Out, "user.message"))
            .expect("type");
        let s = json_schema(t, v.discriminator());
        assert_eq!(s["$schema"], DRAFT);
        assert_eq!(s["type"], "object");
        assert_eq!(s["properties"]["type"]["const"], "user.message");
        let req: Vec<&str> = s["required"]
            .as_array()
            .expect("required")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(req, ["type", "id", "ts", "item_id", "content"]);
        let items = &s["properties"]["content"]["items"];
        assert_eq!(items["type"], "object");
        assert_eq!(items["required"], json!(["type", "text"]));
        assert_eq!(items["properties"]["lang"]["type"], "string");
        assert_eq!(s["properties"]["extra"]["type"], "null");
        let d = v
            .get(&TypeKey::new(Direction::In, "response.output_text.delta"))
            .expect("type");
        let s = json_schema(d, v.discriminator());
        assert_eq!(s["properties"]["n"]["type"], json!(["integer", "number"]));
        let start = v
            .get(&TypeKey::new(Direction::Out, "session.start"))
            .expect("type");
        let s = json_schema(start, v.discriminator());
        assert_eq!(
            s["properties"]["response_timeouts"]["required"],
            json!(["first_output_ms", "idle_ms", "max_duration_ms"])
        );
        assert_eq!(
            s["properties"]["response_timeouts"]["properties"]["idle_ms"]["type"],
            "integer"
        );
    }

    #[test]
    fn integer_discriminators_are_integer_consts_and_binary_has_no_shape() {
        let mut v = Vocabulary::new();
        for (i, s) in [
            r#"{"op":10,"d":{"hb":41250}}"#,
            r#"{"op":1,"d":null}"#,
            r#"{"op":11}"#,
        ]
        .iter()
        .enumerate()
        {
            v.observe(&text(i as u64 + 1, Direction::In, s));
        }
        assert_eq!(v.discriminator(), Some("op"));
        let t = v.get(&TypeKey::new(Direction::In, "10")).expect("op 10");
        let s = json_schema(t, v.discriminator());
        assert_eq!(s["properties"]["op"]["const"], 10);
        let validator = jsonschema::validator_for(&s).expect("schema");
        assert!(validator.is_valid(&json!({"op":10,"d":{"hb":1}})));
        v.observe(&Frame {
            seq: 9,
            at: Duration::ZERO,
            dir: Direction::In,
            opcode: Opcode::Binary,
            payload: Bytes::from_static(b"\x00\x01"),
        });
        let b = v
            .get(&TypeKey::new(Direction::In, crate::vocab::infer::BINARY))
            .expect("binary");
        let s = json_schema(b, v.discriminator());
        assert!(s.get("type").is_none() && s.get("properties").is_none());
    }
}

//! What a payload schema says in a few words: its fields with their types, its discriminator's
//! value, and a value made from it (a starting point for a frame to send).

use super::Field;
use serde_json::{Map, Value};

/// How deep an example or a type's description goes.
const MAX_DEPTH: usize = 16;
/// Fields listed per message, at most.
const MAX_FIELDS: usize = 256;
/// Keys that name the kind of a message, `type` first.
const DISCRIMINATORS: [&str; 6] = ["type", "event", "op", "kind", "action", "method"];

/// The value a discriminator field must have: `properties.type.const` (or a one-value `enum`),
/// else the same for `event`, `op`, …; in the schema or in one of its `allOf` parts.
pub(super) fn type_const(schema: &Value) -> Option<String> {
    let parts = object_parts(schema);
    DISCRIMINATORS.iter().find_map(|key| {
        parts.iter().find_map(|part| {
            let prop = part.get("properties")?.get(*key)?;
            match prop.get("const") {
                Some(Value::String(s)) => Some(s.clone()),
                _ => match prop.get("enum")?.as_array()?.as_slice() {
                    [Value::String(s)] => Some(s.clone()),
                    _ => None,
                },
            }
        })
    })
}

/// The schema and its `allOf` parts (one level), each an object.
fn object_parts(schema: &Value) -> Vec<&Map<String, Value>> {
    let Some(m) = schema.as_object() else {
        return Vec::new();
    };
    let mut parts = vec![m];
    if let Some(Value::Array(all)) = m.get("allOf") {
        parts.extend(all.iter().filter_map(Value::as_object));
    }
    parts
}

pub(super) fn fields(payload: &Value) -> Vec<Field> {
    let parts = object_parts(payload);
    let required: Vec<&str> = parts
        .iter()
        .filter_map(|p| p.get("required")?.as_array())
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut out: Vec<Field> = Vec::new();
    for part in parts {
        let Some(Value::Object(props)) = part.get("properties") else {
            continue;
        };
        for (name, schema) in props {
            if out.len() >= MAX_FIELDS {
                return out;
            }
            if out.iter().any(|f| &f.name == name) {
                continue;
            }
            out.push(Field {
                name: name.clone(),
                types: type_text(schema, 0),
                required: required.contains(&name.as_str()),
            });
        }
    }
    out
}

/// A schema in a few words: `string`, `integer | null`, `const "whoami"`, `array of string`,
/// `enum "a" | "b"`, `object`, `any`.
pub(super) fn type_text(schema: &Value, depth: usize) -> String {
    let m = match schema {
        Value::Object(m) => m,
        Value::Bool(true) => return "any".into(),
        Value::Bool(false) => return "nothing".into(),
        Value::Null => return "none".into(),
        _ => return "?".into(),
    };
    if depth > MAX_DEPTH {
        return "…".into();
    }
    if let Some(c) = m.get("const") {
        return format!("const {}", short_json(c));
    }
    if let Some(Value::Array(options)) = m.get("enum") {
        let mut parts: Vec<String> = options.iter().take(6).map(short_json).collect();
        if options.len() > 6 {
            parts.push("…".into());
        }
        return format!("enum {}", parts.join(" | "));
    }
    let types: Vec<&str> = match m.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() {
        let words: Vec<String> = types
            .iter()
            .map(|t| match *t {
                "array" => match m.get("items") {
                    Some(items @ Value::Object(_)) => {
                        format!("array of {}", type_text(items, depth + 1))
                    }
                    _ => "array".into(),
                },
                "string" => match m.get("format").and_then(Value::as_str) {
                    Some(f) => format!("string ({f})"),
                    None => "string".into(),
                },
                other => other.to_string(),
            })
            .collect();
        return words.join(" | ");
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(alts)) = m.get(key) {
            let mut parts: Vec<String> = alts
                .iter()
                .take(4)
                .map(|a| type_text(a, depth + 1))
                .collect();
            if alts.len() > 4 {
                parts.push("…".into());
            }
            return parts.join(" | ");
        }
    }
    if m.contains_key("properties") || m.contains_key("allOf") {
        return "object".into();
    }
    if m.contains_key("items") {
        return "array".into();
    }
    if let Some(r) = m.get("$ref").and_then(Value::as_str) {
        return format!("$ref {r}");
    }
    "any".into()
}

fn short_json(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        let cut: String = s.chars().take(39).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// A value the schema accepts, or close to it: consts, defaults, enums' first value, the first
/// of `examples`; for objects the required fields and those with a const or a default.
pub(super) fn from_schema(schema: &Value, depth: usize) -> Value {
    let Value::Object(m) = schema else {
        return Value::Null;
    };
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    for key in ["const", "default"] {
        if let Some(v) = m.get(key) {
            return v.clone();
        }
    }
    if let Some(v) = m
        .get("examples")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return v.clone();
    }
    if let Some(v) = m
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return v.clone();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = m.get(key).and_then(Value::as_array).and_then(|a| a.first()) {
            return from_schema(first, depth + 1);
        }
    }
    let ty = match m.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        // `["string", "null"]`: the first type that is not null.
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .or(Some("null")),
        _ => None,
    };
    let objecty = m.contains_key("properties") || m.contains_key("allOf");
    match ty {
        Some("object") => object_example(schema, depth),
        None if objecty => object_example(schema, depth),
        Some("array") => Value::Array(Vec::new()),
        Some("string") => Value::String(String::new()),
        Some("integer") | Some("number") => Value::from(0),
        Some("boolean") => Value::Bool(false),
        _ => Value::Null,
    }
}

fn object_example(schema: &Value, depth: usize) -> Value {
    let parts = object_parts(schema);
    let required: Vec<&str> = parts
        .iter()
        .filter_map(|p| p.get("required")?.as_array())
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut out = Map::new();
    for part in parts {
        let Some(Value::Object(props)) = part.get("properties") else {
            continue;
        };
        for (name, prop) in props.iter().take(MAX_FIELDS) {
            let wanted = required.contains(&name.as_str())
                || prop.get("const").is_some()
                || prop.get("default").is_some();
            if wanted && !out.contains_key(name) {
                out.insert(name.clone(), from_schema(prop, depth + 1));
            }
        }
    }
    Value::Object(out)
}

//! Frames checked against the payload schemas of an agent's AsyncAPI document: which message a
//! frame is (by its discriminator's value, else the one whose schema it fits), and where it
//! breaks that message's schema (the instance path and the rule).
//!
//! Schemas are compiled once per document with the `jsonschema` crate, built without remote
//! fetching: a schema that refers outside the document is not validated (see `skipped`).

use crate::engine::Direction;
use crate::vocab::asyncapi::{AsyncApiError, Document};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

/// Violations reported per frame, at most.
pub const MAX_VIOLATIONS: usize = 16;

pub struct Validator {
    entries: Vec<Entry>,
    skipped: Vec<(String, String)>,
}

struct Entry {
    name: String,
    direction: Option<Direction>,
    type_const: Option<String>,
    instance: Instance,
    schema: jsonschema::Validator,
}

/// What a frame's payload is to the schema.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Instance {
    /// The payload parsed as JSON (`application/json`, `…+json`, or no content type).
    Json,
    /// The payload's text as a JSON string (`text/*`).
    Text,
}

/// Which message a frame is, and whether it fits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub message: String,
    pub ok: bool,
    pub errors: Vec<Violation>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer of the instance, e.g. `/query` (`""` is the payload itself).
    pub path: String,
    /// The keyword and what it wants, e.g. `type: "integer" expected, got string`. The frame's
    /// values are not quoted (they may be secrets).
    pub rule: String,
}

impl Validator {
    /// Compile each message's payload schema once. A message with no payload, a content type
    /// that is neither JSON nor text, a schema format other than JSON Schema, or a `$ref` outside
    /// the document is left out (see `skipped`); a schema that does not compile is an error.
    pub fn new(doc: &Document) -> Result<Validator, AsyncApiError> {
        let mut entries = Vec::new();
        let mut skipped = Vec::new();
        for m in &doc.messages {
            let instance = match m.content_type.as_deref().map(str::to_ascii_lowercase) {
                None => Instance::Json,
                Some(ct) if ct.contains("json") => Instance::Json,
                Some(ct) if ct.starts_with("text/") => Instance::Text,
                Some(ct) => {
                    skipped.push((
                        m.name.clone(),
                        format!("content type {ct} is neither JSON nor text"),
                    ));
                    continue;
                }
            };
            if m.payload.is_null() {
                skipped.push((m.name.clone(), "no payload schema".into()));
                continue;
            }
            if m.payload.get("schemaFormat").is_some() {
                skipped.push((
                    m.name.clone(),
                    "its schema format is not JSON Schema".into(),
                ));
                continue;
            }
            if let Some(r) = outside_ref(&m.payload, 0) {
                skipped.push((
                    m.name.clone(),
                    format!(
                        "its schema refers to {r}, outside the document (wsdeck fetches nothing)"
                    ),
                ));
                continue;
            }
            let schema = compile(&m.payload).map_err(|why| AsyncApiError::Schema {
                message: m.name.clone(),
                why,
            })?;
            entries.push(Entry {
                name: m.name.clone(),
                direction: m.direction,
                type_const: m.type_const.clone(),
                instance,
                schema,
            });
        }
        Ok(Validator { entries, skipped })
    }

    /// Messages not validated, each with why.
    pub fn skipped(&self) -> &[(String, String)] {
        &self.skipped
    }

    /// Check one frame's payload. Picks the message by `type_const` (any top-level string field
    /// equal to it; a `dir` match is preferred), else the one of that direction (or of none)
    /// without a discriminator whose schema passes; `None` when no message of the document can
    /// be the one (then nothing is claimed).
    pub fn check(&self, dir: Direction, payload: &[u8]) -> Option<Verdict> {
        let text = std::str::from_utf8(payload).ok();
        let json: Option<Value> = text.and_then(|t| serde_json::from_str(t).ok());
        // The text as a JSON string, made once and only for a `text/*` message.
        let as_string: std::cell::OnceCell<Option<Value>> = std::cell::OnceCell::new();
        if let Some(Value::Object(obj)) = &json {
            let named = |e: &&Entry| {
                e.instance == Instance::Json
                    && e.type_const
                        .as_deref()
                        .is_some_and(|c| obj.values().any(|v| v.as_str() == Some(c)))
            };
            let by_name: Vec<&Entry> = self.entries.iter().filter(named).collect();
            let pick = by_name
                .iter()
                .find(|e| e.direction == Some(dir))
                .or_else(|| by_name.iter().find(|e| e.direction.is_none()))
                .or_else(|| by_name.first());
            if let Some(e) = pick {
                let instance = json.as_ref()?;
                return Some(verdict(e, instance));
            }
        }
        let of_dir = |want: Option<Direction>| {
            self.entries
                .iter()
                .filter(move |e| e.direction == want && e.type_const.is_none())
        };
        of_dir(Some(dir)).chain(of_dir(None)).find_map(|e| {
            let instance = match e.instance {
                Instance::Json => json.as_ref(),
                Instance::Text => as_string
                    .get_or_init(|| text.map(|t| Value::String(t.to_string())))
                    .as_ref(),
            }?;
            e.schema.is_valid(instance).then(|| Verdict {
                message: e.name.clone(),
                ok: true,
                errors: Vec::new(),
            })
        })
    }
}

/// AsyncAPI's own schema format is a superset of draft 7, the default. A `$schema` naming a
/// draft is followed; one naming a meta-schema wsdeck cannot know (it fetches none) is dropped
/// and the schema read as draft 7.
fn compile(payload: &Value) -> Result<jsonschema::Validator, String> {
    let draft7 = || jsonschema::options().with_draft(jsonschema::Draft::Draft7);
    let Some(Value::Object(m)) = payload.get("$schema").map(|_| payload) else {
        return draft7().build(payload).map_err(|e| e.to_string());
    };
    match jsonschema::options().build(payload) {
        Ok(v) => Ok(v),
        Err(first) => {
            let mut without = m.clone();
            without.remove("$schema");
            draft7()
                .build(&Value::Object(without))
                .map_err(|_| first.to_string())
        }
    }
}

fn verdict(e: &Entry, instance: &Value) -> Verdict {
    let errors: Vec<Violation> = e
        .schema
        .iter_errors(instance)
        .take(MAX_VIOLATIONS)
        .map(|err| Violation {
            path: err.instance_path().to_string(),
            rule: rule(&err),
        })
        .collect();
    Verdict {
        message: e.name.clone(),
        ok: errors.is_empty(),
        errors,
    }
}

fn rule(err: &jsonschema::ValidationError<'_>) -> String {
    let keyword = err.kind().keyword().to_string();
    match err.kind() {
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => format!("\"{t}\""),
                TypeKind::Multiple(set) => set
                    .iter()
                    .map(|t| format!("\"{t}\""))
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            format!(
                "{keyword}: {expected} expected, got {}",
                json_type(err.instance())
            )
        }
        _ => format!("{keyword}: {}", err.masked_with("the value")),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A `$ref` that is not a local pointer, anywhere in the schema.
fn outside_ref(v: &Value, depth: usize) -> Option<String> {
    if depth > crate::vocab::asyncapi::MAX_DEPTH + 8 {
        return None;
    }
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(Value::as_str)
                && !r.starts_with('#')
            {
                return Some(r.to_string());
            }
            m.values().find_map(|c| outside_ref(c, depth + 1))
        }
        Value::Array(items) => items.iter().find_map(|c| outside_ref(c, depth + 1)),
        _ => None,
    }
}

#[cfg(test)]
mod tests;

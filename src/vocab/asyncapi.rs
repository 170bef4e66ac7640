//! An agent's own AsyncAPI document: read (3.x first, 2.x on a best-effort basis) into the
//! messages a frame can be, each with its direction, content type, payload schema (local `$ref`s
//! resolved) and an example; and fetched from the agent (`fetch`).
//!
//! Documents come from the network, so every reader here is bounded: the text's size, the
//! nesting depth, the nodes that resolving `$ref`s may produce, the fields listed.

mod example;
mod fetch;
mod read;
mod refs;
#[cfg(test)]
pub(crate) mod tests;

pub use fetch::{Discovery, discover, document_urls};

use crate::engine::auth::AuthError;
use crate::engine::tls::TlsSetupError;
use crate::exit;
use serde_json::Value;
use std::time::Duration;
use thiserror::Error;

/// The largest document wsdeck reads (the SDK's own documents are a few KiB).
pub const MAX_DOCUMENT_BYTES: usize = 8 * 1024 * 1024;
/// Deeper nesting than this (after `$ref`s are inlined) is refused rather than recursed into.
pub(crate) const MAX_DEPTH: usize = 128;

#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub title: String,
    pub version: String,
    pub description: Option<String>,
    /// The `asyncapi` version field, e.g. `3.0.0`.
    pub asyncapi: String,
    pub channels: Vec<Channel>,
    pub messages: Vec<Message>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub name: String,
    pub address: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub name: String,
    pub channel: Option<String>,
    /// Seen from wsdeck's side, like captures: `Out` = we send it to the agent, `In` = the agent
    /// sends it. From the document's operations (`action: receive` = the agent receives = Out;
    /// `send` = In); `None` when the document does not say. A message that operations use both
    /// ways appears twice, once per direction.
    pub direction: Option<crate::engine::Direction>,
    pub content_type: Option<String>,
    /// The payload schema with local `$ref`s (`#/components/...`) resolved; `Null` when the
    /// message has none. A `$ref` that comes back to itself is left as an accept-anything schema
    /// with a `$comment` saying so; one that points outside the document stays a `$ref`.
    pub payload: Value,
    /// The value of the discriminator-like `const` in the payload (`properties.type.const`, else
    /// `event`, `op`, `kind`, `action` or `method`), if any.
    pub type_const: Option<String>,
    /// `examples[0].payload`, else a value made from the schema (required fields, consts, defaults).
    pub example: Value,
}

/// One top-level field of a message's payload, for listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// The schema in a few words: `string`, `string | null`, `const "whoami"`, `array of integer`.
    pub types: String,
    pub required: bool,
}

impl Message {
    /// The payload's top-level properties (those of `allOf` parts included), in document order.
    pub fn fields(&self) -> Vec<Field> {
        example::fields(&self.payload)
    }

    /// The payload schema in a few words (`object`, `string`, …), for a payload with no fields.
    pub fn payload_types(&self) -> String {
        example::type_text(&self.payload, 0)
    }
}

#[derive(Debug, Error)]
pub enum AsyncApiError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("not YAML: {0}")]
    NotYaml(String),
    #[error("the document is {len} bytes, more than the {max} wsdeck reads")]
    TooLarge { len: usize, max: usize },
    #[error("not an AsyncAPI document: {0}")]
    NotAsyncApi(String),
    #[error("at {at}: {why}")]
    Shape { at: String, why: String },
    #[error("broken $ref {reference:?} at {at}: {why}")]
    BrokenRef {
        reference: String,
        at: String,
        why: String,
    },
    #[error("resolving the document's $refs makes more than {0} values (refs that multiply)")]
    Expansion(usize),
    #[error("message {message:?}: its payload schema does not compile: {why}")]
    Schema { message: String, why: String },
    #[error("the document at {url} does not parse: {error}")]
    InDocument {
        url: String,
        error: Box<AsyncApiError>,
    },
    #[error("no token: {0}")]
    Auth(#[from] AuthError),
    #[error("TLS setup: {0}")]
    TlsSetup(#[from] TlsSetupError),
    #[error("cannot reach {url}: {why}")]
    Unreachable { url: String, why: String },
    #[error("timed out after {}s fetching {url}", after.as_secs_f32())]
    Timeout { url: String, after: Duration },
    #[error("GET {url}: HTTP {status} {reason}")]
    Refused {
        url: String,
        status: u16,
        reason: String,
        /// The start of the answer's body, with the token scrubbed out.
        body: String,
    },
}

impl AsyncApiError {
    /// SPEC.md's codes, as `connect` gives them: 2 for a document that does not parse (or a bad
    /// CA file), 3 for an HTTP refusal, 4 for no connection (DNS, TCP, TLS, timeout, no token).
    pub fn exit_code(&self) -> i32 {
        match self {
            AsyncApiError::Auth(_)
            | AsyncApiError::Unreachable { .. }
            | AsyncApiError::Timeout { .. } => exit::CONNECT_FAILED,
            AsyncApiError::TlsSetup(
                TlsSetupError::CaFile { .. } | TlsSetupError::CaFileEmpty { .. },
            ) => exit::USAGE,
            AsyncApiError::TlsSetup(_) => exit::CONNECT_FAILED,
            AsyncApiError::Refused { .. } => exit::HANDSHAKE_REFUSED,
            _ => exit::USAGE,
        }
    }

    /// What to do about it, one step a line (the same words `connect` uses for the same causes).
    pub fn advice(&self) -> Vec<String> {
        use crate::engine::diagnose::{ConnectError, Refusal};
        match self {
            AsyncApiError::Auth(e) => e.advice(),
            AsyncApiError::TlsSetup(_) => {
                vec!["give a PEM file of root certificates with --ca-cert FILE (or SSL_CERT_FILE)".into()]
            }
            AsyncApiError::Unreachable { .. } | AsyncApiError::Timeout { .. } => vec![
                "check the address and the port, and that the agent is running (the SDK's $PORT, default 8088)".into(),
                "for a wss:// or Foundry target behind a corporate proxy: --ca-cert FILE".into(),
            ],
            AsyncApiError::Refused { status, .. } => match status {
                401 | 403 => ConnectError::Refused {
                    refusal: Box::new(Refusal {
                        status: *status,
                        reason: String::new(),
                        headers: Vec::new(),
                        body: Vec::new(),
                        declared_len: None,
                    }),
                }
                .advice(),
                _ => vec![
                    "read the body above, and check the URL tried: it is made from the target (for Foundry, inferred from the WebSocket route)".into(),
                ],
            },
            AsyncApiError::NotJson(_)
            | AsyncApiError::NotYaml(_)
            | AsyncApiError::NotAsyncApi(_)
            | AsyncApiError::InDocument { .. } => vec![
                "the agent serves something at the URL above that is not an AsyncAPI document: check the document the agent registers (asyncapi_spec_json / asyncapi_spec_yaml)".into(),
            ],
            _ => Vec::new(),
        }
    }
}

/// Read an AsyncAPI document written as JSON.
pub fn parse_json(text: &str) -> Result<Document, AsyncApiError> {
    check_size(text)?;
    let value: Value =
        serde_json::from_str(text).map_err(|e| AsyncApiError::NotJson(e.to_string()))?;
    read::document(&value)
}

/// Read an AsyncAPI document written as YAML (JSON is YAML too).
pub fn parse_yaml(text: &str) -> Result<Document, AsyncApiError> {
    check_size(text)?;
    let yaml: serde_norway::Value =
        serde_norway::from_str(text).map_err(|e| AsyncApiError::NotYaml(e.to_string()))?;
    let mut budget = refs::MAX_NODES;
    let value = yaml_to_json(yaml, 0, &mut budget)?;
    read::document(&value)
}

fn check_size(text: &str) -> Result<(), AsyncApiError> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(AsyncApiError::TooLarge {
            len: text.len(),
            max: MAX_DOCUMENT_BYTES,
        });
    }
    Ok(())
}

/// YAML's richer values as JSON: keys that are numbers or booleans become their text (`200:`),
/// tags are dropped, non-finite numbers become null. Bounded, since aliases can multiply nodes.
fn yaml_to_json(
    v: serde_norway::Value,
    depth: usize,
    budget: &mut usize,
) -> Result<Value, AsyncApiError> {
    use serde_norway::Value as Y;
    if depth > MAX_DEPTH {
        return Err(AsyncApiError::NotYaml(format!(
            "nested deeper than {MAX_DEPTH} levels"
        )));
    }
    *budget = budget
        .checked_sub(1)
        .ok_or(AsyncApiError::Expansion(refs::MAX_NODES))?;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(|i| yaml_to_json(i, depth + 1, budget))
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(map) => {
            let mut out = serde_json::Map::new();
            for (k, val) in map {
                let key = match k {
                    Y::String(s) => s,
                    Y::Bool(b) => b.to_string(),
                    Y::Number(n) => n.to_string(),
                    Y::Null => "null".to_string(),
                    _ => {
                        return Err(AsyncApiError::NotYaml(
                            "a mapping key is a list or a mapping, which JSON cannot hold".into(),
                        ));
                    }
                };
                out.insert(key, yaml_to_json(val, depth + 1, budget)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => yaml_to_json(t.value, depth + 1, budget)?,
    })
}

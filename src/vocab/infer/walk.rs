//! One frame's fields walked into its message type, and its secrets redacted on the way (the
//! parsed frame becomes the type's `latest`, shown in templates).

use super::{
    Field, JsonType, MAX_FIELDS_PER_TYPE, MAX_FIELDS_TOTAL, MessageType, Segment, add_type, cut,
};
use serde_json::Value;

/// Levels of nesting learned (deeper values are redacted but not learned).
const MAX_DEPTH: usize = 16;
/// Elements of one array looked at.
const MAX_ELEMENTS: usize = 64;
/// Longest key kept in a path (longer ones are cut).
const MAX_KEY_BYTES: usize = 128;
/// Longest example kept, in characters.
const MAX_EXAMPLE_CHARS: usize = 48;

pub(crate) const REDACTED: &str = "<redacted>";

/// Words that make a key a credential's: `access_token`, `Authorization`, `client_secret`,
/// `apiKey`, `password`. Plurals such as `max_tokens` are counts, not secrets.
const SECRET_WORDS: [&str; 14] = [
    "token",
    "authorization",
    "auth",
    "password",
    "passwd",
    "pwd",
    "secret",
    "apikey",
    "credential",
    "credentials",
    "cookie",
    "jwt",
    "bearer",
    "signature",
];

/// Whether a key names a credential. Keys are split into words at punctuation and at camelCase
/// humps; `key` counts only as the last word (`api_key`, `subscriptionKey`, but not `key_id`).
pub(crate) fn is_secret_key(key: &str) -> bool {
    let mut last: Option<&str> = None;
    for word in words(key) {
        if SECRET_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word)) {
            return true;
        }
        last = Some(word);
    }
    last.is_some_and(|w| w.eq_ignore_ascii_case("key"))
}

/// `x-api_key` → `x`, `api`, `key`; `accessToken` → `access`, `Token`; `APIKey` → `API`, `Key`.
fn words(key: &str) -> impl Iterator<Item = &str> {
    let bytes = key.as_bytes();
    let mut start = 0usize;
    let mut i = 0usize;
    std::iter::from_fn(move || {
        while i <= bytes.len() {
            let at = i;
            i += 1;
            let end_here = at == bytes.len()
                || !bytes[at].is_ascii_alphanumeric() && bytes[at] < 0x80
                || (at > start
                    && bytes[at].is_ascii_uppercase()
                    && (bytes[at - 1].is_ascii_lowercase()
                        || (bytes[at - 1].is_ascii_uppercase()
                            && bytes.get(at + 1).is_some_and(u8::is_ascii_lowercase))));
            if !end_here {
                continue;
            }
            let word = &key[start..at];
            // A camelCase hump starts the next word; punctuation is skipped.
            start = if at < bytes.len() && bytes[at].is_ascii_uppercase() {
                at
            } else {
                at + 1
            };
            if !word.is_empty() {
                return Some(word);
            }
        }
        None
    })
}

/// A value that is a credential whatever its key: `Bearer …`, `Basic …`, a JWT.
pub(crate) fn looks_secret(s: &str) -> bool {
    let starts =
        |p: &str| s.len() > p.len() && s.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    if starts("bearer ") || starts("basic ") {
        return true;
    }
    s.len() >= 20
        && s.starts_with("eyJ")
        && s.bytes().filter(|b| *b == b'.').count() == 2
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'=' | b'+' | b'/')
        })
}

/// Whether free text (a frame that is not JSON) may hold a credential: it is then kept as
/// `<redacted>` as a whole, since there is no field to cut it at.
pub(crate) fn text_has_secret(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    s.contains("eyJ")
        || [
            "bearer ",
            "basic ",
            "token",
            "password",
            "secret",
            "api_key",
            "apikey",
            "authorization",
        ]
        .iter()
        .any(|w| lower.contains(w))
}

/// Learn one parsed frame's fields into `t`, redacting its secrets in place.
pub(super) fn learn_fields(t: &mut MessageType, v: &mut Value, fields_total: &mut usize) {
    let stamp = t.count;
    super::add_type(&mut t.root_types, JsonType::of(v));
    if v.is_object() {
        t.root_objects += 1;
    }
    let mut w = Walk {
        t,
        fields_total,
        stamp,
    };
    w.children(None, v, 1, false);
}

struct Walk<'a> {
    t: &'a mut MessageType,
    fields_total: &'a mut usize,
    stamp: u64,
}

impl Walk<'_> {
    /// The values inside `v` (the value at field `node`, or the root), at `depth`.
    fn children(&mut self, node: Option<usize>, v: &mut Value, depth: usize, secret: bool) {
        match v {
            Value::Object(m) => {
                for (k, child) in m.iter_mut() {
                    let key = cut(k, MAX_KEY_BYTES);
                    let field = if depth <= MAX_DEPTH {
                        self.field(node, Some(key), secret)
                    } else {
                        None
                    };
                    match field {
                        Some(i) => self.visit(i, child, depth),
                        None => redact(child, secret || is_secret_key(key)),
                    }
                }
            }
            Value::Array(a) => {
                let field = if depth <= MAX_DEPTH {
                    self.field(node, None, secret)
                } else {
                    None
                };
                for (n, el) in a.iter_mut().enumerate() {
                    match field {
                        Some(i) if n < MAX_ELEMENTS => self.visit(i, el, depth),
                        _ => redact(el, secret),
                    }
                }
            }
            _ => {}
        }
    }

    /// One value at field `i`.
    fn visit(&mut self, i: usize, v: &mut Value, depth: usize) {
        let stamp = self.stamp;
        let f = &mut self.t.fields[i];
        let ty = JsonType::of(v);
        add_type(&mut f.types, ty);
        f.occurrences += 1;
        if ty == JsonType::Object {
            f.as_object += 1;
        }
        if f.stamp != stamp {
            f.stamp = stamp;
            f.seen += 1;
        }
        let secret = f.secret;
        if let Value::String(s) = v
            && (secret || looks_secret(s))
        {
            *s = REDACTED.to_string();
        } else if secret && !matches!(v, Value::Object(_) | Value::Array(_) | Value::Null) {
            *v = Value::String(REDACTED.to_string());
        }
        let f = &mut self.t.fields[i];
        let scalar = !matches!(ty, JsonType::Object | JsonType::Array);
        if scalar && (f.example.is_none() || f.example_type == Some(JsonType::Null)) {
            let (text, ety) = match &*v {
                Value::String(s) if s == REDACTED => (REDACTED.to_string(), JsonType::String),
                Value::String(s) => (truncate(s), JsonType::String),
                other => (other.to_string(), ty),
            };
            f.example = Some(text);
            f.example_type = Some(ety);
        }
        self.children(Some(i), v, depth + 1, secret);
    }

    /// The field for `key` (or the elements, for `None`) under `parent`, made when new and room
    /// is left.
    fn field(&mut self, parent: Option<usize>, key: Option<&str>, secret: bool) -> Option<usize> {
        let t = &mut *self.t;
        let existing = match (parent, key) {
            (None, Some(k)) => t.root_children.get(k).copied(),
            (None, None) => t.root_items,
            (Some(p), Some(k)) => t.fields[p].children.get(k).copied(),
            (Some(p), None) => t.fields[p].items,
        };
        if existing.is_some() {
            return existing;
        }
        if t.fields.len() >= MAX_FIELDS_PER_TYPE || *self.fields_total >= MAX_FIELDS_TOTAL {
            return None;
        }
        let i = t.fields.len();
        let base = parent.map(|p| t.fields[p].path.as_str()).unwrap_or("");
        let (path, segment, secret) = match key {
            Some(k) if base.is_empty() => (
                k.to_string(),
                Segment::Key(k.to_string()),
                secret || is_secret_key(k),
            ),
            Some(k) => (
                format!("{base}.{k}"),
                Segment::Key(k.to_string()),
                secret || is_secret_key(k),
            ),
            None => (format!("{base}[]"), Segment::Items, secret),
        };
        t.fields.push(Field {
            path,
            types: Vec::new(),
            seen: 0,
            example: None,
            example_type: None,
            parent,
            segment,
            occurrences: 0,
            as_object: 0,
            secret,
            children: Default::default(),
            items: None,
            stamp: u64::MAX,
        });
        *self.fields_total += 1;
        match (parent, key) {
            (None, Some(k)) => {
                t.root_children.insert(k.to_string(), i);
            }
            (None, None) => t.root_items = Some(i),
            (Some(p), Some(k)) => {
                t.fields[p].children.insert(k.to_string(), i);
            }
            (Some(p), None) => t.fields[p].items = Some(i),
        }
        Some(i)
    }
}

fn truncate(s: &str) -> String {
    let mut out: String = s.chars().take(MAX_EXAMPLE_CHARS).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// Redact secrets in a value that is not learned (past the limits). serde_json refuses input
/// nested deeper than 128 levels, which bounds this recursion.
fn redact(v: &mut Value, secret: bool) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                redact(child, secret || is_secret_key(k));
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|el| redact(el, secret)),
        Value::String(s) if secret || looks_secret(s) => *s = REDACTED.to_string(),
        Value::Null => {}
        other if secret => *other = Value::String(REDACTED.to_string()),
        _ => {}
    }
}

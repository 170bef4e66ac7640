//! Local `$ref`s (`#/components/...`): followed for the document's objects (channels, messages,
//! operations), inlined for payload schemas. A reference outside the document is never fetched.

use super::{AsyncApiError, MAX_DEPTH};
use serde_json::{Map, Value};

/// The most values resolving may produce for one document: refs that each point at a pair of
/// refs double at every level, and a hostile document must not make gigabytes of them.
pub(super) const MAX_NODES: usize = 1_000_000;
/// A chain of refs to refs longer than this is a loop.
const MAX_HOPS: usize = 32;

/// The JSON pointer of a local reference (`#/a/b%20c` → `/a/b c`); `None` for one outside the
/// document (another file, a URL), which wsdeck leaves alone.
pub(super) fn local_pointer(reference: &str, at: &str) -> Option<Result<String, AsyncApiError>> {
    let fragment = reference.strip_prefix('#')?;
    let decoded = percent_encoding::percent_decode_str(fragment).decode_utf8();
    Some(match decoded {
        Ok(p) if p.is_empty() || p.starts_with('/') => Ok(p.into_owned()),
        Ok(_) => Err(AsyncApiError::BrokenRef {
            reference: reference.to_string(),
            at: at.to_string(),
            why: "wsdeck follows JSON pointers (#/...), not anchors".into(),
        }),
        Err(_) => Err(AsyncApiError::BrokenRef {
            reference: reference.to_string(),
            at: at.to_string(),
            why: "its percent-encoding is not UTF-8".into(),
        }),
    })
}

fn ref_of(v: &Value) -> Option<&str> {
    v.as_object()?.get("$ref")?.as_str()
}

/// Follow `v` while it is `{"$ref": "#/..."}`: the pointer where it ends (`here` when `v` is no
/// reference) and the value there.
pub(super) fn follow<'a>(
    root: &'a Value,
    v: &'a Value,
    here: &str,
) -> Result<(String, &'a Value), AsyncApiError> {
    let mut ptr = here.to_string();
    let mut cur = v;
    for _ in 0..MAX_HOPS {
        let Some(reference) = ref_of(cur) else {
            return Ok((ptr, cur));
        };
        let target = match local_pointer(reference, &ptr) {
            None => {
                return Err(AsyncApiError::BrokenRef {
                    reference: reference.to_string(),
                    at: ptr,
                    why: "it points outside the document, and wsdeck fetches nothing else".into(),
                });
            }
            Some(p) => p?,
        };
        cur = root
            .pointer(&target)
            .ok_or_else(|| AsyncApiError::BrokenRef {
                reference: reference.to_string(),
                at: ptr.clone(),
                why: "nothing in the document is at that pointer".into(),
            })?;
        ptr = target;
    }
    Err(AsyncApiError::BrokenRef {
        reference: ref_of(cur).unwrap_or_default().to_string(),
        at: ptr,
        why: format!("more than {MAX_HOPS} $refs in a row (a loop?)"),
    })
}

/// A copy of `v` with every local `$ref` replaced by what it points at. `budget` is the values
/// it may still make, shared by all the inlining of one document.
pub(super) fn inline(
    root: &Value,
    v: &Value,
    here: &str,
    budget: &mut usize,
) -> Result<Value, AsyncApiError> {
    let mut walk = Inliner {
        root,
        budget,
        stack: Vec::new(),
    };
    walk.go(v, At::Root(here), 0)
}

/// Where a value is, built into a pointer only for an error (a string per value would be most
/// of the work).
#[derive(Clone, Copy)]
enum At<'p> {
    Root(&'p str),
    Key(&'p At<'p>, &'p str),
    Index(&'p At<'p>, usize),
}

impl At<'_> {
    fn render(&self) -> String {
        match self {
            At::Root(p) => p.to_string(),
            At::Key(parent, k) => format!("{}/{}", parent.render(), escape(k)),
            At::Index(parent, i) => format!("{}/{i}", parent.render()),
        }
    }
}

struct Inliner<'a, 'b> {
    root: &'a Value,
    budget: &'b mut usize,
    /// The pointers being inlined, outermost first: a ref to one of them is recursion.
    stack: Vec<String>,
}

impl Inliner<'_, '_> {
    fn go(&mut self, v: &Value, at: At<'_>, depth: usize) -> Result<Value, AsyncApiError> {
        if depth > MAX_DEPTH {
            return Err(AsyncApiError::Shape {
                at: at.render(),
                why: format!("nested deeper than {MAX_DEPTH} levels once $refs are inlined"),
            });
        }
        *self.budget = self
            .budget
            .checked_sub(1)
            .ok_or(AsyncApiError::Expansion(MAX_NODES))?;
        match v {
            Value::Object(map) => {
                if let Some(reference) = map.get("$ref").and_then(Value::as_str)
                    && let Some(target) = local_pointer(reference, "")
                {
                    let target = target.map_err(|e| match e {
                        AsyncApiError::BrokenRef { reference, why, .. } => {
                            AsyncApiError::BrokenRef {
                                reference,
                                at: at.render(),
                                why,
                            }
                        }
                        other => other,
                    })?;
                    return self.reference(reference, target, map, at, depth);
                }
                let mut out = Map::new();
                for (k, child) in map {
                    out.insert(k.clone(), self.go(child, At::Key(&at, k), depth + 1)?);
                }
                Ok(Value::Object(out))
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len().min(4096));
                for (i, child) in items.iter().enumerate() {
                    out.push(self.go(child, At::Index(&at, i), depth + 1)?);
                }
                Ok(Value::Array(out))
            }
            other => Ok(other.clone()),
        }
    }

    fn reference(
        &mut self,
        reference: &str,
        target: String,
        map: &Map<String, Value>,
        at: At<'_>,
        depth: usize,
    ) -> Result<Value, AsyncApiError> {
        if self.stack.contains(&target) {
            // A recursive schema (a tree of nodes) cannot be inlined; below its first level it
            // accepts anything, and says so.
            let mut m = Map::new();
            m.insert(
                "$comment".into(),
                Value::String(format!("recursive $ref {reference} not expanded")),
            );
            return Ok(Value::Object(m));
        }
        let pointed = self
            .root
            .pointer(&target)
            .ok_or_else(|| AsyncApiError::BrokenRef {
                reference: reference.to_string(),
                at: at.render(),
                why: "nothing in the document is at that pointer".into(),
            })?;
        self.stack.push(target.clone());
        let resolved = self.go(pointed, At::Root(&target), depth + 1);
        self.stack.pop();
        let mut resolved = resolved?;
        // Keywords beside a `$ref` apply too (JSON Schema 2019+); merged over the target's.
        let siblings: Vec<(&String, &Value)> = map.iter().filter(|(k, _)| *k != "$ref").collect();
        if siblings.is_empty() {
            return Ok(resolved);
        }
        let mut merged = match resolved {
            Value::Object(ref mut m) => std::mem::take(m),
            other => {
                let mut m = Map::new();
                m.insert("allOf".into(), Value::Array(vec![other]));
                m
            }
        };
        for (k, child) in siblings {
            merged.insert(k.clone(), self.go(child, At::Key(&at, k), depth + 1)?);
        }
        Ok(Value::Object(merged))
    }
}

/// A key as a JSON pointer segment.
pub(super) fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

//! Finding the discriminator from the data: a top-level field present in (nearly) every JSON
//! object frame, whose values look like names (short, no spaces, not mostly digits) and repeat.
//! Common names (`type`, `event`, `op`, …) are preferred on ties, accepted before their values
//! have had a chance to repeat, and their values need only be one short word; any other field
//! must show repeats.

use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// The choice is final after this many JSON-object frames.
pub(super) const SETTLE_OBJECTS: u64 = 64;
/// …or when the frames kept meanwhile (all data frames since the first JSON object) reach these.
pub(super) const MAX_KEPT_FRAMES: usize = 4096;
pub(super) const MAX_KEPT_BYTES: usize = 16 << 20;

/// Top-level keys followed; later new keys are not candidates.
const MAX_KEYS: usize = 64;
/// Distinct values remembered per key (enough to see repeats; types are rarely more).
const MAX_VALUES: usize = 256;
const MAX_NAME_LEN: usize = 64;

/// The names agents use for it, best first.
const COMMON: [&str; 15] = [
    "type",
    "event",
    "op",
    "kind",
    "action",
    "method",
    "msg_type",
    "message_type",
    "messageType",
    "msgType",
    "event_type",
    "eventType",
    "cmd",
    "command",
    "t",
];

#[derive(Debug, Clone, Default)]
struct KeyStats {
    key: String,
    /// Frames whose value was name-like.
    names: u64,
    /// Of those, frames whose value had been seen before.
    repeats: u64,
    values: HashSet<String>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Stats {
    objects: u64,
    keys: Vec<KeyStats>,
    index: HashMap<String, usize>,
}

/// Short, starting with a letter, no spaces or punctuation beyond `_ . - : /`, and fewer digits
/// than letters: `response.output_text.delta`, `READY`, `subscribe`; not `m_1f3a…`, not
/// `2026-11-25T…`, not `hello world`.
pub(super) fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if s.len() > MAX_NAME_LEN || !first.is_alphabetic() {
        return false;
    }
    let mut digits = 0usize;
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits += 1;
        } else if !(c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | ':' | '/')) {
            return false;
        }
    }
    digits * 2 < s.chars().count()
}

/// Looser, for values under a common name (`type: "v2"`, `op: "h264"`): short, one word.
fn is_word(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NAME_LEN
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn common_rank(key: &str) -> Option<usize> {
    COMMON.iter().position(|k| *k == key)
}

impl Stats {
    pub(super) fn objects(&self) -> u64 {
        self.objects
    }

    pub(super) fn add(&mut self, obj: &Map<String, Value>) {
        self.objects += 1;
        for (k, v) in obj {
            let i = match self.index.get(k.as_str()) {
                Some(&i) => i,
                None if self.keys.len() < MAX_KEYS => {
                    self.index.insert(k.clone(), self.keys.len());
                    self.keys.push(KeyStats {
                        key: k.clone(),
                        ..KeyStats::default()
                    });
                    self.keys.len() - 1
                }
                None => continue,
            };
            let common = common_rank(k).is_some();
            let name: Option<std::borrow::Cow<str>> = match v {
                Value::String(s) if is_name(s) || (common && is_word(s)) => Some(s.as_str().into()),
                // Numeric op codes (Discord's `op`), only under a common name: elsewhere an
                // integer is a count or an id.
                Value::Number(n) if common && (n.is_i64() || n.is_u64()) => {
                    Some(n.to_string().into())
                }
                _ => None,
            };
            let Some(name) = name else { continue };
            let ks = &mut self.keys[i];
            ks.names += 1;
            if ks.values.contains(name.as_ref()) {
                ks.repeats += 1;
            } else if ks.values.len() < MAX_VALUES {
                ks.values.insert(name.into_owned());
            }
        }
    }

    /// The best candidate now, if any qualifies.
    pub(super) fn best(&self) -> Option<String> {
        if self.objects == 0 {
            return None;
        }
        let objects = self.objects as f64;
        self.keys
            .iter()
            .enumerate()
            .filter_map(|(order, ks)| {
                let coverage = ks.names as f64 / objects;
                let common = common_rank(&ks.key);
                let qualifies = match common {
                    Some(_) => coverage >= 0.5,
                    None => coverage >= 0.9 && ks.values.len() >= 2 && ks.repeats * 2 >= ks.names,
                };
                qualifies.then(|| {
                    // Lower sorts first: nearly everywhere, then a common name (in its order),
                    // then the most repetitive, then the first seen.
                    let nearly_all = if coverage >= 0.9 { 0 } else { 1 };
                    let common = common.unwrap_or(COMMON.len());
                    let unrepeated =
                        ((1.0 - ks.repeats as f64 / ks.names.max(1) as f64) * 1e6) as u64;
                    ((nearly_all, common, unrepeated, order), ks.key.clone())
                })
            })
            .min_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, k)| k)
    }
}

//! Vocabulary inference: which message types an agent speaks, per direction, with their fields,
//! which type follows which on the wire, and the shapes of binary frames. Frames go in one at a
//! time (`observe`), in O(their size), so a live session keeps its vocabulary current.
//!
//! The discriminator (`type`, `event`, `op`, …) is learned from the data (see `detect`). Frames
//! that cannot carry it still count, as pseudo-types, so a direction's counts add up to its
//! frames: `(no type)` (a JSON object without the field), `(not an object)` (other JSON),
//! `(not JSON)` (text that does not parse) and `(binary)`.

mod binary;
mod detect;
mod walk;

#[cfg(test)]
mod robustness;
#[cfg(test)]
mod tests;

use crate::engine::{Direction, Frame, Opcode};
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::HashMap;

/// A JSON object frame without the discriminator field (or with one that is not a name).
pub const NO_TYPE: &str = "(no type)";
/// A JSON frame that is an array, a string, a number…
pub const NOT_AN_OBJECT: &str = "(not an object)";
/// A text frame that does not parse as JSON.
pub const NOT_JSON: &str = "(not JSON)";
/// A binary frame.
pub const BINARY: &str = "(binary)";
/// Every type name past the per-direction limit, so a peer inventing names cannot grow memory.
pub const OTHER_TYPES: &str = "(other types)";

/// Whether a type name is one of the pseudo-types above rather than a discriminator value.
pub fn is_pseudo_type(name: &str) -> bool {
    [NO_TYPE, NOT_AN_OBJECT, NOT_JSON, BINARY, OTHER_TYPES].contains(&name)
}

/// Type names per direction; past it, frames count under `(other types)`.
const MAX_TYPES_PER_DIRECTION: usize = 1024;
/// Distinct (from, to) pairs kept; later new pairs are not counted.
const MAX_TRANSITIONS: usize = 65_536;
/// Distinct leading-byte groups per direction; later ones count under the magic `*`.
const MAX_MAGICS_PER_DIRECTION: usize = 16;
/// Frames larger than this are counted and walked but not kept as a type's `latest`.
const MAX_LATEST_BYTES: usize = 256 * 1024;
/// How much of a text frame that is not JSON is kept as its `latest`.
const NOT_JSON_PREVIEW_CHARS: usize = 256;
/// Longest type name kept (longer discriminator values are cut).
pub(crate) const MAX_NAME_BYTES: usize = 64;

/// A message type: its direction and its name (a discriminator value or a pseudo-type).
/// Ordered `Out` before `In`, then by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TypeKey {
    pub dir: Direction,
    pub name: String,
}

impl TypeKey {
    pub fn new(dir: Direction, name: impl Into<String>) -> Self {
        TypeKey {
            dir,
            name: name.into(),
        }
    }

    /// `out:user.message`, the form the JSON lines use.
    pub fn label(&self) -> String {
        format!("{}:{}", self.dir.as_str(), self.name)
    }
}

fn dir_rank(d: Direction) -> u8 {
    match d {
        Direction::Out => 0,
        Direction::In => 1,
    }
}

fn dir_index(d: Direction) -> usize {
    dir_rank(d) as usize
}

// By hand because `Direction` (engine) has no `Ord`; this order is the one `types()` shows.
impl PartialOrd for TypeKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for TypeKey {
    fn cmp(&self, other: &Self) -> Ordering {
        (dir_rank(self.dir), &self.name).cmp(&(dir_rank(other.dir), &other.name))
    }
}

/// The JSON types a field was seen with; `Integer` is a number without a fraction or exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JsonType {
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
    Null,
}

impl JsonType {
    pub fn name(self) -> &'static str {
        match self {
            JsonType::Object => "object",
            JsonType::Array => "array",
            JsonType::String => "string",
            JsonType::Integer => "integer",
            JsonType::Number => "number",
            JsonType::Boolean => "boolean",
            JsonType::Null => "null",
        }
    }

    pub fn of(v: &Value) -> JsonType {
        match v {
            Value::Object(_) => JsonType::Object,
            Value::Array(_) => JsonType::Array,
            Value::String(_) => JsonType::String,
            Value::Number(n) if n.is_i64() || n.is_u64() => JsonType::Integer,
            Value::Number(_) => JsonType::Number,
            Value::Bool(_) => JsonType::Boolean,
            Value::Null => JsonType::Null,
        }
    }
}

/// Adds `t` to a sorted, duplicate-free list.
pub(crate) fn add_type(types: &mut Vec<JsonType>, t: JsonType) {
    if let Err(at) = types.binary_search(&t) {
        types.insert(at, t);
    }
}

/// One step of a field's path: an object key, or the elements of an array (`[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Key(String),
    Items,
}

/// A field of a message type, as a path from the frame's root: `response_timeouts.idle_ms`,
/// `content[].type` (`[]` stands for the elements of an array).
#[derive(Debug, Clone)]
pub struct Field {
    pub path: String,
    /// The JSON types seen, sorted.
    pub types: Vec<JsonType>,
    /// Frames of its type in which it appeared.
    pub seen: u64,
    /// The first scalar value seen (truncated; `<redacted>` for secrets); `None` for objects and
    /// arrays.
    pub example: Option<String>,
    /// The JSON type of `example`, so it can be written back as a JSON value.
    pub(crate) example_type: Option<JsonType>,
    /// The field it is inside (`None`: the frame's root). Always an earlier index.
    pub(crate) parent: Option<usize>,
    pub(crate) segment: Segment,
    /// Values visited at this path, each array element counted (what a schema's `required`
    /// inside an array needs, where `seen` counts frames).
    pub(crate) occurrences: u64,
    /// How many of those values were objects.
    pub(crate) as_object: u64,
    /// The field's own key (or an enclosing one) names a credential: values are redacted.
    pub(crate) secret: bool,
    children: HashMap<String, usize>,
    items: Option<usize>,
    /// The type's frame number that last counted in `seen` (a path inside an array appears
    /// several times in one frame but is seen once).
    stamp: u64,
}

impl Field {
    /// Present in every frame of its type.
    pub fn required(&self, of: &MessageType) -> bool {
        self.seen == of.count
    }
}

/// Paths kept per message type.
pub(crate) const MAX_FIELDS_PER_TYPE: usize = 512;
/// Paths kept over the whole vocabulary.
pub(crate) const MAX_FIELDS_TOTAL: usize = 65_536;

/// A message type with what was learned about it.
#[derive(Debug, Clone)]
pub struct MessageType {
    pub key: TypeKey,
    pub count: u64,
    /// In the order first seen; nested paths like `content[].type`, `response_timeouts.idle_ms`.
    pub fields: Vec<Field>,
    /// The latest frame of this type, parsed (secrets redacted), for templates. A text frame that
    /// is not JSON is kept as a string (cut); binary frames keep `null`.
    pub latest: Value,
    /// The JSON types of whole frames of this type (empty for `(binary)` and `(not JSON)`).
    pub(crate) root_types: Vec<JsonType>,
    /// Frames of this type that were JSON objects.
    pub(crate) root_objects: u64,
    root_children: HashMap<String, usize>,
    root_items: Option<usize>,
}

impl MessageType {
    fn new(key: TypeKey) -> Self {
        MessageType {
            key,
            count: 0,
            fields: Vec::new(),
            latest: Value::Null,
            root_types: Vec::new(),
            root_objects: 0,
            root_children: HashMap::new(),
            root_items: None,
        }
    }

    /// The field at this path, if it was seen.
    pub fn field(&self, path: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.path == path)
    }

    /// Fields directly under `parent` (`None`: the frame's root), in first-seen order.
    pub(crate) fn children(&self, parent: Option<usize>) -> impl Iterator<Item = (usize, &Field)> {
        self.fields
            .iter()
            .enumerate()
            .filter(move |(_, f)| f.parent == parent && matches!(f.segment, Segment::Key(_)))
    }

    /// The field standing for the elements of the array at `parent`.
    pub(crate) fn items_of(&self, parent: Option<usize>) -> Option<usize> {
        match parent {
            None => self.root_items,
            Some(i) => self.fields.get(i).and_then(|f| f.items),
        }
    }
}

/// Which type followed which on the wire (both directions interleaved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub from: TypeKey,
    pub to: TypeKey,
    pub count: u64,
}

/// Binary frames of one direction that start with the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryShape {
    pub dir: Direction,
    /// Hex of the first (up to) 4 bytes; `*` gathers the frames past the per-direction limit of
    /// distinct beginnings (audio, whose first bytes are samples, ends up there).
    pub magic: String,
    pub count: u64,
    pub min_len: usize,
    pub max_len: usize,
    /// Size class (the power of two at or above the length; 0 for empty frames) → frames, by size.
    pub sizes: Vec<(usize, u64)>,
    prefix: Option<([u8; 4], u8)>,
}

/// A payload as the learner sees it.
enum Parsed {
    Binary,
    NotJson,
    Json(Value),
}

fn parse(frame: &Frame) -> Option<Parsed> {
    match frame.opcode {
        Opcode::Text => Some(match serde_json::from_slice::<Value>(&frame.payload) {
            Ok(v) => Parsed::Json(v),
            Err(_) => Parsed::NotJson,
        }),
        Opcode::Binary => Some(Parsed::Binary),
        Opcode::Ping | Opcode::Pong | Opcode::Close => None,
    }
}

/// The type name a parsed frame has under `discriminator`, before the per-direction limit.
fn type_name<'a>(parsed: &'a Parsed, discriminator: Option<&str>) -> std::borrow::Cow<'a, str> {
    use std::borrow::Cow;
    match parsed {
        Parsed::Binary => Cow::Borrowed(BINARY),
        Parsed::NotJson => Cow::Borrowed(NOT_JSON),
        Parsed::Json(Value::Object(m)) => match discriminator.and_then(|d| m.get(d)) {
            Some(Value::String(s)) if !s.is_empty() => Cow::Borrowed(cut(s, MAX_NAME_BYTES)),
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Cow::Owned(n.to_string()),
            _ => Cow::Borrowed(NO_TYPE),
        },
        Parsed::Json(_) => Cow::Borrowed(NOT_AN_OBJECT),
    }
}

/// `s` cut to at most `max` bytes at a character boundary.
pub(crate) fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Everything the vocabulary shows, apart from the discriminator choice. Cloneable so that a
/// change of discriminator while it is being settled can start again from a snapshot.
#[derive(Debug, Clone, Default)]
struct Learned {
    frames: u64,
    types: Vec<MessageType>,
    names: [HashMap<String, usize>; 2],
    /// (from, to) → (count, when first seen), the latter to list ties in wire order.
    transitions: HashMap<(usize, usize), (u64, u64)>,
    last: Option<usize>,
    binary: Vec<BinaryShape>,
    fields_total: usize,
}

impl Learned {
    fn type_index(&mut self, dir: Direction, name: &str) -> usize {
        let names = &mut self.names[dir_index(dir)];
        if let Some(&i) = names.get(name) {
            return i;
        }
        let name = if names.len() >= MAX_TYPES_PER_DIRECTION {
            if let Some(&i) = names.get(OTHER_TYPES) {
                return i;
            }
            OTHER_TYPES
        } else {
            name
        };
        let i = self.types.len();
        self.types.push(MessageType::new(TypeKey::new(dir, name)));
        names.insert(name.to_string(), i);
        i
    }

    fn learn(&mut self, frame: &Frame, parsed: Parsed, discriminator: Option<&str>) {
        let name = type_name(&parsed, discriminator);
        let i = self.type_index(frame.dir, &name);
        drop(name);
        self.frames += 1;
        if let Some(prev) = self.last
            && (self.transitions.len() < MAX_TRANSITIONS
                || self.transitions.contains_key(&(prev, i)))
        {
            let first = self.frames;
            self.transitions.entry((prev, i)).or_insert((0, first)).0 += 1;
        }
        self.last = Some(i);
        let t = &mut self.types[i];
        t.count += 1;
        match parsed {
            Parsed::Binary => binary::learn(&mut self.binary, frame),
            Parsed::NotJson => {
                let text = String::from_utf8_lossy(&frame.payload);
                let preview: String = text.chars().take(NOT_JSON_PREVIEW_CHARS).collect();
                t.latest = Value::String(if walk::text_has_secret(&preview) {
                    walk::REDACTED.to_string()
                } else {
                    preview
                });
            }
            Parsed::Json(mut v) => {
                walk::learn_fields(t, &mut v, &mut self.fields_total);
                if frame.payload.len() <= MAX_LATEST_BYTES {
                    t.latest = v;
                }
            }
        }
    }
}

/// How the discriminator is being learned.
///
/// It is settled after the first `detect::SETTLE_OBJECTS` JSON-object frames (or when the frames
/// kept for it reach their limits). Until then the frames since the first JSON object are kept,
/// and the choice is looked at again each time the number of JSON objects seen reaches a power
/// of two; when it changes, what was learned is rebuilt from a snapshot taken just before the
/// first JSON object plus the kept frames. That happens at most a handful of times over a
/// bounded number of frames, so `observe` stays O(frame size) amortised. Once settled the
/// choice never changes: a vocabulary that starts using another field later keeps its types
/// comparable, and frames without the field count as `(no type)`.
#[derive(Debug, Clone, Default)]
enum Detect {
    /// No JSON object seen yet: nothing depends on the discriminator.
    #[default]
    Waiting,
    Window(Box<Window>),
    Settled,
}

#[derive(Clone)]
struct Window {
    snapshot: Learned,
    kept: Vec<Frame>,
    kept_bytes: usize,
    stats: detect::Stats,
}

// By hand: the kept frames and the candidates' values are raw (unredacted) payload.
impl std::fmt::Debug for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Window")
            .field("kept", &self.kept.len())
            .field("kept_bytes", &self.kept_bytes)
            .field("objects", &self.stats.objects())
            .finish_non_exhaustive()
    }
}

/// The vocabulary of one session (or capture), learned frame by frame.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    learned: Learned,
    discriminator: Option<String>,
    detect: Detect,
}

impl Vocabulary {
    pub fn new() -> Self {
        Self::default()
    }

    /// Learn from one frame in O(its size) (amortised); control frames are ignored.
    pub fn observe(&mut self, frame: &Frame) {
        let Some(parsed) = parse(frame) else {
            return;
        };
        let is_object = matches!(parsed, Parsed::Json(Value::Object(_)));
        if matches!(self.detect, Detect::Waiting) && is_object {
            self.detect = Detect::Window(Box::new(Window {
                snapshot: self.learned.clone(),
                kept: Vec::new(),
                kept_bytes: 0,
                stats: detect::Stats::default(),
            }));
        }
        let Detect::Window(w) = &mut self.detect else {
            self.learned
                .learn(frame, parsed, self.discriminator.as_deref());
            return;
        };
        w.kept.push(frame.clone());
        w.kept_bytes += frame.payload.len();
        if let Parsed::Json(Value::Object(m)) = &parsed {
            w.stats.add(m);
        }
        let settle = w.stats.objects() >= detect::SETTLE_OBJECTS
            || w.kept.len() >= detect::MAX_KEPT_FRAMES
            || w.kept_bytes >= detect::MAX_KEPT_BYTES;
        let look_again = is_object && w.stats.objects().is_power_of_two();
        let choice = if look_again || settle {
            w.stats.best()
        } else {
            self.discriminator.clone()
        };
        if choice != self.discriminator {
            self.discriminator = choice;
            self.learned = w.snapshot.clone();
            for f in &w.kept {
                if let Some(p) = parse(f) {
                    self.learned.learn(f, p, self.discriminator.as_deref());
                }
            }
        } else {
            self.learned
                .learn(frame, parsed, self.discriminator.as_deref());
        }
        if settle {
            self.detect = Detect::Settled;
        }
    }

    /// `observe`, returning the type the frame was counted as (`None` for control frames): what
    /// a live session hands the `Correlator`, without parsing the frame a second time.
    pub fn observe_and_classify(&mut self, frame: &Frame) -> Option<TypeKey> {
        if !matches!(frame.opcode, Opcode::Text | Opcode::Binary) {
            return None;
        }
        self.observe(frame);
        // The frame just observed is the last one learned (after a rebuild too).
        let i = self.learned.last?;
        self.learned.types.get(i).map(|t| t.key.clone())
    }

    /// Frames observed (data frames only).
    pub fn frames(&self) -> u64 {
        self.learned.frames
    }

    /// The discriminator field learned from the data (`type`, `event`, `op`, …), if any.
    pub fn discriminator(&self) -> Option<&str> {
        self.discriminator.as_deref()
    }

    /// Message types: `Out` first, then `In`; within a direction by count, most first (ties in
    /// the order first seen).
    pub fn types(&self) -> Vec<&MessageType> {
        // `types` is in first-seen order and the sort is stable: ties stay in wire order.
        let mut v: Vec<&MessageType> = self.learned.types.iter().collect();
        v.sort_by(|a, b| {
            dir_rank(a.key.dir)
                .cmp(&dir_rank(b.key.dir))
                .then(b.count.cmp(&a.count))
        });
        v
    }

    pub fn get(&self, key: &TypeKey) -> Option<&MessageType> {
        let i = *self.learned.names[dir_index(key.dir)].get(&key.name)?;
        self.learned.types.get(i)
    }

    /// The type a frame belongs to (what `observe` would count it as), without learning.
    pub fn classify(&self, frame: &Frame) -> Option<TypeKey> {
        let parsed = parse(frame)?;
        let name = type_name(&parsed, self.discriminator.as_deref());
        let names = &self.learned.names[dir_index(frame.dir)];
        let name = if names.contains_key(name.as_ref()) || names.len() < MAX_TYPES_PER_DIRECTION {
            name.into_owned()
        } else {
            OTHER_TYPES.to_string()
        };
        Some(TypeKey::new(frame.dir, name))
    }

    /// Which type followed which on the wire (both directions interleaved), most frequent first
    /// (ties in the order first seen).
    pub fn transitions(&self) -> Vec<Transition> {
        let types = &self.learned.types;
        let mut v: Vec<(u64, Transition)> = self
            .learned
            .transitions
            .iter()
            .map(|(&(a, b), &(count, first))| {
                let t = Transition {
                    from: types[a].key.clone(),
                    to: types[b].key.clone(),
                    count,
                };
                (first, t)
            })
            .collect();
        v.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(&b.0)));
        v.into_iter().map(|(_, t)| t).collect()
    }

    /// Binary frames per direction: size classes and leading magic bytes (`Out` first, then by
    /// count).
    pub fn binary(&self) -> Vec<&BinaryShape> {
        let mut v: Vec<&BinaryShape> = self.learned.binary.iter().collect();
        v.sort_by(|a, b| {
            dir_rank(a.dir)
                .cmp(&dir_rank(b.dir))
                .then(b.count.cmp(&a.count))
                .then_with(|| a.magic.cmp(&b.magic))
        });
        v
    }
}

//! (placeholder API for the console's integration; the real inference lands from i10-vocab)

use crate::engine::{Direction, Frame};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeKey {
    pub dir: Direction,
    pub name: String,
}

#[derive(Debug, Default)]
pub struct Vocabulary {
    types: Vec<MessageType>,
    frames: u64,
}

#[derive(Debug, Clone)]
pub struct MessageType {
    pub key: TypeKey,
    pub count: u64,
    pub fields: Vec<Field>,
    pub latest: serde_json::Value,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub path: String,
    pub types: Vec<JsonType>,
    pub seen: u64,
    pub example: Option<String>,
}

impl Field {
    pub fn required(&self, of: &MessageType) -> bool {
        self.seen == of.count
    }
}

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
}

#[derive(Debug, Clone)]
pub struct Transition {
    pub from: TypeKey,
    pub to: TypeKey,
    pub count: u64,
}

#[derive(Debug, Clone)]
pub struct BinaryShape {
    pub dir: Direction,
    pub magic: String,
    pub count: u64,
    pub min_len: usize,
    pub max_len: usize,
    pub sizes: Vec<(usize, u64)>,
}

impl Vocabulary {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn observe(&mut self, frame: &Frame) {
        let Some(key) = self.classify(frame) else {
            return;
        };
        self.frames += 1;
        let latest = serde_json::from_slice(&frame.payload).unwrap_or_default();
        match self.types.iter_mut().find(|t| t.key == key) {
            Some(t) => {
                t.count += 1;
                t.latest = latest;
            }
            None => self.types.push(MessageType {
                key,
                count: 1,
                fields: vec![],
                latest,
            }),
        }
    }

    pub fn frames(&self) -> u64 {
        self.frames
    }

    pub fn discriminator(&self) -> Option<&str> {
        Some("type")
    }

    pub fn types(&self) -> Vec<&MessageType> {
        self.types.iter().collect()
    }

    pub fn get(&self, key: &TypeKey) -> Option<&MessageType> {
        self.types.iter().find(|t| &t.key == key)
    }

    pub fn classify(&self, frame: &Frame) -> Option<TypeKey> {
        let v: serde_json::Value = serde_json::from_slice(&frame.payload).ok()?;
        let name = v.get("type")?.as_str()?.to_string();
        Some(TypeKey {
            dir: frame.dir,
            name,
        })
    }

    pub fn transitions(&self) -> Vec<Transition> {
        vec![]
    }

    pub fn binary(&self) -> Vec<&BinaryShape> {
        vec![]
    }
}

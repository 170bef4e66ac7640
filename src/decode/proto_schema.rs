//! The user's `.proto` files, for protobuf frames with field names and types: a parser for the
//! common subset of proto2 and proto3 (`syntax`, `package`, `import`, `option`, messages with
//! nested messages and enums, labels, `map<K, V>`, `oneof`, `reserved`, comments, string
//! literals; `service` and `extend` blocks are skipped) and the lookups decoding needs.
//!
//! Imports are recorded and resolved only among the files given, except Google's well-known
//! types (`google/protobuf/timestamp.proto` and its siblings), which are built in because
//! nearly every schema imports one and nobody has them at hand. A type that none of the files
//! defines stays [`FieldKind::Unresolved`]: such a field is read as the schema-less reader reads
//! it, and [`ProtoSchema::unresolved`] lists them so a frontend can say so.

mod lex;
mod parse;
mod well_known;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ProtoError {
    /// The text is not a `.proto` file wsdeck reads; `message` says what was expected.
    #[error("{file}:{line}:{col}: {message}")]
    Parse {
        file: String,
        line: u32,
        col: u32,
        message: String,
    },
    #[error("{file}: {message}")]
    Io { file: String, message: String },
}

/// A `--message` (or `:proto … MESSAGE`) that names no message, or more than one.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum LookupError {
    #[error(
        "no message {name:?} in the .proto files; they define: {}",
        list(known)
    )]
    NotFound { name: String, known: Vec<String> },
    #[error("{name:?} is ambiguous: {}", candidates.join(", "))]
    Ambiguous {
        name: String,
        candidates: Vec<String>,
    },
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "no messages at all".into()
    } else {
        names.join(", ")
    }
}

/// The scalar types of the language, with their wire form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    Double,
    Float,
    Int32,
    Int64,
    Uint32,
    Uint64,
    Sint32,
    Sint64,
    Fixed32,
    Fixed64,
    Sfixed32,
    Sfixed64,
    Bool,
    String,
    Bytes,
}

impl Scalar {
    const ALL: [Scalar; 15] = [
        Scalar::Double,
        Scalar::Float,
        Scalar::Int32,
        Scalar::Int64,
        Scalar::Uint32,
        Scalar::Uint64,
        Scalar::Sint32,
        Scalar::Sint64,
        Scalar::Fixed32,
        Scalar::Fixed64,
        Scalar::Sfixed32,
        Scalar::Sfixed64,
        Scalar::Bool,
        Scalar::String,
        Scalar::Bytes,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scalar::Double => "double",
            Scalar::Float => "float",
            Scalar::Int32 => "int32",
            Scalar::Int64 => "int64",
            Scalar::Uint32 => "uint32",
            Scalar::Uint64 => "uint64",
            Scalar::Sint32 => "sint32",
            Scalar::Sint64 => "sint64",
            Scalar::Fixed32 => "fixed32",
            Scalar::Fixed64 => "fixed64",
            Scalar::Sfixed32 => "sfixed32",
            Scalar::Sfixed64 => "sfixed64",
            Scalar::Bool => "bool",
            Scalar::String => "string",
            Scalar::Bytes => "bytes",
        }
    }

    pub fn parse(name: &str) -> Option<Scalar> {
        Scalar::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The wire type a single value is sent with: 0 varint, 1 64-bit, 2 length-delimited,
    /// 5 32-bit.
    pub fn wire_type(self) -> u8 {
        match self {
            Scalar::Double | Scalar::Fixed64 | Scalar::Sfixed64 => 1,
            Scalar::Float | Scalar::Fixed32 | Scalar::Sfixed32 => 5,
            Scalar::String | Scalar::Bytes => 2,
            _ => 0,
        }
    }

    /// Repeated fields of these may come packed (one length-delimited run of values).
    pub fn packable(self) -> bool {
        self.wire_type() != 2
    }

    fn can_be_map_key(self) -> bool {
        !matches!(self, Scalar::Double | Scalar::Float | Scalar::Bytes)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// No label (proto3's implicit presence, or a oneof member).
    Singular,
    Optional,
    Required,
    Repeated,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    Scalar(Scalar),
    /// A message type, by its full name (a key of the schema).
    Message(String),
    /// An enum type, by its full name.
    Enum(String),
    /// `map<K, V>`: on the wire, repeated entries with the key as field 1 and the value as 2.
    Map {
        key: Scalar,
        value: Box<FieldKind>,
    },
    /// A type name (as written) that none of the files given defines.
    Unresolved(String),
}

impl FieldKind {
    /// The type as a `.proto` would spell it, fully qualified.
    pub fn describe(&self) -> String {
        match self {
            FieldKind::Scalar(s) => s.name().into(),
            FieldKind::Message(n) | FieldKind::Enum(n) | FieldKind::Unresolved(n) => n.clone(),
            FieldKind::Map { key, value } => format!("map<{}, {}>", key.name(), value.describe()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    pub name: String,
    pub number: u32,
    pub label: Label,
    pub kind: FieldKind,
    /// The oneof this field belongs to.
    pub oneof: Option<String>,
    /// `[packed = …]` when given. Decoding does not need it: readers accept both forms.
    pub packed: Option<bool>,
    /// The named type as written (a map's value type), kept so resolution can run again when
    /// more files are merged.
    written: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageDef {
    /// `voice.v1.Frame`, `voice.v1.Frame.Meta` for a nested one.
    pub full_name: String,
    /// The file that defines it, as it was named to [`ProtoSchema::parse`].
    pub file: String,
    pub top_level: bool,
    /// In the order written.
    pub fields: Vec<FieldDef>,
    /// (number, index into `fields`), sorted: frames may carry many fields.
    by_number: Vec<(u32, usize)>,
    /// Line and column of its name, for errors.
    at: (u32, u32),
}

impl MessageDef {
    pub fn field(&self, number: u32) -> Option<&FieldDef> {
        let i = self
            .by_number
            .binary_search_by_key(&number, |(n, _)| *n)
            .ok()?;
        self.fields.get(self.by_number[i].1)
    }

    /// The name without its package and enclosing messages.
    pub fn short_name(&self) -> &str {
        self.full_name.rsplit('.').next().unwrap_or(&self.full_name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumDef {
    pub full_name: String,
    /// (name, number) in the order written; with `allow_alias`, the first name of a number
    /// is the one shown.
    pub values: Vec<(String, i32)>,
    at: (u32, u32),
}

impl EnumDef {
    pub fn name_of(&self, number: i32) -> Option<&str> {
        self.values
            .iter()
            .find(|(_, n)| *n == number)
            .map(|(s, _)| s.as_str())
    }
}

/// One parsed file, as the user gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ParsedFile {
    name: String,
    /// `proto2` (when the file says nothing), `proto3`, or `editions 2023`.
    syntax: String,
    package: String,
    imports: Vec<String>,
    /// Every message of the file, parents before their nested ones, in the order written.
    messages: Vec<MessageDef>,
    enums: Vec<EnumDef>,
}

/// A field whose type none of the files defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    pub message: String,
    pub field: String,
    pub type_name: String,
}

/// The messages and enums of one or more `.proto` files, their type names resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtoSchema {
    files: Vec<ParsedFile>,
    /// Well-known files pulled in for imports that none of `files` is.
    builtin: Vec<ParsedFile>,
    messages: BTreeMap<String, MessageDef>,
    enums: BTreeMap<String, EnumDef>,
}

impl ProtoSchema {
    /// Parse one file's text; `file` names it in errors and in [`MessageDef::file`].
    pub fn parse(text: &str, file: &str) -> Result<ProtoSchema, ProtoError> {
        let parsed = parse::parse_file(text, file)?;
        ProtoSchema::build(vec![parsed])
    }

    /// Both schemas' files together (types in one may refer to the other's); a message or enum
    /// defined in both is an error. A file merged twice (the same name) counts once.
    pub fn merge(self, other: ProtoSchema) -> Result<ProtoSchema, ProtoError> {
        let mut files = self.files;
        for f in other.files {
            if !files.iter().any(|g| g.name == f.name) {
                files.push(f);
            }
        }
        ProtoSchema::build(files)
    }

    /// Every message of the files given, fully qualified, nested ones included, in the order
    /// the files were given and the messages written.
    pub fn messages(&self) -> Vec<String> {
        self.files
            .iter()
            .flat_map(|f| f.messages.iter().map(|m| m.full_name.clone()))
            .collect()
    }

    /// The top-level messages, in the order of the files and then as written: the candidates
    /// when no message is named.
    pub fn top_level_messages(&self) -> impl Iterator<Item = &MessageDef> {
        self.files
            .iter()
            .flat_map(|f| f.messages.iter().filter(|m| m.top_level))
            .filter_map(|m| self.messages.get(&m.full_name))
    }

    /// A message by its full name (a leading `.` allowed) or, when only one message has it, by
    /// a shorter name: `Frame`, `v1.Frame`, `Frame.Meta`.
    pub fn lookup(&self, name: &str) -> Result<&MessageDef, LookupError> {
        let name = name.trim().trim_start_matches('.');
        if let Some(m) = self.messages.get(name) {
            return Ok(m);
        }
        let suffix = format!(".{name}");
        let candidates: Vec<&MessageDef> = self
            .messages
            .values()
            .filter(|m| m.full_name.ends_with(&suffix))
            .collect();
        match candidates.as_slice() {
            [one] => Ok(one),
            [] => Err(LookupError::NotFound {
                name: name.to_string(),
                known: self.messages(),
            }),
            many => Err(LookupError::Ambiguous {
                name: name.to_string(),
                candidates: many.iter().map(|m| m.full_name.clone()).collect(),
            }),
        }
    }

    /// [`lookup`](Self::lookup) without the reason.
    pub fn message(&self, name: &str) -> Option<&MessageDef> {
        self.lookup(name).ok()
    }

    pub fn enumeration(&self, full_name: &str) -> Option<&EnumDef> {
        self.enums.get(full_name)
    }

    /// The names of the files given, in order.
    pub fn files(&self) -> Vec<&str> {
        self.files.iter().map(|f| f.name.as_str()).collect()
    }

    /// Fields whose type none of the files defines (read without a schema).
    pub fn unresolved(&self) -> Vec<Unresolved> {
        let mut out = Vec::new();
        for f in &self.files {
            for m in &f.messages {
                let Some(m) = self.messages.get(&m.full_name) else {
                    continue;
                };
                for fd in &m.fields {
                    let kind = match &fd.kind {
                        FieldKind::Map { value, .. } => value.as_ref(),
                        k => k,
                    };
                    if let FieldKind::Unresolved(t) = kind {
                        out.push(Unresolved {
                            message: m.full_name.clone(),
                            field: fd.name.clone(),
                            type_name: t.clone(),
                        });
                    }
                }
            }
        }
        out
    }

    fn build(files: Vec<ParsedFile>) -> Result<ProtoSchema, ProtoError> {
        let builtin = well_known::needed(&files);
        let mut messages = BTreeMap::new();
        let mut enums = BTreeMap::new();
        let mut owner: BTreeMap<String, &str> = BTreeMap::new();
        for f in files.iter().chain(&builtin) {
            let names = f
                .messages
                .iter()
                .map(|m| (&m.full_name, m.at))
                .chain(f.enums.iter().map(|e| (&e.full_name, e.at)));
            for (name, (line, col)) in names {
                if let Some(first) = owner.insert(name.clone(), &f.name) {
                    return Err(ProtoError::Parse {
                        file: f.name.clone(),
                        line,
                        col,
                        message: format!("{name} is already defined in {first}"),
                    });
                }
            }
            for m in &f.messages {
                messages.insert(m.full_name.clone(), m.clone());
            }
            for e in &f.enums {
                enums.insert(e.full_name.clone(), e.clone());
            }
        }
        let mut schema = ProtoSchema {
            files,
            builtin,
            messages,
            enums,
        };
        schema.resolve();
        Ok(schema)
    }

    /// Every named type to the message or enum it means, by protobuf's scoping: a name is
    /// looked for in the message that uses it, then each enclosing scope out to the root.
    fn resolve(&mut self) {
        let mut resolved: Vec<(String, usize, FieldKind)> = Vec::new();
        for m in self.messages.values() {
            for (i, f) in m.fields.iter().enumerate() {
                let Some(written) = &f.written else {
                    continue;
                };
                let target = self.find_type(&m.full_name, written);
                let kind = match &f.kind {
                    FieldKind::Map { key, .. } => FieldKind::Map {
                        key: *key,
                        value: Box::new(target),
                    },
                    _ => target,
                };
                resolved.push((m.full_name.clone(), i, kind));
            }
        }
        for (m, i, kind) in resolved {
            if let Some(f) = self.messages.get_mut(&m).and_then(|m| m.fields.get_mut(i)) {
                f.kind = kind;
            }
        }
    }

    fn find_type(&self, scope: &str, written: &str) -> FieldKind {
        let known = |full: &str| {
            if self.messages.contains_key(full) {
                Some(FieldKind::Message(full.to_string()))
            } else if self.enums.contains_key(full) {
                Some(FieldKind::Enum(full.to_string()))
            } else {
                None
            }
        };
        if let Some(full) = written.strip_prefix('.') {
            return known(full).unwrap_or_else(|| FieldKind::Unresolved(written.to_string()));
        }
        let mut scope = scope;
        loop {
            if let Some(k) = known(&parse::join(scope, written)) {
                return k;
            }
            if scope.is_empty() {
                return FieldKind::Unresolved(written.to_string());
            }
            scope = scope.rsplit_once('.').map_or("", |(outer, _)| outer);
        }
    }
}

/// The largest `.proto` file read: schemas are text people write, not megabytes.
const MAX_FILE_BYTES: u64 = 16 << 20;

/// Read, parse and merge `.proto` files in the order given. Errors name the file (and for a
/// parse error the line and column).
pub fn load_proto_files(paths: &[PathBuf]) -> Result<ProtoSchema, ProtoError> {
    let mut schema: Option<ProtoSchema> = None;
    for path in paths {
        let name = path.display().to_string();
        let text = read_text(path).map_err(|message| ProtoError::Io {
            file: name.clone(),
            message,
        })?;
        let one = ProtoSchema::parse(&text, &name)?;
        schema = Some(match schema {
            None => one,
            Some(s) => s.merge(one)?,
        });
    }
    match schema {
        Some(s) => Ok(s),
        None => ProtoSchema::build(Vec::new()),
    }
}

fn read_text(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{} bytes; a .proto file over {} MiB is not read",
            meta.len(),
            MAX_FILE_BYTES >> 20
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    String::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()))
}

#[cfg(test)]
mod tests;

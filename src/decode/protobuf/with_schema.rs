//! Protobuf with the user's schema: the same wire reading as the schema-less reader, with field
//! names for labels (`text (2)`) and values read as their declared types (zigzag for sint,
//! enum value names, nested messages by type, packed runs, map entries as `key → value`).
//!
//! Named message ([`decode_with`]): lenient, as a protobuf parser is: a field number the
//! message does not declare, or a field sent with another wire type than declared, is shown as
//! the schema-less reader shows it, with a note saying why. The frame is not claimed when its
//! wire does not parse as the message (truncated, trailing bytes, a nested field that is not
//! its message, a packed run cut short).
//!
//! No message named ([`decode_any`]): strict first, because almost any bytes that parse as
//! protobuf would parse, leniently, as any message: the first top-level message (files in the
//! order given, messages as written) under which every field on the wire, nested ones
//! included, is declared with that wire type, and every string is UTF-8. When none fits so,
//! the closest: the top-level message read leniently with the fewest misfits (fields it does
//! not declare or that are not as declared), among those that read at least one field as
//! declared. The closest fit keeps field names, and with them the redaction of credentials
//! that the schema-less reader cannot know (a relay's appended field must not make `api_key`
//! print); a frame that no message reads is left to the schema-less reader.
//!
//! Bounds are the schema-less reader's: nesting stops at [`MAX_DEPTH`], lines at the tree's
//! cap, and nothing is allocated from a length on the wire.

use super::{Wire, guess, next_field, varint};
use crate::decode::proto_schema::{FieldDef, FieldKind, Label, MessageDef, ProtoSchema, Scalar};
use crate::decode::tree::{
    Lines, MAX_DEPTH, TreeLine, float, hex_value, quoted, redacted, secret_key,
};

/// `bytes` as the message `message` (full or unique short name). `None` when the schema has no
/// such message or the frame does not parse as it. An empty frame is the message with every
/// field at its default: one line says so.
pub fn decode_with(schema: &ProtoSchema, message: &str, bytes: &[u8]) -> Option<Vec<TreeLine>> {
    decode_with_fit(schema, message, bytes).map(|f| f.lines)
}

/// A frame as one message of the schema read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fit<'s> {
    /// The message's full name.
    pub message: &'s str,
    pub lines: Vec<TreeLine>,
    /// Fields (nested ones included) the message does not declare or that are not as declared
    /// (another wire type, a string that is not UTF-8); 0 when the frame fits exactly.
    pub misfits: usize,
}

/// A frame as [`crate::decode::decode_protobuf_with`] read it: owned, for callers that keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtoRead {
    /// The full name of the message that read the frame.
    pub message: String,
    /// See [`Fit::misfits`].
    pub misfits: usize,
    pub decoded: crate::decode::Decoded,
}

/// [`decode_with`], with the message's full name and how many fields did not fit it.
pub fn decode_with_fit<'s>(
    schema: &'s ProtoSchema,
    message: &str,
    bytes: &[u8],
) -> Option<Fit<'s>> {
    let m = schema.message(message)?;
    let (lines, counts) = read(schema, m, bytes, false)?;
    Some(Fit {
        message: &m.full_name,
        lines,
        misfits: counts.misfits(),
    })
}

/// `bytes` as the first top-level message that fits it strictly, else the closest fit (see the
/// module documentation). Empty frames fit every message and are not claimed.
pub fn decode_any<'s>(schema: &'s ProtoSchema, bytes: &[u8]) -> Option<Fit<'s>> {
    if bytes.is_empty() {
        return None;
    }
    let exact = schema.top_level_messages().find_map(|m| {
        read(schema, m, bytes, true).map(|(lines, _)| Fit {
            message: &m.full_name,
            lines,
            misfits: 0,
        })
    });
    if exact.is_some() {
        return exact;
    }
    let mut best: Option<Fit<'s>> = None;
    for m in schema.top_level_messages() {
        let Some((lines, counts)) = read(schema, m, bytes, false) else {
            continue;
        };
        let misfits = counts.misfits();
        if counts.fitted() > 0 && best.as_ref().is_none_or(|b| misfits < b.misfits) {
            best = Some(Fit {
                message: &m.full_name,
                lines,
                misfits,
            });
        }
    }
    best
}

/// What a reading met: fields the message declares, those of them not as declared, and
/// fields it does not declare.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    known: usize,
    not_as_declared: usize,
    unknown: usize,
}

impl Counts {
    fn misfits(self) -> usize {
        self.not_as_declared + self.unknown
    }

    fn fitted(self) -> usize {
        self.known.saturating_sub(self.not_as_declared)
    }
}

fn read(
    schema: &ProtoSchema,
    m: &MessageDef,
    bytes: &[u8],
    strict: bool,
) -> Option<(Vec<TreeLine>, Counts)> {
    let mut r = Reader {
        schema,
        strict,
        lines: Lines::default(),
        counts: Counts::default(),
    };
    if bytes.is_empty() {
        r.lines.push(
            0,
            m.short_name().to_string(),
            "{}".into(),
            format!("{} · empty: every field at its default", m.full_name),
        );
    } else if !r.message(m, bytes, 0) {
        return None;
    }
    let counts = r.counts;
    Some((r.lines.finish(), counts))
}

/// A scalar or enum: what a single value, a packed run's element or a map's key or value is.
#[derive(Clone, Copy)]
enum Elem<'a> {
    Scalar(Scalar),
    Enum(&'a str),
}

impl Elem<'_> {
    fn wire_type(self) -> u8 {
        match self {
            Elem::Scalar(s) => s.wire_type(),
            Elem::Enum(_) => 0,
        }
    }

    fn describe(self) -> String {
        match self {
            Elem::Scalar(s) => s.name().into(),
            Elem::Enum(n) => format!("enum {n}"),
        }
    }
}

struct Reader<'s> {
    schema: &'s ProtoSchema,
    strict: bool,
    lines: Lines,
    counts: Counts,
}

impl Reader<'_> {
    /// The fields of `buf` at `depth`; false when `buf` is not this message.
    fn message(&mut self, m: &MessageDef, buf: &[u8], depth: u16) -> bool {
        let mut pos = 0usize;
        while pos < buf.len() {
            let Some((number, wire, n)) = next_field(&buf[pos..]) else {
                return false;
            };
            pos += n;
            let ok = match u32::try_from(number).ok().and_then(|n| m.field(n)) {
                Some(f) => {
                    self.counts.known += 1;
                    self.field(f, wire, depth)
                }
                None if self.strict => false,
                None => {
                    self.counts.unknown += 1;
                    guess(
                        &mut self.lines,
                        depth,
                        number.to_string(),
                        wire,
                        "unknown field · ",
                    );
                    true
                }
            };
            if !ok {
                return false;
            }
        }
        true
    }

    fn field(&mut self, f: &FieldDef, wire: Wire<'_>, depth: u16) -> bool {
        let label = format!("{} ({})", f.name, f.number);
        let elem = match (&f.kind, wire) {
            (FieldKind::Unresolved(t), w) => {
                let why = format!("type {t} is not in the .proto files · ");
                guess(&mut self.lines, depth, label, w, &why);
                return true;
            }
            (FieldKind::Map { key, value }, Wire::Bytes(b)) => {
                return self.map_entry(f, *key, value, b, label, depth);
            }
            (FieldKind::Message(name), Wire::Bytes(b)) => {
                return self.nested(f, name, b, label, depth);
            }
            (FieldKind::Scalar(s), _) => Elem::Scalar(*s),
            (FieldKind::Enum(e), _) => Elem::Enum(e),
            _ => return self.mismatch(f, label, wire, depth),
        };
        if wire.wire_type() == elem.wire_type() {
            let Some((value, extra)) = self.value(elem, wire, secret_key(&f.name)) else {
                return self.not_valid(f, label, wire, depth);
            };
            self.lines
                .push(depth, label, value, note(f, elem.describe(), &extra));
            return true;
        }
        match (wire, elem) {
            (Wire::Bytes(b), Elem::Scalar(s)) if f.label == Label::Repeated && s.packable() => {
                self.packed(f, elem, b, label, depth)
            }
            (Wire::Bytes(b), Elem::Enum(_)) if f.label == Label::Repeated => {
                self.packed(f, elem, b, label, depth)
            }
            _ => self.mismatch(f, label, wire, depth),
        }
    }

    /// A known field sent as something else: refused when strict, else shown without a schema.
    fn mismatch(&mut self, f: &FieldDef, label: String, wire: Wire<'_>, depth: u16) -> bool {
        let why = format!(
            "wire type {}, declared {} · ",
            wire.wire_type(),
            f.kind.describe()
        );
        self.fall_back(label, wire, depth, &why)
    }

    /// A value the wire carries but the declared type cannot hold (a string that is not UTF-8).
    fn not_valid(&mut self, f: &FieldDef, label: String, wire: Wire<'_>, depth: u16) -> bool {
        let why = format!("not a valid {} · ", f.kind.describe());
        self.fall_back(label, wire, depth, &why)
    }

    fn fall_back(&mut self, label: String, wire: Wire<'_>, depth: u16, why: &str) -> bool {
        if self.strict {
            return false;
        }
        self.counts.not_as_declared += 1;
        guess(&mut self.lines, depth, label, wire, why);
        true
    }

    fn nested(&mut self, f: &FieldDef, name: &str, b: &[u8], label: String, depth: u16) -> bool {
        let Some(def) = self.schema.message(name) else {
            return self.mismatch(f, label, Wire::Bytes(b), depth);
        };
        let mut extra = format!("{} bytes", b.len());
        if let Some(when) = well_known_note(name, b) {
            extra = format!("{when} · {extra}");
        }
        if depth + 1 >= MAX_DEPTH {
            extra.push_str(&format!(
                " · nested deeper than {MAX_DEPTH} levels, not read"
            ));
            self.lines.push(
                depth,
                label,
                hex_value(b),
                note(f, name.to_string(), &extra),
            );
            return true;
        }
        self.lines
            .push(depth, label, "{".into(), note(f, name.to_string(), &extra));
        self.message(def, b, depth + 1)
    }

    /// A run of values in one length-delimited field, shown on one line (at most [`SHOWN`]).
    fn packed(
        &mut self,
        f: &FieldDef,
        elem: Elem<'_>,
        b: &[u8],
        label: String,
        depth: u16,
    ) -> bool {
        const SHOWN: usize = 64;
        let mut shown: Vec<String> = Vec::new();
        let mut count = 0usize;
        let mut pos = 0usize;
        while pos < b.len() {
            let (wire, n) = match elem.wire_type() {
                0 => match varint(&b[pos..]) {
                    Some((v, n)) => (Wire::Varint(v), n),
                    None => return false,
                },
                1 => match b[pos..].first_chunk::<8>() {
                    Some(c) => (Wire::Fixed64(u64::from_le_bytes(*c)), 8),
                    None => return false,
                },
                _ => match b[pos..].first_chunk::<4>() {
                    Some(c) => (Wire::Fixed32(u32::from_le_bytes(*c)), 4),
                    None => return false,
                },
            };
            pos += n;
            if shown.len() < SHOWN
                && let Some((v, _)) = self.value(elem, wire, false)
            {
                shown.push(v);
            }
            count += 1;
        }
        let mut value = format!("[{}", shown.join(", "));
        if count > shown.len() {
            value.push_str(&format!(", … {} more", count - shown.len()));
        }
        value.push(']');
        let extra = format!("packed · {count} values");
        self.lines
            .push(depth, label, value, note(f, elem.describe(), &extra));
        true
    }

    /// One entry of a map field: `key → value`, or `key → {` with the message value's fields
    /// below it.
    fn map_entry(
        &mut self,
        f: &FieldDef,
        key: Scalar,
        value: &FieldKind,
        b: &[u8],
        label: String,
        depth: u16,
    ) -> bool {
        let (mut k, mut v) = (None, None);
        let mut pos = 0usize;
        while pos < b.len() {
            let Some((number, wire, n)) = next_field(&b[pos..]) else {
                return false;
            };
            pos += n;
            match number {
                1 => k = Some(wire),
                2 => v = Some(wire),
                _ if self.strict => return false,
                _ => {}
            }
        }
        let as_declared = |w: Option<Wire<'_>>, want: u8| w.is_none_or(|w| w.wire_type() == want);
        let value_wire = match value {
            FieldKind::Message(_) => Some(2),
            FieldKind::Scalar(s) => Some(s.wire_type()),
            FieldKind::Enum(_) => Some(0),
            _ => None,
        };
        let key_text = match k {
            Some(w) if as_declared(k, key.wire_type()) => self.value(Elem::Scalar(key), w, false),
            None => Some((default_text(Elem::Scalar(key), self.schema), String::new())),
            Some(_) => None,
        };
        let (Some((key_text, _)), true) =
            (key_text, value_wire.is_none_or(|want| as_declared(v, want)))
        else {
            return self.fall_back(label, Wire::Bytes(b), depth, "map entry not as declared · ");
        };
        let key_is_secret = matches!(k, Some(Wire::Bytes(kb)) if key == Scalar::String
            && std::str::from_utf8(kb).is_ok_and(secret_key));
        let secret = secret_key(&f.name) || key_is_secret;
        let ty = f.kind.describe();
        match value {
            FieldKind::Message(name) => {
                let Some(def) = self.schema.message(name) else {
                    return self.mismatch(f, label, Wire::Bytes(b), depth);
                };
                let body = match v {
                    Some(Wire::Bytes(vb)) => vb,
                    _ => &[],
                };
                if depth + 1 >= MAX_DEPTH {
                    let note = format!("{ty} · nested deeper than {MAX_DEPTH} levels, not read");
                    self.lines.push(
                        depth,
                        label,
                        format!("{key_text} → {}", hex_value(body)),
                        note,
                    );
                    return true;
                }
                let shown = if body.is_empty() { "{}" } else { "{" };
                let note = format!("{ty} · {name} · {} bytes", body.len());
                self.lines
                    .push(depth, label, format!("{key_text} → {shown}"), note);
                self.message(def, body, depth + 1)
            }
            FieldKind::Scalar(_) | FieldKind::Enum(_) => {
                let elem = match value {
                    FieldKind::Enum(e) => Elem::Enum(e),
                    FieldKind::Scalar(s) => Elem::Scalar(*s),
                    _ => return false,
                };
                let shown = match v {
                    Some(w) => match self.value(elem, w, secret) {
                        Some((text, _)) => text,
                        None => return self.not_valid(f, label, Wire::Bytes(b), depth),
                    },
                    None => default_text(elem, self.schema),
                };
                self.lines
                    .push(depth, label, format!("{key_text} → {shown}"), ty);
                true
            }
            _ => {
                // The value's type is unresolved (a map's value cannot be another map).
                self.lines.push(
                    depth,
                    label,
                    format!("{key_text} →"),
                    format!("{ty} · not in the .proto files"),
                );
                if let Some(w) = v {
                    guess(&mut self.lines, depth + 1, "value".into(), w, "");
                }
                true
            }
        }
    }

    /// A value read as `elem`, with what the note adds; `None` when it is not one (a string
    /// that is not UTF-8). The wire type is the caller's to check.
    fn value(&self, elem: Elem<'_>, wire: Wire<'_>, secret: bool) -> Option<(String, String)> {
        let none = String::new;
        let v = match wire {
            Wire::Varint(v) | Wire::Fixed64(v) => v,
            Wire::Fixed32(u) => u as u64,
            Wire::Bytes(b) => {
                let Elem::Scalar(s) = elem else {
                    return None;
                };
                let size = b.len();
                return match s {
                    Scalar::String => {
                        let text = std::str::from_utf8(b).ok()?;
                        let shown = if secret {
                            redacted(text.len())
                        } else {
                            quoted(text)
                        };
                        Some((shown, format!("{size} bytes")))
                    }
                    Scalar::Bytes if secret => Some((redacted(size), format!("{size}"))),
                    Scalar::Bytes => Some((hex_value(b), format!("{size}"))),
                    _ => None,
                };
            }
        };
        let Elem::Scalar(s) = elem else {
            let n = v as i32;
            let def = match elem {
                Elem::Enum(e) => self.schema.enumeration(e),
                Elem::Scalar(_) => None,
            };
            return Some(match def.and_then(|d| d.name_of(n)) {
                Some(name) => (name.to_string(), format!("= {n}")),
                None => (n.to_string(), "not a value of the enum".into()),
            });
        };
        Some(match s {
            Scalar::Int32 => ((v as i32).to_string(), none()),
            Scalar::Int64 | Scalar::Sfixed64 => ((v as i64).to_string(), none()),
            Scalar::Uint32 | Scalar::Fixed32 => ((v as u32).to_string(), none()),
            Scalar::Uint64 | Scalar::Fixed64 => (v.to_string(), none()),
            Scalar::Sfixed32 => ((v as u32 as i32).to_string(), none()),
            Scalar::Sint32 => {
                let n = v as u32;
                ((((n >> 1) as i32) ^ -((n & 1) as i32)).to_string(), none())
            }
            Scalar::Sint64 => ((((v >> 1) as i64) ^ -((v & 1) as i64)).to_string(), none()),
            Scalar::Bool if v > 1 => ("true".into(), format!("varint {v}")),
            Scalar::Bool => ((v == 1).to_string(), none()),
            Scalar::Float => (format!("{:?}", f32::from_bits(v as u32)), none()),
            Scalar::Double => (float(f64::from_bits(v)), none()),
            Scalar::String | Scalar::Bytes => return None,
        })
    }
}

/// The note of a field's line: its declared type, what the value adds, its oneof.
fn note(f: &FieldDef, ty: String, extra: &str) -> String {
    let mut s = if f.label == Label::Repeated {
        format!("repeated {ty}")
    } else {
        ty
    };
    if !extra.is_empty() {
        s.push_str(" · ");
        s.push_str(extra);
    }
    if let Some(o) = &f.oneof {
        s.push_str(" · oneof ");
        s.push_str(o);
    }
    s
}

/// What an absent map key or value means: the type's default.
fn default_text(elem: Elem<'_>, schema: &ProtoSchema) -> String {
    match elem {
        Elem::Enum(e) => schema
            .enumeration(e)
            .and_then(|d| d.name_of(0))
            .map_or_else(|| "0".into(), str::to_string),
        Elem::Scalar(Scalar::String) => "\"\"".into(),
        Elem::Scalar(Scalar::Bytes) => String::new(),
        Elem::Scalar(Scalar::Bool) => "false".into(),
        Elem::Scalar(Scalar::Float | Scalar::Double) => "0.0".into(),
        Elem::Scalar(_) => "0".into(),
    }
}

/// A Timestamp as RFC 3339, a Duration in seconds: what those two messages are for.
fn well_known_note(name: &str, b: &[u8]) -> Option<String> {
    if name != "google.protobuf.Timestamp" && name != "google.protobuf.Duration" {
        return None;
    }
    let (mut seconds, mut nanos, mut pos) = (0i64, 0i32, 0usize);
    while pos < b.len() {
        let (number, wire, n) = next_field(&b[pos..])?;
        pos += n;
        match (number, wire) {
            (1, Wire::Varint(v)) => seconds = v as i64,
            (2, Wire::Varint(v)) => nanos = v as i32,
            _ => return None,
        }
    }
    if name.ends_with("Duration") {
        return Some(format!(
            "{} s",
            float(seconds as f64 + f64::from(nanos) / 1e9)
        ));
    }
    let at = time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()?
        .checked_add(time::Duration::nanoseconds(i64::from(nanos)))?;
    at.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

#[cfg(test)]
mod tests;

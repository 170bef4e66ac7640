//! `wsdeck inspect`: a capture, readably or as JSON lines. With `--proto`, binary frames are
//! read as protobuf with the user's schema (see [`crate::decode::decode_protobuf_with`]).

mod ahead;
mod readable;
mod stream;

use crate::capture::index::records::{Opened, Records};
use crate::capture::line::LineEncoder;
use crate::capture::reader::Entry;
use crate::decode::proto_schema::{ProtoSchema, load_proto_files};
use crate::decode::{Decoded, DecoderKind, decode as decode_frame, decode_protobuf_with};
use crate::engine::frame::{Frame, Opcode};
use crate::exit;
use anyhow::Result;
use serde_json::{Map, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub fn run(
    path: &Path,
    json: bool,
    max_bytes: usize,
    decode: &str,
    protos: &[PathBuf],
    message: Option<&str>,
) -> Result<i32> {
    let decoder = match DecoderKind::parse(decode) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("wsdeck: --decode: {e}");
            return Ok(exit::USAGE);
        }
    };
    let decoder = match Reading::new(decoder, protos, message) {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    match Records::open(path) {
        Ok(Opened::Lines(recs)) if json => return stream::stream_json(path, recs, &decoder),
        Ok(Opened::Lines(recs)) => {
            return readable::stream_readable(path, recs, max_bytes, &decoder);
        }
        // One JSON document: read whole, below.
        Ok(Opened::Har) => {}
        Err(e) => {
            eprintln!("wsdeck: {e}");
            return Ok(exit::USAGE);
        }
    }
    let Some(cap) = crate::cli::read_capture_or_say(path) else {
        return Ok(exit::USAGE);
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let started = started_of(cap.header.as_ref());
    let result = if json {
        write_json(&mut out, &cap.entries, started, &decoder)
    } else {
        if let Some(h) = &cap.header {
            let _ = readable::write_header(&mut out, path, h);
        }
        readable::write_readable(&mut out, &cap.entries, max_bytes, &decoder)
    };
    written(result.and_then(|_| out.flush()))
}

/// `inspect --json`'s stream of the capture at `path` with spans of `span` bytes read ahead by
/// `workers` threads (0: in order), to `out` and `err`. For the fuzzer, which checks that every
/// plan prints the same bytes as the reading in order (`Err`: a HAR, which is read whole).
#[doc(hidden)]
pub fn stream_json_planned(
    path: &Path,
    decode: DecoderKind,
    span: u64,
    workers: usize,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32> {
    let reading = Reading::new(decode, &[], None)
        .map_err(|code| anyhow::anyhow!("cannot read as {decode:?}: exit {code}"))?;
    let plan = ahead::Plan {
        span,
        workers,
        overrun: 1 << 16,
    };
    match Records::open(path) {
        Ok(Opened::Lines(recs)) => stream::stream_json_to(path, recs, &reading, plan, out, err).0,
        Ok(Opened::Har) => Err(anyhow::anyhow!("a HAR")),
        Err(e) => {
            let _ = writeln!(err, "wsdeck: {e}");
            Ok(exit::USAGE)
        }
    }
}

/// What a command printed: stdout, stderr, the exit code.
pub type Printed = (Vec<u8>, Vec<u8>, i32);

/// `inspect`'s readable stream of the capture at `path`, and what the whole read prints; for
/// the fuzzer, which checks that they agree.
#[doc(hidden)]
pub fn readable_both(path: &Path) -> Result<[Printed; 2]> {
    let reading = Reading::new(DecoderKind::Hex, &[], None)
        .map_err(|code| anyhow::anyhow!("reading: exit {code}"))?;
    let streamed = match Records::open(path) {
        Ok(Opened::Lines(recs)) => {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let code =
                readable::stream_readable_to(path, recs, 4096, &reading, &mut out, &mut err)?;
            (out, err, code)
        }
        Ok(Opened::Har) => return Err(anyhow::anyhow!("a HAR")),
        Err(e) => (
            Vec::new(),
            format!("wsdeck: {e}\n").into_bytes(),
            exit::USAGE,
        ),
    };
    let whole = match crate::capture::read_capture(path) {
        Ok(cap) => {
            let mut out = Vec::new();
            if let Some(h) = &cap.header {
                readable::write_header(&mut out, path, h)?;
            }
            readable::write_readable(&mut out, &cap.entries, 4096, &reading)?;
            let err = cap
                .warnings
                .iter()
                .map(|w| format!("wsdeck: {}: {w}\n", path.display()))
                .collect::<String>()
                .into_bytes();
            (out, err, exit::OK)
        }
        Err(e) => (
            Vec::new(),
            format!("wsdeck: {e}\n").into_bytes(),
            exit::USAGE,
        ),
    };
    Ok([streamed, whole])
}

fn written(result: std::io::Result<()>) -> Result<i32> {
    match result {
        Ok(()) => Ok(exit::OK),
        // A closed pipe (| head) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(exit::OK),
        Err(e) => Err(e.into()),
    }
}

/// The wall-clock zero of a capture's `t` fields: its header's `started`.
fn started_of(header: Option<&Map<String, Value>>) -> SystemTime {
    header
        .and_then(|h| h.get("started"))
        .and_then(Value::as_str)
        .and_then(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        })
        .map(SystemTime::from)
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// How binary frames are read: a decoder and, with `--proto`, the user's schema.
struct Reading {
    kind: DecoderKind,
    schema: Option<ProtoSchema>,
    /// `--message`, as the full name it resolved to.
    message: Option<String>,
}

impl Reading {
    /// Bad usage (a `.proto` that does not parse, an unknown message) is said on stderr and
    /// comes back as the exit code.
    fn new(kind: DecoderKind, protos: &[PathBuf], message: Option<&str>) -> Result<Reading, i32> {
        if protos.is_empty() {
            return Ok(Reading {
                kind,
                schema: None,
                message: None,
            });
        }
        let kind = match kind {
            DecoderKind::Auto | DecoderKind::Protobuf => DecoderKind::Protobuf,
            other => {
                eprintln!(
                    "wsdeck: --proto reads binary frames as protobuf; --decode {} contradicts it",
                    other.name()
                );
                return Err(exit::USAGE);
            }
        };
        let schema = load_proto_files(protos).map_err(|e| {
            eprintln!("wsdeck: --proto: {e}");
            exit::USAGE
        })?;
        for u in schema.unresolved() {
            eprintln!(
                "wsdeck: warning: {}.{}: type {} is in none of the --proto files; that field is read without the schema",
                u.message, u.field, u.type_name
            );
        }
        let message = match message {
            None => None,
            Some(m) => match schema.lookup(m) {
                Ok(def) => Some(def.full_name.clone()),
                Err(e) => {
                    eprintln!("wsdeck: --message: {e}");
                    return Err(exit::USAGE);
                }
            },
        };
        Ok(Reading {
            kind,
            schema: Some(schema),
            message,
        })
    }

    /// Why a binary frame that no decoder claimed is shown as hex (`None` under auto and hex).
    fn not_claimed(&self) -> Option<String> {
        if let Some(m) = &self.message {
            return Some(format!("not a {m} message"));
        }
        let why = match self.kind {
            DecoderKind::Auto | DecoderKind::Hex => return None,
            DecoderKind::Pcm => "not whole 16-bit samples",
            DecoderKind::Protobuf => "not a protobuf message",
            DecoderKind::MsgPack => "not one MessagePack value",
            DecoderKind::Cbor => "not one CBOR item",
        };
        Some(why.into())
    }
}

/// A frame's decoded lines, and the message of the user's schema that read it with how many
/// fields did not fit it.
struct Read {
    decoded: Decoded,
    message: Option<(String, usize)>,
}

/// A binary frame as `reading` reads it (`None`: shown as hex, as before decoders existed).
/// With a schema but no `--message`, a frame that no message fits is read without the schema.
fn decoded(f: &Frame, reading: &Reading) -> Option<Read> {
    decoded_bytes(f.opcode, &f.payload, reading)
}

fn decoded_bytes(opcode: Opcode, payload: &[u8], reading: &Reading) -> Option<Read> {
    if opcode != Opcode::Binary || reading.kind == DecoderKind::Hex {
        return None;
    }
    if let Some(schema) = &reading.schema {
        if let Some(r) = decode_protobuf_with(schema, reading.message.as_deref(), payload) {
            return Some(Read {
                decoded: r.decoded,
                message: Some((r.message, r.misfits)),
            });
        }
        if reading.message.is_some() {
            return None;
        }
    }
    decode_frame(reading.kind, payload).map(|decoded| Read {
        decoded,
        message: None,
    })
}

fn write_json(
    out: &mut impl Write,
    entries: &[Entry],
    started: SystemTime,
    decoder: &Reading,
) -> std::io::Result<()> {
    let mut enc = LineEncoder::new(started);
    let mut buf = Vec::new();
    for e in entries {
        buf.clear();
        json_entry(&mut buf, &mut enc, e, decoder);
        out.write_all(&buf)?;
    }
    Ok(())
}

/// One record as `--json` prints it: the capture's line as the encoder writes it, and what a
/// decoder read in a binary frame.
fn json_entry(buf: &mut Vec<u8>, enc: &mut LineEncoder, e: &Entry, decoder: &Reading) {
    match e {
        Entry::Frame(f) => {
            enc.frame(buf, f);
            if let Some(r) = decoded(f, decoder) {
                add_decoded(buf, &r);
            }
        }
        Entry::Event { at, kind, fields } => enc.event(buf, *at, kind, fields.clone()),
    }
}

/// The frame's line gains `"decoder"` and `"decoded"` (and `"message"` and `"misfits"` when a
/// `--proto` message read it) before its closing brace; the line's other fields stay as the capture
/// format has them.
fn add_decoded(line: &mut Vec<u8>, r: &Read) {
    if !line.ends_with(b"}\n") {
        return;
    }
    line.truncate(line.len() - 2);
    line.extend_from_slice(b",\"decoder\":");
    let _ = serde_json::to_writer(&mut *line, r.decoded.kind.name());
    if let Some((m, misfits)) = &r.message {
        line.extend_from_slice(b",\"message\":");
        let _ = serde_json::to_writer(&mut *line, m);
        line.extend_from_slice(format!(",\"misfits\":{misfits}").as_bytes());
    }
    line.extend_from_slice(b",\"decoded\":");
    let _ = serde_json::to_writer(&mut *line, &r.decoded.lines);
    line.extend_from_slice(b"}\n");
}

//! `wsdeck inspect`: a capture, readably or as JSON lines. With `--proto`, binary frames are
//! read as protobuf with the user's schema (see [`crate::decode::decode_protobuf_with`]).

use crate::capture::index::canonical::{Canonical, Carried, decode_into};
use crate::capture::index::records::{Opened, Record, Records};
use crate::capture::index::times::Restamp;
use crate::capture::line::LineEncoder;
use crate::capture::reader::Entry;
use crate::decode::json::{JsonView, discriminator, view};
use crate::decode::pcm::{self, PcmFormat};
use crate::decode::proto_schema::{ProtoSchema, load_proto_files};
use crate::decode::{
    Decoded, DecoderKind, TreeLine, decode as decode_frame, decode_protobuf_with, hexdump,
};
use crate::engine::close::explain;
use crate::engine::frame::{Direction, Frame, Opcode};
use crate::exit;
use anyhow::Result;
use bytes::Bytes;
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
    if json {
        match Records::open(path) {
            Ok(Opened::Lines(recs)) => return stream_json(path, recs, &decoder),
            // One JSON document: read whole, below.
            Ok(Opened::Har) => {}
            Err(e) => {
                eprintln!("wsdeck: {e}");
                return Ok(exit::USAGE);
            }
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
            let _ = writeln!(
                out,
                "capture {}  started {}  target {}  agent_session_id {}",
                path.display(),
                h.get("started").and_then(Value::as_str).unwrap_or("?"),
                h.get("target")
                    .and_then(|t| t.get("describe"))
                    .and_then(Value::as_str)
                    .unwrap_or("?"),
                h.get("agent_session_id")
                    .and_then(Value::as_str)
                    .unwrap_or("-"),
            );
        }
        write_readable(&mut out, &cap.entries, max_bytes, &decoder)
    };
    written(result.and_then(|_| out.flush()))
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

/// Output goes to stdout in pieces of about this size (small enough to stay in the cache and
/// within memory the process has already touched).
const OUT_CHUNK: usize = 256 << 10;

/// `--json` for a capture of lines, one record at a time: memory stays at about a chunk and a
/// line whatever the capture's size, and the output is what [`write_json`] prints for the
/// whole capture. A frame line in the writer's shape is copied, with its times re-stamped from
/// the header's `started` (copied too when they are the same bytes; the shape admits only text
/// and base64 that re-encode to themselves); any other line is parsed and re-encoded.
fn stream_json(path: &Path, mut recs: Box<Records>, reading: &Reading) -> Result<i32> {
    // Binary payloads go to a decoder unless they are shown as hex.
    recs.decode_binary(reading.kind != DecoderKind::Hex);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut buf = Vec::with_capacity(OUT_CHUNK + (16 << 10));
    let mut enc: Option<Restamp> = None;
    // Warnings wait for the first record: a file that turns out not to be a capture gets only
    // its error, as when it was read whole.
    let mut held = Some(Vec::new());
    let mut scratch = Vec::new();
    loop {
        let rec = match recs.next() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => {
                let _ = out.write_all(&buf);
                eprintln!("wsdeck: {e}");
                return Ok(exit::USAGE);
            }
        };
        match rec {
            Record::Warning(w) => match &mut held {
                Some(h) if h.len() < 1000 => h.push(w),
                _ => {
                    release(path, &mut held);
                    eprintln!("wsdeck: {}: {w}", path.display());
                }
            },
            Record::Header(h) => {
                enc.get_or_insert_with(|| Restamp::new(started_of(Some(&h))));
                release(path, &mut held);
            }
            Record::Canonical {
                c, line, payload, ..
            } => {
                release(path, &mut held);
                let enc = enc.get_or_insert_with(|| Restamp::new(started_later(path)));
                canonical_json(&mut buf, enc, &c, line, payload, reading, &mut scratch);
            }
            Record::Parsed { entry, .. } => {
                release(path, &mut held);
                let enc = enc.get_or_insert_with(|| Restamp::new(started_later(path)));
                json_entry(&mut buf, enc.encoder(), &entry, reading);
            }
        }
        if buf.len() >= OUT_CHUNK {
            if let Err(e) = out.write_all(&buf) {
                return written(Err(e));
            }
            buf.clear();
        }
    }
    if let Err(e) = recs.finish() {
        eprintln!("wsdeck: {e}");
        return Ok(exit::USAGE);
    }
    release(path, &mut held);
    written(out.write_all(&buf).and_then(|_| out.flush()))
}

fn release(path: &Path, held: &mut Option<Vec<String>>) {
    for w in held.take().unwrap_or_default() {
        eprintln!("wsdeck: {}: {w}", path.display());
    }
}

/// A capture whose first record comes before any header: the first header further on still
/// gives the times (as when the capture was read whole), found by reading on for it.
fn started_later(path: &Path) -> SystemTime {
    let Ok(Opened::Lines(mut recs)) = Records::open(path) else {
        return SystemTime::UNIX_EPOCH;
    };
    while let Ok(Some(rec)) = recs.next() {
        if let Record::Header(h) = rec {
            return started_of(Some(&h));
        }
    }
    SystemTime::UNIX_EPOCH
}

/// A canonical frame line as `json_entry` prints its frame.
fn canonical_json(
    buf: &mut Vec<u8>,
    enc: &mut Restamp,
    c: &Canonical,
    line: &[u8],
    payload: Option<&[u8]>,
    reading: &Reading,
    scratch: &mut Vec<u8>,
) {
    // Text as base64 (not UTF-8) and close frames (code and reason) are the encoder's to write.
    let copied = matches!(
        (c.opcode, c.carried),
        (Opcode::Text, Carried::Text)
            | (Opcode::Binary | Opcode::Ping | Opcode::Pong, Carried::B64)
    );
    let wants_payload = c.opcode == Opcode::Binary && reading.kind != DecoderKind::Hex;
    let start = buf.len();
    if copied {
        let pushed = if enc.holds(line, c) {
            // The common case: the line up to its payload's closing quote is the output's.
            buf.extend_from_slice(&line[..=c.body.end]);
            true
        } else {
            buf.extend_from_slice(&line[..c.times.start]);
            let pushed = enc.push(buf, line, c);
            buf.extend_from_slice(&line[c.times.end..=c.body.end]);
            pushed
        };
        if pushed {
            buf.extend_from_slice(b"}\n");
            if wants_payload {
                let payload = match payload {
                    Some(p) => p,
                    None => {
                        scratch.clear();
                        if decode_into(line, c, scratch).is_err() {
                            // `parse` checked the base64; nothing to print if that ever
                            // disagreed.
                            buf.truncate(start);
                            return;
                        }
                        scratch
                    }
                };
                if let Some(r) = decoded_bytes(c.opcode, payload, reading) {
                    add_decoded(buf, &r);
                }
            }
            return;
        }
        buf.truncate(start);
    }
    scratch.clear();
    if decode_into(line, c, scratch).is_err() {
        return;
    }
    let f = Frame {
        seq: c.seq,
        at: c.at,
        dir: c.dir,
        opcode: c.opcode,
        payload: Bytes::copy_from_slice(scratch),
    };
    json_entry(buf, enc.encoder(), &Entry::Frame(f), reading);
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

fn write_readable(
    out: &mut impl Write,
    entries: &[Entry],
    max_bytes: usize,
    decoder: &Reading,
) -> std::io::Result<()> {
    for e in entries {
        match e {
            Entry::Frame(f) => write_frame(out, f, max_bytes, decoder)?,
            Entry::Event { at, kind, fields } => {
                let t = at.as_secs_f64();
                match kind.as_str() {
                    "close" => {
                        let code = fields.get("code").and_then(Value::as_u64).unwrap_or(0) as u16;
                        let ex = explain(code);
                        writeln!(
                            out,
                            "         +{t:>9.3}s  ── close {code} {} by {}, {}: {}{}",
                            ex.name,
                            fields.get("by").and_then(Value::as_str).unwrap_or("?"),
                            if fields.get("clean").and_then(Value::as_bool) == Some(true) {
                                "clean"
                            } else {
                                "not clean"
                            },
                            ex.likely_cause,
                            match fields.get("reason").and_then(Value::as_str) {
                                Some(r) if !r.is_empty() => format!(" (reason {r:?})"),
                                _ => String::new(),
                            }
                        )?;
                    }
                    "open" => writeln!(
                        out,
                        "         +{t:>9.3}s  ── open {} (HTTP {})",
                        fields.get("url").and_then(Value::as_str).unwrap_or("?"),
                        fields.get("status").and_then(Value::as_u64).unwrap_or(0)
                    )?,
                    "error" => writeln!(
                        out,
                        "         +{t:>9.3}s  ── error: {}",
                        fields.get("message").and_then(Value::as_str).unwrap_or("?")
                    )?,
                    other => writeln!(
                        out,
                        "         +{t:>9.3}s  ── {other} {}",
                        Value::Object(fields.clone())
                    )?,
                }
            }
        }
    }
    Ok(())
}

fn write_frame(
    out: &mut impl Write,
    f: &Frame,
    max_bytes: usize,
    decoder: &Reading,
) -> std::io::Result<()> {
    let arrow = match f.dir {
        Direction::Out => "▲ out",
        Direction::In => "▼ in ",
    };
    let mut summary = String::new();
    let text_json = f.text().map(|t| (t, serde_json::from_str::<Value>(t)));
    if let Some((_, Ok(v))) = &text_json
        && let Some((_, d)) = discriminator(v)
    {
        summary = d;
    }
    if let Some((code, reason)) = f.close_code() {
        summary = format!("{code} {} {reason:?}", explain(code).name);
    }
    let dec = decoded(f, decoder);
    if let Some(r) = &dec {
        summary = match &r.message {
            Some((m, 0)) => format!("{} {m}", r.decoded.kind.name()),
            Some((m, n)) => format!(
                "{} {m} ({}{n} field{} not as declared)",
                r.decoded.kind.name(),
                if decoder.message.is_some() {
                    ""
                } else {
                    "closest fit: "
                },
                if *n == 1 { "" } else { "s" }
            ),
            None if decoder.schema.is_some() => {
                format!(
                    "{} (no message of the --proto files fits)",
                    r.decoded.kind.name()
                )
            }
            None => r.decoded.kind.name().to_string(),
        };
    }
    writeln!(
        out,
        "#{:<7} +{:>9.3}s  {arrow} {:<6} {:>8} B  {summary}",
        f.seq,
        f.at.as_secs_f64(),
        f.opcode.as_str(),
        f.payload.len()
    )?;
    let shown = if max_bytes == 0 {
        f.payload.len()
    } else {
        f.payload.len().min(max_bytes)
    };
    match dec.map(|r| r.decoded) {
        Some(d) if d.kind == DecoderKind::Pcm => {
            return writeln!(
                out,
                "    {}",
                pcm::summary(&f.payload, PcmFormat::default())
            );
        }
        Some(d) => return write_tree(out, &d.lines),
        None => {}
    }
    let not_claimed = decoder.not_claimed();
    match (f.opcode, text_json) {
        (Opcode::Close, _) => {}
        (_, Some((text, Ok(v)))) if shown == f.payload.len() => {
            if let JsonView::Pretty(p) = view(text) {
                for (depth, l) in p.lines(0, usize::MAX) {
                    writeln!(out, "    {:w$}{l}", "", w = depth * 2)?;
                }
            }
            if decoder.kind == DecoderKind::Pcm
                && let Some(audio) = pcm::base64_audio(&v)
            {
                writeln!(
                    out,
                    "    base64 audio: {}",
                    pcm::summary(&audio, PcmFormat::default())
                )?;
            }
        }
        _ => {
            if let (Opcode::Binary, Some(why)) = (f.opcode, not_claimed) {
                writeln!(out, "    ({why}; shown as hex)")?;
            }
            for r in hexdump::rows(&f.payload[..shown], 0, usize::MAX) {
                writeln!(out, "    {r}")?;
            }
        }
    }
    if shown < f.payload.len() {
        writeln!(
            out,
            "    … {} more bytes (--max-bytes 0 shows all)",
            f.payload.len() - shown
        )?;
    }
    Ok(())
}

/// Decoded lines, indented by depth: `label: value  · note`.
fn write_tree(out: &mut impl Write, lines: &[TreeLine]) -> std::io::Result<()> {
    for l in lines {
        let indent = "  ".repeat(l.depth as usize);
        let note = if l.note.is_empty() {
            String::new()
        } else {
            format!("  · {}", l.note)
        };
        writeln!(out, "    {indent}{}: {}{note}", l.label, l.value)?;
    }
    Ok(())
}

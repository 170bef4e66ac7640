//! `wsdeck inspect`: a capture, readably or as JSON lines.

use crate::capture::line::LineEncoder;
use crate::capture::reader::Entry;
use crate::decode::json::{JsonView, discriminator, view};
use crate::decode::pcm::{self, PcmFormat};
use crate::decode::{Decoded, DecoderKind, TreeLine, decode as decode_frame, hexdump};
use crate::engine::close::explain;
use crate::engine::frame::{Direction, Frame, Opcode};
use crate::exit;
use anyhow::Result;
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

pub fn run(path: &Path, json: bool, max_bytes: usize, decode: &str) -> Result<i32> {
    let decoder = match DecoderKind::parse(decode) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("wsdeck: --decode: {e}");
            return Ok(exit::USAGE);
        }
    };
    let Some(cap) = crate::cli::read_capture_or_say(path) else {
        return Ok(exit::USAGE);
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let started = cap
        .header
        .as_ref()
        .and_then(|h| h.get("started"))
        .and_then(Value::as_str)
        .and_then(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        })
        .map(SystemTime::from)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let result = if json {
        write_json(&mut out, &cap.entries, started, decoder)
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
        write_readable(&mut out, &cap.entries, max_bytes, decoder)
    };
    match result.and_then(|_| out.flush()) {
        Ok(()) => Ok(exit::OK),
        // A closed pipe (| head) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(exit::OK),
        Err(e) => Err(e.into()),
    }
}

/// A binary frame as `decoder` reads it (`None`: shown as hex, as before decoders existed).
fn decoded(f: &Frame, decoder: DecoderKind) -> Option<Decoded> {
    if f.opcode != Opcode::Binary || decoder == DecoderKind::Hex {
        return None;
    }
    decode_frame(decoder, &f.payload)
}

fn write_json(
    out: &mut impl Write,
    entries: &[Entry],
    started: SystemTime,
    decoder: DecoderKind,
) -> std::io::Result<()> {
    let mut enc = LineEncoder::new(started);
    let mut buf = Vec::new();
    for e in entries {
        buf.clear();
        match e {
            Entry::Frame(f) => {
                enc.frame(&mut buf, f);
                if let Some(d) = decoded(f, decoder) {
                    add_decoded(&mut buf, &d);
                }
            }
            Entry::Event { at, kind, fields } => enc.event(&mut buf, *at, kind, fields.clone()),
        }
        out.write_all(&buf)?;
    }
    Ok(())
}

/// The frame's line gains `"decoder"` and `"decoded"` before its closing brace; the line's
/// other fields stay as the capture format has them.
fn add_decoded(line: &mut Vec<u8>, d: &Decoded) {
    if !line.ends_with(b"}\n") {
        return;
    }
    line.truncate(line.len() - 2);
    line.extend_from_slice(b",\"decoder\":");
    let _ = serde_json::to_writer(&mut *line, d.kind.name());
    line.extend_from_slice(b",\"decoded\":");
    let _ = serde_json::to_writer(&mut *line, &d.lines);
    line.extend_from_slice(b"}\n");
}

fn write_readable(
    out: &mut impl Write,
    entries: &[Entry],
    max_bytes: usize,
    decoder: DecoderKind,
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
    decoder: DecoderKind,
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
    if let Some(d) = &dec {
        summary = d.kind.name().to_string();
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
    match dec {
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
    let not_claimed = match decoder {
        DecoderKind::Auto | DecoderKind::Hex => None,
        DecoderKind::Pcm => Some("not whole 16-bit samples"),
        DecoderKind::Protobuf => Some("not a protobuf message"),
        DecoderKind::MsgPack => Some("not one MessagePack value"),
        DecoderKind::Cbor => Some("not one CBOR item"),
    };
    match (f.opcode, text_json) {
        (Opcode::Close, _) => {}
        (_, Some((text, Ok(v)))) if shown == f.payload.len() => {
            if let JsonView::Pretty(p) = view(text) {
                for l in p.lines() {
                    writeln!(out, "    {l}")?;
                }
            }
            if decoder == DecoderKind::Pcm
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

//! `inspect` without `--json`: each record as a line a person reads, frames with their payload
//! pretty-printed, decoded or dumped as hex.

use super::{Reading, decoded};
use crate::capture::reader::Entry;
use crate::decode::json::{JsonView, discriminator, view};
use crate::decode::pcm::{self, PcmFormat};
use crate::decode::{DecoderKind, TreeLine, hexdump};
use crate::engine::close::explain;
use crate::engine::frame::{Direction, Frame, Opcode};
use serde_json::Value;
use std::io::Write;

pub(super) fn write_readable(
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

//! `inspect` without `--json`: each record as a line a person reads, frames with their payload
//! pretty-printed, decoded or dumped as hex.

use super::{Reading, decoded, written};
use crate::capture::index::canonical::decode_into;
use crate::capture::index::records::{Opened, Record, Records};
use crate::capture::reader::Entry;
use crate::decode::json::{JsonView, discriminator, view};
use crate::decode::pcm::{self, PcmFormat};
use crate::decode::{DecoderKind, TreeLine, hexdump};
use crate::engine::close::explain;
use crate::engine::frame::{Direction, Frame, Opcode};
use crate::exit;
use anyhow::Result;
use bytes::Bytes;
use serde_json::{Map, Value};
use std::io::Write;
use std::path::Path;

/// `inspect` for a capture of lines, one record at a time, as [`write_readable`] prints the
/// capture read whole: the first screen of a gigabyte capture comes at once and memory stays
/// at a line. The reader's warnings are the same, said as their lines are reached (held until
/// the first record, so a file that is not a capture gets only its error).
pub(super) fn stream_readable(
    path: &Path,
    recs: Box<Records>,
    max_bytes: usize,
    reading: &Reading,
) -> Result<i32> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(256 << 10, stdout.lock());
    let stderr = std::io::stderr();
    let code = stream_readable_to(path, recs, max_bytes, reading, &mut out, &mut stderr.lock());
    match code {
        Ok(code) if code == exit::OK => written(out.flush()),
        other => other,
    }
}

pub(super) fn stream_readable_to(
    path: &Path,
    mut recs: Box<Records>,
    max_bytes: usize,
    reading: &Reading,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32> {
    let mut held = Some(Vec::new());
    let release = |held: &mut Option<Vec<String>>, err: &mut dyn Write| {
        for w in held.take().unwrap_or_default() {
            let _ = writeln!(err, "wsdeck: {}: {w}", path.display());
        }
    };
    // The header line comes first, as when the capture was read whole: the first header's,
    // found further on when a record comes before it.
    let mut headed = false;
    let mut payload = Vec::new();
    loop {
        let rec = match recs.next() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => {
                let _ = out.flush();
                let _ = writeln!(err, "wsdeck: {e}");
                return Ok(exit::USAGE);
            }
        };
        if !matches!(rec, Record::Warning(_)) {
            release(&mut held, err);
        }
        let printed = match rec {
            Record::Warning(w) => {
                match &mut held {
                    Some(h) if h.len() < 1000 => h.push(w),
                    _ => {
                        release(&mut held, err);
                        let _ = writeln!(err, "wsdeck: {}: {w}", path.display());
                    }
                }
                Ok(())
            }
            Record::Header(h) if !headed => {
                headed = true;
                write_header(out, path, &h)
            }
            Record::Header(_) => Ok(()),
            Record::Canonical { c, line, .. } => {
                head_later(&mut headed, out, path).and_then(|_| {
                    payload.clear();
                    // `Records` checked the payload as it read the line.
                    if decode_into(line, &c, &mut payload).is_err() {
                        return Ok(());
                    }
                    let f = Frame {
                        seq: c.seq,
                        at: c.at,
                        dir: c.dir,
                        opcode: c.opcode,
                        payload: Bytes::copy_from_slice(&payload),
                    };
                    write_frame(out, &f, max_bytes, reading)
                })
            }
            Record::Parsed { entry, .. } => head_later(&mut headed, out, path).and_then(|_| {
                write_readable(out, std::slice::from_ref(&entry), max_bytes, reading)
            }),
        };
        if let Err(e) = printed {
            return written(Err(e));
        }
    }
    if let Err(e) = recs.finish() {
        let _ = writeln!(err, "wsdeck: {e}");
        return Ok(exit::USAGE);
    }
    release(&mut held, err);
    Ok(exit::OK)
}

/// Before the first record: the header line from the first header further on, if any.
fn head_later(headed: &mut bool, out: &mut dyn Write, path: &Path) -> std::io::Result<()> {
    // Read again only from a file: a pipe's bytes would be taken from the reading itself.
    if std::mem::replace(headed, true) || !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return Ok(());
    }
    let Ok(Opened::Lines(mut recs)) = Records::open(path) else {
        return Ok(());
    };
    while let Ok(Some(rec)) = recs.next() {
        if let Record::Header(h) = rec {
            return write_header(out, path, &h);
        }
    }
    Ok(())
}

/// The capture's line above its records.
pub(super) fn write_header(
    out: &mut dyn Write,
    path: &Path,
    h: &Map<String, Value>,
) -> std::io::Result<()> {
    writeln!(
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
    )
}

pub(super) fn write_readable(
    out: &mut (impl Write + ?Sized),
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
    out: &mut (impl Write + ?Sized),
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
fn write_tree(out: &mut (impl Write + ?Sized), lines: &[TreeLine]) -> std::io::Result<()> {
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

#[cfg(test)]
#[path = "readable_tests.rs"]
mod tests;

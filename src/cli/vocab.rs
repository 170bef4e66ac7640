//! `wsdeck vocab CAPTURE [--json] [--schema DIR]`: the vocabulary a capture shows. Per direction
//! each message type with its count and fields, then binary shapes, the transitions and the
//! reply latencies; `--json` the same as JSON lines; `--schema` one JSON Schema file per type.

use crate::engine::Direction;
use crate::exit;
use crate::vocab::correlate::Correlator;
use crate::vocab::infer::{BINARY, Field, JsonType, MessageType, NOT_JSON, Vocabulary};
use crate::vocab::schema::json_schema;
use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;

pub fn run(capture: &Path, json: bool, schema: Option<&Path>) -> Result<i32> {
    let Some(cap) = crate::cli::read_capture_or_say(capture) else {
        return Ok(exit::USAGE);
    };
    let mut vocab = Vocabulary::new();
    cap.frames().for_each(|f| vocab.observe(f));
    // A second pass, so that every frame is named with the discriminator settled on the whole
    // capture (a live session names each one as it comes instead).
    let mut corr = Correlator::new();
    for f in cap.frames() {
        let kind = vocab.classify(f);
        corr.observe(f, kind.as_ref().map(|k| k.name.as_str()));
    }
    if let Some(dir) = schema {
        let n = write_schemas(&vocab, dir)?;
        eprintln!(
            "wsdeck: wrote {n} JSON Schema{} to {}",
            if n == 1 { "" } else { "s" },
            dir.display()
        );
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = if json {
        write_json(&mut out, &vocab, &corr)
    } else {
        write_plain(&mut out, capture, &vocab, &corr)
    };
    match result.and_then(|_| out.flush()) {
        Ok(()) => Ok(exit::OK),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(exit::OK),
        Err(e) => Err(e.into()),
    }
}

/// A file name for a type's schema: `out.user.message.json`; anything but letters, digits,
/// `.`, `-` and `_` becomes `_`, so a type name can never leave the directory.
pub fn schema_file_name(dir: Direction, name: &str) -> String {
    let mut safe: String = name
        .chars()
        .take(100)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.is_empty() {
        safe.push('_');
    }
    format!("{}.{safe}.json", dir.as_str())
}

/// One file per JSON message type (binary and non-JSON text have no schema); returns how many.
fn write_schemas(vocab: &Vocabulary, dir: &Path) -> Result<usize> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut used = std::collections::HashSet::new();
    let mut n = 0;
    for t in vocab.types() {
        if t.key.name == BINARY || t.key.name == NOT_JSON {
            continue;
        }
        let mut name = schema_file_name(t.key.dir, &t.key.name);
        // Two names that only differ in unsafe characters get numbered files.
        let mut k = 2;
        while !used.insert(name.clone()) {
            name = format!(
                "{}-{k}.json",
                schema_file_name(t.key.dir, &t.key.name).trim_end_matches(".json")
            );
            k += 1;
        }
        let path = dir.join(&name);
        let text = serde_json::to_string_pretty(&json_schema(t, vocab.discriminator()))?;
        std::fs::write(&path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
        n += 1;
    }
    Ok(n)
}

/// The example as a JSON value: strings as strings, numbers, booleans and null as themselves.
fn example_value(f: &Field) -> Value {
    let Some(ex) = &f.example else {
        return Value::Null;
    };
    match f.example_type {
        Some(JsonType::String) | None => json!(ex),
        Some(_) => serde_json::from_str(ex).unwrap_or_else(|_| json!(ex)),
    }
}

fn types_json(f: &Field) -> Value {
    Value::Array(f.types.iter().map(|t| json!(t.name())).collect())
}

fn write_json(out: &mut impl Write, vocab: &Vocabulary, corr: &Correlator) -> std::io::Result<()> {
    let mut line = |v: Value| writeln!(out, "{v}");
    for t in vocab.types() {
        let fields: Vec<Value> = t
            .fields
            .iter()
            .map(|f| {
                json!({
                    "path": f.path,
                    "types": types_json(f),
                    "required": f.required(t),
                    "seen": f.seen,
                    "example": example_value(f),
                })
            })
            .collect();
        line(json!({
            "kind": "type",
            "direction": t.key.dir.as_str(),
            "type": t.key.name,
            "count": t.count,
            "fields": fields,
        }))?;
    }
    for b in vocab.binary() {
        line(json!({
            "kind": "binary",
            "direction": b.dir.as_str(),
            "magic": b.magic,
            "count": b.count,
            "min_len": b.min_len,
            "max_len": b.max_len,
            "sizes": b.sizes,
        }))?;
    }
    for tr in vocab.transitions() {
        line(json!({
            "kind": "transition",
            "from": tr.from.label(),
            "to": tr.to.label(),
            "count": tr.count,
        }))?;
    }
    for l in corr.latencies() {
        line(json!({
            "kind": "latency",
            "request_type": l.request_type,
            "n": l.n,
            "p50_ms": round3(l.p50_ms),
            "p95_ms": round3(l.p95_ms),
            "max_ms": round3(l.max_ms),
        }))?;
    }
    line(json!({
        "kind": "summary",
        "frames": vocab.frames(),
        "discriminator": vocab.discriminator(),
        "links": corr.links(),
    }))
}

/// Milliseconds to the microsecond, which is what captures record.
fn round3(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

fn write_plain(
    out: &mut impl Write,
    capture: &Path,
    vocab: &Vocabulary,
    corr: &Correlator,
) -> std::io::Result<()> {
    writeln!(
        out,
        "vocabulary of {}: {} data frame{}, discriminator {}",
        capture.display(),
        vocab.frames(),
        if vocab.frames() == 1 { "" } else { "s" },
        match vocab.discriminator() {
            Some(d) => format!("\"{d}\" (learned from the data)"),
            None => "none found".to_string(),
        }
    )?;
    let types = vocab.types();
    for dir in [Direction::Out, Direction::In] {
        let of_dir: Vec<&&MessageType> = types.iter().filter(|t| t.key.dir == dir).collect();
        let frames: u64 = of_dir.iter().map(|t| t.count).sum();
        writeln!(
            out,
            "\n{} ({}): {} type{}, {} frame{}",
            dir.as_str(),
            match dir {
                Direction::Out => "sent to the agent",
                Direction::In => "received",
            },
            of_dir.len(),
            if of_dir.len() == 1 { "" } else { "s" },
            frames,
            if frames == 1 { "" } else { "s" },
        )?;
        for t in of_dir {
            write_type(out, t)?;
        }
    }
    let shapes = vocab.binary();
    if !shapes.is_empty() {
        writeln!(out, "\nbinary frames (leading bytes, sizes in bytes)")?;
        for b in shapes {
            let sizes: Vec<String> = b.sizes.iter().map(|(c, n)| format!("≤{c}:{n}")).collect();
            writeln!(
                out,
                "  {:<3}  magic {:<8}  {} frame{}  {}..{} bytes  {}",
                b.dir.as_str(),
                if b.magic.is_empty() {
                    "(empty)"
                } else {
                    &b.magic
                },
                b.count,
                if b.count == 1 { "" } else { "s" },
                b.min_len,
                b.max_len,
                sizes.join(" ")
            )?;
        }
    }
    writeln!(out, "\ntransitions (which type followed which on the wire)")?;
    let transitions = vocab.transitions();
    if transitions.is_empty() {
        writeln!(out, "  (none)")?;
    }
    for tr in transitions {
        writeln!(
            out,
            "  {:>6}  {} {} → {} {}",
            tr.count,
            tr.from.dir.as_str(),
            tr.from.name,
            tr.to.dir.as_str(),
            tr.to.name
        )?;
    }
    writeln!(
        out,
        "\nreply latency (time from a request to its first reply, in milliseconds)"
    )?;
    let lat = corr.latencies();
    if lat.is_empty() {
        writeln!(out, "  (no incoming frame named the id of an outgoing one)")?;
    } else {
        let w = lat
            .iter()
            .map(|l| l.request_type.len())
            .max()
            .unwrap_or(0)
            .max(12);
        writeln!(
            out,
            "  {:<w$}  {:>6}  {:>10}  {:>10}  {:>10}",
            "request type", "n", "p50_ms", "p95_ms", "max_ms"
        )?;
        for l in &lat {
            writeln!(
                out,
                "  {:<w$}  {:>6}  {:>10.3}  {:>10.3}  {:>10.3}",
                l.request_type, l.n, l.p50_ms, l.p95_ms, l.max_ms
            )?;
        }
        writeln!(out, "  correlated by: {}", corr.links().join(", "))?;
    }
    Ok(())
}

fn write_type(out: &mut impl Write, t: &MessageType) -> std::io::Result<()> {
    writeln!(out, "  {}  ×{}", t.key.name, t.count)?;
    let pw = t
        .fields
        .iter()
        .map(|f| f.path.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(4, 48);
    let tw = t
        .fields
        .iter()
        .map(|f| type_list(f).len())
        .max()
        .unwrap_or(0)
        .max(5);
    for f in &t.fields {
        let example = match (&f.example, f.example_type) {
            (Some(e), _) if e == "<redacted>" => e.clone(),
            (Some(e), Some(JsonType::String)) => json!(e).to_string(),
            (Some(e), _) => e.clone(),
            (None, _) => String::new(),
        };
        let line = format!(
            "    {:<pw$}  {:<tw$}  {:<8}  {}",
            f.path,
            type_list(f),
            if f.required(t) {
                "required"
            } else {
                "optional"
            },
            example
        );
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn type_list(f: &Field) -> String {
    f.types
        .iter()
        .map(|t| t.name())
        .collect::<Vec<_>>()
        .join("|")
}

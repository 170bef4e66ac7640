//! A capture indexed, not loaded: each record's fixed fields and where its line lies in the
//! file, so a store can keep a million frames without their payloads and read one back when
//! it is shown ([`read_payload`]).
//!
//! Lines in the writer's own shape are read by hand at memory speed (see `canonical`); every
//! other line goes through serde exactly as [`read_capture`](crate::capture::read_capture) reads
//! it, so both accept the same files and give the same frames, events and warnings, only the
//! hand-written ones more slowly.

pub(crate) mod canonical;
mod lines;
pub(crate) mod records;
pub(crate) mod scan;
pub(crate) mod times;

use crate::capture::reader::{CaptureError, Entry, trim_line};
use crate::engine::frame::{Direction, Opcode};
use bytes::Bytes;
use records::{Opened, Record, Records};
use serde_json::{Map, Value};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

pub use lines::MAX_LINE;

/// Where one record's line lies in the file: its first byte and its length without the `\n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LineLoc {
    pub offset: u64,
    pub len: u32,
}

/// One record, indexed: a frame's fixed fields and where its payload is, or an event (few;
/// parsed fully).
#[derive(Debug, Clone, PartialEq)]
pub enum Indexed {
    Frame {
        seq: u64,
        at: Duration,
        dir: Direction,
        opcode: Opcode,
        /// The payload's length in bytes.
        len: u32,
        /// `"injected": true` (put into a proxied conversation from the console).
        injected: bool,
        line: LineLoc,
    },
    Event {
        at: Duration,
        kind: String,
        fields: Map<String, Value>,
    },
}

/// How far indexing has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of the file read and indexed so far.
    pub bytes_read: u64,
    /// The file's size when indexing started (or what was read, if it grew since).
    pub total_bytes: u64,
    /// Records handed over so far, this batch included.
    pub records: u64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexSummary {
    /// The first header line, when the file has one.
    pub header: Option<Map<String, Value>>,
    /// What could not be read, one line each ("line 12: …"), as `read_capture` says it; at most
    /// [`MAX_WARNINGS`], then one line counting the rest.
    pub warnings: Vec<String>,
    /// Records handed over.
    pub records: u64,
}

/// Warnings kept by [`index_capture`]: a file of garbage must not grow a list without bound.
pub const MAX_WARNINGS: usize = 1000;

/// A batch goes out at least this often (in bytes read), so progress moves over long lines.
const PROGRESS_EVERY: u64 = 64 << 20;

/// Why [`index_capture`] refuses a HAR file (see [`is_har_refusal`]).
const HAR_WHY: &str = "it is a HAR file; HAR files are read whole (read_capture), not indexed";

/// Read `path` from start to end, handing records over in batches (each up to `batch` records)
/// with the progress so far; the callback returning `ControlFlow::Break(())` stops it (what was
/// read so far is summed up and returned as `Ok`). The last call, when the file was read to its
/// end, has `bytes_read == total_bytes` and may have no records. Lines that are not in the
/// writer's canonical shape (hand-written, other field order) fall back to a full serde parse
/// of that line, so every capture `read_capture` accepts indexes the same frames and events.
///
/// A HAR file is an error ([`is_har_refusal`] tells it apart): it is one JSON document whose
/// frames have no lines to point at, and is read whole with `read_capture`. A line longer than
/// [`MAX_LINE`] is skipped with a warning rather than held.
pub fn index_capture(
    path: &Path,
    batch: usize,
    mut on_batch: impl FnMut(Vec<Indexed>, Progress) -> ControlFlow<()>,
) -> Result<IndexSummary, CaptureError> {
    index_with(path, MAX_LINE, batch, &mut on_batch)
}

/// Whether `path` is a HAR file (which `index_capture` refuses: read it with `read_capture`),
/// asked before indexing so a caller can show the capture's session before its first batch.
pub fn is_har_file(path: &Path) -> std::io::Result<bool> {
    let mut file = std::fs::File::open(path)?;
    records::looks_like_har(&mut file)
}

/// Whether `index_capture` failed because the file is a HAR (open it with `read_capture`).
pub fn is_har_refusal(e: &CaptureError) -> bool {
    matches!(e, CaptureError::NotACapture { why, .. } if why == HAR_WHY)
}

pub(crate) fn index_with(
    path: &Path,
    max_line: usize,
    batch: usize,
    on_batch: &mut dyn FnMut(Vec<Indexed>, Progress) -> ControlFlow<()>,
) -> Result<IndexSummary, CaptureError> {
    let mut recs = match Records::open_with_max_line(path, max_line)? {
        Opened::Lines(r) => r,
        Opened::Har => {
            return Err(CaptureError::NotACapture {
                path: path.to_path_buf(),
                why: HAR_WHY.into(),
            });
        }
    };
    let batch = batch.max(1);
    let mut summary = IndexSummary::default();
    let mut more_warnings = 0u64;
    let mut out = Vec::with_capacity(batch.min(1 << 16));
    let mut sent_at = 0u64;
    let progress = |recs: &Records, records: u64| Progress {
        bytes_read: recs.bytes_read(),
        total_bytes: recs.total_bytes().max(recs.bytes_read()),
        records,
    };
    while let Some(rec) = recs.next()? {
        let indexed = match rec {
            Record::Canonical { c, loc, .. } => Indexed::Frame {
                seq: c.seq,
                at: c.at,
                dir: c.dir,
                opcode: c.opcode,
                len: c.len,
                injected: c.injected,
                line: loc,
            },
            Record::Parsed {
                entry,
                injected,
                loc,
            } => match entry {
                Entry::Frame(f) => Indexed::Frame {
                    seq: f.seq,
                    at: f.at,
                    dir: f.dir,
                    opcode: f.opcode,
                    len: u32::try_from(f.payload.len()).unwrap_or(u32::MAX),
                    injected,
                    line: loc,
                },
                Entry::Event { at, kind, fields } => Indexed::Event { at, kind, fields },
            },
            Record::Header(h) => {
                summary.header.get_or_insert(h);
                continue;
            }
            Record::Warning(w) => {
                if summary.warnings.len() < MAX_WARNINGS {
                    summary.warnings.push(w);
                } else {
                    more_warnings += 1;
                }
                continue;
            }
        };
        out.push(indexed);
        summary.records += 1;
        if out.len() >= batch || recs.bytes_read() - sent_at >= PROGRESS_EVERY {
            sent_at = recs.bytes_read();
            let full = std::mem::replace(&mut out, Vec::with_capacity(batch.min(1 << 16)));
            if on_batch(full, progress(&recs, summary.records)).is_break() {
                return Ok(finish_warnings(summary, more_warnings));
            }
        }
    }
    recs.finish()?;
    let _ = on_batch(out, progress(&recs, summary.records));
    Ok(finish_warnings(summary, more_warnings))
}

fn finish_warnings(mut s: IndexSummary, more: u64) -> IndexSummary {
    if more > 0 {
        s.warnings
            .push(format!("… and {more} more lines that could not be read"));
    }
    s
}

/// Why a payload could not be read back.
#[derive(Debug, Error)]
pub enum PayloadError {
    #[error("cannot read the capture: {0}")]
    Io(#[from] std::io::Error),
    #[error("the capture changed since it was indexed: {0}")]
    Changed(String),
}

impl From<PayloadError> for CaptureError {
    fn from(e: PayloadError) -> Self {
        CaptureError::Io {
            path: PathBuf::from("(capture)"),
            source: match e {
                PayloadError::Io(e) => e,
                other => std::io::Error::new(std::io::ErrorKind::InvalidData, other.to_string()),
            },
        }
    }
}

/// The payload of a frame's line, byte-identical to what `read_capture` gives for it (text: the
/// JSON string unescaped; b64: decoded). The line is checked to still be a whole frame line
/// where the index found it: a file edited since is an error, never a wrong payload's panic.
pub fn read_payload(file: &std::fs::File, line: LineLoc) -> Result<Bytes, PayloadError> {
    if line.len as usize > MAX_LINE {
        return Err(PayloadError::Changed(format!(
            "a line of {} bytes at byte {} is longer than any indexed",
            line.len, line.offset
        )));
    }
    // One byte either side: the line must still start and end where it did.
    let from = line.offset.saturating_sub(1);
    let lead = (line.offset - from) as usize;
    let mut buf = vec![0u8; lead + line.len as usize + 1];
    let got = read_at(file, from, &mut buf)?;
    let end = lead + line.len as usize;
    let changed = |what: &str| {
        Err(PayloadError::Changed(format!(
            "the line at byte {} {what}",
            line.offset
        )))
    };
    if got < end {
        return changed("is past the end of the file");
    }
    if lead == 1 && buf[0] != b'\n' {
        return changed("no longer starts a line");
    }
    if got > end && buf[end] != b'\n' {
        return changed("no longer ends there");
    }
    payload_of_line(&buf[lead..end])
        .map_err(|why| PayloadError::Changed(format!("the line at byte {}: {why}", line.offset)))
}

/// The payload of one frame line already in memory (a caller reading many lines in one read).
pub fn payload_from_line(line: &[u8]) -> Result<Bytes, PayloadError> {
    payload_of_line(line).map_err(PayloadError::Changed)
}

fn payload_of_line(line: &[u8]) -> Result<Bytes, String> {
    let text = trim_line(line);
    if let Some(c) = canonical::parse(text) {
        let mut payload = Vec::with_capacity(c.len as usize);
        canonical::decode_into(text, &c, &mut payload)?;
        return Ok(Bytes::from(payload));
    }
    let obj = match serde_json::from_slice::<Value>(text) {
        Ok(Value::Object(obj)) => obj,
        Ok(_) => return Err("not a JSON object".into()),
        Err(e) => return Err(format!("not JSON ({e})")),
    };
    if obj.contains_key("wsdeck_capture") {
        return Err("a header, not a frame".into());
    }
    match records::parse_record(obj, &mut 0)? {
        Entry::Frame(f) => Ok(f.payload),
        Entry::Event { kind, .. } => Err(format!("an event ({kind}), not a frame")),
    }
}

/// Read into `buf` from `offset` until it is full or the file ends; how much was read.
fn read_at(file: &std::fs::File, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        let Some(at) = offset.checked_add(got as u64) else {
            break;
        };
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(file, &mut buf[got..], at);
        #[cfg(not(unix))]
        let n = {
            use std::io::{Read, Seek};
            let mut f = file;
            f.seek(std::io::SeekFrom::Start(at))
                .and_then(|_| f.read(&mut buf[got..]))
        };
        match n {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests;

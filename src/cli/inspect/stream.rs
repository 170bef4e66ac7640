//! `inspect --json` for a capture of lines, streamed: memory stays at about a chunk and a line
//! (per worker) whatever the capture's size, and the output is what `write_json` prints for
//! the whole capture. A frame line in the writer's shape is copied, with its times re-stamped
//! from the header's `started` (copied too when they are the same bytes; the shape admits only
//! text and base64 that re-encode to themselves); any other line is parsed and re-encoded.
//!
//! Records are read in order here; with more than one core, spans of the file further on are
//! read at the same time by workers ([`super::ahead`]), and taken whole when the reading in
//! order reaches them.

use super::ahead::{Ahead, Plan, Span, Then, Turns};
use super::{Reading, add_decoded, decoded_bytes, json_entry, started_of, written};
use crate::capture::index::canonical::{Canonical, Carried, decode_into};
use crate::capture::index::records::{Opened, Record, Records};
use crate::capture::index::times::Restamp;
use crate::capture::reader::{CaptureError, Entry};
use crate::decode::DecoderKind;
use crate::engine::frame::{Frame, Opcode};
use crate::exit;
use anyhow::Result;
use bytes::Bytes;
use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

/// Output goes to stdout in pieces of about this size (small enough to stay in the cache and
/// within memory the process has already touched).
const OUT_CHUNK: usize = 256 << 10;

pub(super) fn stream_json(path: &Path, recs: Box<Records>, reading: &Reading) -> Result<i32> {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let (code, _) = stream_json_to(
        path,
        recs,
        reading,
        Plan::for_this_machine(),
        &mut stdout.lock(),
        &mut stderr.lock(),
    );
    code
}

/// [`stream_json`] to `out` and `err`, reading ahead as `plan` says; with how many spans
/// workers printed.
pub(super) fn stream_json_to(
    path: &Path,
    mut recs: Box<Records>,
    reading: &Reading,
    plan: Plan,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> (Result<i32>, usize) {
    // Binary payloads go to a decoder unless they are shown as hex.
    let decode_binary = reading.kind != DecoderKind::Hex;
    recs.decode_binary(decode_binary);
    let mut st = Stream {
        path,
        reading,
        out,
        err,
        buf: Vec::with_capacity(OUT_CHUNK + (16 << 10)),
        enc: None,
        started: None,
        // Warnings wait for the first record: a file that turns out not to be a capture gets
        // only its error, as when it was read whole.
        held: Some(Vec::new()),
        scratch: Vec::new(),
    };
    let turns = Turns::default();
    std::thread::scope(|scope| {
        let mut ahead: Option<Ahead> = None;
        let mut looked = false;
        let code = loop {
            // Workers start once the times are known and nothing is held back.
            if !looked
                && let Some(started) = st.started
                && st.held.is_none()
                && !recs.pending_header()
            {
                looked = true;
                ahead = Ahead::start(
                    scope,
                    &turns,
                    plan,
                    || recs.clone_file(),
                    (recs.bytes_read(), recs.total_bytes()),
                    started,
                    reading,
                );
            }
            if let Some(a) = ahead.as_mut()
                && let Some(span) = a.starting_at(recs.bytes_read())
            {
                let taken = st.take(&span, &mut recs);
                a.recycle(span.out);
                if let Err(code) = taken {
                    break code;
                }
                continue;
            }
            match recs.next() {
                Ok(Some(rec)) => st.record(rec),
                Ok(None) => break st.finish(&recs),
                Err(e) => break st.fail(e),
            }
            if let Err(e) = st.paced() {
                break written(Err(e));
            }
        };
        // Dropping `ahead` stops the workers, which the scope then waits for.
        (code, ahead.map_or(0, |a| a.used))
    })
}

/// The reading in order: where output gathers, and what records before set.
struct Stream<'a> {
    path: &'a Path,
    reading: &'a Reading,
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    buf: Vec<u8>,
    enc: Option<Restamp>,
    /// What `enc` stamps from.
    started: Option<SystemTime>,
    held: Option<Vec<String>>,
    scratch: Vec<u8>,
}

impl Stream<'_> {
    fn record(&mut self, rec: Record<'_>) {
        match rec {
            Record::Warning(w) => match &mut self.held {
                Some(h) if h.len() < 1000 => h.push(w),
                _ => {
                    self.release();
                    let _ = writeln!(self.err, "wsdeck: {}: {w}", self.path.display());
                }
            },
            Record::Header(h) => {
                if self.started.is_none() {
                    self.started = Some(started_of(Some(&h)));
                }
                self.release();
            }
            Record::Canonical {
                c, line, payload, ..
            } => {
                self.release();
                let enc = encoder(&mut self.enc, &mut self.started, self.path);
                let (buf, scratch) = (&mut self.buf, &mut self.scratch);
                canonical_json(buf, enc, &c, line, payload, self.reading, scratch);
            }
            Record::Parsed { entry, .. } => {
                self.release();
                let enc = encoder(&mut self.enc, &mut self.started, self.path);
                json_entry(&mut self.buf, enc.encoder(), &entry, self.reading);
            }
        }
    }

    fn release(&mut self) {
        for w in self.held.take().unwrap_or_default() {
            let _ = writeln!(self.err, "wsdeck: {}: {w}", self.path.display());
        }
    }

    /// Written out once it holds a piece's worth, after a record as on one core.
    fn paced(&mut self) -> std::io::Result<()> {
        if self.buf.len() >= OUT_CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// A worker's span: its output, and the lines it left (a line not in the writer's shape)
    /// read here in order between its pieces. The position is checked after each such line;
    /// should it not be where the worker said, the rest of the span is read here instead.
    fn take(&mut self, span: &Span, recs: &mut Records) -> Result<(), Result<i32>> {
        let mut from = 0;
        for seg in &span.segs {
            let piece = &span.out[from..seg.out_end];
            from = seg.out_end;
            // Written when the reading in order would have written within it (no warning can
            // come between its lines), else kept: writes, and so a write that fails, come at
            // the same points as on one core.
            if self.buf.len() + piece.len() < OUT_CHUNK {
                self.buf.extend_from_slice(piece);
            } else if let Err(e) = self.flush().and_then(|_| self.out.write_all(piece)) {
                return Err(written(Err(e)));
            }
            if let Err(e) = recs.skip_lines(seg.end, seg.lines, seg.records, seg.last_seq) {
                return Err(self.fail(e));
            }
            let Then::Line { next } = seg.then else {
                continue;
            };
            loop {
                match recs.next() {
                    Ok(Some(rec)) => self.record(rec),
                    Ok(None) => break,
                    Err(e) => return Err(self.fail(e)),
                }
                if let Err(e) = self.paced() {
                    return Err(written(Err(e)));
                }
                // A newer format's header comes after its warning, from the same line.
                if !recs.pending_header() {
                    break;
                }
            }
            if recs.bytes_read() != next {
                break;
            }
        }
        Ok(())
    }

    fn fail(&mut self, e: CaptureError) -> Result<i32> {
        let _ = self.out.write_all(&self.buf);
        let _ = writeln!(self.err, "wsdeck: {e}");
        Ok(exit::USAGE)
    }

    fn finish(&mut self, recs: &Records) -> Result<i32> {
        if let Err(e) = recs.finish() {
            let _ = writeln!(self.err, "wsdeck: {e}");
            return Ok(exit::USAGE);
        }
        self.release();
        written(self.flush().and_then(|_| self.out.flush()))
    }
}

/// The encoder, made on first use from the header's `started` (or the first header's further
/// on, when a record comes first).
fn encoder<'a>(
    enc: &'a mut Option<Restamp>,
    started: &mut Option<SystemTime>,
    path: &Path,
) -> &'a mut Restamp {
    let started = *started.get_or_insert_with(|| started_later(path));
    enc.get_or_insert_with(|| Restamp::new(started))
}

/// A capture whose first record comes before any header: the first header further on still
/// gives the times (as when the capture was read whole), found by reading on for it.
fn started_later(path: &Path) -> SystemTime {
    // Read again only from a file: a pipe's bytes would be taken from the reading itself.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return SystemTime::UNIX_EPOCH;
    }
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
pub(super) fn canonical_json(
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

#[cfg(test)]
#[path = "stream_tests.rs"]
pub(super) mod tests;

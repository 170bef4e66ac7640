//! A capture's records one at a time, by the reader's rules (`read_from`): canonical frame lines
//! by hand, every other line with serde exactly as the reader does, so the warnings, the seq
//! numbering and what counts as a header or a record are the reader's.

use super::LineLoc;
use super::canonical::{self, Canonical, Carried};
use super::lines::{Line, LineReader, MAX_LINE};
use crate::capture::FORMAT_VERSION;
use crate::capture::reader::{CaptureError, Entry, entry_from, no_record, trim_line};
use crate::engine::frame::Opcode;
use serde_json::{Map, Value};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// One line's worth.
#[derive(Debug)]
pub(crate) enum Record<'a> {
    /// A frame line in the writer's shape: its fields, and the line (trimmed) to take more from.
    Canonical {
        c: Canonical,
        line: &'a [u8],
        loc: LineLoc,
        /// A binary frame's payload, when [`Records::decode_binary`] asked for it.
        payload: Option<&'a [u8]>,
    },
    /// Any other record, read with serde: a frame (payload decoded) or an event.
    Parsed {
        entry: Entry,
        injected: bool,
        loc: LineLoc,
    },
    /// A header line (the first one is the capture's).
    Header(Map<String, Value>),
    /// What the reader would warn about ("line 12: …").
    Warning(String),
}

pub(crate) enum Opened {
    Lines(Box<Records>),
    /// A HAR document, which is one JSON value and is read whole (`read_capture`).
    Har,
}

pub(crate) struct Records {
    path: PathBuf,
    lines: LineReader<File>,
    total: u64,
    next_seq: u64,
    /// Lines seen, records and headers handed out, lines that could not be read.
    seen: u64,
    records: u64,
    headers: u64,
    bad: u64,
    /// A header whose version warning went out first.
    pending_header: Option<Map<String, Value>>,
    /// The first warning, for the error of a file with no record at all.
    first_warning: Option<String>,
    /// Whether binary frames' payloads are decoded as their lines are read, and where.
    decode_binary: bool,
    payload: Vec<u8>,
}

impl Records {
    pub fn open(path: &Path) -> Result<Opened, CaptureError> {
        Self::open_with_max_line(path, MAX_LINE)
    }

    pub fn open_with_max_line(path: &Path, max_line: usize) -> Result<Opened, CaptureError> {
        let io = |source| CaptureError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(io)?;
        let total = file.metadata().map_err(io)?.len();
        let lines = match read_head(&mut file).map_err(io)? {
            Head::Har => return Ok(Opened::Har),
            // The bytes read to decide are the line reader's first chunk, as if it had read
            // them (a fresh megabyte per open cost a page fault's zeroing on top of the read).
            Head::Capture(head, got) if max_line >= head.len() => {
                LineReader::with_buffer(file, head, got, max_line)
            }
            _ => {
                file.seek(SeekFrom::Start(0)).map_err(io)?;
                LineReader::with_max_line(file, max_line)
            }
        };
        Ok(Opened::Lines(Box::new(Records {
            path: path.to_path_buf(),
            lines,
            total,
            next_seq: 0,
            seen: 0,
            records: 0,
            headers: 0,
            bad: 0,
            pending_header: None,
            first_warning: None,
            decode_binary: false,
            payload: Vec::new(),
        })))
    }

    /// Decode the payloads of canonical binary frames as their lines are read (one pass over
    /// the base64 instead of a check and then a decode).
    pub fn decode_binary(&mut self, on: bool) {
        self.decode_binary = on;
    }

    /// The file's size when it was opened.
    pub fn total_bytes(&self) -> u64 {
        self.total
    }

    /// How far into the file the records handed out reach.
    pub fn bytes_read(&self) -> u64 {
        self.lines.consumed()
    }

    /// The open file, again (for `pread`s that do not move this reader's offset).
    pub fn clone_file(&self) -> std::io::Result<File> {
        self.lines.source().try_clone()
    }

    /// Whether the next record is a header already read (a newer format's, after its warning):
    /// it comes back without a line being read.
    pub fn pending_header(&self) -> bool {
        self.pending_header.is_some()
    }

    /// Go on at `to`, past `lines` lines read elsewhere (`inspect --json`'s workers), of which
    /// `records` were canonical frame lines, the last with `last_seq`; the others blank. What
    /// the records after them are told is then as if they had been read here.
    pub fn skip_lines(
        &mut self,
        to: u64,
        lines: u64,
        records: u64,
        last_seq: Option<u64>,
    ) -> Result<(), CaptureError> {
        self.lines
            .skip_to(to, lines)
            .map_err(|source| CaptureError::Io {
                path: self.path.clone(),
                source,
            })?;
        if lines > 0 {
            self.seen = self.lines.line_no();
        }
        self.records += records;
        if let Some(seq) = last_seq {
            self.next_seq = seq;
        }
        Ok(())
    }

    pub fn next(&mut self) -> Result<Option<Record<'_>>, CaptureError> {
        if let Some(h) = self.pending_header.take() {
            return Ok(Some(Record::Header(h)));
        }
        // The common case first: a canonical line read where it starts in the buffer, its end
        // found by reading it rather than by a search.
        let payload = self.decode_binary.then_some(&mut self.payload);
        if let Some((c, len)) = canonical::parse_line_start(self.lines.buffered(), payload) {
            let line = self.lines.take_line(len);
            self.seen = line.no;
            self.next_seq = c.seq;
            self.records += 1;
            return Ok(Some(self.canonical(c, line)));
        }
        let (c, line) = loop {
            let Some(line) = self.lines.next_line().map_err(|source| CaptureError::Io {
                path: self.path.clone(),
                source,
            })?
            else {
                return Ok(None);
            };
            self.seen = line.no;
            // The common case first, without building a step.
            if line.too_long.is_none()
                && let Some(c) = if self.decode_binary {
                    canonical::parse_decoding(trim_line(self.lines.bytes(&line)), &mut self.payload)
                } else {
                    canonical::parse(trim_line(self.lines.bytes(&line)))
                }
            {
                self.next_seq = c.seq;
                self.records += 1;
                break (c, line);
            }
            match self.step(&line)? {
                Some(r) => {
                    if let Record::Warning(w) = &r
                        && self.first_warning.is_none()
                    {
                        self.first_warning = Some(w.clone());
                    }
                    return Ok(Some(r));
                }
                None => continue,
            }
        };
        Ok(Some(self.canonical(c, line)))
    }

    fn canonical(&self, c: Canonical, line: Line) -> Record<'_> {
        let decoded = self.decode_binary && c.opcode == Opcode::Binary && c.carried == Carried::B64;
        Record::Canonical {
            payload: decoded.then_some(&self.payload[..]),
            c,
            line: trim_line(self.lines.bytes(&line)),
            loc: loc_of(&line),
        }
    }

    /// The reader's verdict at the end: a file with no header and no record is not a capture.
    pub fn finish(&self) -> Result<(), CaptureError> {
        if self.headers > 0 || self.records > 0 {
            return Ok(());
        }
        Err(CaptureError::NotACapture {
            path: self.path.clone(),
            why: if self.seen == 0 {
                "the file is empty".into()
            } else {
                no_record(self.seen, self.bad, self.first_warning.as_deref())
            },
        })
    }

    /// One line that is not a canonical frame, as `read_from`'s loop body reads it (`None`: a
    /// blank line).
    fn step(&mut self, line: &Line) -> Result<Option<Record<'static>>, CaptureError> {
        let n = line.no;
        if let Some(len) = line.too_long {
            self.bad += 1;
            let max = self.lines.max_line();
            let max = if max >= 1 << 20 {
                format!("{} MiB", max >> 20)
            } else {
                format!("{max} bytes")
            };
            return Ok(Some(Record::Warning(format!(
                "line {n}: {len} bytes long, more than the {max} a line may have; skipped"
            ))));
        }
        let text = trim_line(self.lines.bytes(line));
        if text.is_empty() {
            return Ok(None);
        }
        let value: Value = match serde_json::from_slice(text) {
            Ok(v) => v,
            Err(e) => {
                self.bad += 1;
                if n == 1 && !text.starts_with(b"{") {
                    return Err(CaptureError::NotACapture {
                        path: self.path.clone(),
                        why: format!("the first line is not JSON ({e})"),
                    });
                }
                return Ok(Some(Record::Warning(if line.complete {
                    format!("line {n}: not JSON ({e}); skipped")
                } else {
                    format!(
                        "line {n}: cut off mid-line (the capture ended while it was written); the {} lines before it loaded",
                        n - 1
                    )
                })));
            }
        };
        let Value::Object(obj) = value else {
            self.bad += 1;
            return Ok(Some(Record::Warning(format!(
                "line {n}: not a JSON object; skipped"
            ))));
        };
        if obj.contains_key("wsdeck_capture") {
            self.headers += 1;
            if let Some(v) = obj.get("wsdeck_capture").and_then(Value::as_u64)
                && v > FORMAT_VERSION as u64
            {
                // The header comes back on the next call, as the reader keeps it too.
                self.pending_header = Some(obj);
                return Ok(Some(Record::Warning(format!(
                    "line {n}: format version {v} is newer than this wsdeck reads ({FORMAT_VERSION}); reading what it can"
                ))));
            }
            return Ok(Some(Record::Header(obj)));
        }
        let injected = obj.get("injected").and_then(Value::as_bool) == Some(true);
        match parse_record(obj, &mut self.next_seq) {
            Ok(entry) => {
                self.records += 1;
                Ok(Some(Record::Parsed {
                    entry,
                    injected,
                    loc: loc_of(line),
                }))
            }
            Err(why) => {
                self.bad += 1;
                Ok(Some(Record::Warning(format!("line {n}: {why}; skipped"))))
            }
        }
    }
}

fn loc_of(line: &Line) -> LineLoc {
    LineLoc {
        offset: line.offset,
        // Lines are at most MAX_LINE (256 MiB) long.
        len: (line.range.end - line.range.start) as u32,
    }
}

/// `entry_from`, but a `"ms"` no `Duration` holds is a bad line rather than the reader's panic.
pub(crate) fn parse_record(obj: Map<String, Value>, next_seq: &mut u64) -> Result<Entry, String> {
    if let Some(ms) = obj.get("ms").and_then(Value::as_f64)
        && canonical::at_of_ms(ms).is_none()
    {
        return Err(format!("\"ms\" of {ms:e} is out of range"));
    }
    entry_from(obj, next_seq).map_err(|e| e.to_string())
}

/// The reader's test: a first line that is not JSON in a file that starts with `{` may be a
/// HAR (one JSON document over many lines). Looked at without building the document.
pub(crate) fn looks_like_har(file: &mut File) -> std::io::Result<bool> {
    Ok(matches!(read_head(file)?, Head::Har))
}

/// What the first megabyte of a file says.
enum Head {
    /// Not a HAR: the bytes read (filled up to the count), the file just past them.
    Capture(Vec<u8>, usize),
    Har,
    /// Not a HAR either, found by reading on: the file is anywhere.
    Reread,
}

fn read_head(file: &mut File) -> std::io::Result<Head> {
    let mut head = vec![0u8; super::lines::CHUNK];
    let mut got = 0;
    while got < head.len() {
        match file.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    let read = &head[..got];
    let first = read.split(|b| *b == b'\n').next().unwrap_or_default();
    if serde_json::from_slice::<Value>(trim_line(first)).is_ok()
        || read.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{')
    {
        return Ok(Head::Capture(head, got));
    }
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Har {
        log: Log,
    }
    #[derive(serde::Deserialize)]
    struct Log {
        #[allow(dead_code)]
        entries: Vec<serde::de::IgnoredAny>,
    }
    file.seek(SeekFrom::Start(0))?;
    let har = serde_json::from_reader::<_, Har>(BufReader::with_capacity(1 << 20, &*file)).is_ok();
    Ok(if har { Head::Har } else { Head::Reread })
}

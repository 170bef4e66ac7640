//! Reading a capture back, tolerantly: every complete line loads; a line cut off by a crash, or
//! one that does not parse, becomes a warning that names the line, never a lost file.

use crate::capture::FORMAT_VERSION;
use crate::engine::frame::{Direction, Frame, Opcode};
use bytes::Bytes;
use serde_json::{Map, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Frame(Frame),
    Event {
        at: Duration,
        kind: String,
        fields: Map<String, Value>,
    },
}

impl Entry {
    pub fn at(&self) -> Duration {
        match self {
            Entry::Frame(f) => f.at,
            Entry::Event { at, .. } => *at,
        }
    }
}

#[derive(Debug, Default)]
pub struct Capture {
    /// The header line, when the file has one.
    pub header: Option<Map<String, Value>>,
    pub entries: Vec<Entry>,
    /// Frames marked `"injected": true` (put into a proxied conversation from the console), by
    /// `seq`.
    pub injected: Vec<u64>,
    /// What could not be loaded, one line each ("line 12: …").
    pub warnings: Vec<String>,
}

impl Capture {
    pub fn frames(&self) -> impl Iterator<Item = &Frame> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Frame(f) => Some(f),
            _ => None,
        })
    }
}

#[derive(Debug, Error)]
pub enum CaptureError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a wsdeck capture: {why}")]
    NotACapture { path: PathBuf, why: String },
}

/// Read a wsdeck capture (JSON lines), or a HAR file with WebSocket messages.
pub fn read_capture(path: &Path) -> Result<Capture, CaptureError> {
    let file = std::fs::File::open(path).map_err(|source| CaptureError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    // A HAR is one JSON document spread over many lines; a capture's first line is a whole
    // object. Look at the first line to tell them apart.
    let first = reader.fill_buf().map_err(|source| CaptureError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let first_line = first.split(|b| *b == b'\n').next().unwrap_or_default();
    let looks_like_lines = serde_json::from_slice::<Value>(trim_line(first_line)).is_ok();
    if !looks_like_lines && first.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        let mut text = Vec::new();
        reader
            .read_to_end(&mut text)
            .map_err(|source| CaptureError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        if let Ok(v) = serde_json::from_slice::<Value>(&text)
            && crate::capture::har::is_har(&v)
        {
            return crate::capture::har::read_har(&v).map_err(|why| CaptureError::NotACapture {
                path: path.to_path_buf(),
                why: why.to_string(),
            });
        }
        return read_from(&text[..], path);
    }
    read_from(reader, path)
}

pub fn read_from(mut reader: impl BufRead, path: &Path) -> Result<Capture, CaptureError> {
    let mut cap = Capture::default();
    let mut line = Vec::with_capacity(4096);
    let mut n = 0usize;
    let mut bad = 0usize;
    let mut next_seq = 0u64;
    loop {
        line.clear();
        let read = (&mut reader)
            .take(u64::MAX)
            .read_until(b'\n', &mut line)
            .map_err(|source| CaptureError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        if read == 0 {
            break;
        }
        n += 1;
        let complete = line.last() == Some(&b'\n');
        let text = trim_line(&line);
        if text.is_empty() {
            continue;
        }
        let value: Value = match serde_json::from_slice(text) {
            Ok(v) => v,
            Err(e) => {
                bad += 1;
                if complete {
                    cap.warnings
                        .push(format!("line {n}: not JSON ({e}); skipped"));
                } else {
                    cap.warnings.push(format!(
                        "line {n}: cut off mid-line (the capture ended while it was written); the {} lines before it loaded",
                        n - 1
                    ));
                }
                if n == 1 && !looks_like_capture(text) {
                    return Err(CaptureError::NotACapture {
                        path: path.to_path_buf(),
                        why: format!("the first line is not JSON ({e})"),
                    });
                }
                continue;
            }
        };
        let Value::Object(obj) = value else {
            bad += 1;
            cap.warnings
                .push(format!("line {n}: not a JSON object; skipped"));
            continue;
        };
        if obj.contains_key("wsdeck_capture") {
            if let Some(v) = obj.get("wsdeck_capture").and_then(Value::as_u64)
                && v > FORMAT_VERSION as u64
            {
                cap.warnings.push(format!(
                    "line {n}: format version {v} is newer than this wsdeck reads ({FORMAT_VERSION}); reading what it can"
                ));
            }
            if cap.header.is_none() {
                cap.header = Some(obj);
            }
            continue;
        }
        let injected = obj.get("injected").and_then(Value::as_bool) == Some(true);
        match entry_from(obj, &mut next_seq) {
            Ok(e) => {
                if injected && let Entry::Frame(f) = &e {
                    cap.injected.push(f.seq);
                }
                cap.entries.push(e)
            }
            Err(why) => {
                bad += 1;
                cap.warnings.push(format!("line {n}: {why}; skipped"));
            }
        }
    }
    if cap.header.is_none() && cap.entries.is_empty() {
        return Err(CaptureError::NotACapture {
            path: path.to_path_buf(),
            why: if n == 0 {
                "the file is empty".into()
            } else {
                no_record(
                    n as u64,
                    bad as u64,
                    cap.warnings.first().map(String::as_str),
                )
            },
        });
    }
    Ok(cap)
}

/// Why a file with lines but no record is not a capture, with the first line's reason (a
/// 50 MB line cut off, nesting too deep), which would otherwise be lost with the warnings.
pub(crate) fn no_record(lines: u64, bad: u64, first: Option<&str>) -> String {
    let mut why = format!("none of its {lines} lines is a capture record ({bad} could not be read");
    if let Some(first) = first {
        why.push_str("; ");
        why.push_str(first.strip_suffix("; skipped").unwrap_or(first));
    }
    why.push(')');
    why
}

pub(crate) fn trim_line(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r' | b' ' | b'\t') {
        end -= 1;
    }
    &line[..end]
}

fn looks_like_capture(text: &[u8]) -> bool {
    text.starts_with(b"{")
}

/// A record's time: `ms` (nothing, or ≤ 0, is zero); a value no `Duration` holds is an error,
/// never a panic.
fn at_from(obj: &Map<String, Value>) -> Result<Duration, RecordError> {
    let ms = obj.get("ms").and_then(Value::as_f64).unwrap_or(0.0);
    if ms.is_finite() && ms > 0.0 {
        Duration::try_from_secs_f64(ms / 1000.0)
            .map_err(|_| RecordError::BadTime(format!("{ms:e}")))
    } else {
        Ok(Duration::ZERO)
    }
}

/// Why one line of a capture is not a record (the line is skipped with a warning).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RecordError {
    #[error("\"ms\" of {0} is out of range")]
    BadTime(String),
    #[error("no \"dir\" of in/out and no \"event\"")]
    NoDirection,
    #[error("no \"op\" of text/binary/ping/pong/close")]
    NoOpcode,
    #[error("\"b64\" is not base64 ({0})")]
    BadBase64(String),
    #[error("\"len\" says {said} bytes but the payload has {actual}")]
    WrongLength { said: u64, actual: usize },
}

/// One record: a frame (`dir` + `op`) or an event (`event`).
pub fn entry_from(mut obj: Map<String, Value>, next_seq: &mut u64) -> Result<Entry, RecordError> {
    let at = at_from(&obj)?;
    if let Some(kind) = obj.get("event").and_then(Value::as_str).map(str::to_string) {
        obj.remove("event");
        obj.remove("t");
        obj.remove("ms");
        return Ok(Entry::Event {
            at,
            kind,
            fields: obj,
        });
    }
    let dir = obj
        .get("dir")
        .and_then(Value::as_str)
        .and_then(Direction::parse)
        .ok_or(RecordError::NoDirection)?;
    let opcode = obj
        .get("op")
        .and_then(Value::as_str)
        .and_then(Opcode::parse)
        .ok_or(RecordError::NoOpcode)?;
    let payload = if let Some(t) = obj.get_mut("text").and_then(|v| match v {
        Value::String(s) => Some(std::mem::take(s)),
        _ => None,
    }) {
        Bytes::from(t)
    } else if let Some(b) = obj.get("b64").and_then(Value::as_str) {
        Bytes::from(
            base64_simd::STANDARD
                .decode_to_vec(b)
                .map_err(|e| RecordError::BadBase64(e.to_string()))?,
        )
    } else {
        Bytes::new()
    };
    if let Some(len) = obj.get("len").and_then(Value::as_u64)
        && len != payload.len() as u64
    {
        return Err(RecordError::WrongLength {
            said: len,
            actual: payload.len(),
        });
    }
    let seq = match obj.get("seq").and_then(Value::as_u64) {
        Some(s) => s,
        None => *next_seq + 1,
    };
    *next_seq = seq;
    Ok(Entry::Frame(Frame {
        seq,
        at,
        dir,
        opcode,
        payload,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> Result<Capture, CaptureError> {
        read_from(s.as_bytes(), Path::new("t.jsonl"))
    }

    #[test]
    fn truncated_last_line_loads_the_rest_with_a_warning() {
        let s = "{\"wsdeck_capture\":1}\n{\"seq\":1,\"ms\":1.5,\"dir\":\"out\",\"op\":\"text\",\"len\":2,\"text\":\"hi\"}\n{\"seq\":2,\"ms\":2,\"dir\":\"in\",\"op\":\"te";
        let c = read(s).expect("capture");
        assert_eq!(c.entries.len(), 1);
        assert_eq!(c.warnings.len(), 1);
        assert!(
            c.warnings[0].contains("line 3: cut off"),
            "{:?}",
            c.warnings
        );
        let Entry::Frame(f) = &c.entries[0] else {
            panic!("not a frame")
        };
        assert_eq!(f.text(), Some("hi"));
        assert_eq!(f.at, Duration::from_micros(1500));
    }

    #[test]
    fn bad_lines_are_named_and_skipped() {
        let s = "{\"wsdeck_capture\":1}\nnonsense\n{\"dir\":\"in\",\"op\":\"binary\",\"b64\":\"***\"}\n{\"dir\":\"in\",\"op\":\"binary\",\"len\":3,\"b64\":\"AP8Q\"}\n{\"event\":\"close\",\"code\":1011,\"ms\":3}\n";
        let c = read(s).expect("capture");
        assert_eq!(c.entries.len(), 2);
        assert!(c.warnings[0].starts_with("line 2: not JSON"));
        assert!(c.warnings[1].contains("not base64"));
        match &c.entries[1] {
            Entry::Event { kind, fields, .. } => {
                assert_eq!(kind, "close");
                assert_eq!(fields["code"], 1011);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn not_a_capture() {
        assert!(matches!(read(""), Err(CaptureError::NotACapture { .. })));
        assert!(matches!(
            read("hello world\n"),
            Err(CaptureError::NotACapture { .. })
        ));
        assert!(matches!(
            read("{\"a\":1}\n"),
            Err(CaptureError::NotACapture { .. })
        ));
    }

    #[test]
    fn a_file_with_no_record_says_why_its_first_line_was_not_one() {
        let e = read("{\"a\":1}\n[1]\n").unwrap_err().to_string();
        assert!(
            e.ends_with("none of its 2 lines is a capture record (2 could not be read; line 1: no \"dir\" of in/out and no \"event\")"),
            "{e}"
        );
        // A single line cut off (a 50 MB line with no end, in tests/hostile): said as such.
        let e = read("{\"seq\":1,\"text\":\"aaaa").unwrap_err().to_string();
        assert!(
            e.contains("(1 could not be read; line 1: cut off mid-line"),
            "{e}"
        );
        let deep = format!("{{\"a\":{}\n", "[".repeat(1000));
        let e = read(&deep).unwrap_err().to_string();
        assert!(
            e.contains("line 1: not JSON (recursion limit exceeded"),
            "{e}"
        );
    }

    #[test]
    fn a_time_no_duration_holds_is_a_bad_line_not_a_panic() {
        let s = "{\"wsdeck_capture\":1}\n{\"dir\":\"in\",\"op\":\"text\",\"text\":\"x\",\"ms\":1e300}\n{\"dir\":\"in\",\"op\":\"text\",\"text\":\"y\",\"ms\":2}\n";
        let c = read_from(s.as_bytes(), Path::new("t.jsonl")).expect("read");
        assert_eq!(c.frames().count(), 1);
        assert!(
            c.warnings
                .iter()
                .any(|w| w.contains("line 2") && w.contains("out of range")),
            "{:?}",
            c.warnings
        );
    }
}

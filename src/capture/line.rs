//! Encoding one frame or event as one JSON line, fast: frames are written by hand into a reused
//! buffer (a capture may take millions of them a second); events, rare, go through serde_json.

use crate::engine::frame::{Frame, Opcode};
use serde_json::{Map, Value, json};
use std::time::{Duration, SystemTime};

/// A lifecycle event as a JSON object (`event` plus its fields).
pub type EventLine = Map<String, Value>;

/// Turns frames and events into JSON lines with wall-clock and monotonic times.
pub struct LineEncoder {
    /// Wall-clock time of the session's monotonic zero.
    start_unix_us: i128,
    /// The last whole second formatted, and its `YYYY-MM-DDTHH:MM:SS` text.
    second_cache: (i64, String),
}

impl LineEncoder {
    pub fn new(start: SystemTime) -> Self {
        let start_unix_us = match start.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => d.as_micros() as i128,
            Err(e) => -(e.duration().as_micros() as i128),
        };
        LineEncoder {
            start_unix_us,
            second_cache: (i64::MIN, String::new()),
        }
    }

    /// Append `"t":"…Z","ms":…` for the offset `at`.
    fn push_times(&mut self, out: &mut Vec<u8>, at: Duration) {
        let us = self.start_unix_us + at.as_micros() as i128;
        let secs = us.div_euclid(1_000_000) as i64;
        let frac = us.rem_euclid(1_000_000) as u32;
        if self.second_cache.0 != secs {
            let text = time::OffsetDateTime::from_unix_timestamp(secs)
                .ok()
                .and_then(|t| {
                    t.format(&time::macros::format_description!(
                        "[year]-[month]-[day]T[hour]:[minute]:[second]"
                    ))
                    .ok()
                })
                .unwrap_or_else(|| "1970-01-01T00:00:00".into());
            self.second_cache = (secs, text);
        }
        out.extend_from_slice(b"\"t\":\"");
        out.extend_from_slice(self.second_cache.1.as_bytes());
        out.push(b'.');
        push_padded(out, frac as u64, 6);
        out.extend_from_slice(b"Z\",\"ms\":");
        let at_us = at.as_micros() as u64;
        push_u64(out, at_us / 1000);
        out.push(b'.');
        push_padded(out, at_us % 1000, 3);
    }

    /// One frame as a JSON line (with the trailing newline) appended to `out`.
    pub fn frame(&mut self, out: &mut Vec<u8>, f: &Frame) {
        out.extend_from_slice(b"{\"seq\":");
        push_u64(out, f.seq);
        out.push(b',');
        self.push_times(out, f.at);
        out.extend_from_slice(b",\"dir\":\"");
        out.extend_from_slice(f.dir.as_str().as_bytes());
        out.extend_from_slice(b"\",\"op\":\"");
        out.extend_from_slice(f.opcode.as_str().as_bytes());
        out.extend_from_slice(b"\",\"len\":");
        push_u64(out, f.payload.len() as u64);
        match (f.opcode, f.text()) {
            (Opcode::Text, Some(text)) => {
                out.extend_from_slice(b",\"text\":");
                // serde_json's escaping of a &str cannot fail when writing to a Vec.
                let _ = serde_json::to_writer(&mut *out, text);
            }
            _ => {
                out.extend_from_slice(b",\"b64\":\"");
                push_b64(out, &f.payload);
                out.push(b'"');
                if let Some((code, reason)) = f.close_code() {
                    out.extend_from_slice(b",\"code\":");
                    push_u64(out, code as u64);
                    out.extend_from_slice(b",\"reason\":");
                    let _ = serde_json::to_writer(&mut *out, &reason);
                }
            }
        }
        out.extend_from_slice(b"}\n");
    }

    /// One event (`{"event":kind, …fields}`) as a JSON line appended to `out`.
    pub fn event(&mut self, out: &mut Vec<u8>, at: Duration, kind: &str, fields: EventLine) {
        out.extend_from_slice(b"{");
        self.push_times(out, at);
        out.extend_from_slice(b",\"event\":");
        let _ = serde_json::to_writer(&mut *out, kind);
        for (k, v) in fields {
            out.push(b',');
            let _ = serde_json::to_writer(&mut *out, &k);
            out.push(b':');
            let _ = serde_json::to_writer(&mut *out, &v);
        }
        out.extend_from_slice(b"}\n");
    }
}

/// Build an event's fields from a `json!({...})` object.
/// Add `"key":value` (`value` already JSON) to the line `buf` ends with (`…}\n`).
pub fn add_field(buf: &mut Vec<u8>, key: &str, value: &str) {
    if buf.ends_with(b"}\n") {
        buf.truncate(buf.len() - 2);
        buf.extend_from_slice(b",\"");
        buf.extend_from_slice(key.as_bytes());
        buf.extend_from_slice(b"\":");
        buf.extend_from_slice(value.as_bytes());
        buf.extend_from_slice(b"}\n");
    }
}

pub fn fields(v: Value) -> EventLine {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Header pairs as `[["name","value"], …]` (order and duplicates kept).
pub fn header_pairs(h: &[(String, String)]) -> Value {
    Value::Array(h.iter().map(|(k, v)| json!([k, v])).collect())
}

fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn push_padded(out: &mut Vec<u8>, v: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut v = v;
    for i in (0..width).rev() {
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&buf[..width]);
}

fn push_b64(out: &mut Vec<u8>, data: &[u8]) {
    // SIMD (AVX-512 VBMI where the CPU has it): at 64 KiB frames base64 is most of a capture's
    // CPU cost.
    super::b64::encode_append(data, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::frame::{Direction, close_payload};
    use bytes::Bytes;

    fn enc() -> LineEncoder {
        LineEncoder::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_064_800))
    }

    #[test]
    fn text_frame_line() {
        let mut out = Vec::new();
        let f = Frame {
            seq: 7,
            at: Duration::from_micros(1_234_567),
            dir: Direction::Out,
            opcode: Opcode::Text,
            payload: Bytes::from_static(b"{\"type\":\"ping\"}\n\"x"),
        };
        enc().frame(&mut out, &f);
        let s = String::from_utf8(out).expect("utf8");
        assert_eq!(
            s,
            "{\"seq\":7,\"t\":\"2025-11-25T10:00:01.234567Z\",\"ms\":1234.567,\"dir\":\"out\",\"op\":\"text\",\"len\":18,\"text\":\"{\\\"type\\\":\\\"ping\\\"}\\n\\\"x\"}\n"
        );
        let v: Value = serde_json::from_str(&s).expect("json");
        assert_eq!(v["text"], "{\"type\":\"ping\"}\n\"x");
    }

    #[test]
    fn binary_and_close_lines() {
        let mut e = enc();
        let mut out = Vec::new();
        e.frame(
            &mut out,
            &Frame {
                seq: 1,
                at: Duration::ZERO,
                dir: Direction::In,
                opcode: Opcode::Binary,
                payload: Bytes::from_static(&[0, 255, 16]),
            },
        );
        e.frame(
            &mut out,
            &Frame {
                seq: 2,
                at: Duration::from_millis(5),
                dir: Direction::In,
                opcode: Opcode::Close,
                payload: close_payload(1011, "Internal server error"),
            },
        );
        let s = String::from_utf8(out).expect("utf8");
        let lines: Vec<Value> = s
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert_eq!(lines[0]["b64"], "AP8Q");
        assert_eq!(lines[0]["len"], 3);
        assert_eq!(lines[1]["code"], 1011);
        assert_eq!(lines[1]["reason"], "Internal server error");
        assert_eq!(lines[1]["ms"], 5.0);
    }

    #[test]
    fn event_line() {
        let mut out = Vec::new();
        enc().event(
            &mut out,
            Duration::from_millis(2),
            "close",
            fields(json!({"code":1000,"reason":"","clean":true,"by":"client"})),
        );
        let v: Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(v["event"], "close");
        assert_eq!(v["clean"], true);
        assert_eq!(v["t"], "2025-11-25T10:00:00.002000Z");
    }
}

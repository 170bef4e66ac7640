//! Frame lines in the writer's own shape (`LineEncoder::frame`), read by hand: the fixed fields
//! parsed, the payload checked where that is cheap (base64 by SIMD, a JSON string by looking
//! for its quote and its escapes) but not decoded. Anything else in a line, even valid JSON in
//! another order, is `None`: the caller reads that line with serde, so the hand parser only has
//! to be right for what it accepts, and it accepts only what serde would read the same way.

use super::scan::scan_text;
use crate::capture::reader::trim_line;
use crate::engine::frame::{Direction, Opcode};
use serde_json::{Map, Value};
use std::ops::Range;
use std::time::Duration;

/// How a frame line carries its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Carried {
    /// `"text"`: a JSON string with no escapes but `\" \\ \b \f \n \r \t`, so it is exactly
    /// what serde_json writes for the text it holds.
    Text,
    /// `"b64"`: standard base64, padded, checked.
    B64,
}

/// A canonical frame line, read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Canonical {
    pub seq: u64,
    pub at: Duration,
    pub dir: Direction,
    pub opcode: Opcode,
    pub len: u32,
    pub injected: bool,
    pub carried: Carried,
    /// `"t":"…","ms":…` in the line.
    pub times: Range<usize>,
    /// The `t` string, between its quotes.
    pub t: Range<usize>,
    /// The payload's JSON string, between its quotes.
    pub body: Range<usize>,
    /// Nothing but `}` after the payload's closing quote.
    pub bare: bool,
}

/// Keys that the reader (`entry_from`, the header test) looks at: a line that repeats one after
/// the payload means what serde's last-one-wins says, so it is left to serde.
const READ_KEYS: &[&str] = &[
    "seq",
    "t",
    "ms",
    "dir",
    "op",
    "len",
    "text",
    "b64",
    "event",
    "wsdeck_capture",
];

/// The bytes a `t` of the hand parser's may hold: letters, digits, `:` `.` `-` `+`.
static T_CHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b':' | b'.' | b'-' | b'+');
        b += 1;
    }
    t
};

struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cur<'_> {
    #[inline]
    fn lit(&mut self, s: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + s.len())? == s {
            self.i += s.len();
            Some(())
        } else {
            None
        }
    }

    /// A JSON integer of at most `max_digits` digits (no sign, no leading zero).
    #[inline(always)]
    fn uint(&mut self, max_digits: usize) -> Option<u64> {
        let start = self.i;
        let mut v = 0u64;
        // Nineteen digits always fit in a u64, so those go without an overflow check (the
        // checks were a branch per digit on every record's numbers).
        let unchecked_end = (start + max_digits.min(19)).min(self.b.len());
        while self.i < unchecked_end {
            let d = self.b[self.i].wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            v = v * 10 + d as u64;
            self.i += 1;
        }
        while let Some(&c) = self.b.get(self.i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            v = v.checked_mul(10)?.checked_add(d as u64)?;
            self.i += 1;
        }
        let digits = self.i - start;
        if digits == 0 || digits > max_digits || (digits > 1 && self.b[start] == b'0') {
            return None;
        }
        Some(v)
    }

    /// One of `words`, then a closing quote.
    #[inline(always)]
    fn word<T: Copy>(&mut self, words: &[(&[u8], T)]) -> Option<T> {
        for (w, v) in words {
            if self.b[self.i..].starts_with(w) && self.b.get(self.i + w.len()) == Some(&b'"') {
                self.i += w.len() + 1;
                return Some(*v);
            }
        }
        None
    }
}

const DIRS: &[(&[u8], Direction)] = &[(b"in", Direction::In), (b"out", Direction::Out)];
const OPS: &[(&[u8], Opcode)] = &[
    (b"text", Opcode::Text),
    (b"binary", Opcode::Binary),
    (b"ping", Opcode::Ping),
    (b"pong", Opcode::Pong),
    (b"close", Opcode::Close),
];

/// `line` (trimmed of its line end) read as a canonical frame line.
#[inline]
pub(crate) fn parse(line: &[u8]) -> Option<Canonical> {
    parse_into(line, None, false).map(|(c, _)| c)
}

/// [`parse`], and a binary frame's payload decoded into `payload` (emptied first) in the same
/// pass over its base64, which decoding checks as well as `parse`'s check does.
#[inline]
pub(crate) fn parse_decoding(line: &[u8], payload: &mut Vec<u8>) -> Option<Canonical> {
    parse_into(line, Some(payload), false).map(|(c, _)| c)
}

/// A canonical line at the start of `buf`, read before its end is known: the line is what
/// comes before the first `\n` after its payload, whose position is returned (the line's
/// length). Nothing a canonical line holds before that can be a `\n` (text with one is refused
/// at the raw byte), so it is the line's first, and the line, trimmed, is what `parse` takes;
/// anything else is `None`, for the caller to find the line's end and read it the usual way.
#[inline]
pub(crate) fn parse_line_start(
    buf: &[u8],
    payload: Option<&mut Vec<u8>>,
) -> Option<(Canonical, usize)> {
    let (c, len) = parse_into(buf, payload, true)?;
    Some((c, len))
}

/// The line read, and where it ends (the `\n` after it in `in_buffer` mode, else its end).
#[inline(always)]
fn parse_into(
    line: &[u8],
    payload: Option<&mut Vec<u8>>,
    in_buffer: bool,
) -> Option<(Canonical, usize)> {
    let mut c = Cur { b: line, i: 0 };
    c.lit(b"{\"seq\":")?;
    let seq = c.uint(20)?;
    c.lit(b",")?;
    let times_start = c.i;
    c.lit(b"\"t\":\"")?;
    let t_start = c.i;
    // RFC 3339 as the writer puts it; anything needing an escape is left to serde.
    let t_end = (c.i + 64).min(line.len());
    // Eight at a time, without a branch per byte: the writer's `t` is 27 bytes.
    while c.i + 8 <= t_end
        && line[c.i..c.i + 8]
            .iter()
            .fold(true, |ok, &b| ok & T_CHAR[b as usize])
    {
        c.i += 8;
    }
    while c.i < t_end && T_CHAR[line[c.i] as usize] {
        c.i += 1;
    }
    let t = t_start..c.i;
    c.lit(b"\",\"ms\":")?;
    // `ms` exactly as the writer puts it (whole milliseconds, a point, three digits), at most
    // 12 digits before the point so `ms * 1000` is an exact f64.
    let whole = c.uint(12)?;
    c.lit(b".")?;
    let frac = line.get(c.i..c.i + 3)?;
    if !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    c.i += 3;
    let frac = frac.iter().fold(0u64, |v, d| v * 10 + (d - b'0') as u64);
    let times = times_start..c.i;
    c.lit(b",\"dir\":\"")?;
    let dir = c.word(DIRS)?;
    c.lit(b",\"op\":\"")?;
    let opcode = c.word(OPS)?;
    c.lit(b",\"len\":")?;
    let len = u32::try_from(c.uint(10)?).ok()?;
    c.lit(b",\"")?;
    let (carried, body) = if c.lit(b"text\":\"").is_some() {
        let (close, unescaped) = scan_text(line, c.i)?;
        if unescaped != len as usize {
            return None;
        }
        (Carried::Text, c.i..close)
    } else {
        c.lit(b"b64\":\"")?;
        // The length tells where the closing quote must be; the check proves nothing in
        // between is a quote, a line end or anything but base64.
        let end = c.i.checked_add((len as usize).div_ceil(3) * 4)?;
        if line.get(end) != Some(&b'"') {
            return None;
        }
        let b64 = &line[c.i..end];
        match payload {
            Some(out) if opcode == Opcode::Binary => {
                out.clear();
                if base64_simd::STANDARD.decode_append(b64, out).is_err()
                    || out.len() != len as usize
                {
                    return None;
                }
            }
            _ => {
                if base64_simd::STANDARD.check(b64).is_err()
                    || base64_simd::STANDARD.decoded_length(b64).ok()? != len as usize
                {
                    return None;
                }
            }
        }
        (Carried::B64, c.i..end)
    };
    let mut tail = &line[body.end + 1..];
    let mut end = line.len();
    if in_buffer {
        // The line ends at the first `\n` after the payload (nothing before can be one), and
        // is read trimmed, as the reader reads every line.
        let nl = if tail.starts_with(b"}\n") {
            1
        } else {
            memchr::memchr(b'\n', tail)?
        };
        end = body.end + 1 + nl;
        tail = trim_line(&tail[..nl]);
    }
    let (bare, injected) = match tail {
        b"}" => (true, false),
        _ => (false, tail_injected(tail)?),
    };
    let c = Canonical {
        seq,
        at: at_of_us(whole * 1000 + frac)?,
        dir,
        opcode,
        len,
        injected,
        carried,
        times,
        t,
        body,
        bare,
    };
    Some((c, end))
}

/// What the reader makes of `"ms"` written as whole microseconds (`1.234` as 1234): below
/// 10¹² µs (11 days) the f64 path lands on the exact microsecond, so it is skipped.
#[inline]
pub(crate) fn at_of_us(us: u64) -> Option<Duration> {
    if us < 1_000_000_000_000 {
        Some(Duration::from_micros(us))
    } else {
        at_of_ms(us as f64 / 1000.0)
    }
}

/// What the reader makes of `"ms"` (`at_from`: seconds as f64, nothing for ≤ 0); `None` for a
/// value no `Duration` holds, which the reader would panic on.
pub(crate) fn at_of_ms(ms: f64) -> Option<Duration> {
    if ms.is_finite() && ms > 0.0 {
        Duration::try_from_secs_f64(ms / 1000.0).ok()
    } else {
        Some(Duration::ZERO)
    }
}

/// The fields after the payload (`,"client":3`, `,"injected":true`, a close frame's code and
/// reason): whether they mark the frame injected. `None` when they are not valid members or
/// repeat a key the reader looks at.
fn tail_injected(tail: &[u8]) -> Option<bool> {
    // The proxy's and the console's common tails, without serde.
    match tail {
        b",\"injected\":true}" => return Some(true),
        _ if tail.starts_with(b",\"client\":") => {
            let mut c = Cur { b: tail, i: 10 };
            if c.uint(20).is_some() {
                match &tail[c.i..] {
                    b"}" => return Some(false),
                    b",\"injected\":true}" => return Some(true),
                    _ => {}
                }
            }
        }
        _ => {}
    }
    if tail.len() < 3 || tail[0] != b',' || tail[1] != b'"' {
        return None;
    }
    let mut obj = Vec::with_capacity(tail.len());
    obj.push(b'{');
    obj.extend_from_slice(&tail[1..]);
    let fields: Map<String, Value> = serde_json::from_slice(&obj).ok()?;
    if READ_KEYS.iter().any(|k| fields.contains_key(*k)) {
        return None;
    }
    Some(fields.get("injected").and_then(Value::as_bool) == Some(true))
}

/// The payload of a line `parse` read, appended to `out`.
pub(crate) fn decode_into(line: &[u8], c: &Canonical, out: &mut Vec<u8>) -> Result<(), String> {
    let body = &line[c.body.clone()];
    match c.carried {
        Carried::Text => {
            unescape_into(body, out);
            Ok(())
        }
        Carried::B64 => base64_simd::STANDARD
            .decode_append(body, out)
            .map_err(|e| e.to_string()),
    }
}

/// The text a body accepted by [`scan_text`] holds, appended to `out`.
fn unescape_into(body: &[u8], out: &mut Vec<u8>) {
    let mut rest = body;
    while let Some(i) = memchr::memchr(b'\\', rest) {
        out.extend_from_slice(&rest[..i]);
        let Some(&e) = rest.get(i + 1) else {
            break;
        };
        out.push(match e {
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            other => other,
        });
        rest = &rest[i + 2..];
    }
    out.extend_from_slice(rest);
}

#[cfg(test)]
#[path = "canonical_tests.rs"]
mod tests;

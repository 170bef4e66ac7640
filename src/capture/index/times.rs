//! A canonical line's times as a [`LineEncoder`] writes them, taken from the line itself when it
//! already holds exactly those bytes: `inspect --json` re-stamps every frame from the header's
//! `started`, and formatting a date per record was a twentieth of its time on small frames,
//! while a capture's own lines nearly always hold what the encoder would write.

use super::canonical::Canonical;
use crate::capture::line::LineEncoder;
use serde_json::Map;
use std::time::SystemTime;

/// What `LineEncoder::event` writes after the times for an event of no kind and no fields.
const BARE_EVENT_END: &[u8] = b",\"event\":\"\"}\n";

/// `"ms"` is copied only below this many microseconds: there the reader's value is the exact
/// microsecond the line's digits say (see `canonical::at_of_us`).
const EXACT_US: u128 = 1_000_000_000_000;

pub(crate) struct Restamp {
    enc: LineEncoder,
    /// `started` in whole microseconds, as the encoder keeps it.
    start_unix_us: i128,
    /// The same, when 64 bits hold it with room for any copied offset: a 128-bit division per
    /// record was a twentieth of the time.
    start_us: Option<i64>,
    /// One whole second (from the epoch) and the text the encoder writes for it before the
    /// fraction (`YYYY-MM-DDTHH:MM:SS`).
    second: Option<(i64, Vec<u8>)>,
    scratch: Vec<u8>,
}

impl Restamp {
    pub fn new(started: SystemTime) -> Self {
        // As `LineEncoder::new` has it.
        let start_unix_us = match started.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => d.as_micros() as i128,
            Err(e) => -(e.duration().as_micros() as i128),
        };
        Restamp {
            enc: LineEncoder::new(started),
            start_unix_us,
            start_us: i64::try_from(start_unix_us)
                .ok()
                .filter(|s| s.checked_add(EXACT_US as i64).is_some()),
            second: None,
            scratch: Vec::new(),
        }
    }

    /// The encoder, for records that are not copied.
    pub fn encoder(&mut self) -> &mut LineEncoder {
        &mut self.enc
    }

    /// Append the encoder's `"t":"…","ms":…` for `c.at` to `out`, the line's own bytes when they
    /// are the same. False (and nothing appended) if the encoder's times are not in the shape
    /// this expects; the caller then leaves the record to the encoder.
    #[inline]
    pub fn push(&mut self, out: &mut Vec<u8>, line: &[u8], c: &Canonical) -> bool {
        if self.line_holds_them(line, c) {
            out.extend_from_slice(&line[c.times.clone()]);
            return true;
        }
        self.format(out, c)
    }

    /// Whether the line's own times are the encoder's: then the caller may copy them with
    /// what surrounds them, in one piece.
    #[inline]
    pub fn holds(&self, line: &[u8], c: &Canonical) -> bool {
        self.line_holds_them(line, c)
    }

    /// The encoder's times, formatted; the second they fall in is kept for the next lines.
    #[cold]
    fn format(&mut self, out: &mut Vec<u8>, c: &Canonical) -> bool {
        self.scratch.clear();
        self.enc.event(&mut self.scratch, c.at, "", Map::new());
        let Some(times) = self
            .scratch
            .strip_prefix(b"{")
            .and_then(|s| s.strip_suffix(BARE_EVENT_END))
        else {
            return false;
        };
        let us = self.start_unix_us + c.at.as_micros() as i128;
        self.second = second_text(times).map(|s| (us.div_euclid(1_000_000) as i64, s.to_vec()));
        out.extend_from_slice(times);
        true
    }

    /// Whether the line's times are what the encoder writes for `c.at`, checked against the
    /// second last formatted: the fraction and the `ms` are plain digits. A capture's times
    /// are re-stamped only when its header says another `started` than its writer used.
    #[inline]
    fn line_holds_them(&self, line: &[u8], c: &Canonical) -> bool {
        let at_us = c.at.as_micros();
        let Some((second, text)) = &self.second else {
            return false;
        };
        if at_us >= EXACT_US {
            return false;
        }
        let Some(start) = self.start_us else {
            return false;
        };
        // Both below the bound, checked above and in `new`.
        let us = start + at_us as i64;
        if us.div_euclid(1_000_000) != *second {
            return false;
        }
        let frac = us.rem_euclid(1_000_000) as u32;
        // `S.ffffffZ`: the second's text, a point, six digits, `Z`.
        let Some(t) = line.get(c.t.clone()) else {
            return false;
        };
        let n = text.len();
        if t.len() != n + 8 || &t[..n] != text.as_slice() || t[n] != b'.' || t[n + 7] != b'Z' {
            return false;
        }
        let mut v = 0u32;
        for &d in &t[n + 1..n + 7] {
            let d = d.wrapping_sub(b'0');
            if d > 9 {
                return false;
            }
            v = v * 10 + d as u32;
        }
        // The `ms` that follows was read by `parse` as exactly `at` in whole microseconds, in
        // the encoder's own form (no leading zero, three decimals), so it is the same bytes.
        v == frac
    }
}

/// `S` of times written as `"t":"S.ffffffZ","ms":…`.
fn second_text(times: &[u8]) -> Option<&[u8]> {
    let rest = times.strip_prefix(b"\"t\":\"")?;
    let end = memchr::memmem::find(rest, b"Z\",\"ms\":")?;
    let frac = rest.get(end.checked_sub(7)?..end)?;
    (frac[0] == b'.' && frac[1..].iter().all(u8::is_ascii_digit)).then(|| &rest[..end - 7])
}

#[cfg(test)]
#[path = "times_tests.rs"]
mod tests;

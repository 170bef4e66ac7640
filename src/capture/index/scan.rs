//! The end of a JSON string in a capture line, and whether it is one the hand parser takes on
//! (only the escapes serde_json writes for text it is given, no raw control bytes, UTF-8).
//!
//! A text payload has an escape every 15 bytes or so (JSON inside JSON), so a scan that stops
//! at each one and starts over pays per escape; memchr's call overhead was worse still. On
//! AVX-512BW a block of 64 bytes becomes bit masks of its quotes, backslashes, control bytes and
//! escapable letters, and the escapes are found and checked for the whole block at once; on
//! AVX2 a block of 32 bytes becomes one mask of its stops, walked bit by bit without reloading.
//! Chosen at run time; the eight-bytes-at-a-time scan stays for other CPUs and for
//! AVX2's last partial block, and every path gives the same answer on every input (tested).

/// Where the string from `start` (just past its opening quote) closes and how many bytes it
/// holds unescaped. `None` for anything this does not take on: `\u`, `\/`, any other escape, a
/// raw control character, bytes that are not UTF-8, no closing quote.
#[inline]
pub(crate) fn scan_text(line: &[u8], start: usize) -> Option<(usize, usize)> {
    #[cfg(target_arch = "x86_64")]
    {
        if simd::avx512_available() {
            // SAFETY: `avx512_available` found avx512f and avx512bw on this CPU, the features
            // `scan_avx512` is compiled for.
            return finish(line, start, unsafe { simd::scan_avx512(line, start) }?);
        }
        if simd::avx2_available() {
            // SAFETY: `avx2_available` found avx2 on this CPU, the feature `scan_avx2` is
            // compiled for.
            return finish(line, start, unsafe { simd::scan_avx2(line, start) }?);
        }
    }
    scan_text_portable(line, start)
}

/// The eight-bytes-at-a-time scan alone: other CPUs' path, and the reference in tests.
pub(crate) fn scan_text_portable(line: &[u8], start: usize) -> Option<(usize, usize)> {
    let state = Scan {
        i: start,
        escapes: 0,
        non_ascii: false,
    };
    finish(line, start, swar(line, state)?)
}

/// How far a scan got: the next byte to look at (the closing quote once done), escapes seen,
/// and whether any byte before `i` may be past ASCII (a false alarm only costs a UTF-8 check).
#[derive(Clone, Copy)]
pub(crate) struct Scan {
    pub i: usize,
    pub escapes: usize,
    pub non_ascii: bool,
}

/// The closing quote at `s.i`: the UTF-8 check, and the answer.
#[inline]
fn finish(line: &[u8], start: usize, s: Scan) -> Option<(usize, usize)> {
    let body = line.get(start..s.i)?;
    if s.non_ascii && std::str::from_utf8(body).is_err() {
        return None;
    }
    Some((s.i, body.len() - s.escapes))
}

/// What a backslash at `at` escapes, when it is one serde_json writes.
#[inline]
fn escape_ok(line: &[u8], at: usize) -> Option<()> {
    match line.get(at + 1)? {
        b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => Some(()),
        _ => None,
    }
}

/// From `s` to the closing quote, eight bytes at a time while none is a quote, a backslash or a
/// control character (bytes past ASCII are let through and checked as UTF-8 at the end).
fn swar(line: &[u8], mut s: Scan) -> Option<Scan> {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut high = 0u64;
    loop {
        while let Some(chunk) = line.get(s.i..s.i + 8) {
            let x = u64::from_le_bytes(chunk.try_into().ok()?);
            let zero_in = |v: u64| v.wrapping_sub(LOW) & !v & HIGH;
            let stop = zero_in(x ^ (LOW * b'"' as u64))
                | zero_in(x ^ (LOW * b'\\' as u64))
                | (x.wrapping_sub(LOW * 0x20) & !x & HIGH);
            high |= x & HIGH;
            if stop != 0 {
                // The lowest flagged byte is a true stop (false flags only sit above one).
                s.i += (stop.trailing_zeros() / 8) as usize;
                break;
            }
            s.i += 8;
        }
        let b = *line.get(s.i)?;
        match b {
            b'"' => {
                s.non_ascii |= high != 0;
                return Some(s);
            }
            b'\\' => {
                escape_ok(line, s.i)?;
                s.escapes += 1;
                s.i += 2;
            }
            0..0x20 => return None,
            _ => {
                high |= (b & 0x80) as u64;
                s.i += 1;
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod simd {
    use super::{Scan, escape_ok, swar};
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_max_epu8, _mm256_movemask_epi8,
        _mm256_or_si256, _mm256_set1_epi8, _mm512_cmpeq_epi8_mask, _mm512_cmplt_epu8_mask,
        _mm512_loadu_si512, _mm512_maskz_loadu_epi8, _mm512_movepi8_mask, _mm512_set1_epi8,
    };
    use std::sync::OnceLock;

    pub(crate) fn avx512_available() -> bool {
        static AVAILABLE: OnceLock<bool> = OnceLock::new();
        *AVAILABLE.get_or_init(|| {
            is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw")
        })
    }

    pub(crate) fn avx2_available() -> bool {
        static AVAILABLE: OnceLock<bool> = OnceLock::new();
        *AVAILABLE.get_or_init(|| is_x86_feature_detected!("avx2"))
    }

    /// The stops of one block, lowest first: a quote ends the walk (its position in `Err`), a
    /// backslash must be a known escape and hides the byte after it, anything else (a control
    /// byte) is `None`. `Ok(skip)`: the next block starts `skip` bytes further than this one's
    /// end (1 when the block's last byte escaped the next block's first).
    #[inline(always)]
    fn walk(
        line: &[u8],
        base: usize,
        width: usize,
        mut stops: u64,
        s: &mut Scan,
    ) -> Option<Result<usize, usize>> {
        while stops != 0 {
            let p = stops.trailing_zeros() as usize;
            let at = base + p;
            match *line.get(at)? {
                b'"' => return Some(Err(p)),
                b'\\' => {
                    escape_ok(line, at)?;
                    s.escapes += 1;
                    if p + 1 == width {
                        return Some(Ok(1));
                    }
                    stops &= !(1u64 << (p + 1));
                }
                _ => return None,
            }
            stops &= stops - 1;
        }
        Some(Ok(0))
    }

    /// The bytes a backslash escapes in a block whose backslashes are `backslash`: a run of
    /// them escapes every second one and, when odd, the byte after it. `carry` says whether the
    /// block's first byte is escaped (the last one's run was odd), and is set for the next.
    /// simdjson's trick: adding a run's start to the run carries out of its end, which tells
    /// odd runs from even ones without a loop.
    #[inline(always)]
    pub(crate) fn escaped(backslash: u64, carry: &mut u64) -> u64 {
        const EVEN: u64 = 0x5555_5555_5555_5555;
        let backslash = backslash & !*carry;
        let follows = backslash << 1 | *carry;
        let odd_starts = backslash & !EVEN & !follows;
        let (sum, overflow) = odd_starts.overflowing_add(backslash);
        *carry = overflow as u64;
        (EVEN ^ (sum << 1)) & follows
    }

    /// [`super::swar`] from `start`, 64 bytes at a time, escapes and all, without a branch per
    /// escape: the escaped bytes come from the backslash mask at once ([`escaped`]), the first
    /// quote not escaped closes, and before it every escaped byte must be one serde_json
    /// writes and no byte a control character. The last partial block is loaded masked, so
    /// it never reads past `line`.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(crate) fn scan_avx512(line: &[u8], start: usize) -> Option<Scan> {
        let splat = |b: u8| _mm512_set1_epi8(b as i8);
        let (quote, backslash, space) = (splat(b'"'), splat(b'\\'), splat(0x20));
        let named = [b'b', b'f', b'n', b'r', b't'].map(splat);
        let mut s = Scan {
            i: start,
            escapes: 0,
            non_ascii: false,
        };
        let mut carry = 0u64;
        loop {
            let left = line.len().checked_sub(s.i).filter(|&n| n > 0)?;
            let ptr = line[s.i..].as_ptr();
            let (v, valid) = if left >= 64 {
                // SAFETY: 64 bytes from `ptr` are within `line` (unaligned loads allowed).
                (unsafe { _mm512_loadu_si512(ptr.cast()) }, u64::MAX)
            } else {
                let valid = (1u64 << left) - 1;
                // SAFETY: the mask enables the first `left` lanes only, the bytes left in
                // `line`; masked-off lanes are neither read nor faulted on.
                (unsafe { _mm512_maskz_loadu_epi8(valid, ptr.cast()) }, valid)
            };
            let quotes = _mm512_cmpeq_epi8_mask(v, quote) & valid;
            let backslashes = _mm512_cmpeq_epi8_mask(v, backslash) & valid;
            let controls = _mm512_cmplt_epu8_mask(v, space) & valid;
            let escapable = named.iter().fold(quotes | backslashes, |m, n| {
                m | _mm512_cmpeq_epi8_mask(v, *n)
            });
            let esc = escaped(backslashes, &mut carry);
            let closing = quotes & !esc;
            // The bytes before the closing quote (all of the block's when it has none).
            let before = if closing == 0 {
                valid
            } else {
                (1u64 << closing.trailing_zeros()) - 1
            };
            if (controls | (esc & !escapable)) & before != 0 {
                return None;
            }
            s.escapes += (backslashes & !esc & before).count_ones() as usize;
            s.non_ascii |= _mm512_movepi8_mask(v) & before != 0;
            if closing != 0 {
                s.i += closing.trailing_zeros() as usize;
                return Some(s);
            }
            if left <= 64 {
                // No closing quote, or a backslash with nothing after it.
                return None;
            }
            s.i += 64;
        }
    }

    /// [`super::swar`] from `start`, 32 bytes at a time while 32 are left, then the portable
    /// scan for the rest.
    #[target_feature(enable = "avx2")]
    pub(crate) fn scan_avx2(line: &[u8], start: usize) -> Option<Scan> {
        let quote = _mm256_set1_epi8(b'"' as i8);
        let backslash = _mm256_set1_epi8(b'\\' as i8);
        // max(b, 0x1f) == 0x1f exactly for b < 0x20.
        let control = _mm256_set1_epi8(0x1f);
        let mut s = Scan {
            i: start,
            escapes: 0,
            non_ascii: false,
        };
        let mut high = 0u32;
        while let Some(block) = line.get(s.i..s.i + 32) {
            // SAFETY: `block` is 32 readable bytes (unaligned loads allowed).
            let v: __m256i = unsafe { _mm256_loadu_si256(block.as_ptr().cast()) };
            let stops = _mm256_or_si256(
                _mm256_or_si256(_mm256_cmpeq_epi8(v, quote), _mm256_cmpeq_epi8(v, backslash)),
                _mm256_cmpeq_epi8(_mm256_max_epu8(v, control), control),
            );
            let stops = _mm256_movemask_epi8(stops) as u32 as u64;
            let block_high = _mm256_movemask_epi8(v) as u32;
            match walk(line, s.i, 32, stops, &mut s)? {
                Err(p) => {
                    high |= block_high & ((1u32 << p) - 1);
                    s.i += p;
                    s.non_ascii = high != 0;
                    return Some(s);
                }
                Ok(skip) => {
                    high |= block_high;
                    s.i += 32 + skip;
                }
            }
        }
        s.non_ascii = high != 0;
        swar(line, s)
    }
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;

use super::*;

use crate::test_rng::Rng;

/// Bytes that steer the scan: stops, escapable letters, a letter that is no escape, UTF-8 lead
/// and continuation bytes, bytes that are never UTF-8, DEL.
const ALPHABET: &[u8] = b"a\"\\nu/\x01\x1f\x7f\xc3\xa9\xff";

/// A scan path, named.
type Path = (&'static str, fn(&[u8], usize) -> Option<(usize, usize)>);

/// Every path that runs on this CPU, and the portable one.
fn paths() -> Vec<Path> {
    let mut v: Vec<Path> = vec![("portable", scan_text_portable), ("dispatch", scan_text)];
    #[cfg(target_arch = "x86_64")]
    {
        if simd::avx512_available() {
            v.push(("avx512", |l, s| {
                // SAFETY: the CPU has avx512f and avx512bw (checked above).
                let r = unsafe { simd::scan_avx512(l, s) }?;
                finish(l, s, r)
            }));
        } else {
            eprintln!("no AVX-512BW on this CPU: that path is not checked");
        }
        if simd::avx2_available() {
            v.push(("avx2", |l, s| {
                // SAFETY: the CPU has avx2 (checked above).
                let r = unsafe { simd::scan_avx2(l, s) }?;
                finish(l, s, r)
            }));
        } else {
            eprintln!("no AVX2 on this CPU: that path is not checked");
        }
    }
    v
}

fn agree(paths: &[Path], line: &[u8], start: usize) {
    let want = scan_text_portable(line, start);
    for (name, f) in paths {
        assert_eq!(
            f(line, start),
            want,
            "{name} on {:?} from {start}",
            String::from_utf8_lossy(line)
        );
    }
}

/// Every string of up to three bytes from the alphabet, and of four and five from its stops,
/// at every position near the 8, 32 and 64-byte block boundaries (up to the second block of
/// 64), with and without a closing quote after it.
#[test]
fn every_path_agrees_on_every_short_string_at_every_offset() {
    let paths = paths();
    let strings_of = |alphabet: &[u8], lengths: std::ops::RangeInclusive<usize>| {
        let mut all: Vec<Vec<u8>> = Vec::new();
        let mut last: Vec<Vec<u8>> = vec![vec![]];
        for len in 1..=*lengths.end() {
            last = last
                .iter()
                .flat_map(|s| {
                    alphabet.iter().map(move |&b| {
                        let mut t = s.clone();
                        t.push(b);
                        t
                    })
                })
                .collect();
            if lengths.contains(&len) {
                all.extend(last.iter().cloned());
            }
        }
        all
    };
    let mut strings = vec![vec![]];
    strings.extend(strings_of(ALPHABET, 1..=3));
    strings.extend(strings_of(b"\"\\n\x01\xc3", 4..=5));
    let pads: Vec<usize> = (0..=9)
        .chain(28..=36)
        .chain(58..=67)
        .chain(122..=130)
        .collect();
    let pad = [b'x'; 140];
    for s in &strings {
        for tail in [&b""[..], b"\"", b"\"}"] {
            for start in [0, 5] {
                for &n in &pads {
                    let mut line = Vec::with_capacity(start + n + s.len() + 2);
                    line.extend_from_slice(&pad[..start + n]);
                    line.extend_from_slice(s);
                    line.extend_from_slice(tail);
                    agree(&paths, &line, start);
                }
            }
        }
    }
}

/// Long strings with an escape every few bytes (as in JSON inside JSON), quotes, control bytes
/// and UTF-8, at random lengths and starts.
#[test]
fn every_path_agrees_on_random_long_strings() {
    let paths = paths();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let pieces: &[&[u8]] = &[
        b"\\\"",
        b"\\\\",
        b"\\n",
        b"\\t",
        b"\\b",
        b"\\f",
        b"\\r",
        b"\\u0041",
        b"\\/",
        b"\\x",
        b"\"",
        "é".as_bytes(),
        "😀".as_bytes(),
        b"\xff",
        b"\xc3",
        b"\x00",
        b"\x1f",
        b" ",
        b"abcdefghijklmnop",
        b"0123456789",
        b"{",
        b"}",
    ];
    for round in 0..40_000 {
        let mut line = b"{\"text\":\"".to_vec();
        let want = rng.below(400);
        while line.len() < want {
            // Mostly plain text and good escapes; the rest rarer, so that many lines go far.
            let k = rng.below(100);
            let piece = if k < 50 {
                pieces[18 + rng.below(2)]
            } else if k < 90 {
                pieces[rng.below(7)]
            } else if k < 96 {
                pieces[11 + rng.below(2)]
            } else {
                pieces[rng.below(pieces.len())]
            };
            line.extend_from_slice(piece);
        }
        if round % 3 != 0 {
            line.extend_from_slice(b"\"}");
        }
        let start = if round % 5 == 0 {
            rng.below(line.len() + 1)
        } else {
            9
        };
        agree(&paths, &line, start);
    }
}

/// What the scan says, checked against serde_json on the strings it accepts: the closing quote
/// is where serde stops and the count is the unescaped length.
#[test]
fn accepted_strings_are_what_serde_reads() {
    let mut rng = Rng(7);
    let pieces: &[&[u8]] = &[
        b"\\\"",
        b"\\\\",
        b"\\n",
        b"\\t",
        b"ab",
        "é".as_bytes(),
        b"\"",
    ];
    let mut accepted = 0;
    for _ in 0..20_000 {
        let mut s = b"\"".to_vec();
        for _ in 0..rng.below(120) {
            s.extend_from_slice(pieces[rng.below(pieces.len())]);
        }
        s.push(b'"');
        if let Some((close, n)) = scan_text(&s, 1) {
            accepted += 1;
            let text: String = serde_json::from_slice(&s[..=close]).expect("a JSON string");
            assert_eq!(text.len(), n);
        }
    }
    assert!(accepted > 1000, "{accepted}");
}

#[test]
fn nothing_is_read_past_the_line_or_before_the_start() {
    for path in paths() {
        let f = path.1;
        assert_eq!(f(b"", 0), None);
        assert_eq!(f(b"abc", 3), None);
        assert_eq!(f(b"abc", 4), None);
        assert_eq!(f(b"\\", 0), None);
        assert_eq!(f(b"ab\\\"", 0), None);
        assert_eq!(f(b"ab\\\"\"", 0), Some((4, 3)));
        assert_eq!(f(b"\"", 0), Some((0, 0)));
        // A backslash as the last byte of a block escapes the next block's first.
        for width in [8, 32, 64] {
            let mut line = vec![b'a'; width - 1];
            line.extend_from_slice(b"\\\"\"");
            assert_eq!(
                f(&line, 0),
                Some((width + 1, width)),
                "{} at {width}",
                path.0
            );
        }
    }
}

/// The escaped-byte masks against a walk bit by bit, on runs of backslashes of every length
/// and at every position, with and without a carry in.
#[cfg(target_arch = "x86_64")]
#[test]
fn escaped_bytes_are_what_a_walk_finds() {
    fn walk(backslash: u64, carry: u64) -> (u64, u64) {
        let (mut esc, mut next) = (0u64, carry != 0);
        for i in 0..64 {
            if next {
                esc |= 1 << i;
                next = false;
            } else if backslash >> i & 1 == 1 {
                next = true;
            }
        }
        (esc, next as u64)
    }
    let mut masks = vec![0u64, u64::MAX, 1, 1 << 63, 3 << 62];
    for start in 0..64 {
        for len in 1..=(64 - start) {
            let run = if len == 64 {
                u64::MAX
            } else {
                ((1u64 << len) - 1) << start
            };
            masks.push(run);
            masks.push(run | 1);
            masks.push(run | 1 << 63);
        }
    }
    let mut rng = Rng(3);
    for _ in 0..20_000 {
        // Dense and sparse random masks.
        let (a, b) = (rng.next(), rng.next());
        masks.extend([a, a & b, a | b, a & b & rng.next()]);
    }
    for &m in &masks {
        for carry in [0, 1] {
            let mut c = carry;
            let got = simd::escaped(m, &mut c);
            assert_eq!((got, c), walk(m, carry), "{m:064b} carry {carry}");
        }
    }
}

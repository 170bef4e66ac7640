use super::*;
use crate::capture::index::canonical::parse;
use crate::engine::frame::{Direction, Frame, Opcode};
use bytes::Bytes;
use std::time::Duration;

use crate::test_rng::Rng;

fn line(enc: &mut LineEncoder, at: Duration) -> Vec<u8> {
    let f = Frame {
        seq: 1,
        at,
        dir: Direction::In,
        opcode: Opcode::Binary,
        payload: Bytes::from_static(b"ab"),
    };
    let mut out = Vec::new();
    enc.frame(&mut out, &f);
    out.pop();
    out
}

/// What the encoder writes for `at`: the reference.
fn encoders_times(enc: &mut LineEncoder, at: Duration) -> Vec<u8> {
    let mut out = Vec::new();
    enc.event(&mut out, at, "", Map::new());
    out[1..out.len() - BARE_EVENT_END.len()].to_vec()
}

/// Lines written from one start, re-stamped from another (or the same): always the encoder's
/// bytes, whether copied or formatted.
fn check(written_from: SystemTime, read_from: SystemTime, ats: &[Duration]) -> usize {
    let mut writer = LineEncoder::new(written_from);
    let mut reference = LineEncoder::new(read_from);
    let mut r = Restamp::new(read_from);
    let mut copied = 0;
    for &at in ats {
        let l = line(&mut writer, at);
        let c = parse(&l).expect("canonical");
        let mut out = b"x".to_vec();
        assert!(r.push(&mut out, &l, &c));
        let want = encoders_times(&mut reference, c.at);
        assert_eq!(
            String::from_utf8_lossy(&out[1..]),
            String::from_utf8_lossy(&want),
            "at {at:?}"
        );
        if r.line_holds_them(&l, &c) {
            copied += 1;
        }
    }
    copied
}

fn ats(rng: &mut Rng, n: usize) -> Vec<Duration> {
    let mut at = 0u64;
    (0..n)
        .map(|i| {
            at += match i % 7 {
                0 => rng.next() % 2_000_000,
                1 => 999_999,
                _ => rng.next() % 50,
            };
            Duration::from_micros(at)
        })
        .collect()
}

#[test]
fn the_same_start_is_copied_and_is_the_encoders_bytes() {
    let mut rng = Rng(99);
    let epoch = SystemTime::UNIX_EPOCH;
    for start in [
        epoch + Duration::new(1_764_064_800, 0),
        epoch + Duration::new(1_764_064_800, 661_901_925),
        epoch + Duration::new(1_764_064_799, 999_999_999),
        epoch + Duration::new(253_402_300_799, 0), // the last second of 9999
        epoch,
        epoch - Duration::new(86_400, 123_456),
    ] {
        let ats = ats(&mut rng, 5000);
        let copied = check(start, start, &ats);
        // All but the first of each second formatted.
        assert!(copied > 4000, "{copied} of 5000 from {start:?}");
    }
}

#[test]
fn another_start_is_formatted_and_is_the_encoders_bytes() {
    let mut rng = Rng(5);
    let a = SystemTime::UNIX_EPOCH + Duration::new(1_764_064_800, 500_000_000);
    for b in [
        a + Duration::from_micros(1),
        a - Duration::from_micros(1),
        a + Duration::from_nanos(999),
        a + Duration::from_secs(3600),
        SystemTime::UNIX_EPOCH,
    ] {
        let ats = ats(&mut rng, 3000);
        let copied = check(a, b, &ats);
        // Sub-microsecond differences do not change the bytes; anything else does.
        if b == a + Duration::from_nanos(999) {
            assert!(copied > 2500, "{copied}");
        } else {
            assert_eq!(copied, 0, "{b:?}");
        }
    }
}

#[test]
fn offsets_past_eleven_days_are_formatted() {
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_064_800);
    let big = [
        Duration::from_micros(999_999_999_999),
        Duration::from_micros(1_000_000_000_000),
        Duration::from_micros(1_000_000_000_001),
        Duration::from_micros(123_456_789_012_345),
    ];
    check(start, start, &big);
}

#[test]
fn a_line_whose_t_was_edited_is_formatted() {
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_064_800);
    let mut w = LineEncoder::new(start);
    let mut reference = LineEncoder::new(start);
    let mut r = Restamp::new(start);
    // Warm the second.
    let l = line(&mut w, Duration::from_micros(10));
    let c = parse(&l).expect("canonical");
    assert!(r.push(&mut Vec::new(), &l, &c));
    let l = line(&mut w, Duration::from_micros(20));
    let t = parse(&l).expect("canonical").t;
    let edits: Vec<Vec<u8>> = vec![
        // A digit of the fraction, the `Z`, the second, a shorter and a longer fraction.
        [&l[..t.end - 2], b"9", &l[t.end - 1..]].concat(),
        [&l[..t.end - 1], b"z", &l[t.end..]].concat(),
        [&l[..t.start + 17], b"59", &l[t.start + 19..]].concat(),
        [&l[..t.end - 2], &l[t.end - 1..]].concat(),
        [&l[..t.end - 1], b"0", &l[t.end - 1..]].concat(),
        [&l[..t.start], b"2024", &l[t.start + 4..]].concat(),
    ];
    for e in edits {
        let c = parse(&e).unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(&e)));
        assert!(
            !r.line_holds_them(&e, &c),
            "{}",
            String::from_utf8_lossy(&e)
        );
        let mut out = Vec::new();
        assert!(r.push(&mut out, &e, &c));
        assert_eq!(out, encoders_times(&mut reference, c.at));
    }
}

#[test]
fn the_second_is_what_precedes_the_fraction() {
    assert_eq!(
        second_text(b"\"t\":\"2026-12-01T17:41:42.661921Z\",\"ms\":0.020"),
        Some(&b"2026-12-01T17:41:42"[..])
    );
    assert_eq!(second_text(b"\"t\":\"Z\",\"ms\":0.020"), None);
    assert_eq!(second_text(b"\"t\":\"2026.12345Z\",\"ms\":0.020"), None);
    assert_eq!(second_text(b""), None);
}

//! Bounds, hostile input and speed.

use super::tests::{VOICE, learn, text};
use super::*;
use crate::vocab::correlate::Correlator;
use bytes::Bytes;
use std::time::Duration;

const IN: Direction = Direction::In;
const OUT: Direction = Direction::Out;

fn key(dir: Direction, name: &str) -> TypeKey {
    TypeKey::new(dir, name)
}

#[test]
fn work_per_frame_is_bounded() {
    // 40 levels deep: 16 learned.
    let deep = format!("{}1{}", r#"{"a":"#.repeat(40), "}".repeat(40));
    let v = learn(&[(IN, &deep)]);
    let t = v.get(&key(IN, NO_TYPE)).expect("deep");
    assert_eq!(t.fields.len(), 16);
    // 2000 keys: 512 fields.
    let wide = format!(
        "{{\"type\":\"w\",{}}}",
        (0..2000)
            .map(|i| format!("\"k{i}\":{i}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let v = learn(&[(IN, &wide)]);
    assert_eq!(
        v.get(&key(IN, "w")).expect("wide").fields.len(),
        MAX_FIELDS_PER_TYPE
    );
    // 1000 elements: 64 looked at.
    let long = format!(
        "{{\"type\":\"l\",\"xs\":[{}]}}",
        vec!["{\"x\":1}"; 1000].join(",")
    );
    let v = learn(&[(IN, &long)]);
    assert_eq!(
        v.get(&key(IN, "l"))
            .and_then(|t| t.field("xs[].x"))
            .expect("x")
            .occurrences,
        64
    );
    // A peer inventing type names: at most 1024 per direction, then `(other types)`.
    let mut v = Vocabulary::new();
    for i in 0..1100u64 {
        v.observe(&text(i + 1, IN, &format!(r#"{{"type":"t{i}"}}"#)));
    }
    assert_eq!(v.types().len(), MAX_TYPES_PER_DIRECTION + 1);
    assert_eq!(
        v.get(&key(IN, OTHER_TYPES)).expect("other").count,
        1100 - 1024
    );
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_and_truncated_input_never_panics() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut v = Vocabulary::new();
    let mut c = Correlator::default();
    let pieces = [
        "{",
        "}",
        "[",
        "]",
        "\"type\"",
        ":",
        ",",
        "\"id\"",
        "\"x_id\"",
        "\"in_0001\"",
        "1",
        "-0.5e3",
        "null",
        "true",
        "\"\\u00e9\"",
        "\"\\ud800\"",
        "\"token\"",
        "\"Bearer q\"",
    ];
    let mut seq = 0u64;
    for round in 0..6000 {
        seq += 1;
        let dir = if rng.next() & 1 == 0 { IN } else { OUT };
        let payload: Vec<u8> = match round % 4 {
            // Random bytes, as binary and as (lossy) text.
            0 => (0..rng.below(64)).map(|_| rng.next() as u8).collect(),
            // A real frame cut anywhere.
            1 => {
                let (_, s) = VOICE[rng.below(VOICE.len())];
                s.as_bytes()[..rng.below(s.len() + 1)].to_vec()
            }
            // JSON-ish token soup.
            2 => (0..rng.below(40))
                .map(|_| pieces[rng.below(pieces.len())])
                .collect::<String>()
                .into_bytes(),
            // A real frame with one byte changed.
            _ => {
                let (_, s) = VOICE[rng.below(VOICE.len())];
                let mut b = s.as_bytes().to_vec();
                let at = rng.below(b.len());
                b[at] = rng.next() as u8;
                b
            }
        };
        let opcode = match rng.below(6) {
            0 => Opcode::Binary,
            1 => Opcode::Ping,
            _ => Opcode::Text,
        };
        let f = Frame {
            seq,
            at: Duration::from_micros(rng.next() % 10_000_000),
            dir,
            opcode,
            payload: Bytes::from(payload),
        };
        let kind = v.classify(&f);
        v.observe(&f);
        c.observe(&f, kind.as_ref().map(|k| k.name.as_str()));
        let _ = c.replies(seq);
    }
    assert!(v.frames() > 0);
    assert_eq!(v.types().iter().map(|t| t.count).sum::<u64>(), v.frames());
    let _ = (v.transitions(), v.binary(), c.latencies(), c.links());
    for t in v.types() {
        let _ = crate::vocab::schema::json_schema(t, v.discriminator());
    }
}

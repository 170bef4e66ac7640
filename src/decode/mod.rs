//! Turning payload bytes into something readable: pretty JSON, hex dumps, PCM levels, and the
//! binary decoders (protobuf wire format, MessagePack, CBOR), each pure: bytes in, a tree of
//! lines out ([`TreeLine`]), `None` when the decoder does not claim the whole frame.
//!
//! `auto` tries, in this order, CBOR, MessagePack, then protobuf, each in its strict form:
//! CBOR is the strictest format (reserved header values, breaks, UTF-8 text) so it is the least
//! likely to claim bytes of another format; a CBOR map can never be read as a MessagePack
//! container (its first byte is a MessagePack string); protobuf goes last because short byte
//! strings parse as a field or two most easily. Strict means: a non-empty map or array at the
//! top with text or integer keys (CBOR, MessagePack), field numbers up to 100 000 that ascend
//! with at most one step down (protobuf). Random bytes and PCM audio are not claimed. Hex and
//! PCM are never chosen by `auto`: hex is the fallback, PCM a reading the user or the session's
//! PCM settings choose.

pub mod cbor;
pub mod hexdump;
pub mod json;
pub mod msgpack;
pub mod payload;
pub mod pcm;
pub mod pretty;
pub mod proto_schema;
pub mod protobuf;
pub mod tree;
pub mod wav;

pub use tree::TreeLine;

use pcm::PcmFormat;
use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    #[error("unknown decoder {0:?}: auto, protobuf, msgpack, cbor, pcm or hex")]
    Unknown(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecoderKind {
    Auto,
    Protobuf,
    MsgPack,
    Cbor,
    Pcm,
    Hex,
}

impl DecoderKind {
    /// Every decoder, in the order a view switches through them.
    pub const ALL: [DecoderKind; 6] = [
        DecoderKind::Auto,
        DecoderKind::Protobuf,
        DecoderKind::MsgPack,
        DecoderKind::Cbor,
        DecoderKind::Pcm,
        DecoderKind::Hex,
    ];

    /// What `auto` tries, in order (see the module documentation for why).
    pub const AUTO_ORDER: [DecoderKind; 3] = [
        DecoderKind::Cbor,
        DecoderKind::MsgPack,
        DecoderKind::Protobuf,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DecoderKind::Auto => "auto",
            DecoderKind::Protobuf => "protobuf",
            DecoderKind::MsgPack => "msgpack",
            DecoderKind::Cbor => "cbor",
            DecoderKind::Pcm => "pcm",
            DecoderKind::Hex => "hex",
        }
    }

    pub fn parse(s: &str) -> Result<DecoderKind, DecodeError> {
        let lower = s.trim().to_ascii_lowercase();
        DecoderKind::ALL
            .into_iter()
            .find(|k| k.name() == lower)
            .ok_or_else(|| DecodeError::Unknown(s.to_string()))
    }
}

/// A frame as one decoder read it: `kind` is the decoder that claimed it (never `Auto`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub kind: DecoderKind,
    pub lines: Vec<TreeLine>,
}

/// Decode with one decoder; `None` when it does not claim the whole frame (trailing bytes,
/// truncated, not its format). `Auto` tries [`DecoderKind::AUTO_ORDER`] in their strict forms
/// and returns the first that claims the frame. An explicit choice is lenient: any single
/// value of that format that spans the frame. `Pcm` reads the default [`PcmFormat`] (see
/// [`decode_pcm`] for the session's); `Hex` always claims.
pub fn decode(kind: DecoderKind, bytes: &[u8]) -> Option<Decoded> {
    let lines = match kind {
        DecoderKind::Auto => {
            return DecoderKind::AUTO_ORDER
                .into_iter()
                .filter(|&k| may_claim_strict(k, bytes))
                .find_map(|k| structured(k, bytes, true).map(|lines| Decoded { kind: k, lines }));
        }
        DecoderKind::Pcm => return decode_pcm(bytes, PcmFormat::default()),
        DecoderKind::Hex => hex_lines(bytes),
        k => structured(k, bytes, false)?,
    };
    Some(Decoded { kind, lines })
}

/// Protobuf read with the user's `.proto` files. With `message` (a full or unique short name),
/// as that message (lenient: fields it does not declare are shown by number); without, as the
/// first top-level message (files in the order given, messages as written) that fits the frame
/// exactly, else the closest fit (see [`protobuf::with_schema`]). `None` when the message is
/// unknown or no message reads the frame (see [`decode`] for the schema-less reading).
pub fn decode_protobuf_with(
    schema: &proto_schema::ProtoSchema,
    message: Option<&str>,
    bytes: &[u8],
) -> Option<protobuf::with_schema::ProtoRead> {
    let fit = match message {
        Some(m) => protobuf::with_schema::decode_with_fit(schema, m, bytes)?,
        None => protobuf::with_schema::decode_any(schema, bytes)?,
    };
    Some(protobuf::with_schema::ProtoRead {
        message: fit.message.to_string(),
        misfits: fit.misfits,
        decoded: Decoded {
            kind: DecoderKind::Protobuf,
            lines: fit.lines,
        },
    })
}

/// The PCM reading of a frame in `fmt`: claimed when it holds whole sample frames.
pub fn decode_pcm(bytes: &[u8], fmt: PcmFormat) -> Option<Decoded> {
    pcm::fits_format(bytes, fmt).then(|| Decoded {
        kind: DecoderKind::Pcm,
        lines: pcm::lines(bytes, fmt),
    })
}

/// False when `kind`'s strict form is sure not to claim `bytes`, from their first byte: most
/// binary frames offered to `auto` are none of its formats, and each full attempt costs more
/// than the frame's other work together. CBOR must start with an array, a map or a tag (what
/// a tag holds is left to the decoder) and MessagePack with a non-empty array or map; a
/// protobuf message's first tag is checked by its own walk, which stops there.
fn may_claim_strict(kind: DecoderKind, bytes: &[u8]) -> bool {
    let Some(&first) = bytes.first() else {
        return false;
    };
    match kind {
        // Major types 4 (array), 5 (map) and 6 (tag), but not the empty array and map.
        DecoderKind::Cbor => matches!(first, 0x81..=0x9f | 0xa1..=0xdf),
        DecoderKind::MsgPack => matches!(first, 0x81..=0x8f | 0x91..=0x9f | 0xdc..=0xdf),
        _ => true,
    }
}

fn structured(kind: DecoderKind, bytes: &[u8], strict: bool) -> Option<Vec<TreeLine>> {
    match kind {
        DecoderKind::Protobuf => protobuf::decode(bytes, strict),
        DecoderKind::MsgPack => msgpack::decode(bytes, strict),
        DecoderKind::Cbor => cbor::decode(bytes, strict),
        _ => None,
    }
}

/// The hex dump as tree lines: the offset, 16 bytes in hex, their printable ASCII.
fn hex_lines(bytes: &[u8]) -> Vec<TreeLine> {
    let mut lines = tree::Lines::default();
    let rows = bytes.len().div_ceil(hexdump::BYTES_PER_ROW);
    for (i, c) in bytes.chunks(hexdump::BYTES_PER_ROW).enumerate() {
        if !lines.has_room() {
            // A 16 MiB frame is a million rows: count the rest, do not format them.
            lines.skipped(rows - i);
            break;
        }
        let ascii: String = c
            .iter()
            .map(|b| {
                if b.is_ascii_graphic() || *b == b' ' {
                    *b as char
                } else {
                    '.'
                }
            })
            .collect();
        let hex: Vec<String> = c.iter().map(|b| format!("{b:02x}")).collect();
        lines.push(
            0,
            format!("{:08x}", i * hexdump::BYTES_PER_ROW),
            hex.join(" "),
            ascii,
        );
    }
    lines.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_bad_names_say_the_choices() {
        for k in DecoderKind::ALL {
            assert_eq!(DecoderKind::parse(k.name()), Ok(k));
        }
        assert_eq!(DecoderKind::parse(" CBOR "), Ok(DecoderKind::Cbor));
        let e = DecoderKind::parse("xml").expect_err("unknown");
        assert_eq!(
            e.to_string(),
            "unknown decoder \"xml\": auto, protobuf, msgpack, cbor, pcm or hex"
        );
    }

    /// `auto` without the first-byte look, as it was.
    fn auto_unfiltered(bytes: &[u8]) -> Option<Decoded> {
        DecoderKind::AUTO_ORDER
            .into_iter()
            .find_map(|k| structured(k, bytes, true).map(|lines| Decoded { kind: k, lines }))
    }

    /// The first-byte look never turns away what a strict decoder claims: every two-byte
    /// frame, every first byte before random tails and before valid CBOR and MessagePack
    /// values, and protobuf messages.
    #[test]
    fn the_first_byte_look_turns_away_only_what_no_decoder_claims() {
        let mut frames: Vec<Vec<u8>> = Vec::new();
        for a in 0..=255u8 {
            frames.push(vec![a]);
            for b in 0..=255u8 {
                frames.push(vec![a, b]);
            }
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut cbor = Vec::new();
        let cbor_values = [
            ciborium::Value::Array(vec![1.into(), "a".into()]),
            ciborium::Value::Map(vec![("k".into(), 2.into())]),
            ciborium::Value::Map(vec![(1.into(), ciborium::Value::Array(vec![]))]),
            ciborium::Value::Tag(1, Box::new(ciborium::Value::Array(vec![3.into()]))),
            ciborium::Value::Array(vec![]),
            ciborium::Value::Map(vec![]),
        ];
        for v in &cbor_values {
            cbor.clear();
            ciborium::into_writer(v, &mut cbor).expect("cbor");
            frames.push(cbor.clone());
        }
        let msgpack_values = [
            rmpv::Value::Array(vec![1.into(), "a".into()]),
            rmpv::Value::Map(vec![("k".into(), 2.into())]),
            rmpv::Value::Array((0..20).map(rmpv::Value::from).collect()),
            rmpv::Value::Map((0..20).map(|i| (i.into(), "v".into())).collect()),
            rmpv::Value::Array(vec![]),
            rmpv::Value::Map(vec![]),
        ];
        for v in &msgpack_values {
            let mut out = Vec::new();
            rmpv::encode::write_value(&mut out, v).expect("msgpack");
            frames.push(out);
        }
        frames.push(vec![0x0a, 0x02, b'h', b'i', 0x10, 0x05]);
        frames.push(vec![0x08, 0x96, 0x01]);
        for first in 0..=255u8 {
            for len in [3usize, 8, 17, 64, 200] {
                let mut f = vec![first];
                f.extend((1..len).map(|_| (next() >> 24) as u8));
                frames.push(f);
            }
            // A small array or map of small integers after any first byte.
            frames.push(vec![first, 0x01, 0x02]);
            frames.push(vec![first, 0x82, 0x01, 0x02]);
        }
        let mut claimed = 0;
        for f in &frames {
            for k in DecoderKind::AUTO_ORDER {
                if !may_claim_strict(k, f) {
                    assert_eq!(structured(k, f, true), None, "{k:?} on {f:02x?}");
                }
            }
            let got = decode(DecoderKind::Auto, f);
            claimed += got.is_some() as usize;
            assert_eq!(got, auto_unfiltered(f), "{f:02x?}");
        }
        // The claims are real, not all turned away.
        assert!(claimed > 1000, "{claimed}");
    }

    #[test]
    fn auto_picks_the_format_that_fits() {
        // protobuf {1: "hi", 2: 5}
        let pb = [0x0a, 0x02, b'h', b'i', 0x10, 0x05];
        assert_eq!(
            decode(DecoderKind::Auto, &pb).map(|d| d.kind),
            Some(DecoderKind::Protobuf)
        );
        // MessagePack {"a": 1}
        let mp = [0x81, 0xa1, b'a', 0x01];
        assert_eq!(
            decode(DecoderKind::Auto, &mp).map(|d| d.kind),
            Some(DecoderKind::MsgPack)
        );
        // CBOR {"a": 1}
        let cb = [0xa1, 0x61, b'a', 0x01];
        assert_eq!(
            decode(DecoderKind::Auto, &cb).map(|d| d.kind),
            Some(DecoderKind::Cbor)
        );
        // JSON sent as a binary frame, and the capture tests' small binary frames: hex.
        for b in [
            &b"{\"type\":\"x\"}"[..],
            &[0x00, 0xff],
            &[1, 2, 3],
            &[9, 8, 7],
        ] {
            assert_eq!(decode(DecoderKind::Auto, b), None, "{b:?}");
        }
    }

    #[test]
    fn pcm_tone_and_silence_are_not_claimed_by_auto() {
        for hz in [220.0, 440.0, 1000.0] {
            for i in 0..50 {
                let chunk = crate::demo::tone_chunk(hz, i);
                // 640 bytes: the demo's 20 ms at 16 kHz.
                assert_eq!(chunk.len(), 640);
                assert_eq!(decode(DecoderKind::Auto, &chunk), None, "{hz} Hz chunk {i}");
            }
        }
        assert_eq!(decode(DecoderKind::Auto, &[0u8; 640]), None);
        let pcm = decode(DecoderKind::Pcm, &crate::demo::tone_chunk(440.0, 0)).expect("pcm");
        assert_eq!(pcm.lines[0].value, "s16le 24 kHz mono");
        assert_eq!(decode(DecoderKind::Pcm, &[1, 2, 3]), None);
    }

    #[test]
    fn explicit_choices_are_lenient_and_hex_always_claims() {
        assert_eq!(
            decode(DecoderKind::Cbor, &[0x05]).map(|d| d.lines[0].value.clone()),
            Some("5".into())
        );
        assert_eq!(decode(DecoderKind::Auto, &[0x05]), None);
        let hex = decode(DecoderKind::Hex, b"0123456789abcdefXY").expect("hex");
        assert_eq!(hex.kind, DecoderKind::Hex);
        assert_eq!(hex.lines.len(), 2);
        assert_eq!(hex.lines[1].label, "00000010");
        assert_eq!(hex.lines[1].value, "58 59");
        assert_eq!(hex.lines[1].note, "XY");
        assert_eq!(
            decode(DecoderKind::Hex, &[]).map(|d| d.lines.len()),
            Some(0)
        );
        // A big frame's dump stops at the line cap and says how many rows it left out.
        let big = decode(DecoderKind::Hex, &vec![0u8; 1 << 20]).expect("hex");
        assert_eq!(big.lines.len(), tree::MAX_LINES + 1);
        assert_eq!(
            big.lines[tree::MAX_LINES].note,
            format!("{} more lines not shown", (1 << 16) - tree::MAX_LINES)
        );
    }

    use crate::test_rng::Rng;

    fn every_decoder(bytes: &[u8], what: &str) {
        for k in DecoderKind::ALL {
            if let Some(d) = decode(k, bytes) {
                assert_ne!(d.kind, DecoderKind::Auto);
                assert!(d.lines.len() <= tree::MAX_LINES + 1, "{what}: {k:?}");
                assert!(
                    d.lines.iter().all(|l| l.depth < tree::MAX_DEPTH),
                    "{what}: {k:?}"
                );
            }
        }
    }

    #[test]
    fn random_truncated_and_mutated_input_never_panics() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        // Bytes drawn from the formats' marker ranges reach deeper than uniform noise.
        let markers: Vec<u8> = (0x80..=0xdfu8)
            .chain([0xff, 0x0a, 0x12, 0x08, 0x00, 0x7f])
            .collect();
        for i in 0..4000 {
            let len = rng.below(300);
            let biased = i % 2 == 1;
            let b: Vec<u8> = (0..len)
                .map(|_| {
                    if biased && rng.below(3) > 0 {
                        markers[rng.below(markers.len())]
                    } else {
                        rng.next() as u8
                    }
                })
                .collect();
            every_decoder(&b, &format!("random {i}"));
        }
        let mp = {
            let v = rmpv::Value::Map(vec![
                (
                    "k".into(),
                    rmpv::Value::Array(vec![
                        1.into(),
                        "s".into(),
                        rmpv::Value::Binary(vec![1; 40]),
                    ]),
                ),
                ("e".into(), rmpv::Value::Ext(-1, vec![0; 8])),
            ]);
            let mut o = Vec::new();
            rmpv::encode::write_value(&mut o, &v).expect("encode");
            o
        };
        let cb = {
            let v = ciborium::Value::Map(vec![(
                "k".into(),
                ciborium::Value::Tag(
                    1,
                    Box::new(ciborium::Value::Array(vec![
                        1.into(),
                        "s".into(),
                        2.5.into(),
                    ])),
                ),
            )]);
            let mut o = Vec::new();
            ciborium::ser::into_writer(&v, &mut o).expect("encode");
            o
        };
        let pb = vec![
            0x0a, 0x07, 0x0a, 0x02, b'h', b'i', 0x10, 0x96, 0x01, 0x12, 0x03, 0x01, 0x02, 0x03,
            0x1d, 0, 0, 0xc0, 0x3f,
        ];
        for (name, valid) in [("msgpack", &mp), ("cbor", &cb), ("protobuf", &pb)] {
            for cut in 0..valid.len() {
                every_decoder(&valid[..cut], &format!("{name} cut at {cut}"));
            }
            for i in 0..1000 {
                let mut m = valid.clone();
                for _ in 0..1 + rng.below(3) {
                    let at = rng.below(m.len());
                    m[at] = rng.next() as u8;
                }
                every_decoder(&m, &format!("{name} mutation {i}"));
            }
        }
    }

    #[test]
    fn random_frames_are_not_claimed_by_auto() {
        let mut rng = Rng(42);
        let mut claimed = 0;
        for _ in 0..2000 {
            let len = 32 + rng.below(600);
            let b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            claimed += usize::from(decode(DecoderKind::Auto, &b).is_some());
        }
        assert_eq!(
            claimed, 0,
            "random frames of 32 bytes or more claimed by auto"
        );
    }
}

//! Protobuf wire format without a schema: field numbers and wire types, with guesses where the
//! wire does not say (a length-delimited field may be a string, bytes, a nested message or a
//! packed repeated field). With the user's `.proto` files, [`with_schema`] reads the same wire
//! with field names and declared types.
//!
//! Wire types 0 (varint), 1 (64-bit), 2 (length-delimited) and 5 (32-bit) are read; groups
//! (3, 4, deprecated since proto2) make the frame unclaimed. Nothing is allocated from a length
//! on the wire: lengths are checked against the bytes present and sub-messages are slices.

pub mod with_schema;

use super::tree::{Lines, MAX_DEPTH, TreeLine, float, hex_value, printable, quoted};

/// The largest field number the format allows (2^29 - 1).
const MAX_FIELD: u64 = (1 << 29) - 1;
/// Field numbers people assign stay far below this; a guess (a nested message, or a whole frame
/// under `auto`) with a larger one is not believed.
const SANE_MAX_FIELD: u64 = 100_000;
/// Encoders write fields in field-number order; a relay that appends unknown fields adds one
/// step down. A guessed message may step down at most this often.
const MAX_DESCENTS: usize = 1;

/// Decode `bytes` as one protobuf message. `strict` (the `auto` choice) also asks the top level
/// to look like what an encoder writes (see [`SANE_MAX_FIELD`], [`MAX_DESCENTS`]); nested
/// messages are always guessed that way. `None` unless the whole frame parses into at least one
/// field.
pub fn decode(bytes: &[u8], strict: bool) -> Option<Vec<TreeLine>> {
    let mut lines = Lines::default();
    message(&mut lines, bytes, 0, strict).then(|| lines.finish())
}

/// A varint at the start of `b`: its value and length. At most 10 bytes, and the tenth may only
/// hold the 64th bit.
fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, byte) in b.iter().take(10).enumerate() {
        let bits = (byte & 0x7f) as u64;
        if i == 9 && bits > 1 {
            return None;
        }
        v |= bits << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

fn fixed<const N: usize>(b: &[u8]) -> Option<[u8; N]> {
    b.get(..N)?.try_into().ok()
}

/// One field's value as the wire has it.
#[derive(Debug, Clone, Copy)]
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl Wire<'_> {
    fn wire_type(&self) -> u8 {
        match self {
            Wire::Varint(_) => 0,
            Wire::Fixed64(_) => 1,
            Wire::Bytes(_) => 2,
            Wire::Fixed32(_) => 5,
        }
    }
}

/// The field at the start of `buf`: its number, value and encoded length. `None` when it is
/// not a field (field 0, a number past the format's, a group, a truncated value).
fn next_field(buf: &[u8]) -> Option<(u64, Wire<'_>, usize)> {
    let (tag, n) = varint(buf)?;
    let field = tag >> 3;
    if field == 0 || field > MAX_FIELD {
        return None;
    }
    let rest = &buf[n..];
    let (wire, len) = match tag & 7 {
        0 => {
            let (v, len) = varint(rest)?;
            (Wire::Varint(v), len)
        }
        1 => (Wire::Fixed64(u64::from_le_bytes(fixed::<8>(rest)?)), 8),
        2 => {
            let (len, m) = varint(rest)?;
            // Compared as u64 before any cast: a hostile length cannot wrap or allocate.
            if len > (rest.len() - m) as u64 {
                return None;
            }
            (Wire::Bytes(&rest[m..m + len as usize]), m + len as usize)
        }
        5 => (Wire::Fixed32(u32::from_le_bytes(fixed::<4>(rest)?)), 4),
        _ => return None,
    };
    Some((field, wire, n + len))
}

/// The fields of `buf` as lines at `depth`; false (and no lines kept) when `buf` is not a
/// message, or, with `sane`, not a believable one.
fn message(lines: &mut Lines, buf: &[u8], depth: u16, sane: bool) -> bool {
    let cp = lines.checkpoint();
    let ok = fields(lines, buf, depth, sane);
    if !ok {
        lines.rollback(cp);
    }
    ok
}

fn fields(lines: &mut Lines, buf: &[u8], depth: u16, sane: bool) -> bool {
    if !is_message(buf, sane) {
        return false;
    }
    let mut pos = 0usize;
    while let Some((field, wire, n)) = next_field(&buf[pos..]) {
        pos += n;
        guess(lines, depth, field.to_string(), wire, "");
    }
    true
}

/// Whether `buf` is a message (with `sane`, a believable one), decided before any line is made:
/// most binary frames offered to the decoders under `auto` are not protobuf, and formatting
/// their would-be fields first was most of `inspect`'s time on them.
fn is_message(buf: &[u8], sane: bool) -> bool {
    let (mut pos, mut count, mut last, mut descents) = (0usize, 0usize, 0u64, 0usize);
    while pos < buf.len() {
        let Some((field, _, n)) = next_field(&buf[pos..]) else {
            return false;
        };
        pos += n;
        if sane {
            if field > SANE_MAX_FIELD {
                return false;
            }
            if field < last {
                descents += 1;
                if descents > MAX_DESCENTS {
                    return false;
                }
            }
        }
        last = field;
        count += 1;
    }
    count > 0
}

/// One field as the schema-less reader shows it, each note after `prefix` (the schema reader
/// says why it fell back here: an unknown field, a wire type other than the declared one).
fn guess(lines: &mut Lines, depth: u16, label: String, wire: Wire<'_>, prefix: &str) {
    match wire {
        Wire::Varint(v) => lines.push(
            depth,
            label,
            v.to_string(),
            format!("{prefix}{}", varint_note(v)),
        ),
        Wire::Fixed64(u) => {
            let (value, note) = fixed64(u);
            lines.push(depth, label, value, format!("{prefix}{note}"));
        }
        Wire::Fixed32(u) => {
            let (value, note) = fixed32(u);
            lines.push(depth, label, value, format!("{prefix}{note}"));
        }
        Wire::Bytes(sub) => length_delimited(lines, label, sub, depth, prefix),
    }
}

fn varint_note(v: u64) -> String {
    if v > i64::MAX as u64 {
        // A negative int32/int64 is sent as ten bytes of two's complement.
        format!("varint · int64 {}", v as i64)
    } else if v >= 2 {
        // 0 and 1 are mostly booleans and enums; zigzag (sint32/sint64) only says something above.
        let zigzag = ((v >> 1) as i64) ^ -((v & 1) as i64);
        format!("varint · zigzag {zigzag}")
    } else {
        "varint".into()
    }
}

fn fixed64(u: u64) -> (String, String) {
    let d = f64::from_bits(u);
    if u != 0 && d.is_finite() && (1e-9..=1e15).contains(&d.abs()) {
        (float(d), format!("fixed64 as double · u64 {u}"))
    } else if u > i64::MAX as u64 {
        (u.to_string(), format!("fixed64 · i64 {}", u as i64))
    } else {
        (u.to_string(), format!("fixed64 · double {}", float(d)))
    }
}

fn fixed32(u: u32) -> (String, String) {
    let f = f32::from_bits(u);
    if u != 0 && f.is_finite() && (1e-6..=1e9).contains(&f.abs()) {
        (format!("{f:?}"), format!("fixed32 as float · u32 {u}"))
    } else if u > i32::MAX as u32 {
        (u.to_string(), format!("fixed32 · i32 {}", u as i32))
    } else {
        (u.to_string(), format!("fixed32 · float {f:?}"))
    }
}

/// A string, nested message, packed varints or bytes: the wire does not say which.
fn length_delimited(lines: &mut Lines, label: String, sub: &[u8], depth: u16, prefix: &str) {
    if sub.is_empty() {
        lines.push(
            depth,
            label,
            "\"\"".into(),
            format!("{prefix}empty (string, bytes or message)"),
        );
        return;
    }
    let text = printable(sub);
    // Text rarely starts with a control character, while a nested message's first tag (0x08,
    // 0x0a, 0x12, …) and its short lengths are control characters.
    let try_message = text.is_none() || sub[0] < 0x20;
    if try_message && depth + 1 < MAX_DEPTH {
        let cp = lines.checkpoint();
        lines.push(
            depth,
            label.clone(),
            "{".into(),
            format!("{prefix}message (guessed) · {} bytes", sub.len()),
        );
        if message(lines, sub, depth + 1, true) {
            return;
        }
        lines.rollback(cp);
    }
    if let Some(s) = text {
        lines.push(
            depth,
            label,
            quoted(s),
            format!("{prefix}string · {} bytes", sub.len()),
        );
    } else if let Some(values) = packed_varints(sub) {
        lines.push(
            depth,
            label,
            values,
            format!("{prefix}packed varints (guessed) · {} bytes", sub.len()),
        );
    } else {
        lines.push(
            depth,
            label,
            hex_value(sub),
            format!("{prefix}bytes · {}", sub.len()),
        );
    }
}

/// `[1, 2, 300]` when `b` is a run of minimally encoded varints (an encoder never pads one).
fn packed_varints(b: &[u8]) -> Option<String> {
    const SHOWN: usize = 64;
    let (mut pos, mut out, mut n) = (0usize, String::from("["), 0usize);
    while pos < b.len() {
        let (v, len) = varint(&b[pos..])?;
        if len > 1 && b[pos + len - 1] == 0 {
            return None;
        }
        pos += len;
        if n < SHOWN {
            if n > 0 {
                out.push_str(", ");
            }
            out.push_str(&v.to_string());
        }
        n += 1;
    }
    if n > SHOWN {
        out.push_str(&format!(", … {} more", n - SHOWN));
    }
    out.push(']');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc_varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn field(num: u64, wt: u64, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        enc_varint(num << 3 | wt, &mut out);
        if wt == 2 {
            enc_varint(body.len() as u64, &mut out);
        }
        out.extend_from_slice(body);
        out
    }

    fn vint(v: u64) -> Vec<u8> {
        let mut o = Vec::new();
        enc_varint(v, &mut o);
        o
    }

    fn show(lines: &[TreeLine]) -> Vec<String> {
        lines
            .iter()
            .map(|l| {
                format!(
                    "{}{} = {} ({})",
                    "  ".repeat(l.depth as usize),
                    l.label,
                    l.value,
                    l.note
                )
            })
            .collect()
    }

    #[test]
    fn scalars_strings_bytes_nested_and_packed() {
        let inner = [field(1, 2, b"inner"), field(2, 0, &vint(7))].concat();
        let msg = [
            field(1, 0, &vint(150)),
            field(2, 2, b"hello"),
            field(3, 2, &inner),
            field(4, 2, &[1, 2, 0xac, 0x02]),
            field(5, 2, &[0xff, 0xfe, 0x00]),
            field(6, 1, &2.5f64.to_le_bytes()),
            field(7, 5, &1.5f32.to_le_bytes()),
            field(8, 0, &vint(u64::MAX)),
            field(9, 2, b""),
        ]
        .concat();
        let out = show(&decode(&msg, true).expect("claimed"));
        assert_eq!(
            out,
            [
                "1 = 150 (varint · zigzag 75)",
                "2 = \"hello\" (string · 5 bytes)",
                "3 = { (message (guessed) · 9 bytes)",
                "  1 = \"inner\" (string · 5 bytes)",
                "  2 = 7 (varint · zigzag -4)",
                "4 = [1, 2, 300] (packed varints (guessed) · 4 bytes)",
                "5 = ff fe 00 (bytes · 3)",
                "6 = 2.5 (fixed64 as double · u64 4612811918334230528)",
                "7 = 1.5 (fixed32 as float · u32 1069547520)",
                "8 = 18446744073709551615 (varint · int64 -1)",
                "9 = \"\" (empty (string, bytes or message))",
            ]
        );
    }

    #[test]
    fn a_string_starting_with_a_tag_like_letter_stays_a_string() {
        // "(\x01" would parse as field 5 varint 1; printable text is not second-guessed.
        let msg = field(1, 2, b"(x");
        assert_eq!(
            show(&decode(&msg, true).expect("claimed"))[0],
            "1 = \"(x\" (string · 2 bytes)"
        );
    }

    #[test]
    fn whole_frame_or_nothing() {
        let good = field(1, 2, b"hello");
        assert!(decode(&good, true).is_some());
        for cut in 0..good.len() {
            assert!(decode(&good[..cut], false).is_none(), "cut at {cut}");
        }
        let mut trailing = good.clone();
        trailing.push(0x08);
        assert!(decode(&trailing, false).is_none());
        // Groups, field 0 and wire types 6/7 are refused.
        assert!(decode(&[0x0b, 0x0c], false).is_none());
        assert!(decode(&[0x00, 0x01], false).is_none());
        assert!(decode(&[0x0e, 0x01], false).is_none());
    }

    #[test]
    fn strict_wants_order_and_small_numbers() {
        let ordered = [field(1, 0, &[1]), field(2, 0, &[1]), field(3, 0, &[1])].concat();
        let shuffled = [field(3, 0, &[1]), field(2, 0, &[1]), field(1, 0, &[1])].concat();
        assert!(decode(&ordered, true).is_some());
        assert!(decode(&shuffled, true).is_none());
        assert!(decode(&shuffled, false).is_some());
        let huge = field(MAX_FIELD, 0, &[1]);
        assert!(decode(&huge, true).is_none() && decode(&huge, false).is_some());
    }

    #[test]
    fn hostile_lengths_and_depth() {
        // A length prefix of 2^63 with three bytes behind it.
        let mut b = vec![0x0a];
        enc_varint(1 << 63, &mut b);
        b.extend_from_slice(b"abc");
        assert!(decode(&b, false).is_none());
        // An eleven-byte varint.
        assert!(
            decode(
                &[
                    0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
                ],
                false
            )
            .is_none()
        );
        // 200 levels of nesting: parsed, with guesses stopping at MAX_DEPTH (bytes below it).
        let mut m = field(1, 0, &[1]);
        for _ in 0..200 {
            m = field(1, 2, &m);
        }
        let lines = decode(&m, true).expect("claimed");
        let deepest = lines.iter().map(|l| l.depth).max().unwrap_or(0);
        assert_eq!(deepest, MAX_DEPTH - 1);
        let last = lines.last().expect("a line");
        assert_eq!(last.depth, MAX_DEPTH - 1);
        assert!(!last.note.starts_with("message"), "{last:?}");
    }

    #[test]
    fn many_fields_are_cut_at_the_line_cap() {
        let one = field(1, 0, &[1]);
        let m: Vec<u8> = one
            .iter()
            .copied()
            .cycle()
            .take(one.len() * 20_000)
            .collect();
        let lines = decode(&m, true).expect("claimed");
        assert_eq!(lines.len(), super::super::tree::MAX_LINES + 1);
        assert_eq!(
            lines.last().expect("line").note,
            "10000 more lines not shown"
        );
    }
}

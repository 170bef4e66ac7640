//! MessagePack through `rmpv`, after a walk over the markers that bounds what it will build: every
//! length prefix fits in the bytes present, containers nest at most [`MAX_DEPTH`] deep and hold
//! at most [`MAX_ITEMS`] values in all, and the value ends exactly at the frame's end.

use super::tree::{
    Lines, MAX_DEPTH, TreeLine, float, hex_value, printable, quoted, redacted, secret_key,
};
use rmpv::Value;

/// A frame with more values than this is not decoded (rmpv holds them all in memory at once,
/// some 40 bytes each).
pub const MAX_ITEMS: u64 = 250_000;

/// Decode `bytes` as exactly one MessagePack value. `strict` (the `auto` choice) also asks for a
/// non-empty map or array at the top, valid UTF-8 in every string and map keys that are strings
/// or integers: almost any byte string starts with a valid scalar.
pub fn decode(bytes: &[u8], strict: bool) -> Option<Vec<TreeLine>> {
    if !scan(bytes) {
        return None;
    }
    let mut rd = bytes;
    let v = rmpv::decode::read_value_with_max_depth(&mut rd, 4 * MAX_DEPTH as usize).ok()?;
    if !rd.is_empty() || (strict && !plausible(&v)) {
        return None;
    }
    let mut lines = Lines::default();
    match &v {
        Value::Map(_) | Value::Array(_) => members(&mut lines, &v, 0),
        _ => {
            let (value, note) = scalar(&v);
            lines.push(0, "value".into(), value, note);
        }
    }
    Some(lines.finish())
}

fn plausible(v: &Value) -> bool {
    fn strings_ok(v: &Value) -> bool {
        match v {
            Value::String(s) => s.is_str(),
            Value::Array(a) => a.iter().all(strings_ok),
            Value::Map(m) => m.iter().all(|(k, v)| {
                matches!(k, Value::String(_) | Value::Integer(_)) && strings_ok(k) && strings_ok(v)
            }),
            _ => true,
        }
    }
    match v {
        Value::Map(m) => !m.is_empty() && strings_ok(v),
        Value::Array(a) => !a.is_empty() && strings_ok(v),
        _ => false,
    }
}

/// Big-endian length or value of `n` bytes at `pos`.
fn be(b: &[u8], pos: usize, n: usize) -> Option<u64> {
    let s = b.get(pos..pos.checked_add(n)?)?;
    Some(s.iter().fold(0u64, |acc, x| acc << 8 | *x as u64))
}

/// One whole value, within the bounds above, and nothing after it.
fn scan(b: &[u8]) -> bool {
    scan_inner(b).is_some_and(|end| end == b.len())
}

fn scan_inner(b: &[u8]) -> Option<usize> {
    let (mut pos, mut items, mut pending) = (0usize, 0u64, 1u64);
    let mut stack: Vec<u64> = Vec::new();
    loop {
        while pending == 0 {
            pending = match stack.pop() {
                Some(p) => p,
                None => return Some(pos),
            };
        }
        pending -= 1;
        items += 1;
        if items > MAX_ITEMS {
            return None;
        }
        let m = *b.get(pos)?;
        pos += 1;
        // (bytes of a length prefix, fixed bytes after it, container children per length unit)
        let (skip, children): (u64, u64) = match m {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
            0x80..=0x8f => (0, 2 * (m & 0x0f) as u64),
            0x90..=0x9f => (0, (m & 0x0f) as u64),
            0xa0..=0xbf => ((m & 0x1f) as u64, 0),
            0xc1 => return None,
            0xc4 | 0xd9 => (take(b, &mut pos, 1)?, 0),
            0xc5 | 0xda => (take(b, &mut pos, 2)?, 0),
            0xc6 | 0xdb => (take(b, &mut pos, 4)?, 0),
            0xc7 => (take(b, &mut pos, 1)? + 1, 0),
            0xc8 => (take(b, &mut pos, 2)? + 1, 0),
            0xc9 => (take(b, &mut pos, 4)? + 1, 0),
            0xca | 0xce | 0xd2 => (4, 0),
            0xcb | 0xcf | 0xd3 => (8, 0),
            0xcc | 0xd0 => (1, 0),
            0xcd | 0xd1 => (2, 0),
            0xd4 => (2, 0),
            0xd5 => (3, 0),
            0xd6 => (5, 0),
            0xd7 => (9, 0),
            0xd8 => (17, 0),
            0xdc => (0, take(b, &mut pos, 2)?),
            0xdd => (0, take(b, &mut pos, 4)?),
            0xde => (0, 2 * take(b, &mut pos, 2)?),
            0xdf => (0, 2 * take(b, &mut pos, 4)?),
        };
        let left = (b.len() - pos) as u64;
        if skip > left {
            return None;
        }
        pos += skip as usize;
        if children > 0 {
            // Every value takes at least one byte: a count beyond the bytes left is a lie.
            if children > left || stack.len() + 1 >= MAX_DEPTH as usize {
                return None;
            }
            stack.push(pending);
            pending = children;
        }
    }
}

fn take(b: &[u8], pos: &mut usize, n: usize) -> Option<u64> {
    let v = be(b, *pos, n)?;
    *pos += n;
    Some(v)
}

fn members(lines: &mut Lines, v: &Value, depth: u16) {
    match v {
        Value::Map(m) => {
            for (k, val) in m {
                let label = key_label(k);
                let secret = secret_key(&label);
                member(lines, label, val, depth, secret);
            }
        }
        Value::Array(a) => {
            for (i, val) in a.iter().enumerate() {
                member(lines, format!("[{i}]"), val, depth, false);
            }
        }
        _ => {}
    }
}

fn member(lines: &mut Lines, label: String, v: &Value, depth: u16, secret: bool) {
    match v {
        Value::Map(m) => {
            lines.push(
                depth,
                label,
                "{".into(),
                format!("map · {} entries", m.len()),
            );
            members(lines, v, depth + 1);
        }
        Value::Array(a) => {
            lines.push(
                depth,
                label,
                "[".into(),
                format!("array · {} items", a.len()),
            );
            members(lines, v, depth + 1);
        }
        Value::String(s) if secret => {
            lines.push(depth, label, redacted(s.as_bytes().len()), "str");
        }
        Value::Binary(b) if secret => {
            lines.push(depth, label, redacted(b.len()), "bin");
        }
        _ => {
            let (value, note) = scalar(v);
            lines.push(depth, label, value, note);
        }
    }
}

/// A map key as a label: text as it is when printable and short, anything else as its value.
fn key_label(k: &Value) -> String {
    match k {
        Value::String(s) => match s.as_str() {
            Some(t) if t.len() <= 80 && printable(t.as_bytes()).is_some() && !t.contains('\n') => {
                t.to_string()
            }
            _ => scalar(k).0,
        },
        Value::Map(m) => format!("{{map · {} entries}}", m.len()),
        Value::Array(a) => format!("[array · {} items]", a.len()),
        _ => scalar(k).0,
    }
}

fn scalar(v: &Value) -> (String, String) {
    match v {
        Value::Nil => ("nil".into(), "nil".into()),
        Value::Boolean(b) => (b.to_string(), "bool".into()),
        Value::Integer(i) => (i.to_string(), "int".into()),
        Value::F32(f) => (format!("{f:?}"), "float32".into()),
        Value::F64(f) => (float(*f), "float64".into()),
        Value::String(s) => match s.as_str() {
            Some(t) => (quoted(t), "str".into()),
            None => (
                hex_value(s.as_bytes()),
                format!("str, not UTF-8 · {} bytes", s.as_bytes().len()),
            ),
        },
        Value::Binary(b) => (hex_value(b), format!("bin · {} bytes", b.len())),
        Value::Ext(-1, data) => match timestamp(data) {
            Some(t) => (t, "ext -1 · timestamp".into()),
            None => (hex_value(data), format!("ext -1 · {} bytes", data.len())),
        },
        Value::Ext(ty, data) => (hex_value(data), format!("ext {ty} · {} bytes", data.len())),
        Value::Array(a) => ("[".into(), format!("array · {} items", a.len())),
        Value::Map(m) => ("{".into(), format!("map · {} entries", m.len())),
    }
}

/// The MessagePack timestamp extension (type -1) in its 32-, 64- and 96-bit forms, as RFC 3339.
fn timestamp(d: &[u8]) -> Option<String> {
    let (secs, nanos) = match d.len() {
        4 => (be(d, 0, 4)? as i64, 0u32),
        8 => {
            let v = be(d, 0, 8)?;
            ((v & 0x3_ffff_ffff) as i64, (v >> 34) as u32)
        }
        12 => (be(d, 4, 8)? as i64, be(d, 0, 4)? as u32),
        _ => return None,
    };
    if nanos >= 1_000_000_000 {
        return None;
    }
    let t = time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()?
        .replace_nanosecond(nanos)
        .ok()?;
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, v).expect("encode");
        out
    }

    fn s(x: &str) -> Value {
        Value::String(x.into())
    }

    #[test]
    fn maps_arrays_ext_and_secrets() {
        let v = Value::Map(vec![
            (s("type"), s("audio.chunk")),
            (s("seq"), Value::from(-3)),
            (
                s("meta"),
                Value::Map(vec![
                    (s("rate"), Value::from(24000)),
                    (s("ok"), Value::from(true)),
                ]),
            ),
            (s("list"), Value::Array(vec![Value::F64(0.5), Value::Nil])),
            (s("blob"), Value::Binary(vec![0, 1, 0xff])),
            (s("ext"), Value::Ext(5, vec![9, 9])),
            (s("when"), Value::Ext(-1, vec![0x65, 0x53, 0xf1, 0x00])),
            (s("api_key"), s("sk-abcdef")),
            (Value::from(7), s("int key")),
        ]);
        let lines = decode(&encode(&v), true).expect("claimed");
        let got: Vec<String> = lines
            .iter()
            .map(|l| {
                format!(
                    "{}{}={} ({})",
                    " ".repeat(l.depth as usize),
                    l.label,
                    l.value,
                    l.note
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                "type=\"audio.chunk\" (str)",
                "seq=-3 (int)",
                "meta={ (map · 2 entries)",
                " rate=24000 (int)",
                " ok=true (bool)",
                "list=[ (array · 2 items)",
                " [0]=0.5 (float64)",
                " [1]=nil (nil)",
                "blob=00 01 ff (bin · 3 bytes)",
                "ext=09 09 (ext 5 · 2 bytes)",
                "when=2023-11-14T22:13:20Z (ext -1 · timestamp)",
                "api_key=<redacted, 9 chars> (str)",
                "7=\"int key\" (str)",
            ]
        );
    }

    #[test]
    fn strict_wants_a_container_and_the_whole_frame() {
        assert!(decode(&encode(&Value::from(5)), true).is_none());
        assert_eq!(
            decode(&encode(&Value::from(5)), false).expect("claimed")[0].value,
            "5"
        );
        assert!(decode(&encode(&Value::Map(vec![])), true).is_none());
        let mut b = encode(&Value::Array(vec![Value::from(1)]));
        b.push(0);
        assert!(decode(&b, false).is_none());
        // 0xc1 is never used.
        assert!(decode(&[0x91, 0xc1], false).is_none());
    }

    #[test]
    fn hostile_prefixes_and_nesting() {
        // A 4 GiB string, a 4-billion-entry map and a 4 GiB ext with a few bytes behind them.
        for b in [
            &[0xdb, 0xff, 0xff, 0xff, 0xff, b'a'][..],
            &[0xdf, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02],
            &[0xc9, 0xff, 0xff, 0xff, 0xff, 0x05, 0x00],
            &[0xdd, 0xff, 0xff, 0xff, 0xff],
        ] {
            assert!(decode(b, false).is_none(), "{b:?}");
        }
        let deep: Vec<u8> = std::iter::repeat_n(0x91u8, 10_000).chain([0x01]).collect();
        assert!(decode(&deep, false).is_none());
        let ok: Vec<u8> = std::iter::repeat_n(0x91u8, 20).chain([0x01]).collect();
        assert_eq!(decode(&ok, true).expect("claimed").len(), 20);
        // More values than MAX_ITEMS: not decoded.
        let mut many = vec![0xdd];
        many.extend_from_slice(&(MAX_ITEMS as u32 + 1).to_be_bytes());
        many.extend(std::iter::repeat_n(0u8, MAX_ITEMS as usize + 1));
        assert!(decode(&many, false).is_none());
    }
}

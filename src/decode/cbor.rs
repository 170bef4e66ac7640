//! CBOR through `ciborium`, after a walk over the item headers that bounds what it will build:
//! every length fits in the bytes present, items nest (tags included) at most [`MAX_DEPTH`]
//! deep, at most [`MAX_ITEMS`] items in all, and the item ends exactly at the frame's end.
//! Tags are shown with their registered names.

use super::tree::{
    Lines, MAX_DEPTH, TreeLine, float, hex_value, printable, quoted, redacted, secret_key,
};
use ciborium::Value;

/// A frame with more items than this is not decoded (the value tree is held in memory).
pub const MAX_ITEMS: u64 = 250_000;

/// Decode `bytes` as exactly one CBOR item. `strict` (the `auto` choice) also asks for a
/// non-empty map or array at the top (under any tags) whose map keys are text or integers.
pub fn decode(bytes: &[u8], strict: bool) -> Option<Vec<TreeLine>> {
    if scan(bytes)? != bytes.len() {
        return None;
    }
    let mut rd = bytes;
    let v: Value =
        ciborium::de::from_reader_with_recursion_limit(&mut rd, 2 * MAX_DEPTH as usize).ok()?;
    if !rd.is_empty() || (strict && !plausible(&v)) {
        return None;
    }
    let mut lines = Lines::default();
    let (tags, inner) = untag(&v);
    match inner {
        Value::Map(_) | Value::Array(_) if tags.is_empty() => members(&mut lines, inner, 0),
        _ => member(&mut lines, "value".into(), &v, 0, false),
    }
    Some(lines.finish())
}

fn plausible(v: &Value) -> bool {
    fn keys_ok(v: &Value) -> bool {
        match untag(v).1 {
            Value::Array(a) => a.iter().all(keys_ok),
            Value::Map(m) => m
                .iter()
                .all(|(k, v)| matches!(k, Value::Text(_) | Value::Integer(_)) && keys_ok(v)),
            _ => true,
        }
    }
    match untag(v).1 {
        Value::Map(m) => !m.is_empty() && keys_ok(v),
        Value::Array(a) => !a.is_empty() && keys_ok(v),
        _ => false,
    }
}

/// The tags around a value, outermost first, and the value inside them.
fn untag(mut v: &Value) -> (Vec<u64>, &Value) {
    let mut tags = Vec::new();
    while let Value::Tag(t, inner) = v {
        tags.push(*t);
        v = inner;
    }
    (tags, v)
}

#[derive(Clone, Copy)]
enum Open {
    /// A definite array, map (two items per entry) or tag (one item): items still to come.
    Items(u64),
    /// An indefinite array or map: items so far (a map's must be even at the break).
    Indefinite { map: bool, seen: u64 },
    /// An indefinite byte or text string: definite chunks of the same major type until a break.
    Chunks(u8),
}

/// The items a scan has open, the first few on the stack rather than the heap: most frames
/// `auto` offers are not CBOR and are turned away after a few items, and allocating for the
/// first container cost as much as the walk (as did clearing room for all [`MAX_DEPTH`]).
/// Pushes stop below [`MAX_DEPTH`] (checked by the caller).
#[derive(Default)]
struct Stack {
    inline: [Open; INLINE],
    len: usize,
    /// Items past the first [`INLINE`].
    more: Vec<Open>,
}

const INLINE: usize = 6;

impl Default for Open {
    fn default() -> Self {
        Open::Items(0)
    }
}

impl Stack {
    fn len(&self) -> usize {
        self.len
    }

    fn last_mut(&mut self) -> Option<&mut Open> {
        match self.len {
            0 => None,
            n if n <= INLINE => Some(&mut self.inline[n - 1]),
            _ => self.more.last_mut(),
        }
    }

    fn pop(&mut self) {
        if self.len > INLINE {
            self.more.pop();
        }
        self.len = self.len.saturating_sub(1);
    }

    fn push(&mut self, o: Open) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = o,
            None => self.more.push(o),
        }
        self.len += 1;
    }
}

/// The offset where the first item of `b` ends, if it is well-formed within the bounds.
fn scan(b: &[u8]) -> Option<usize> {
    let (mut pos, mut items, mut started) = (0usize, 0u64, false);
    let mut stack = Stack::default();
    loop {
        match stack.last_mut() {
            None if started => return Some(pos),
            None => started = true,
            Some(Open::Items(0)) => {
                stack.pop();
                continue;
            }
            Some(Open::Items(n)) => *n -= 1,
            Some(Open::Indefinite { map, seen }) => {
                if *b.get(pos)? == 0xff {
                    if *map && *seen % 2 == 1 {
                        return None;
                    }
                    pos += 1;
                    stack.pop();
                    continue;
                }
                *seen += 1;
            }
            Some(Open::Chunks(major)) => {
                let major = *major;
                if *b.get(pos)? == 0xff {
                    pos += 1;
                    stack.pop();
                    continue;
                }
                let (m, _, arg) = header(b, &mut pos)?;
                if m != major {
                    return None;
                }
                skip(b, &mut pos, arg?)?;
                items += 1;
                if items > MAX_ITEMS {
                    return None;
                }
                continue;
            }
        }
        items += 1;
        if items > MAX_ITEMS {
            return None;
        }
        let (major, ai, arg) = header(b, &mut pos)?;
        let left = (b.len() - pos) as u64;
        let open = match (major, arg) {
            (0 | 1, Some(_)) => None,
            (2 | 3, Some(len)) => {
                skip(b, &mut pos, len)?;
                None
            }
            (2 | 3, None) => Some(Open::Chunks(major)),
            // Every item takes at least one byte: a count beyond the bytes left is a lie.
            (4, Some(n)) if n <= left => (n > 0).then_some(Open::Items(n)),
            (5, Some(n)) if n <= left => (n > 0).then_some(Open::Items(2 * n)),
            (4 | 5, None) => Some(Open::Indefinite {
                map: major == 5,
                seen: 0,
            }),
            (6, Some(_)) => Some(Open::Items(1)),
            // false, true, null, undefined (other simple values are unassigned), and half,
            // single and double floats (their bytes were the argument).
            (7, Some(_)) if matches!(ai, 20..=23 | 25..=27) => None,
            _ => return None,
        };
        if let Some(o) = open {
            if stack.len() + 1 >= MAX_DEPTH as usize {
                return None;
            }
            stack.push(o);
        }
    }
}

/// An item's major type, additional information and argument (`None` for an indefinite
/// length) at `pos`.
fn header(b: &[u8], pos: &mut usize) -> Option<(u8, u8, Option<u64>)> {
    let ib = *b.get(*pos)?;
    *pos += 1;
    let (major, ai) = (ib >> 5, ib & 0x1f);
    let n = match ai {
        0..=23 => return Some((major, ai, Some(ai as u64))),
        24 => 1,
        25 => 2,
        26 => 4,
        27 => 8,
        31 if matches!(major, 2..=5) => return Some((major, ai, None)),
        _ => return None,
    };
    let s = b.get(*pos..*pos + n)?;
    *pos += n;
    Some((
        major,
        ai,
        Some(s.iter().fold(0u64, |a, x| a << 8 | *x as u64)),
    ))
}

fn skip(b: &[u8], pos: &mut usize, len: u64) -> Option<()> {
    if len > (b.len() - *pos) as u64 {
        return None;
    }
    *pos += len as usize;
    Some(())
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
    let (tags, inner) = untag(v);
    let tag_note: String = tags
        .iter()
        .map(|t| match tag_name(*t) {
            Some(n) => format!("tag {t} ({n}) · "),
            None => format!("tag {t} · "),
        })
        .collect();
    match inner {
        Value::Map(m) => {
            lines.push(
                depth,
                label,
                "{".into(),
                format!("{tag_note}map · {} entries", m.len()),
            );
            members(lines, inner, depth + 1);
        }
        Value::Array(a) => {
            lines.push(
                depth,
                label,
                "[".into(),
                format!("{tag_note}array · {} items", a.len()),
            );
            members(lines, inner, depth + 1);
        }
        Value::Text(t) if secret => lines.push(depth, label, redacted(t.len()), "text"),
        Value::Bytes(b) if secret => lines.push(depth, label, redacted(b.len()), "bytes"),
        _ => {
            let (value, note) = scalar(inner, tags.last().copied());
            lines.push(depth, label, value, format!("{tag_note}{note}"));
        }
    }
}

fn key_label(k: &Value) -> String {
    match untag(k).1 {
        Value::Text(t)
            if t.len() <= 80 && printable(t.as_bytes()).is_some() && !t.contains('\n') =>
        {
            t.clone()
        }
        Value::Map(m) => format!("{{map · {} entries}}", m.len()),
        Value::Array(a) => format!("[array · {} items]", a.len()),
        other => scalar(other, None).0,
    }
}

/// A value that is not a container, with what its innermost tag (if any) makes of it.
fn scalar(v: &Value, tag: Option<u64>) -> (String, String) {
    match v {
        Value::Integer(i) => {
            let n = i128::from(*i);
            match tag.filter(|t| *t == 1).and_then(|_| epoch(n as f64)) {
                Some(t) => (n.to_string(), format!("int = {t}")),
                None => (n.to_string(), "int".into()),
            }
        }
        Value::Float(f) => match tag.filter(|t| *t == 1).and_then(|_| epoch(*f)) {
            Some(t) => (float(*f), format!("float = {t}")),
            None => (float(*f), "float".into()),
        },
        Value::Text(t) => (quoted(t), "text".into()),
        Value::Bytes(b) => match (tag, uuid::Uuid::from_slice(b)) {
            (Some(37), Ok(u)) => (u.to_string(), "bytes · 16".into()),
            _ => (hex_value(b), format!("bytes · {}", b.len())),
        },
        Value::Bool(b) => (b.to_string(), "bool".into()),
        Value::Null => ("null".into(), "null".into()),
        Value::Array(a) => ("[".into(), format!("array · {} items", a.len())),
        Value::Map(m) => ("{".into(), format!("map · {} entries", m.len())),
        Value::Tag(t, _) => (String::new(), format!("tag {t}")),
        _ => (String::new(), "unknown".into()),
    }
}

fn epoch(secs: f64) -> Option<String> {
    if !secs.is_finite() || secs.abs() > 1e11 {
        return None;
    }
    let t = time::OffsetDateTime::from_unix_timestamp_nanos((secs * 1e9) as i128).ok()?;
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// Names from the IANA CBOR tag registry, for the tags a wire is likely to carry.
fn tag_name(t: u64) -> Option<&'static str> {
    Some(match t {
        0 => "date/time",
        1 => "epoch time",
        2 => "bignum",
        3 => "negative bignum",
        4 => "decimal fraction",
        5 => "bigfloat",
        21 => "to base64url",
        22 => "to base64",
        23 => "to base16",
        24 => "embedded CBOR",
        32 => "URI",
        33 => "base64url",
        34 => "base64",
        36 => "MIME",
        37 => "UUID",
        258 => "set",
        55799 => "self-described CBOR",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::ser::into_writer(v, &mut out).expect("encode");
        out
    }

    fn t(x: &str) -> Value {
        Value::Text(x.into())
    }

    fn show(lines: &[TreeLine]) -> Vec<String> {
        lines
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
            .collect()
    }

    #[test]
    fn maps_tags_and_secrets() {
        let v = Value::Map(vec![
            (t("type"), t("session.update")),
            (t("n"), Value::Integer((-5).into())),
            (
                t("at"),
                Value::Tag(1, Box::new(Value::Integer(1_700_000_000.into()))),
            ),
            (
                t("id"),
                Value::Tag(37, Box::new(Value::Bytes(vec![0x11; 16]))),
            ),
            (
                t("inner"),
                Value::Tag(
                    258,
                    Box::new(Value::Array(vec![
                        Value::Float(1.5),
                        Value::Null,
                        Value::Bool(false),
                    ])),
                ),
            ),
            (t("token"), t("eyJsecret")),
            (Value::Integer(2.into()), Value::Bytes(vec![1, 2])),
        ]);
        let lines = decode(&encode(&v), true).expect("claimed");
        assert_eq!(
            show(&lines),
            [
                "type=\"session.update\" (text)",
                "n=-5 (int)",
                "at=1700000000 (tag 1 (epoch time) · int = 2023-11-14T22:13:20Z)",
                "id=11111111-1111-1111-1111-111111111111 (tag 37 (UUID) · bytes · 16)",
                "inner=[ (tag 258 (set) · array · 3 items)",
                " [0]=1.5 (float)",
                " [1]=null (null)",
                " [2]=false (bool)",
                "token=<redacted, 9 chars> (text)",
                "2=01 02 (bytes · 2)",
            ]
        );
    }

    #[test]
    fn indefinite_lengths_and_floats() {
        // {_ "a": [_ 1, 2], "b": (_ h'01', h'02'), "c": 1.5 (half)}
        let b = [
            0xbf, 0x61, b'a', 0x9f, 0x01, 0x02, 0xff, 0x61, b'b', 0x5f, 0x41, 0x01, 0x41, 0x02,
            0xff, 0x61, b'c', 0xf9, 0x3e, 0x00, 0xff,
        ];
        let lines = decode(&b, true).expect("claimed");
        assert_eq!(
            show(&lines),
            [
                "a=[ (array · 2 items)",
                " [0]=1 (int)",
                " [1]=2 (int)",
                "b=01 02 (bytes · 2)",
                "c=1.5 (float)",
            ]
        );
        // An odd indefinite map, a break at the top, a chunk of the wrong type.
        for bad in [
            &[0xbf, 0x01, 0xff][..],
            &[0xff],
            &[0x5f, 0x61, b'a', 0xff],
            &[0x1c],
            &[0xf8, 0x10],
        ] {
            assert!(decode(bad, false).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn strict_and_whole_frame() {
        assert!(decode(&encode(&Value::Integer(5.into())), true).is_none());
        assert_eq!(decode(&[0x05], false).expect("claimed")[0].value, "5");
        assert!(decode(&[0xa0], true).is_none());
        assert!(decode(&[0x81, 0x01, 0x01], false).is_none());
        // A self-described tag around a map is still a map.
        assert!(decode(&[0xd9, 0xd9, 0xf7, 0xa1, 0x61, b'k', 0x01], true).is_some());
    }

    #[test]
    fn hostile_prefixes_and_nesting() {
        for b in [
            &[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00][..],
            &[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00],
            &[
                0xbb, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00,
            ],
            &[0x7a, 0xff, 0xff, 0xff, 0xff, b'x'],
        ] {
            assert!(decode(b, false).is_none(), "{b:?}");
        }
        let deep: Vec<u8> = std::iter::repeat_n(0x81u8, 10_000).chain([0x01]).collect();
        assert!(decode(&deep, false).is_none());
        let tags: Vec<u8> = std::iter::repeat_n(0xc1u8, 10_000).chain([0x01]).collect();
        assert!(decode(&tags, false).is_none());
        let ok: Vec<u8> = std::iter::repeat_n(0x81u8, 20).chain([0x01]).collect();
        assert_eq!(decode(&ok, true).expect("claimed").len(), 20);
    }

    /// Nesting through the scan's inline stack and past it, up to the bound and one over, in
    /// arrays, maps and tags; then items after the deep part, which pop back down.
    #[test]
    fn nesting_across_the_inline_stack_up_to_the_bound() {
        for n in 1..=40usize {
            for open in [&[0x81u8][..], &[0xa1, 0x01], &[0xc6]] {
                let mut b: Vec<u8> = std::iter::repeat_n(open, n).flatten().copied().collect();
                b.push(0x01);
                let depth_ok = n < MAX_DEPTH as usize;
                assert_eq!(scan(&b), depth_ok.then_some(b.len()), "{open:02x?} x {n}");
            }
            // Two arrays side by side in one array: down and up again, twice.
            let half: Vec<u8> = std::iter::repeat_n(0x81u8, n).chain([0x01]).collect();
            let b: Vec<u8> = [&[0x82u8][..], &half, &half].concat();
            let depth_ok = n + 1 < MAX_DEPTH as usize;
            assert_eq!(scan(&b), depth_ok.then_some(b.len()), "two x {n}");
        }
    }
}

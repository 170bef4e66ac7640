//! What every structured decoder produces: a tree flattened into indented lines, the shape a
//! detail view draws and `wsdeck inspect` prints (`--json` as `{depth,label,value,note}`).
//! Also the bounds every decoder shares, and the value formatting they have in common.

use serde::Serialize;

/// One line of a decoded tree. `depth` is the nesting (0 for top-level fields), `label` the
/// field number, key or index, `value` the value as text (`{`/`[` opens a container whose
/// members follow at `depth + 1`), `note` the wire or value type and any guess made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreeLine {
    pub depth: u16,
    pub label: String,
    pub value: String,
    pub note: String,
}

/// At most this many lines per frame; past it the tree ends with a line saying how many were
/// left out (a 16 MiB frame must not become millions of lines).
pub const MAX_LINES: usize = 10_000;
/// Containers nest at most this deep; deeper input is not claimed (protobuf: shown as bytes).
pub const MAX_DEPTH: u16 = 32;
/// Values longer than this many characters (strings) or bytes (hex) are cut, with their size said.
const MAX_VALUE_CHARS: usize = 2_000;
const MAX_HEX_BYTES: usize = 64;

/// Lines being collected under [`MAX_LINES`]: past the cap lines are counted, not kept.
/// Checkpoints let a decoder that tried a guess (a nested protobuf message) take it back.
#[derive(Debug, Default)]
pub(crate) struct Lines {
    lines: Vec<TreeLine>,
    dropped: usize,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Checkpoint(usize, usize);

impl Lines {
    pub fn push(&mut self, depth: u16, label: String, value: String, note: impl Into<String>) {
        if self.lines.len() >= MAX_LINES {
            self.dropped += 1;
            return;
        }
        self.lines.push(TreeLine {
            depth,
            label,
            value,
            note: note.into(),
        });
    }

    /// Room for more lines: callers with costly lines stop building them once this is false.
    pub fn has_room(&self) -> bool {
        self.lines.len() < MAX_LINES
    }

    /// Count `n` lines that were not built (past the cap).
    pub fn skipped(&mut self, n: usize) {
        self.dropped += n;
    }

    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint(self.lines.len(), self.dropped)
    }

    pub fn rollback(&mut self, cp: Checkpoint) {
        self.lines.truncate(cp.0);
        self.dropped = cp.1;
    }

    pub fn finish(mut self) -> Vec<TreeLine> {
        if self.dropped > 0 {
            self.lines.push(TreeLine {
                depth: 0,
                label: "…".into(),
                value: String::new(),
                note: format!("{} more lines not shown", self.dropped),
            });
        }
        self.lines
    }
}

/// A string as a quoted, escaped value (JSON escaping: control characters stay visible).
pub fn quoted(s: &str) -> String {
    match s.char_indices().nth(MAX_VALUE_CHARS) {
        None => serde_json::to_string(s).unwrap_or_default(),
        Some((cut, _)) => {
            let mut q = serde_json::to_string(&s[..cut]).unwrap_or_default();
            q.push('…');
            q
        }
    }
}

/// Bytes as spaced lowercase hex, the first [`MAX_HEX_BYTES`] of them.
pub fn hex_value(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len().min(MAX_HEX_BYTES) * 3 + 2);
    for (i, byte) in b.iter().take(MAX_HEX_BYTES).enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&format!("{byte:02x}"));
    }
    if b.len() > MAX_HEX_BYTES {
        s.push_str(" …");
    }
    s
}

/// Floats in their shortest form, with an exponent for very large or small ones (`1e300`).
pub fn float(x: f64) -> String {
    format!("{x:?}")
}

/// Valid UTF-8 without control characters other than tab, newline and carriage return: text a
/// person wrote, as opposed to bytes that happen to decode.
pub fn printable(b: &[u8]) -> Option<&str> {
    let s = std::str::from_utf8(b).ok()?;
    s.chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
        .then_some(s)
}

/// A map key or field name whose value is a credential: shown as its length only.
/// Words are split at `_`, `-`, `.` and camelCase, so `max_tokens` is not a secret while
/// `accessToken` and `api_key` are.
pub fn secret_key(name: &str) -> bool {
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    const ALONE: &[&str] = &[
        "token",
        "secret",
        "password",
        "passwd",
        "pwd",
        "apikey",
        "authorization",
        "auth",
        "credential",
        "credentials",
        "cookie",
        "signature",
        "sig",
        "jwt",
        "bearer",
    ];
    const BEFORE_KEY: &[&str] = &["api", "private", "secret", "access", "subscription", "sas"];
    words.iter().enumerate().any(|(i, w)| {
        ALONE.contains(&w.as_str())
            || (w == "key" && i > 0 && BEFORE_KEY.contains(&words[i - 1].as_str()))
    })
}

/// What a credential's value becomes in a tree.
pub fn redacted(len: usize) -> String {
    format!("<redacted, {len} chars>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_cap_and_rollback() {
        let mut l = Lines::default();
        for i in 0..MAX_LINES + 5 {
            l.push(0, i.to_string(), String::new(), "");
        }
        let cp = l.checkpoint();
        l.push(0, "x".into(), String::new(), "");
        l.rollback(cp);
        let out = l.finish();
        assert_eq!(out.len(), MAX_LINES + 1);
        assert_eq!(out[MAX_LINES].note, "5 more lines not shown");
    }

    #[test]
    fn values_are_bounded_and_escaped() {
        assert_eq!(quoted("a\"b\n"), r#""a\"b\n""#);
        let long = "é".repeat(MAX_VALUE_CHARS + 10);
        let q = quoted(&long);
        assert!(q.ends_with('…') && q.chars().count() == MAX_VALUE_CHARS + 3);
        assert_eq!(hex_value(&[0, 0xab]), "00 ab");
        assert!(hex_value(&[1; 100]).ends_with(" …"));
        assert_eq!(float(1e300), "1e300");
        assert_eq!(float(2.5), "2.5");
        assert_eq!(printable(b"hi\tthere\n"), Some("hi\tthere\n"));
        assert_eq!(printable(b"\x01x"), None);
        assert_eq!(printable(&[0xff]), None);
    }

    #[test]
    fn secret_names() {
        for s in [
            "token",
            "accessToken",
            "access_token",
            "api_key",
            "apiKey",
            "X-Api-Key",
            "client_secret",
            "password",
            "Authorization",
        ] {
            assert!(secret_key(s), "{s}");
        }
        for s in [
            "max_tokens",
            "input_tokens",
            "key",
            "type",
            "monkey",
            "tokenizer",
        ] {
            assert!(!secret_key(s), "{s}");
        }
    }
}

//! Pretty JSON without a parse tree: the text checked by serde_json (no values built), then
//! re-indented token by token. A 1 MiB frame takes a few milliseconds instead of the fifteen a
//! `Value` round trip took, and what is shown is what was sent: strings keep their escapes and
//! numbers their digits (`1.0e3` stays `1.0e3`, `\u00e9` stays `\u00e9`), which matters when
//! two sides disagree about bytes.

use serde::de::IgnoredAny;

/// Pretty-printed JSON, its lines kept without their indentation and with their depth, so a
/// view takes the lines on screen without walking the ones above and a deeply nested frame
/// costs no more than its bytes (indentation stored whole grows with depth times lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pretty {
    /// The lines, unindented, each ending in `\n`.
    body: String,
    /// Where each line starts in `body`, and its depth.
    lines: Vec<(usize, u32)>,
}

impl Pretty {
    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

    /// Lines `start..start + n` (fewer at the end): depth and text without indentation.
    pub fn lines(&self, start: usize, n: usize) -> impl Iterator<Item = (usize, &str)> {
        let end = start.saturating_add(n).min(self.lines.len());
        (start.min(end)..end).map(move |i| {
            let (from, depth) = self.lines[i];
            let to = self
                .lines
                .get(i + 1)
                .map_or(self.body.len(), |next| next.0)
                .saturating_sub(1);
            (depth as usize, &self.body[from..to.max(from)])
        })
    }

    /// The whole text, two spaces a level (the layout of `serde_json::to_string_pretty`).
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(self.body.len() * 2);
        for (i, (depth, line)) in self.lines(0, usize::MAX).enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.extend(std::iter::repeat_n(' ', depth * 2));
            out.push_str(line);
        }
        out
    }
}

/// Why a text is not JSON, where serde_json stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotJson {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

pub fn pretty(text: &str) -> Result<Pretty, NotJson> {
    if let Err(e) = serde_json::from_str::<IgnoredAny>(text) {
        let m = e.to_string();
        // serde_json's text ends with " at line L column C", which views say their own way.
        let message = match m.find(" at line ") {
            Some(i) => m[..i].to_string(),
            None => m,
        };
        return Err(NotJson {
            line: e.line(),
            column: e.column(),
            message,
        });
    }
    Ok(reindent(text))
}

/// Re-indent text already known to be JSON: `"key": value`, empty containers as `{}` and
/// `[]`, one value or key a line.
fn reindent(text: &str) -> Pretty {
    let b = text.as_bytes();
    let mut body = Vec::with_capacity(b.len() + b.len() / 4);
    let mut lines = vec![(0usize, 0u32)];
    let mut depth = 0u32;
    let mut i = 0;
    let newline = |body: &mut Vec<u8>, lines: &mut Vec<(usize, u32)>, depth: u32| {
        body.push(b'\n');
        lines.push((body.len(), depth));
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'"' => {
                let end = string_end(b, i);
                body.extend_from_slice(&b[i..end]);
                i = end;
            }
            b'{' | b'[' => {
                let close = if c == b'{' { b'}' } else { b']' };
                let next = skip_ws(b, i + 1);
                if b.get(next) == Some(&close) {
                    body.extend_from_slice(&[c, close]);
                    i = next + 1;
                } else {
                    body.push(c);
                    depth = depth.saturating_add(1);
                    newline(&mut body, &mut lines, depth);
                    i += 1;
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(&mut body, &mut lines, depth);
                body.push(c);
                i += 1;
            }
            b',' => {
                body.push(b',');
                newline(&mut body, &mut lines, depth);
                i += 1;
            }
            b':' => {
                body.extend_from_slice(b": ");
                i += 1;
            }
            _ => {
                // A number or a literal: up to the next structural byte or space.
                let end = b[i..]
                    .iter()
                    .position(|x| b",:{}[] \t\n\r\"".contains(x))
                    .map_or(b.len(), |p| i + p);
                body.extend_from_slice(&b[i..end]);
                i = end.max(i + 1);
            }
        }
    }
    body.push(b'\n');
    // Only whole tokens of valid UTF-8 were copied, cut at ASCII bytes.
    let body = String::from_utf8(body).unwrap_or_default();
    Pretty { body, lines }
}

/// The index just past the string starting at `start` (its closing quote included).
fn string_end(b: &[u8], start: usize) -> usize {
    let mut j = start + 1;
    while let Some(p) = memchr::memchr2(b'"', b'\\', &b[j..]) {
        j += p;
        if b[j] == b'\\' {
            j += 2;
        } else {
            return j + 1;
        }
    }
    b.len()
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b
        .get(i)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
    {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn same_as_serde(text: &str) {
        let v: Value = serde_json::from_str(text).expect("json");
        let want = serde_json::to_string_pretty(&v).expect("pretty");
        let got = pretty(text).expect("valid");
        assert_eq!(got.to_text(), want, "for {text:?}");
        assert_eq!(got.line_count(), want.lines().count());
    }

    #[test]
    fn layout_matches_serde_json() {
        for text in [
            r#"{"z":1,"a":{"y":2,"b":[1,2,{"c":null}]}}"#,
            "  [ ]  ",
            "{ }",
            r#"{"e":{},"f":[],"g":[[]],"h":[{}]}"#,
            r#""just a string""#,
            "-12",
            "true",
            r#"{"s":"a \"quoted\" \\ back, {not} [structure]: yes","t":"é ☃"}"#,
            "[\n  1 ,\r\n\t2\n]",
            r#"{"deep":[[[[{"x":[true,false,null]}]]]]}"#,
        ] {
            same_as_serde(text);
        }
    }

    #[test]
    fn keeps_what_was_sent() {
        let p = pretty(r#"{"n":1.0e3,"u":"\u00e9\/"}"#).expect("valid");
        assert_eq!(
            p.to_text(),
            "{\n  \"n\": 1.0e3,\n  \"u\": \"\\u00e9\\/\"\n}"
        );
    }

    #[test]
    fn lines_window() {
        let p = pretty(r#"{"a":1,"b":2,"c":3}"#).expect("valid");
        assert_eq!(
            p.lines(1, 2).collect::<Vec<_>>(),
            [(1, "\"a\": 1,"), (1, "\"b\": 2,")]
        );
        assert_eq!(p.lines(4, 10).collect::<Vec<_>>(), [(0, "}")]);
        assert_eq!(p.lines(9, 10).count(), 0);
    }

    #[test]
    fn not_json_says_where() {
        let e = pretty("{\"a\":\n  tru}").expect_err("invalid");
        assert_eq!(e.line, 2);
        assert!(!e.message.contains(" at line "), "{}", e.message);
        assert!(pretty("").is_err());
        assert!(pretty("{\"a\":1} x").is_err());
    }

    #[test]
    fn deep_nesting_costs_its_bytes_not_depth_times_lines() {
        // 100 000 levels: serde_json checks it without recursing, and the lines keep their
        // depth as a number (stored indentation would be 10^10 spaces).
        let deep = "[".repeat(100_000) + "1" + &"]".repeat(100_000);
        let p = pretty(&deep).expect("valid");
        assert_eq!(p.line_count(), 200_001);
        assert_eq!(p.lines(100_000, 1).collect::<Vec<_>>(), [(100_000, "1")]);
        assert!(p.body.len() < 4 * deep.len());
    }
}

//! Comparing the replies a replay got with the ones a capture holds: frames matched in order,
//! JSON compared structurally, with paths that always differ (ids, timestamps) ignored.

use crate::engine::{Frame, Opcode};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// Position among the incoming data frames (from 0).
    pub index: usize,
    /// JSON path (`.a.b[2]`), or `opcode`, `payload`, `frame`, `close`.
    pub path: String,
    pub expected: Value,
    pub got: Value,
}

/// Paths to ignore: `.a.b` is exact (with `[*]` for any array index), a bare name (`id`, `ts`)
/// is that key at any depth.
#[derive(Debug, Clone, Default)]
pub struct IgnorePaths(Vec<String>);

impl IgnorePaths {
    pub fn new(paths: &[String]) -> Self {
        IgnorePaths(
            paths
                .iter()
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
        )
    }

    fn ignores(&self, path: &str, key: Option<&str>) -> bool {
        self.0.iter().any(|p| {
            if p.starts_with('.') || p.starts_with('[') {
                glob_path(p, path)
            } else {
                key == Some(p.as_str())
            }
        })
    }
}

fn glob_path(pattern: &str, path: &str) -> bool {
    // `[*]` matches any index: compare segment by segment.
    let norm = |s: &str| -> Vec<String> {
        s.replace('[', ".[")
            .split('.')
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (p, q) = (norm(pattern), norm(path));
    p.len() == q.len()
        && p.iter()
            .zip(&q)
            .all(|(a, b)| a == b || (a == "[*]" && b.starts_with('[')))
}

fn payload_value(f: &Frame) -> Value {
    match f.text() {
        Some(t) => Value::String(t.to_string()),
        None => Value::String(format!("hex:{}", hex::encode(&f.payload))),
    }
}

/// Compare `got` with `expected` (incoming data frames only, in order).
pub fn compare(expected: &[&Frame], got: &[&Frame], ignore: &IgnorePaths) -> Vec<Difference> {
    let mut out = Vec::new();
    for (i, pair) in expected.iter().zip(got.iter()).enumerate() {
        let (e, g) = pair;
        if e.opcode != g.opcode {
            out.push(Difference {
                index: i,
                path: "opcode".into(),
                expected: e.opcode.as_str().into(),
                got: g.opcode.as_str().into(),
            });
            continue;
        }
        let parsed = |f: &Frame| -> Option<Value> {
            if f.opcode == Opcode::Text {
                serde_json::from_slice(&f.payload).ok()
            } else {
                None
            }
        };
        match (parsed(e), parsed(g)) {
            (Some(ev), Some(gv)) => diff_values(i, "", None, &ev, &gv, ignore, &mut out),
            _ => {
                if e.payload != g.payload {
                    out.push(Difference {
                        index: i,
                        path: "payload".into(),
                        expected: payload_value(e),
                        got: payload_value(g),
                    });
                }
            }
        }
    }
    for (i, e) in expected.iter().enumerate().skip(got.len()) {
        out.push(Difference {
            index: i,
            path: "frame".into(),
            expected: payload_value(e),
            got: Value::Null,
        });
    }
    for (i, g) in got.iter().enumerate().skip(expected.len()) {
        out.push(Difference {
            index: i,
            path: "frame".into(),
            expected: Value::Null,
            got: payload_value(g),
        });
    }
    out
}

fn diff_values(
    index: usize,
    path: &str,
    key: Option<&str>,
    e: &Value,
    g: &Value,
    ignore: &IgnorePaths,
    out: &mut Vec<Difference>,
) {
    if !path.is_empty() && ignore.ignores(path, key) {
        return;
    }
    match (e, g) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, av) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(bv) => diff_values(index, &p, Some(k), av, bv, ignore, out),
                    None if !ignore.ignores(&p, Some(k)) => out.push(Difference {
                        index,
                        path: p,
                        expected: av.clone(),
                        got: Value::Null,
                    }),
                    None => {}
                }
            }
            for (k, bv) in b {
                let p = format!("{path}.{k}");
                if !a.contains_key(k) && !ignore.ignores(&p, Some(k)) {
                    out.push(Difference {
                        index,
                        path: p,
                        expected: Value::Null,
                        got: bv.clone(),
                    });
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (j, (av, bv)) in a.iter().zip(b).enumerate() {
                diff_values(index, &format!("{path}[{j}]"), key, av, bv, ignore, out);
            }
        }
        _ if e != g => out.push(Difference {
            index,
            path: if path.is_empty() {
                ".".into()
            } else {
                path.to_string()
            },
            expected: e.clone(),
            got: g.clone(),
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Direction;
    use bytes::Bytes;
    use std::time::Duration;

    fn f(op: Opcode, p: &str) -> Frame {
        Frame {
            seq: 1,
            at: Duration::ZERO,
            dir: Direction::In,
            opcode: op,
            payload: Bytes::from(p.to_string()),
        }
    }

    #[test]
    fn json_paths_ignored_and_reported() {
        let e = [f(
            Opcode::Text,
            r#"{"type":"pong","id":"a","ts":"1","data":{"n":1,"items":[{"id":1,"v":2}]}}"#,
        )];
        let g = [f(
            Opcode::Text,
            r#"{"type":"pong","id":"b","ts":"2","data":{"n":2,"items":[{"id":9,"v":2}]}}"#,
        )];
        let er: Vec<&Frame> = e.iter().collect();
        let gr: Vec<&Frame> = g.iter().collect();
        let d = compare(&er, &gr, &IgnorePaths::new(&["id".into(), ".ts".into()]));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].path, ".data.n");
        assert_eq!(
            (d[0].expected.clone(), d[0].got.clone()),
            (Value::from(1), Value::from(2))
        );
        let d = compare(
            &er,
            &gr,
            &IgnorePaths::new(&[
                ".id".into(),
                ".ts".into(),
                ".data.n".into(),
                ".data.items[*].id".into(),
            ]),
        );
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn opcode_payload_and_count_differences() {
        let e = [
            f(Opcode::Text, "x"),
            f(Opcode::Binary, "ab"),
            f(Opcode::Text, "z"),
        ];
        let g = [f(Opcode::Binary, "x"), f(Opcode::Binary, "ac")];
        let d = compare(
            &e.iter().collect::<Vec<_>>(),
            &g.iter().collect::<Vec<_>>(),
            &IgnorePaths::default(),
        );
        let paths: Vec<&str> = d.iter().map(|x| x.path.as_str()).collect();
        assert_eq!(paths, ["opcode", "payload", "frame"]);
        assert_eq!(d[2].got, Value::Null);
    }
}

//! JSON views of text payloads: pretty-printed as sent (key order, escapes and digits kept),
//! or the parse error with its line and column.

use super::pretty::{NotJson, Pretty, pretty};
use serde_json::Value;

pub enum JsonView {
    Pretty(Pretty),
    /// Not JSON: where and why it failed.
    Invalid {
        line: usize,
        column: usize,
        message: String,
    },
}

pub fn view(text: &str) -> JsonView {
    match pretty(text) {
        Ok(p) => JsonView::Pretty(p),
        Err(NotJson {
            line,
            column,
            message,
        }) => JsonView::Invalid {
            line,
            column,
            message,
        },
    }
}

/// The discriminator of a JSON object frame: the first of the fields agents use for it.
pub fn discriminator(v: &Value) -> Option<(&'static str, String)> {
    const KEYS: [&str; 6] = ["type", "event", "op", "kind", "action", "method"];
    let obj = v.as_object()?;
    KEYS.iter().find_map(|k| {
        obj.get(*k).and_then(|x| match x {
            Value::String(s) => Some((*k, s.clone())),
            Value::Number(n) => Some((*k, n.to_string())),
            _ => None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_keeps_key_order() {
        match view(r#"{"z":1,"a":{"y":2,"b":3}}"#) {
            JsonView::Pretty(p) => {
                assert!(p.to_text().find("\"z\"") < p.to_text().find("\"a\""));
                assert!(p.to_text().find("\"y\"") < p.to_text().find("\"b\""));
            }
            JsonView::Invalid { .. } => panic!("valid JSON"),
        }
        match view("{\"a\":\n  tru}") {
            JsonView::Invalid { line, .. } => assert_eq!(line, 2),
            JsonView::Pretty(_) => panic!("invalid JSON"),
        }
        let v: Value = serde_json::from_str(r#"{"id":1,"event":"x","type":"t"}"#).expect("json");
        assert_eq!(discriminator(&v), Some(("type", "t".to_string())));
    }
}

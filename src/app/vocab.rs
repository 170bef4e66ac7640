//! The vocabulary of a session as the console keeps it: the inference and the reply correlation
//! catching up with the frame log in slices (so a burst of a million frames never stalls the
//! keys), the vocabulary pane's cursor, and what its keys do: filter the frame log to a type,
//! and a new frame like a type for the composer.

use crate::app::composer::Mode;
use crate::app::frames::{Move, step, window};
use crate::app::{App, Effect, Pane, Session, actions};
use crate::engine::Direction;
use crate::store::RowKind;
use crate::vocab::infer::{MessageType, TypeKey};
use serde_json::Value;

/// Frames the vocabulary looks at per slice, between other events: learning and correlating cost
/// about 5.4 µs a small JSON frame in a release build (`cargo bench --bench vocab`), so a slice
/// stays near 14 ms, within a frame's time (20 000 rows held the loop 108 ms).
pub const VOCAB_SLICE: usize = 2_500;

/// The vocabulary pane of one session: which type is selected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VocabPane {
    pub cursor: usize,
    pub top: usize,
    /// Hidden with the key again (the inference goes on).
    pub hidden: bool,
}

impl Session {
    /// Whether the vocabulary has log rows left to learn from.
    pub fn vocab_pending(&self) -> bool {
        self.vocab_seen < self.log.len()
    }

    /// Learn from up to `budget` more rows of the frame log.
    pub fn learn(&mut self, budget: usize) {
        let end = self.log.len().min(self.vocab_seen + budget);
        for i in self.vocab_seen..end {
            if let Some(RowKind::Frame(f)) = self.log.get(i).map(|r| r.kind) {
                let kind = self.vocab.observe_and_classify(&f);
                self.replies
                    .observe(&f, kind.as_ref().map(|k| k.name.as_str()));
            }
        }
        self.vocab_seen = end;
    }

    /// The types the pane lists, in its order.
    pub fn vocab_types(&self) -> Vec<&MessageType> {
        self.vocab.types()
    }

    /// The type under the pane's cursor.
    pub fn vocab_selected(&self) -> Option<&MessageType> {
        let cursor = self.vocab_pane.as_ref()?.cursor;
        self.vocab_types().get(cursor).copied()
    }
}

/// Rows of the vocabulary pane's list on screen.
pub fn list_rows(app: &App) -> usize {
    app.container_log_rows()
}

/// The vocabulary key: show the pane and focus it, or hide it when it has the focus.
pub fn toggle(app: &mut App) -> Vec<Effect> {
    let focus = app.focus;
    let Some(s) = app.current_mut() else {
        return vec![];
    };
    match s.vocab_pane.as_mut() {
        Some(p) if !p.hidden && focus == Pane::Vocab => {
            p.hidden = true;
            app.focus = Pane::Frames;
            return vec![];
        }
        Some(p) => p.hidden = false,
        None => s.vocab_pane = Some(VocabPane::default()),
    }
    app.focus = Pane::Vocab;
    vec![]
}

pub fn move_cursor(app: &mut App, m: Move) {
    let rows = list_rows(app);
    let Some(s) = app.current_mut() else { return };
    let len = s.vocab_types().len();
    let Some(p) = s.vocab_pane.as_mut() else {
        return;
    };
    if len == 0 {
        return;
    }
    (p.cursor, _) = step(p.cursor, len, m, rows);
    (p.cursor, p.top) = window(p.cursor, p.top, false, len, rows);
}

/// The filter that shows a type's frames: its direction and its discriminator value (or, for
/// the frames that have none, their opcode).
pub fn filter_for(key: &TypeKey, discriminator: Option<&str>) -> String {
    let dir = match key.dir {
        Direction::In => "in",
        Direction::Out => "out",
    };
    match discriminator {
        Some(d) if !key.name.starts_with('(') => {
            let name = serde_json::to_string(&key.name).unwrap_or_default();
            let field = serde_json::to_string(d).unwrap_or_default();
            format!("{dir} .[{field}] == {name}")
        }
        _ if key.name.contains("binary") => format!("{dir} op:binary"),
        _ => dir.to_string(),
    }
}

/// Enter on a type: the frame log filtered to it.
pub fn filter_to_selected(app: &mut App) -> Vec<Effect> {
    let Some(s) = app.current() else {
        return vec![];
    };
    let Some(t) = s.vocab_selected() else {
        return vec![];
    };
    let text = filter_for(&t.key, s.vocab.discriminator());
    actions::apply_filter(app, &text);
    if let Some(p) = app.current_mut().and_then(|s| s.vocab_pane.as_mut()) {
        p.hidden = true;
    }
    app.focus = Pane::Frames;
    vec![]
}

/// A new frame like the selected type into the composer.
pub fn compose_like_selected(app: &mut App) -> Vec<Effect> {
    let Some(t) = app.current().and_then(Session::vocab_selected) else {
        return vec![];
    };
    let required: Vec<String> = t
        .fields
        .iter()
        .filter(|f| f.required(t))
        .map(|f| f.path.clone())
        .collect();
    let value = template(&t.latest, &required, "");
    let text = serde_json::to_string_pretty(&value).unwrap_or_default();
    app.composer.set_text(Mode::Json, &text);
    app.layers.composing = true;
    vec![]
}

/// The latest example cut to its required fields, with fresh ids in the prefixes seen and
/// timestamps of now: as composer variables (`{{uuid}}`, `{{now}}`), so they are made when the
/// frame is sent, not when the template is drawn.
pub fn template(latest: &Value, required: &[String], path: &str) -> Value {
    match latest {
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                let wanted = required.iter().any(|r| {
                    r == &p || r.starts_with(&format!("{p}.")) || r.starts_with(&format!("{p}[]"))
                });
                if !wanted {
                    continue;
                }
                out.insert(k.clone(), fresh(k, &template(v, required, &p)));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| template(v, required, &format!("{path}[]")))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A fresh value for an id or a timestamp field; anything else as it was.
fn fresh(key: &str, v: &Value) -> Value {
    let Value::String(s) = v else {
        return v.clone();
    };
    if key == "id" || key.ends_with("_id") {
        // Keep the prefix the agent expects (`m_`, `in_`), make the rest new.
        if let Some(i) = s.find('_')
            && i > 0
            && i <= 4
        {
            return Value::String(format!("{}{{{{uuid}}}}", &s[..=i]));
        }
        return Value::String("{{uuid}}".into());
    }
    if looks_like_timestamp(s) {
        return Value::String("{{now}}".into());
    }
    v.clone()
}

fn looks_like_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b't')
        && b[..4].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_template_keeps_required_fields_with_fresh_ids_and_now() {
        let latest = json!({
            "type": "user.message",
            "id": "m_2",
            "ts": "2026-11-25T09:37:48.246Z",
            "item_id": "in_0001",
            "note": "optional",
            "content": [{"type": "input_text", "text": "hello"}]
        });
        let required: Vec<String> = [
            "type",
            "id",
            "ts",
            "item_id",
            "content",
            "content[].type",
            "content[].text",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let t = template(&latest, &required, "");
        assert_eq!(
            t,
            json!({
                "type": "user.message",
                "id": "m_{{uuid}}",
                "ts": "{{now}}",
                "item_id": "in_{{uuid}}",
                "content": [{"type": "input_text", "text": "hello"}]
            })
        );
    }

    #[test]
    fn the_filter_for_a_type_names_its_direction_and_value() {
        let k = TypeKey {
            dir: Direction::Out,
            name: "user.message".into(),
        };
        assert_eq!(
            filter_for(&k, Some("type")),
            "out .[\"type\"] == \"user.message\""
        );
        let b = TypeKey {
            dir: Direction::In,
            name: "(binary)".into(),
        };
        assert_eq!(filter_for(&b, Some("type")), "in op:binary");
    }
}

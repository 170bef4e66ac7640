//! A list to pick a frame from, narrowed as you type: the composer's history, saved snippets, or
//! a template for each message type seen so far.

use crate::app::composer::Mode;
use crate::app::{App, Effect, Session};
use crate::engine::{Direction, Opcode};
use crate::keymap::Action;
use crate::keymap::typed_char;
use crate::store::{Row, RowKind};
use crossterm::event::{KeyCode, KeyEvent};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub label: String,
    pub mode: Mode,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picker {
    pub title: String,
    pub items: Vec<Item>,
    pub query: String,
    /// Position in the narrowed list.
    pub selected: usize,
}

impl Picker {
    pub fn new(title: impl Into<String>, items: Vec<Item>) -> Self {
        Picker {
            title: title.into(),
            items,
            query: String::new(),
            selected: 0,
        }
    }

    /// The items whose label or text contain every word of the query (case-insensitive).
    pub fn visible(&self) -> Vec<&Item> {
        let words: Vec<String> = self
            .query
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        self.items
            .iter()
            .filter(|i| {
                let hay = format!("{} {}", i.label, i.text).to_lowercase();
                words.iter().all(|w| hay.contains(w.as_str()))
            })
            .collect()
    }

    pub fn chosen(&self) -> Option<&Item> {
        self.visible().get(self.selected).copied()
    }
}

pub fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::Text => "text",
        Mode::Json => "json",
        Mode::Hex => "hex",
        Mode::Base64 => "base64",
        Mode::File => "file",
    }
}

pub fn mode_from(name: &str) -> Mode {
    match name {
        "json" => Mode::Json,
        "hex" => Mode::Hex,
        "base64" => Mode::Base64,
        "file" => Mode::File,
        _ => Mode::Text,
    }
}

/// Keys in the picker: its table's actions, and typing narrows the list.
pub fn on_key(app: &mut App, action: Option<Action>, key: KeyEvent) -> Vec<Effect> {
    let Some(p) = app.layers.picker.as_mut() else {
        return vec![];
    };
    match action {
        Some(Action::QuitNow) => return vec![Effect::Quit],
        Some(Action::Cancel) => app.layers.picker = None,
        Some(Action::Up) => p.selected = p.selected.saturating_sub(1),
        Some(Action::Down) => {
            p.selected = (p.selected + 1).min(p.visible().len().saturating_sub(1))
        }
        Some(Action::Choose) => {
            if let Some(item) = p.chosen().cloned() {
                app.composer.set_text(item.mode, &item.text);
                app.layers.composing = true;
            }
            app.layers.picker = None;
        }
        _ => match key.code {
            KeyCode::Backspace => {
                p.query.pop();
                p.selected = 0;
            }
            _ if let Some(c) = typed_char(&key) => {
                p.query.push(c);
                p.selected = 0;
            }
            _ => {}
        },
    }
    vec![]
}

/// The composer's history, newest first.
pub fn history(history: &[(Mode, String)]) -> Picker {
    let items = history
        .iter()
        .rev()
        .map(|(mode, text)| Item {
            label: text
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(80)
                .collect(),
            mode: *mode,
            text: text.clone(),
        })
        .collect();
    Picker::new("History (newest first)", items)
}

/// The global snippets and those of `session`.
pub fn snippets(all: &[crate::config::Snippet], session: Option<&str>) -> Picker {
    let items = all
        .iter()
        .filter(|s| s.session.is_none() || s.session.as_deref() == session)
        .map(|s| Item {
            label: format!(
                "{}  ({}{})",
                s.name,
                s.mode,
                if s.session.is_some() {
                    ", this session"
                } else {
                    ""
                }
            ),
            mode: mode_from(&s.mode),
            text: s.text.clone(),
        })
        .collect();
    Picker::new("Snippets", items)
}

/// Rows looked at for templates: a huge log must not stall the screen.
const TEMPLATE_ROWS: usize = 50_000;

/// A template for each message type seen in a session: the last frame of each discriminator
/// value and direction, pretty-printed.
pub fn templates(s: &Session) -> Vec<Item> {
    let mut seen: Vec<(String, Direction, Vec<u8>, usize)> = Vec::new();
    let start = s.log.len().saturating_sub(TEMPLATE_ROWS);
    for i in start..s.log.len() {
        let Some(Row {
            kind: RowKind::Frame(f),
            ..
        }) = s.log.get(i)
        else {
            continue;
        };
        if f.opcode != Opcode::Text || f.payload.len() > 64 * 1024 {
            continue;
        }
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&f.payload) else {
            continue;
        };
        let Some((_, d)) = crate::decode::json::discriminator(&v) else {
            continue;
        };
        match seen.iter_mut().find(|x| x.0 == d && x.1 == f.dir) {
            Some(x) => {
                x.2 = f.payload.to_vec();
                x.3 += 1;
            }
            None => seen.push((d, f.dir, f.payload.to_vec(), 1)),
        }
    }
    let mut items: Vec<Item> = seen
        .into_iter()
        .map(|(d, dir, payload, n)| {
            let pretty = serde_json::from_slice::<serde_json::Value>(&payload)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_default();
            let dir = if dir == Direction::Out {
                "sent"
            } else {
                "received"
            };
            Item {
                label: format!("{d}  ({dir}, {n}×)"),
                mode: Mode::Json,
                text: pretty,
            }
        })
        .collect();
    // The agent's own document: a template per message it publishes.
    if let Some(p) = &s.published {
        for m in &p.document.messages {
            if m.direction == Some(Direction::In) || m.example.is_null() {
                continue;
            }
            let (mode, text) = match &m.example {
                serde_json::Value::String(t) => (Mode::Text, t.clone()),
                v => (
                    Mode::Json,
                    serde_json::to_string_pretty(v).unwrap_or_default(),
                ),
            };
            let label = format!("{}  (published)", m.name);
            if !items.iter().any(|i| i.label == label) {
                items.push(Item { label, mode, text });
            }
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrows_by_every_word() {
        let item = |l: &str, t: &str| Item {
            label: l.into(),
            mode: Mode::Json,
            text: t.into(),
        };
        let mut p = Picker::new(
            "t",
            vec![
                item("session.start", "{}"),
                item("user.message", "{\"text\":\"hello\"}"),
                item("ping", "{}"),
            ],
        );
        assert_eq!(p.visible().len(), 3);
        p.query = "user hello".into();
        assert_eq!(p.visible().len(), 1);
        assert_eq!(p.chosen().map(|i| i.label.as_str()), Some("user.message"));
        p.query = "nothing".into();
        assert!(p.chosen().is_none());
    }
}

//! The one key table: which key triggers which action in which layer. The defaults are the
//! embedded `default.toml`; a user's `keymap.toml` replaces an action's keys per layer. The help
//! overlay, the status-bar hints and `wsdeck keys` are all generated from this table.

mod action;
mod key;

pub use action::Action;
pub use key::{Key, KeyError, typed_char};

use crossterm::event::{KeyCode, KeyEvent};
use std::fmt;
use thiserror::Error;
use toml::de::{DeTable, DeValue};

/// Where a key is read: the focused pane's table (then `Global`), or the editor or dialog that
/// has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    Global,
    Sessions,
    Frames,
    Detail,
    Logs,
    Vocab,
    Composer,
    Form,
    Picker,
    Prompt,
    Confirm,
}

impl Layer {
    pub const ALL: &'static [Layer] = &[
        Layer::Global,
        Layer::Sessions,
        Layer::Frames,
        Layer::Detail,
        Layer::Logs,
        Layer::Vocab,
        Layer::Composer,
        Layer::Form,
        Layer::Picker,
        Layer::Prompt,
        Layer::Confirm,
    ];

    /// The table's name in keymap.toml.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Global => "global",
            Layer::Sessions => "sessions",
            Layer::Frames => "frames",
            Layer::Detail => "detail",
            Layer::Logs => "logs",
            Layer::Vocab => "vocab",
            Layer::Composer => "composer",
            Layer::Form => "form",
            Layer::Picker => "picker",
            Layer::Prompt => "prompt",
            Layer::Confirm => "confirm",
        }
    }

    /// The help's heading.
    pub fn title(self) -> &'static str {
        match self {
            Layer::Global => "anywhere",
            Layer::Sessions => "sessions",
            Layer::Frames => "frames",
            Layer::Detail => "detail",
            Layer::Logs => "container logs",
            Layer::Vocab => "vocabulary",
            Layer::Composer => "composer",
            Layer::Form => "session form",
            Layer::Picker => "picker",
            Layer::Prompt => "prompt",
            Layer::Confirm => "confirmation",
        }
    }

    /// The panes' tables and the global one (the editors and dialogs are the others).
    pub fn is_pane(self) -> bool {
        matches!(
            self,
            Layer::Global
                | Layer::Sessions
                | Layer::Frames
                | Layer::Detail
                | Layer::Logs
                | Layer::Vocab
        )
    }

    fn from_name(name: &str) -> Option<Layer> {
        Layer::ALL.iter().copied().find(|l| l.name() == name)
    }
}

/// One row of the table: an action's keys in a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub layer: Layer,
    pub action: Action,
    pub keys: Vec<Key>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    /// In help order: by layer, then by action.
    bindings: Vec<Binding>,
}

/// A problem in a keymap file, with where it is.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{file}:{line}:{column}: {message}")]
pub struct KeymapError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

const DEFAULTS: &str = include_str!("default.toml");

impl Default for Keymap {
    fn default() -> Self {
        // The embedded table is checked by a test; were it ever broken, no keys beat a panic.
        parse_table(DEFAULTS, "default keymap").unwrap_or(Keymap {
            bindings: Vec::new(),
        })
    }
}

impl Keymap {
    /// The defaults with a user's keymap.toml applied; the file's name goes into errors.
    pub fn with_overrides(text: &str, file: &str) -> Result<Keymap, KeymapError> {
        let defaults = Keymap::default();
        let user = parse_table(text, file)?;
        let mut merged = defaults.clone();
        for b in &user.bindings {
            if let Some(slot) = merged
                .bindings
                .iter_mut()
                .find(|d| d.layer == b.layer && d.action == b.action)
            {
                slot.keys = b.keys.clone();
                continue;
            }
            // A pane's action may be bound in any pane's table (a pane's own table is read
            // before [global]); an editor's or a dialog's only in its own.
            let home: Vec<Layer> = defaults
                .bindings
                .iter()
                .filter(|d| d.action == b.action)
                .map(|d| d.layer)
                .collect();
            if b.layer.is_pane() && home.iter().any(|l| l.is_pane()) {
                merged.bindings.push(b.clone());
                continue;
            }
            let names: Vec<&str> = home.iter().map(|l| l.name()).collect();
            return Err(error_at(
                text,
                file,
                find_line(text, b.layer, b.action.name()),
                format!(
                    "{} is not a [{}] action (it belongs in [{}])",
                    b.action.name(),
                    b.layer.name(),
                    names.join("], [")
                ),
            ));
        }
        merged.bindings.sort_by_key(|b| (b.layer, b.action));
        if let Some((layer, key, a, b)) = merged.conflict() {
            let line =
                find_line(text, layer, a.name()).or_else(|| find_line(text, layer, b.name()));
            return Err(error_at(
                text,
                file,
                line,
                format!(
                    "{key} is bound twice in [{}]: {} and {}",
                    layer.name(),
                    a.name(),
                    b.name()
                ),
            ));
        }
        Ok(merged)
    }

    /// Two actions on one key in one layer, if any.
    fn conflict(&self) -> Option<(Layer, Key, Action, Action)> {
        for (i, a) in self.bindings.iter().enumerate() {
            for b in &self.bindings[i + 1..] {
                if a.layer != b.layer {
                    continue;
                }
                if let Some(k) = a.keys.iter().find(|k| b.keys.contains(k)) {
                    return Some((a.layer, *k, a.action, b.action));
                }
            }
        }
        None
    }

    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The action `key` triggers in `layer` alone.
    pub fn action_in(&self, layer: Layer, ev: KeyEvent) -> Option<Action> {
        let find = |key: Key| {
            self.bindings
                .iter()
                .find(|b| b.layer == layer && b.keys.contains(&key))
                .map(|b| b.action)
        };
        let key = Key::from_event(ev);
        // An AltGr character (Ctrl+Alt on Windows) not bound as such is the character itself.
        find(key).or_else(|| match (typed_char(&ev), key.mods.is_empty()) {
            (Some(c), false) => find(Key::plain(KeyCode::Char(c))),
            _ => None,
        })
    }

    /// The keys of `action` in `layer`.
    pub fn keys(&self, layer: Layer, action: Action) -> &[Key] {
        self.bindings
            .iter()
            .find(|b| b.layer == layer && b.action == action)
            .map(|b| b.keys.as_slice())
            .unwrap_or_default()
    }

    /// `action`'s keys as the help writes them (`j/down`), or `-` when it has none.
    pub fn keys_text(&self, layer: Layer, action: Action) -> String {
        let keys = self.keys(layer, action);
        if keys.is_empty() {
            return "-".into();
        }
        keys.iter()
            .map(Key::to_string)
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The hints for a layer: (first key, short label) of each action that has a label.
    pub fn hints(&self, layer: Layer) -> Vec<(String, &'static str)> {
        self.bindings
            .iter()
            .filter(|b| b.layer == layer)
            .filter_map(|b| Some((b.keys.first()?.to_string(), b.action.short()?)))
            .collect()
    }
}

impl fmt::Display for Keymap {
    /// The effective table, one binding a line: layer, keys, action, what it does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<9} {:<22} {:<15} DOES", "LAYER", "KEYS", "ACTION")?;
        for b in &self.bindings {
            let keys = self.keys_text(b.layer, b.action);
            writeln!(
                f,
                "{:<9} {:<22} {:<15} {}",
                b.layer.name(),
                keys,
                b.action.name(),
                b.action.describe()
            )?;
        }
        Ok(())
    }
}

fn parse_table(text: &str, file: &str) -> Result<Keymap, KeymapError> {
    let doc = DeTable::parse(text).map_err(|e| {
        let at = e.span().map(|s| s.start);
        let message = e.message().to_string();
        error_at(text, file, at.map(|o| line_of(text, o)), message)
    })?;
    let mut bindings = Vec::new();
    for (layer_name, table) in doc.get_ref().iter() {
        let at = |span: std::ops::Range<usize>| Some(line_of(text, span.start));
        let Some(layer) = Layer::from_name(layer_name.get_ref()) else {
            return Err(error_at(
                text,
                file,
                at(layer_name.span()),
                format!(
                    "[{}] is not a layer (one of: {})",
                    layer_name.get_ref(),
                    Layer::ALL
                        .iter()
                        .map(|l| l.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        let DeValue::Table(actions) = table.get_ref() else {
            return Err(error_at(
                text,
                file,
                at(table.span()),
                format!("{} must be a table: [{}]", layer.name(), layer.name()),
            ));
        };
        for (action_name, value) in actions.iter() {
            let Some(action) = Action::from_name(action_name.get_ref()) else {
                return Err(error_at(
                    text,
                    file,
                    at(action_name.span()),
                    format!(
                        "{:?} is not an action (`wsdeck keys` lists them)",
                        action_name.get_ref().as_ref()
                    ),
                ));
            };
            let texts: Vec<(&str, std::ops::Range<usize>)> = match value.get_ref() {
                DeValue::String(s) => vec![(s.as_ref(), value.span())],
                DeValue::Array(items) => {
                    let mut v = Vec::new();
                    for item in items.iter() {
                        match item.get_ref() {
                            DeValue::String(s) => v.push((s.as_ref(), item.span())),
                            _ => {
                                return Err(error_at(
                                    text,
                                    file,
                                    at(item.span()),
                                    format!("{}: each key is a string", action.name()),
                                ));
                            }
                        }
                    }
                    v
                }
                _ => {
                    return Err(error_at(
                        text,
                        file,
                        at(value.span()),
                        format!(
                            "{}: a key (\"f1\") or a list of keys ([\"?\", \"f1\"])",
                            action.name()
                        ),
                    ));
                }
            };
            let mut keys = Vec::new();
            for (t, span) in texts {
                let key = Key::parse(t).map_err(|m| {
                    error_at(text, file, at(span), format!("{}: {m}", action.name()))
                })?;
                keys.push(key);
            }
            bindings.push(Binding {
                layer,
                action,
                keys,
            });
        }
    }
    bindings.sort_by_key(|b| (b.layer, b.action));
    Ok(Keymap { bindings })
}

/// (line, column), both from 1, of a byte offset.
fn line_of(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Where `action = …` is written under `[layer]`, for errors found after parsing.
fn find_line(text: &str, layer: Layer, action: &str) -> Option<(usize, usize)> {
    let mut in_layer = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            in_layer = t.trim_start_matches('[').trim_end_matches(']').trim() == layer.name();
        } else if in_layer && t.split('=').next().map(str::trim) == Some(action) {
            return Some((i + 1, line.len() - line.trim_start().len() + 1));
        }
    }
    None
}

fn error_at(_text: &str, file: &str, at: Option<(usize, usize)>, message: String) -> KeymapError {
    let (line, column) = at.unwrap_or((1, 1));
    KeymapError {
        file: file.to_string(),
        line,
        column,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn ev(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn the_defaults_parse_and_have_no_conflict() {
        let k = parse_table(DEFAULTS, "default").expect("defaults parse");
        assert!(k.conflict().is_none(), "{:?}", k.conflict());
        assert_eq!(k, Keymap::default());
        assert_eq!(k.action_in(Layer::Global, ev('?')), Some(Action::Help));
        assert_eq!(
            k.action_in(Layer::Sessions, ev('N')),
            Some(Action::ReconnectNew)
        );
        assert_eq!(
            k.action_in(Layer::Global, ev('N')),
            Some(Action::SearchPrev)
        );
        assert_eq!(k.action_in(Layer::Confirm, ev('y')), Some(Action::Yes));
        let altgr = KeyEvent::new(
            KeyCode::Char(']'),
            KeyModifiers::CONTROL | KeyModifiers::ALT,
        );
        assert_eq!(k.action_in(Layer::Global, altgr), Some(Action::ReplayStep));
        assert_eq!(typed_char(&altgr), Some(']'));
        let ctrl_s = KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL);
        assert_eq!(typed_char(&ctrl_s), None);
    }

    #[test]
    fn an_override_replaces_that_actions_keys_in_that_layer() {
        let k = Keymap::with_overrides("[global]\nhelp = \"f1\"\n[frames]\n", "keymap.toml")
            .expect("valid");
        let f1 = KeyEvent::new(KeyCode::F(1), KeyModifiers::NONE);
        assert_eq!(k.action_in(Layer::Global, f1), Some(Action::Help));
        assert_eq!(k.action_in(Layer::Global, ev('?')), None);
        assert_eq!(k.keys_text(Layer::Global, Action::Help), "f1");
        let k = Keymap::with_overrides("[global]\nhelp = [\"?\", \"f1\"]\n", "k").expect("ok");
        assert_eq!(k.keys_text(Layer::Global, Action::Help), "?/f1");
        // A global action bound in a pane's table: that pane reads its own table first.
        let k =
            Keymap::with_overrides("[frames]\nfilter = [\"f\", \"ctrl-f\"]\n", "k").expect("ok");
        let ctrl_f = KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL);
        assert_eq!(k.action_in(Layer::Frames, ctrl_f), Some(Action::Filter));
        assert_eq!(k.action_in(Layer::Global, ctrl_f), None);
        assert_eq!(k.keys_text(Layer::Global, Action::Filter), "f");
    }

    #[test]
    fn broken_files_say_where() {
        let e = |t: &str| {
            Keymap::with_overrides(t, "keymap.toml")
                .unwrap_err()
                .to_string()
        };
        let m = e("[global]\n\nhelpp = \"f1\"\n");
        assert!(m.starts_with("keymap.toml:3:1: "), "{m}");
        assert!(m.contains("\"helpp\" is not an action"), "{m}");
        let m = e("[global]\nhelp = \"hyper-q\"\n");
        assert!(m.starts_with("keymap.toml:2:"), "{m}");
        assert!(m.contains("not a key"), "{m}");
        let m = e("[global]\nhelp = \"q\"\n");
        assert!(m.starts_with("keymap.toml:2:1: "), "{m}");
        assert!(
            m.contains("q is bound twice in [global]: help and quit"),
            "{m}"
        );
        let m = e("[frames]\nsend = \"ctrl-s\"\n");
        assert!(
            m.contains("send is not a [frames] action (it belongs in [composer])"),
            "{m}"
        );
        let m = e("[nowhere]\nhelp = \"?\"\n");
        assert!(m.starts_with("keymap.toml:1:2: "), "{m}");
        let m = e("[global\nhelp = 1");
        assert!(m.starts_with("keymap.toml:1:"), "{m}");
    }
}

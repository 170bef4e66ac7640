//! A list to pick a frame from, narrowed as you type: the composer's history, saved snippets, or
//! a template for each message type seen so far.

use crate::app::composer::Mode;

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

//! One key as people write it (`a`, `A`, `ctrl-s`, `shift-tab`, `enter`, `f1`, `pgup`, `space`):
//! parsed from keymap.toml, matched against crossterm's events, and printed the same way in the
//! help, so what a user types in the file is what the screen shows.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::fmt;

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum KeyError {
    #[error("an empty key")]
    Empty,
    #[error(
        "{0:?} is not a key (a character, ctrl-X, alt-X, shift-tab, enter, esc, tab, space, backspace, up, down, left, right, pgup, pgdn, home, end, f1…f12)"
    )]
    Unknown(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    /// Control and Alt only: Shift is in the character (`A`) or the code (`BackTab`).
    pub mods: KeyModifiers,
}

const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("shift-tab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("space", KeyCode::Char(' ')),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("pgup", KeyCode::PageUp),
    ("pgdn", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
];

/// The character a key types, if it types one: a plain or shifted character, or one made with
/// AltGr (Windows reports AltGr as Ctrl+Alt, and `{`, `[`, `@` come that way on many layouts).
pub fn typed_char(ev: &KeyEvent) -> Option<char> {
    let KeyCode::Char(c) = ev.code else {
        return None;
    };
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    let alt = ev.modifiers.contains(KeyModifiers::ALT);
    (!ctrl || alt).then_some(c)
}

impl Key {
    pub const fn plain(code: KeyCode) -> Key {
        Key {
            code,
            mods: KeyModifiers::NONE,
        }
    }

    /// The key an event means, in the table's terms.
    pub fn from_event(ev: KeyEvent) -> Key {
        let mut mods = ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        let code = match ev.code {
            // Terminals differ: some send `A` with SHIFT, some `a` with SHIFT.
            KeyCode::Char(c) if ev.modifiers.contains(KeyModifiers::SHIFT) => {
                KeyCode::Char(c.to_ascii_uppercase())
            }
            KeyCode::Tab if ev.modifiers.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
            other => other,
        };
        if matches!(code, KeyCode::BackTab) {
            mods.remove(KeyModifiers::SHIFT);
        }
        Key { code, mods }
    }

    pub fn parse(text: &str) -> Result<Key, KeyError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(KeyError::Empty);
        }
        let mut mods = KeyModifiers::NONE;
        let mut rest = t;
        loop {
            let lower = rest.to_ascii_lowercase();
            if lower.starts_with("ctrl-") && rest.len() > 5 {
                mods |= KeyModifiers::CONTROL;
                rest = &rest[5..];
            } else if lower.starts_with("alt-") && rest.len() > 4 {
                mods |= KeyModifiers::ALT;
                rest = &rest[4..];
            } else {
                break;
            }
        }
        let lower = rest.to_ascii_lowercase();
        if let Some((_, code)) = NAMED.iter().find(|(n, _)| *n == lower) {
            return Ok(Key { code: *code, mods });
        }
        if let Some(n) = lower.strip_prefix('f')
            && let Ok(n) = n.parse::<u8>()
            && (1..=12).contains(&n)
        {
            return Ok(Key {
                code: KeyCode::F(n),
                mods,
            });
        }
        if let Some(letter) = lower.strip_prefix("shift-")
            && letter.chars().count() == 1
        {
            let c = letter.chars().next().unwrap_or(' ').to_ascii_uppercase();
            return Ok(Key {
                code: KeyCode::Char(c),
                mods,
            });
        }
        let mut chars = rest.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if !c.is_control() => {
                // Ctrl with a letter arrives lower-case whatever the shift state.
                let c = if mods.contains(KeyModifiers::CONTROL) {
                    c.to_ascii_lowercase()
                } else {
                    c
                };
                Ok(Key {
                    code: KeyCode::Char(c),
                    mods,
                })
            }
            _ => Err(KeyError::Unknown(t.to_string())),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if let Some((name, _)) = NAMED.iter().find(|(_, c)| *c == self.code) {
            return f.write_str(name);
        }
        match self.code {
            KeyCode::F(n) => write!(f, "f{n}"),
            KeyCode::Char(c) => write!(f, "{c}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_and_print_the_same_way() {
        for k in [
            "a",
            "A",
            "ctrl-s",
            "shift-tab",
            "enter",
            "esc",
            "f1",
            "pgup",
            "space",
            "?",
            ":",
            "]",
            "alt-x",
            "/",
            "G",
        ] {
            let key = Key::parse(k).expect(k);
            assert_eq!(key.to_string(), k);
        }
        assert_eq!(
            Key::parse("Ctrl-S").map(|k| k.to_string()),
            Ok("ctrl-s".into())
        );
        assert_eq!(Key::parse("shift-a").map(|k| k.to_string()), Ok("A".into()));
        assert!(Key::parse("hyper-q").is_err());
        assert!(Key::parse("f13").is_err());
        assert!(Key::parse("").is_err());
    }

    #[test]
    fn events_map_onto_keys() {
        let ev = |code, mods| Key::from_event(KeyEvent::new(code, mods));
        assert_eq!(
            ev(KeyCode::Char('G'), KeyModifiers::SHIFT),
            Key::parse("G").expect("G")
        );
        assert_eq!(
            ev(KeyCode::BackTab, KeyModifiers::SHIFT),
            Key::parse("shift-tab").expect("shift-tab")
        );
        assert_eq!(
            ev(KeyCode::Char('s'), KeyModifiers::CONTROL),
            Key::parse("ctrl-s").expect("ctrl-s")
        );
        assert_eq!(
            ev(KeyCode::F(1), KeyModifiers::NONE),
            Key::parse("f1").expect("f1")
        );
    }
}

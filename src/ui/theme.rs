//! Themes: TOML files (`themes/*.toml` ship built in; the config dir's `themes/` adds more).
//! `NO_COLOR` turns every colour off and keeps bold/reverse for emphasis.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::path::Path;

const BUILT_IN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    fg: String,
    bg: String,
    dim: String,
    accent: String,
    border: String,
    focus: String,
    selection_fg: String,
    selection_bg: String,
    dir_in: String,
    dir_out: String,
    ok: String,
    warn: String,
    error: String,
    json_key: String,
    json_string: String,
    json_number: String,
    json_literal: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub base: Style,
    pub dim: Style,
    pub accent: Style,
    pub border: Style,
    pub focus: Style,
    pub selection: Style,
    pub dir_in: Style,
    pub dir_out: Style,
    pub ok: Style,
    pub warn: Style,
    pub error: Style,
    pub json_key: Style,
    pub json_string: Style,
    pub json_number: Style,
    pub json_literal: Style,
}

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("{0:?} is not a colour (a name like \"cyan\" or \"#rrggbb\")")]
    Colour(String),
    #[error("{0}")]
    Toml(String),
    #[error("{path}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    File {
        path: std::path::PathBuf,
        source: Box<ThemeError>,
    },
    #[error("no theme {name:?} (built in: {built_in})")]
    Unknown { name: String, built_in: String },
}

fn color(s: &str) -> Result<Color, ThemeError> {
    s.parse::<Color>()
        .map_err(|_| ThemeError::Colour(s.to_string()))
}

impl Theme {
    pub fn names() -> Vec<&'static str> {
        BUILT_IN.iter().map(|(n, _)| *n).collect()
    }

    /// A theme by name: the user's `themes/NAME.toml` first, then the built-in ones.
    pub fn load(name: &str, user_dir: Option<&Path>) -> Result<Theme, ThemeError> {
        if let Some(dir) = user_dir {
            let p = dir.join(format!("{name}.toml"));
            if p.is_file() {
                let text = std::fs::read_to_string(&p).map_err(|source| ThemeError::Read {
                    path: p.clone(),
                    source,
                })?;
                return Self::parse(name, &text).map_err(|e| ThemeError::File {
                    path: p,
                    source: Box::new(e),
                });
            }
        }
        match BUILT_IN.iter().find(|(n, _)| *n == name) {
            Some((_, text)) => Self::parse(name, text),
            None => Err(ThemeError::Unknown {
                name: name.to_string(),
                built_in: Self::names().join(", "),
            }),
        }
    }

    pub fn parse(name: &str, text: &str) -> Result<Theme, ThemeError> {
        let f: ThemeFile =
            toml::from_str(text).map_err(|e| ThemeError::Toml(e.message().to_string()))?;
        let fg = |s: &str| -> Result<Style, ThemeError> { Ok(Style::default().fg(color(s)?)) };
        Ok(Theme {
            name: name.to_string(),
            base: Style::default().fg(color(&f.fg)?).bg(color(&f.bg)?),
            dim: fg(&f.dim)?,
            accent: fg(&f.accent)?.add_modifier(Modifier::BOLD),
            border: fg(&f.border)?,
            focus: fg(&f.focus)?.add_modifier(Modifier::BOLD),
            selection: Style::default()
                .fg(color(&f.selection_fg)?)
                .bg(color(&f.selection_bg)?),
            dir_in: fg(&f.dir_in)?,
            dir_out: fg(&f.dir_out)?,
            ok: fg(&f.ok)?,
            warn: fg(&f.warn)?,
            error: fg(&f.error)?.add_modifier(Modifier::BOLD),
            json_key: fg(&f.json_key)?,
            json_string: fg(&f.json_string)?,
            json_number: fg(&f.json_number)?,
            json_literal: fg(&f.json_literal)?,
        })
    }

    /// No colour at all (NO_COLOR): emphasis by bold and reverse only.
    pub fn monochrome() -> Theme {
        let plain = Style::default();
        Theme {
            name: "no-color".into(),
            base: plain,
            dim: plain,
            accent: plain.add_modifier(Modifier::BOLD),
            border: plain,
            focus: plain.add_modifier(Modifier::BOLD),
            selection: plain.add_modifier(Modifier::REVERSED),
            dir_in: plain,
            dir_out: plain,
            ok: plain,
            warn: plain.add_modifier(Modifier::BOLD),
            error: plain.add_modifier(Modifier::BOLD),
            json_key: plain.add_modifier(Modifier::BOLD),
            json_string: plain,
            json_number: plain,
            json_literal: plain,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_themes_parse_and_bad_ones_say_why() {
        for n in Theme::names() {
            Theme::load(n, None).unwrap_or_else(|e| panic!("{n}: {e}"));
        }
        assert!(
            Theme::load("nope", None)
                .unwrap_err()
                .to_string()
                .contains("built in")
        );
        let bad = include_str!("../../themes/dark.toml").replace("\"cyan\"", "\"cyanish\"");
        assert!(
            Theme::parse("x", &bad)
                .unwrap_err()
                .to_string()
                .contains("cyanish")
        );
    }
}

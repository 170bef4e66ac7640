//! Settings and saved sessions, as TOML files in the config directory.
//!
//! `config.toml` is the user's (settings; wsdeck never writes it). `sessions.toml` is wsdeck's
//! (saved sessions; written atomically). A broken file is reported with its path, line and
//! column and is never overwritten.

pub mod atomic;
mod paths;
mod sessions;
mod settings;
pub mod snippets;

pub use paths::Paths;
pub use sessions::{SavedSession, SessionStore};
pub use settings::Settings;
pub use snippets::Snippet;

use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no saved session named {0:?} (wsdeck sessions list)")]
    UnknownSession(String),
    #[error("a session named {0:?} exists already")]
    DuplicateSession(String),
    #[error("no config directory: set WSDECK_CONFIG_DIR or --config-dir")]
    NoConfigDir,
}

/// Parse TOML into `T`, turning errors into `file:line:column: message`.
pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let (line, column) = e
            .span()
            .map(|span| line_col(text, span.start))
            .unwrap_or((1, 1));
        ConfigError::Parse {
            path: path.to_path_buf(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map(|p| p + 1)
        .unwrap_or(0);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

/// Write a settings file atomically (see [`atomic`]).
pub(crate) fn write_atomic(path: &Path, text: &str) -> Result<(), ConfigError> {
    atomic::write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        assert_eq!(line_col("a\nbc\nd", 0), (1, 1));
        assert_eq!(line_col("a\nbc\nd", 3), (2, 2));
        assert_eq!(line_col("a\nbc\nd", 5), (3, 1));
    }
}

//! `snippets.toml`: named frames to send again, global or for one session.

use super::{ConfigError, parse_toml, write_atomic};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snippet {
    pub name: String,
    /// `text`, `json`, `hex` or `base64`.
    pub mode: String,
    pub text: String,
    /// The session it belongs to; none = global.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SnippetsFile {
    #[serde(default, rename = "snippet")]
    snippets: Vec<Snippet>,
}

pub fn load(path: &Path) -> Result<Vec<Snippet>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(parse_toml::<SnippetsFile>(path, &text)?.snippets),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(ConfigError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Replace the file with `snippets`. A file there that does not parse is the user's to fix: it
/// is reported and left alone rather than replaced by the snippets the console has (which are
/// none when it could not read the file).
pub fn save(path: &Path, snippets: &[Snippet]) -> Result<(), ConfigError> {
    load(path)?;
    let body = toml::to_string_pretty(&SnippetsFile {
        snippets: snippets.to_vec(),
    })
    .map_err(|e| ConfigError::Invalid {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    write_atomic(
        path,
        &format!("# wsdeck snippets (written by wsdeck)\n{body}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("snippets.toml");
        assert!(load(&p).expect("empty").is_empty());
        let s = vec![
            Snippet {
                name: "start".into(),
                mode: "json".into(),
                text: "{\"type\":\"session.start\"}".into(),
                session: None,
            },
            Snippet {
                name: "beep".into(),
                mode: "hex".into(),
                text: "00 01".into(),
                session: Some("voice".into()),
            },
        ];
        save(&p, &s).expect("save");
        assert_eq!(load(&p).expect("load"), s);
    }

    #[test]
    fn a_file_that_does_not_parse_is_not_overwritten() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("snippets.toml");
        std::fs::write(&p, "[[snippet]]\nname = \"a\"\nmode = \n").expect("w");
        let e = save(&p, &[]).expect_err("broken file");
        assert!(e.to_string().contains("snippets.toml:3:"), "{e}");
        let kept = std::fs::read_to_string(&p).expect("read");
        assert_eq!(kept, "[[snippet]]\nname = \"a\"\nmode = \n");
    }
}

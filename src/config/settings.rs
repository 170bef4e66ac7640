//! `config.toml`: the user's settings. Every field has a default, unknown keys are errors (a
//! typo should not pass silently).

use super::{ConfigError, parse_toml};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Theme name (a file in `themes/` or the config dir's `themes/`).
    pub theme: String,
    pub connect: ConnectSettings,
    pub capture: CaptureSettings,
    pub monitor: MonitorSettings,
    pub store: StoreSettings,
}

/// The console's frame logs (`[store]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSettings {
    /// Payload bytes every session together keeps in memory, in MiB; past it the oldest go to
    /// a spill file in the data directory (an opened capture stays in its file).
    pub memory_mb: u64,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings { memory_mb: 512 }
    }
}

/// The container logs (`[monitor]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitorSettings {
    /// `auto` (azd when on PATH, else the platform log stream for Foundry targets), `azd`,
    /// `logstream`, or `cmd:TEMPLATE` with `{session_id}`, `{agent}`, `{endpoint}` filled in.
    pub source: String,
    /// Start reading the logs when a session closes abnormally.
    pub on_abnormal_close: bool,
    /// Close codes that are not abnormal (a clean 1000/1001 never is).
    pub quiet_codes: Vec<u16>,
}

impl Default for MonitorSettings {
    fn default() -> Self {
        MonitorSettings {
            source: "auto".into(),
            on_abnormal_close: true,
            quiet_codes: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectSettings {
    /// Seconds for DNS, TCP, TLS and the upgrade, each.
    pub timeout_secs: u64,
    /// Largest message accepted, in bytes.
    pub max_message_size: usize,
    /// Extra root certificates (PEM) for every wss:// connection.
    pub ca_cert: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaptureSettings {
    /// Where the console writes captures (default: the data dir's `captures/`).
    pub dir: Option<PathBuf>,
    /// Record every session from the start.
    pub record_by_default: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            theme: "dark".into(),
            connect: ConnectSettings::default(),
            capture: CaptureSettings::default(),
            monitor: MonitorSettings::default(),
            store: StoreSettings::default(),
        }
    }
}

impl Default for ConnectSettings {
    fn default() -> Self {
        ConnectSettings {
            timeout_secs: 15,
            max_message_size: 64 * 1024 * 1024,
            ca_cert: None,
        }
    }
}

impl ConnectSettings {
    /// The connect defaults the resolver applies where a target's arguments are silent.
    pub fn defaults(&self) -> crate::engine::target::ConnectDefaults {
        crate::engine::target::ConnectDefaults {
            timeout: std::time::Duration::from_secs(self.timeout_secs),
            max_message_size: self.max_message_size,
            ca_cert: self.ca_cert.clone(),
        }
    }
}

impl Settings {
    /// Load `path`; a missing file is the defaults.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let s: Settings = parse_toml(path, &text)?;
                // A zero timeout would fail every connect at once, far from its cause.
                if s.connect.timeout_secs == 0 {
                    return Err(ConfigError::Invalid {
                        path: path.to_path_buf(),
                        message: "[connect] timeout_secs must be at least 1".into(),
                    });
                }
                Ok(s)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(source) => Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// The defaults as a commented TOML file, for `wsdeck config template`.
    pub fn template() -> String {
        let body = toml::to_string_pretty(&Settings::default()).unwrap_or_default();
        format!("# wsdeck settings. Every key is optional; these are the defaults.\n{body}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_file_names_line_and_column() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("config.toml");
        std::fs::write(&p, "theme = \"dark\"\n[connect]\ntimeout_secs = \"soon\"\n").expect("w");
        let e = Settings::load(&p).unwrap_err().to_string();
        assert!(e.contains("config.toml:3:16"), "{e}");
        assert!(e.contains("invalid type"), "{e}");
        std::fs::write(&p, "thme = \"dark\"\n").expect("w");
        let e = Settings::load(&p).unwrap_err().to_string();
        assert!(e.contains(":1:1") && e.contains("unknown field"), "{e}");
        std::fs::write(&p, "[connect]\ntimeout_secs = 0\n").expect("w");
        let e = Settings::load(&p).unwrap_err().to_string();
        assert!(e.contains("timeout_secs must be at least 1"), "{e}");
        assert_eq!(
            Settings::load(&dir.path().join("absent.toml")).ok(),
            Some(Settings::default())
        );
    }

    #[test]
    fn template_parses_back() {
        let t = Settings::template();
        let s: Settings = toml::from_str(&t).expect("parse");
        assert_eq!(s, Settings::default());
    }
}

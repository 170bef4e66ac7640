//! Where wsdeck keeps its files: the flag, then `WSDECK_CONFIG_DIR`/`WSDECK_DATA_DIR`, then the
//! platform's directories (`directories`), so tests never touch `$HOME`.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
}

impl Paths {
    pub fn resolve(config_flag: Option<&Path>) -> Option<Self> {
        let dirs = directories::ProjectDirs::from("", "", "wsdeck");
        let config_dir = config_flag
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("WSDECK_CONFIG_DIR").map(PathBuf::from))
            .or_else(|| dirs.as_ref().map(|d| d.config_dir().to_path_buf()))?;
        let data_dir = std::env::var_os("WSDECK_DATA_DIR")
            .map(PathBuf::from)
            .or_else(|| dirs.as_ref().map(|d| d.data_dir().to_path_buf()))
            .unwrap_or_else(|| config_dir.join("data"));
        Some(Paths {
            config_dir,
            data_dir,
        })
    }

    pub fn settings_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    pub fn sessions_file(&self) -> PathBuf {
        self.config_dir.join("sessions.toml")
    }

    /// The user's key overrides (`wsdeck keys` prints the effect).
    pub fn keymap_file(&self) -> PathBuf {
        self.config_dir.join("keymap.toml")
    }

    pub fn snippets_file(&self) -> PathBuf {
        self.config_dir.join("snippets.toml")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }

    pub fn capture_dir(&self) -> PathBuf {
        self.data_dir.join("captures")
    }

    /// Where frame logs spill past `[store] memory_mb` (files removed with their session).
    pub fn spill_dir(&self) -> PathBuf {
        self.data_dir.join("spill")
    }
}

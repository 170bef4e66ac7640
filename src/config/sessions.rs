//! `sessions.toml`: named sessions, each with its target and its stable `agent_session_id`.

use super::{ConfigError, parse_toml, write_atomic};
use crate::engine::auth::AuthSource;
use crate::engine::redact::is_sensitive_header;
use crate::engine::target::{
    ConnectSpec, PreviewFlag, ProjectEndpoint, Route, Target, TargetError, parse_header,
};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A saved session as stored. The target is flat (kind + the fields it needs) so the file reads
/// and edits like a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedSession {
    pub name: String,
    /// `foundry`, `local` or `url`.
    pub kind: String,
    pub agent_session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_flag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subprotocols: Vec<String>,
    /// `--auth` spelling; absent = auto.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<PathBuf>,
    /// Variables for composed frames (`{{NAME}}`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub vars: std::collections::BTreeMap<String, String>,
    /// Keepalive pings every this many seconds while open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ping_interval_secs: Option<u64>,
    /// Reconnect by itself (with backoff) after an abnormal close.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_reconnect: bool,
    /// A proxy session: where it listens for the user's own clients (`wsdeck proxy --listen`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// A proxy session's `--allow-origin` values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_origins: Vec<String>,
    /// A proxy session's `--allow-remote`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_remote: bool,
}

/// Why a spec cannot be saved.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SaveError {
    #[error("a session needs a name")]
    NoName,
    #[error(
        "header {0} carries a credential and would be written to a file: use --auth env:VAR or --auth cmd:COMMAND instead"
    )]
    CredentialHeader(String),
}

impl SavedSession {
    /// A saved session from a connection spec. Headers that carry credentials are refused: a
    /// token must never reach a file (use `--auth env:VAR` or `cmd:COMMAND` instead).
    pub fn from_spec(name: &str, spec: &ConnectSpec) -> Result<Self, SaveError> {
        if name.trim().is_empty() {
            return Err(SaveError::NoName);
        }
        if let Some((h, _)) = spec.headers.iter().find(|(h, _)| is_sensitive_header(h)) {
            return Err(SaveError::CredentialHeader(h.clone()));
        }
        let mut s = SavedSession {
            name: name.trim().to_string(),
            kind: spec.target.kind().to_string(),
            agent_session_id: spec
                .session_id
                .clone()
                .unwrap_or_else(crate::engine::target::new_session_id),
            endpoint: None,
            agent: None,
            route: None,
            preview_flag: None,
            url: None,
            host: None,
            port: None,
            headers: spec
                .headers
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect(),
            subprotocols: spec.subprotocols.clone(),
            auth: Some(spec.auth.spec()),
            ca_cert: spec.ca_cert.clone(),
            vars: Default::default(),
            ping_interval_secs: spec.ping_interval.map(|d| d.as_secs().max(1)),
            auto_reconnect: false,
            listen: None,
            allow_origins: Vec::new(),
            allow_remote: false,
        };
        match &spec.target {
            Target::Foundry {
                endpoint,
                agent,
                route,
                preview_flag,
            } => {
                s.endpoint = Some(endpoint.https_url.clone());
                s.agent = Some(agent.clone());
                s.route = Some(route.as_str().into());
                s.preview_flag = Some(preview_flag.as_str().into());
            }
            Target::Local { host, port } => {
                s.host = Some(host.clone());
                s.port = Some(*port);
            }
            Target::Url { url } => s.url = Some(url.clone()),
        }
        Ok(s)
    }

    /// A proxy session's options, checked as `wsdeck proxy` checks them (so a saved proxy that
    /// cannot start is reported when the file is read).
    pub fn check_proxy(&self) -> Result<(), crate::proxy::ProxyError> {
        match &self.listen {
            None => Ok(()),
            Some(listen) => {
                let addr = crate::proxy::parse_listen(listen)?;
                crate::proxy::check_listen(addr, self.allow_remote)?;
                crate::proxy::OriginGuard::new(&self.allow_origins).map(|_| ())
            }
        }
    }

    /// The connection this session describes.
    pub fn to_spec(&self) -> Result<ConnectSpec, TargetError> {
        let target = match self.kind.as_str() {
            "foundry" => {
                let ep = ProjectEndpoint::parse(
                    self.endpoint
                        .as_deref()
                        .ok_or(TargetError::Missing("endpoint"))?,
                )?;
                Target::foundry_with(
                    ep,
                    self.agent.as_deref().unwrap_or_default(),
                    Route::parse(self.route.as_deref().unwrap_or("ga"))?,
                    PreviewFlag::parse(self.preview_flag.as_deref().unwrap_or("query"))?,
                )?
            }
            "local" => Target::Local {
                host: self.host.clone().unwrap_or_else(|| "localhost".into()),
                port: self
                    .port
                    .unwrap_or(crate::engine::target::DEFAULT_LOCAL_PORT),
            },
            "url" => Target::url(self.url.as_deref().ok_or(TargetError::Missing("url"))?)?,
            other => {
                return Err(TargetError::BadChoice {
                    what: "session kind",
                    value: other.to_string(),
                    allowed: "foundry, local, url",
                });
            }
        };
        let foundry = target.is_foundry();
        let mut spec = ConnectSpec::new(target);
        spec.session_id = Some(self.agent_session_id.clone());
        spec.headers = self
            .headers
            .iter()
            .map(|h| parse_header(h))
            .collect::<Result<_, _>>()?;
        spec.subprotocols = self.subprotocols.clone();
        spec.ca_cert = self.ca_cert.clone();
        spec.ping_interval = self
            .ping_interval_secs
            .filter(|s| *s > 0)
            .map(std::time::Duration::from_secs);
        if let Some(a) = &self.auth {
            spec.auth = AuthSource::parse(a, foundry).map_err(|_| TargetError::BadChoice {
                what: "auth",
                value: a.clone(),
                allowed: "auto, az, azd, mi, workload, env:VAR, cmd:COMMAND, none",
            })?;
        }
        Ok(spec)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionsFile {
    #[serde(default, rename = "session")]
    sessions: Vec<SavedSession>,
}

/// The saved sessions and the file they live in.
#[derive(Debug)]
pub struct SessionStore {
    path: PathBuf,
    pub sessions: Vec<SavedSession>,
}

impl SessionStore {
    /// Load `path` (missing = no sessions). Every session is checked, so a bad one is reported
    /// with its name rather than at connect time.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let file: SessionsFile = parse_toml(path, &text)?;
        let mut seen = std::collections::HashSet::new();
        for s in &file.sessions {
            if !seen.insert(s.name.as_str()) {
                return Err(ConfigError::Invalid {
                    path: path.to_path_buf(),
                    message: format!("session {:?} appears twice", s.name),
                });
            }
            if let Err(e) = s.to_spec() {
                return Err(ConfigError::Invalid {
                    path: path.to_path_buf(),
                    message: format!("session {:?}: {e}", s.name),
                });
            }
            if let Err(e) = s.check_proxy() {
                return Err(ConfigError::Invalid {
                    path: path.to_path_buf(),
                    message: format!("session {:?}: {e}", s.name),
                });
            }
        }
        Ok(SessionStore {
            path: path.to_path_buf(),
            sessions: file.sessions,
        })
    }

    pub fn get(&self, name: &str) -> Result<&SavedSession, ConfigError> {
        self.sessions
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| ConfigError::UnknownSession(name.to_string()))
    }

    pub fn add(&mut self, s: SavedSession) -> Result<(), ConfigError> {
        if self.sessions.iter().any(|x| x.name == s.name) {
            return Err(ConfigError::DuplicateSession(s.name));
        }
        self.sessions.push(s);
        self.save()
    }

    pub fn remove(&mut self, name: &str) -> Result<SavedSession, ConfigError> {
        let idx = self
            .sessions
            .iter()
            .position(|s| s.name == name)
            .ok_or_else(|| ConfigError::UnknownSession(name.to_string()))?;
        let s = self.sessions.remove(idx);
        self.save()?;
        Ok(s)
    }

    pub fn save(&self) -> Result<(), ConfigError> {
        let file = SessionsFile {
            sessions: self.sessions.clone(),
        };
        let body = toml::to_string_pretty(&file).map_err(|e| ConfigError::Invalid {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        write_atomic(
            &self.path,
            &format!("# wsdeck saved sessions (written by wsdeck; edit with care)\n{body}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("sessions.toml");
        let mut store = SessionStore::load(&p).expect("empty");
        let spec = ConnectSpec::new(
            Target::foundry("https://a.services.ai.azure.com/api/projects/p", "ag").expect("t"),
        );
        let saved = SavedSession::from_spec("prod", &spec).expect("saved");
        store.add(saved.clone()).expect("add");
        assert!(matches!(
            store.add(saved.clone()),
            Err(ConfigError::DuplicateSession(_))
        ));
        let back = SessionStore::load(&p).expect("load");
        assert_eq!(back.sessions, vec![saved.clone()]);
        let spec2 = back.get("prod").expect("get").to_spec().expect("spec");
        assert_eq!(spec2.target, spec.target);
        assert_eq!(
            spec2.session_id.as_deref(),
            Some(saved.agent_session_id.as_str())
        );

        let mut with_token = spec.clone();
        with_token
            .headers
            .push(("Authorization".into(), "Bearer x".into()));
        assert!(SavedSession::from_spec("t", &with_token).is_err());

        std::fs::write(
            &p,
            "[[session]]\nname = \"x\"\nkind = \"foundry\"\nagent_session_id = \"1\"\n",
        )
        .expect("w");
        let e = SessionStore::load(&p).unwrap_err().to_string();
        assert!(e.contains("session \"x\": missing endpoint"), "{e}");
    }

    #[test]
    fn a_proxy_session_round_trips_and_a_bad_one_is_named() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("sessions.toml");
        let mut store = SessionStore::load(&p).expect("empty");
        let spec = ConnectSpec::new(Target::url("ws://127.0.0.1:8088/invocations_ws").expect("t"));
        let mut saved = SavedSession::from_spec("browser", &spec).expect("saved");
        saved.listen = Some("127.0.0.1:8089".into());
        saved.allow_origins = vec!["https://app.example".into(), "null".into()];
        store.add(saved.clone()).expect("add");
        let text = std::fs::read_to_string(&p).expect("read");
        assert!(text.contains("listen = \"127.0.0.1:8089\""), "{text}");
        let back = SessionStore::load(&p).expect("load");
        assert_eq!(back.sessions, vec![saved]);

        for (listen, extra, why) in [
            ("0.0.0.0:8089", "", "not a loopback address"),
            ("0.0.0.0:8089", "allow_remote = true\n", ""),
            ("nonsense", "", "expected ADDR:PORT"),
            (
                "127.0.0.1:8089",
                "allow_origins = [\"not an origin\"]\n",
                "--allow-origin",
            ),
        ] {
            std::fs::write(
                &p,
                format!(
                    "[[session]]\nname = \"b\"\nkind = \"url\"\nurl = \"ws://127.0.0.1:1/\"\nagent_session_id = \"1\"\nlisten = \"{listen}\"\n{extra}"
                ),
            )
            .expect("w");
            match SessionStore::load(&p) {
                Ok(_) => assert!(why.is_empty(), "{listen} {extra} should be refused"),
                Err(e) => {
                    let e = e.to_string();
                    assert!(!why.is_empty(), "{listen} {extra}: {e}");
                    assert!(e.contains("session \"b\"") && e.contains(why), "{e}");
                }
            }
        }
    }
}

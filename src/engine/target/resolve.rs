//! TARGET arguments (plus a saved session's spec and the user's connect defaults) to a
//! connection spec. Pure: the environment comes in as values and fresh ids from an `IdSource`, so
//! the console's update can resolve a target without reading the process environment or the clock.

use super::{
    ConnectSpec, DEFAULT_LOCAL_PORT, PreviewFlag, ProjectEndpoint, Route, Target, TargetArgs,
    TargetError, parse_header,
};
use crate::engine::auth::{AuthError, AuthSource};
use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;

/// Where fresh `agent_session_id`s come from: random in the program, counted in tests.
pub trait IdSource: Send {
    fn session_id(&mut self) -> String;
}

/// uuid4 hex ids, as the guide's `uuid4().hex`.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn session_id(&mut self) -> String {
        super::new_session_id()
    }
}

/// 32-hex-digit ids counted up from 1: reproducible, for tests and snapshots.
#[derive(Debug, Default, Clone)]
pub struct CountingIds(u64);

impl IdSource for CountingIds {
    fn session_id(&mut self) -> String {
        self.0 += 1;
        format!("{:032x}", self.0)
    }
}

/// The user's connect settings (`[connect]` in config.toml), applied where the arguments are silent.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectDefaults {
    pub timeout: Duration,
    /// 0 = no limit.
    pub max_message_size: usize,
    pub ca_cert: Option<PathBuf>,
}

impl Default for ConnectDefaults {
    fn default() -> Self {
        ConnectDefaults {
            timeout: Duration::from_secs(15),
            // config.toml's default, so a console-made session and a command agree.
            max_message_size: 64 * 1024 * 1024,
            ca_cert: None,
        }
    }
}

impl ConnectDefaults {
    /// Apply these where a spec came without its own: a session keeps its own CA, and takes
    /// the timeout and size limit from the settings (they are not saved per session).
    pub fn apply(&self, spec: &mut ConnectSpec) {
        self.apply_ca(spec);
        self.apply_limits(spec);
    }

    /// The timeout and the size limit.
    pub fn apply_limits(&self, spec: &mut ConnectSpec) {
        spec.connect_timeout = self.timeout;
        spec.max_message_size = (self.max_message_size > 0).then_some(self.max_message_size);
    }

    /// The settings' CA where the session has none. The console applies it when it connects, not
    /// to the session it keeps, so the settings' CA is never written into sessions.toml.
    pub fn apply_ca(&self, spec: &mut ConnectSpec) {
        if spec.ca_cert.is_none() {
            spec.ca_cert = self.ca_cert.clone();
        }
    }

    /// These without the CA (for specs that are kept and saved).
    pub fn without_ca(&self) -> ConnectDefaults {
        ConnectDefaults {
            ca_cert: None,
            ..self.clone()
        }
    }
}

/// What a resolution may read besides the arguments.
#[derive(Debug, Clone, Default)]
pub struct ResolveEnv {
    pub defaults: ConnectDefaults,
    /// `$FOUNDRY_PROJECT_ENDPOINT`, read once by the caller.
    pub foundry_endpoint: Option<String>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ResolveError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("reading $FOUNDRY_PROJECT_ENDPOINT: {0}")]
    EnvEndpoint(TargetError),
    #[error(
        "no target: give a ws:// or wss:// URL, --endpoint URL --agent NAME, --local [--port P], or --session NAME"
    )]
    NoTarget,
    #[error("no saved session {0:?} to start from")]
    NoSavedSession(String),
    #[error("{flag} {why}")]
    BadNumber {
        flag: &'static str,
        why: &'static str,
    },
    #[error("--session-id is empty")]
    EmptySessionId,
}

/// Resolve `args` into a spec. `saved` is the spec of the saved session `--session NAME` names
/// (looked up by the caller, which knows where sessions live).
pub fn resolve(
    args: &TargetArgs,
    saved: Option<ConnectSpec>,
    env: &ResolveEnv,
    ids: &mut dyn IdSource,
) -> Result<ConnectSpec, ResolveError> {
    let chosen = [
        args.url.is_some(),
        args.endpoint.is_some() || args.account.is_some(),
        args.local,
        args.session.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if chosen > 1 {
        return Err(TargetError::Conflict(
            "a URL, --endpoint/--account, --local or --session, not several".into(),
        )
        .into());
    }
    let mut spec = if let Some(name) = &args.session {
        saved.ok_or_else(|| ResolveError::NoSavedSession(name.clone()))?
    } else if let Some(url) = &args.url {
        ConnectSpec::new(Target::url(url)?)
    } else if args.local {
        ConnectSpec::new(Target::local(args.port.unwrap_or(DEFAULT_LOCAL_PORT)))
    } else if args.endpoint.is_some() || args.account.is_some() || args.agent.is_some() {
        let endpoint = match (&args.endpoint, &args.account) {
            (Some(e), _) => ProjectEndpoint::parse(e)?,
            (None, Some(acct)) => {
                ProjectEndpoint::from_account(acct, args.project.as_deref().unwrap_or_default())?
            }
            (None, None) => match env.foundry_endpoint.as_deref() {
                Some(e) if !e.trim().is_empty() => {
                    ProjectEndpoint::parse(e).map_err(ResolveError::EnvEndpoint)?
                }
                _ => {
                    return Err(TargetError::Missing(
                        "--endpoint (or --account and --project, or $FOUNDRY_PROJECT_ENDPOINT)",
                    )
                    .into());
                }
            },
        };
        let target = Target::foundry_with(
            endpoint,
            args.agent.as_deref().unwrap_or_default(),
            Route::parse(&args.route)?,
            PreviewFlag::parse(&args.preview_flag)?,
        )?;
        let mut spec = ConnectSpec::new(target);
        // Foundry sessions always carry an id; print it so the user can come back to it.
        spec.session_id = Some(ids.session_id());
        spec
    } else {
        return Err(ResolveError::NoTarget);
    };

    if args.port.is_some() && !args.local && !matches!(spec.target, Target::Local { .. }) {
        return Err(TargetError::Conflict("--port goes with --local".into()).into());
    }
    if let (Some(p), Target::Local { port, .. }) = (args.port, &mut spec.target) {
        *port = p;
    }
    if let Some(id) = &args.session_id {
        if id.trim().is_empty() {
            return Err(ResolveError::EmptySessionId);
        }
        spec.session_id = Some(id.clone());
    }
    if args.new_session_id {
        spec.session_id = Some(ids.session_id());
    }
    for h in &args.headers {
        spec.headers.push(parse_header(h)?);
    }
    spec.subprotocols.extend(args.subprotocols.iter().cloned());
    if let Some(a) = &args.auth {
        spec.auth = AuthSource::parse(a, spec.target.is_foundry())?;
    }
    env.defaults.apply(&mut spec);
    if let Some(ca) = &args.ca_cert {
        spec.ca_cert = Some(ca.clone());
    }
    match args.connect_timeout {
        Some(t) if t.is_finite() && t > 0.0 => spec.connect_timeout = Duration::from_secs_f64(t),
        Some(_) => {
            return Err(ResolveError::BadNumber {
                flag: "--connect-timeout",
                why: "must be a positive number of seconds",
            });
        }
        None => {}
    }
    if let Some(p) = args.ping_interval {
        if !(p.is_finite() && p >= 0.0) {
            return Err(ResolveError::BadNumber {
                flag: "--ping-interval",
                why: "must be a number of seconds ≥ 0 (0 = none)",
            });
        }
        spec.ping_interval = (p > 0.0).then(|| Duration::from_secs_f64(p));
    }
    if let Some(n) = args.max_message_size {
        spec.max_message_size = (n > 0).then_some(n);
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url_args(url: &str) -> TargetArgs {
        TargetArgs {
            url: Some(url.into()),
            route: "ga".into(),
            preview_flag: "query".into(),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_apply_where_the_arguments_are_silent() {
        let env = ResolveEnv {
            defaults: ConnectDefaults {
                timeout: Duration::from_secs(3),
                max_message_size: 4096,
                ca_cert: Some("/etc/corp-ca.pem".into()),
            },
            foundry_endpoint: None,
        };
        let spec = resolve(
            &url_args("wss://x/"),
            None,
            &env,
            &mut CountingIds::default(),
        )
        .expect("resolves");
        assert_eq!(spec.connect_timeout, Duration::from_secs(3));
        assert_eq!(spec.max_message_size, Some(4096));
        assert_eq!(spec.ca_cert.as_deref(), Some("/etc/corp-ca.pem".as_ref()));
        let mut args = url_args("wss://x/");
        args.connect_timeout = Some(1.5);
        let spec = resolve(&args, None, &env, &mut CountingIds::default()).expect("resolves");
        assert_eq!(spec.connect_timeout, Duration::from_millis(1500));
    }

    #[test]
    fn a_saved_session_keeps_its_ca_and_takes_the_settings_limits() {
        let defaults = ConnectDefaults {
            timeout: Duration::from_secs(4),
            max_message_size: 0,
            ca_cert: Some("/etc/default-ca.pem".into()),
        };
        let mut own = ConnectSpec::new(Target::url("wss://x/").expect("url"));
        own.ca_cert = Some("/etc/own-ca.pem".into());
        defaults.apply(&mut own);
        assert_eq!(own.ca_cert.as_deref(), Some("/etc/own-ca.pem".as_ref()));
        assert_eq!(own.connect_timeout, Duration::from_secs(4));
        assert_eq!(own.max_message_size, None, "0 is no limit");
        let mut plain = ConnectSpec::new(Target::url("wss://x/").expect("url"));
        defaults.apply(&mut plain);
        assert_eq!(
            plain.ca_cert.as_deref(),
            Some("/etc/default-ca.pem".as_ref())
        );
        let args = TargetArgs {
            session: Some("saved".into()),
            ..Default::default()
        };
        let env = ResolveEnv {
            defaults,
            foundry_endpoint: None,
        };
        let spec = resolve(&args, Some(own), &env, &mut CountingIds::default()).expect("ok");
        assert_eq!(spec.ca_cert.as_deref(), Some("/etc/own-ca.pem".as_ref()));
    }

    #[test]
    fn the_environment_endpoint_and_ids_come_from_the_caller() {
        let args = TargetArgs {
            agent: Some("bot".into()),
            route: "ga".into(),
            preview_flag: "query".into(),
            ..Default::default()
        };
        let none = ResolveEnv::default();
        let e = resolve(&args, None, &none, &mut CountingIds::default()).unwrap_err();
        assert!(e.to_string().contains("$FOUNDRY_PROJECT_ENDPOINT"), "{e}");
        let env = ResolveEnv {
            foundry_endpoint: Some("https://acct.services.ai.azure.com/api/projects/p".into()),
            ..Default::default()
        };
        let spec = resolve(&args, None, &env, &mut CountingIds::default()).expect("resolves");
        assert_eq!(
            spec.session_id.as_deref(),
            Some("00000000000000000000000000000001")
        );
        let bad = ResolveEnv {
            foundry_endpoint: Some("not a url".into()),
            ..Default::default()
        };
        let e = resolve(&args, None, &bad, &mut CountingIds::default()).unwrap_err();
        assert!(matches!(e, ResolveError::EnvEndpoint(_)), "{e:?}");
    }

    #[test]
    fn conflicts_and_bad_numbers_are_typed() {
        let mut args = url_args("ws://x/");
        args.local = true;
        let e = resolve(&args, None, &ResolveEnv::default(), &mut RandomIds).unwrap_err();
        assert!(matches!(e, ResolveError::Target(TargetError::Conflict(_))));
        let mut args = url_args("ws://x/");
        args.ping_interval = Some(-1.0);
        let e = resolve(&args, None, &ResolveEnv::default(), &mut RandomIds).unwrap_err();
        assert!(matches!(e, ResolveError::BadNumber { .. }));
        let args = TargetArgs {
            session: Some("gone".into()),
            ..Default::default()
        };
        let e = resolve(&args, None, &ResolveEnv::default(), &mut RandomIds).unwrap_err();
        assert_eq!(e, ResolveError::NoSavedSession("gone".into()));
    }
}

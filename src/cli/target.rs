//! Turning TARGET arguments (and saved sessions, and settings) into a connection spec.

use crate::cli::args::TargetArgs;
use crate::config::{Paths, SessionStore, Settings};
use crate::engine::auth::AuthSource;
use crate::engine::target::{
    ConnectSpec, DEFAULT_LOCAL_PORT, PreviewFlag, ProjectEndpoint, Route, Target, TargetError,
    new_session_id, parse_header,
};
use anyhow::{Context, Result, bail};
use std::time::Duration;

/// A resolved target: the spec and, for a saved session, its name.
pub struct Resolved {
    pub spec: ConnectSpec,
    pub session_name: Option<String>,
}

pub fn resolve(args: &TargetArgs, paths: Option<&Paths>, settings: &Settings) -> Result<Resolved> {
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
    let mut session_name = None;
    let mut spec = if let Some(name) = &args.session {
        let paths = paths.context("no config directory to read saved sessions from")?;
        let store = SessionStore::load(&paths.sessions_file())?;
        let saved = store.get(name)?;
        session_name = Some(name.clone());
        saved.to_spec()?
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
            (None, None) => match std::env::var("FOUNDRY_PROJECT_ENDPOINT") {
                Ok(e) if !e.trim().is_empty() => {
                    ProjectEndpoint::parse(&e).context("reading $FOUNDRY_PROJECT_ENDPOINT")?
                }
                _ => bail!(TargetError::Missing(
                    "--endpoint (or --account and --project, or $FOUNDRY_PROJECT_ENDPOINT)"
                )),
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
        spec.session_id = Some(new_session_id());
        spec
    } else {
        bail!(
            "no target: give a ws:// or wss:// URL, --endpoint URL --agent NAME, --local [--port P], or --session NAME"
        );
    };

    if args.port.is_some() && !args.local && !matches!(spec.target, Target::Local { .. }) {
        bail!(TargetError::Conflict("--port goes with --local".into()));
    }
    if let (Some(p), Target::Local { port, .. }) = (args.port, &mut spec.target) {
        *port = p;
    }
    if let Some(id) = &args.session_id {
        if id.trim().is_empty() {
            bail!("--session-id is empty");
        }
        spec.session_id = Some(id.clone());
    }
    if args.new_session_id {
        spec.session_id = Some(new_session_id());
    }
    for h in &args.headers {
        spec.headers.push(parse_header(h)?);
    }
    spec.subprotocols.extend(args.subprotocols.iter().cloned());
    if let Some(a) = &args.auth {
        spec.auth = AuthSource::parse(a, spec.target.is_foundry())?;
    }
    spec.ca_cert = args
        .ca_cert
        .clone()
        .or(spec.ca_cert)
        .or_else(|| settings.connect.ca_cert.clone());
    if let Some(ca) = &spec.ca_cert
        && !ca.is_file()
    {
        bail!("--ca-cert {}: no such file", ca.display());
    }
    let timeout = args
        .connect_timeout
        .unwrap_or(settings.connect.timeout_secs as f64);
    if !(timeout.is_finite() && timeout > 0.0) {
        bail!("--connect-timeout must be a positive number of seconds");
    }
    spec.connect_timeout = Duration::from_secs_f64(timeout);
    if let Some(p) = args.ping_interval {
        if !(p.is_finite() && p >= 0.0) {
            bail!("--ping-interval must be a number of seconds ≥ 0 (0 = none)");
        }
        spec.ping_interval = (p > 0.0).then(|| Duration::from_secs_f64(p));
    }
    spec.max_message_size = match args
        .max_message_size
        .unwrap_or(settings.connect.max_message_size)
    {
        0 => None,
        n => Some(n),
    };
    Ok(Resolved { spec, session_name })
}

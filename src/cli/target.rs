//! TARGET arguments for a command: the saved session `--session NAME` names is read from disk,
//! `$FOUNDRY_PROJECT_ENDPOINT` from the environment, then `engine::target::resolve` does the rest.

use crate::cli::args::TargetArgs;
use crate::config::{Paths, SessionStore, Settings};
use crate::engine::target::{ConnectSpec, RandomIds, ResolveEnv, resolve as resolve_spec};
use anyhow::{Context, Result, bail};

/// A resolved target: the spec and, for a saved session, its name.
pub struct Resolved {
    pub spec: ConnectSpec,
    pub session_name: Option<String>,
}

/// What a command's resolution may read: the user's connect defaults and the environment.
pub fn env(settings: &Settings) -> ResolveEnv {
    ResolveEnv {
        defaults: settings.connect.defaults(),
        foundry_endpoint: std::env::var("FOUNDRY_PROJECT_ENDPOINT").ok(),
    }
}

pub fn resolve(args: &TargetArgs, paths: Option<&Paths>, settings: &Settings) -> Result<Resolved> {
    let saved = match &args.session {
        Some(name) => {
            let paths = paths.context("no config directory to read saved sessions from")?;
            let store = SessionStore::load(&paths.sessions_file())?;
            Some(store.get(name)?.to_spec()?)
        }
        None => None,
    };
    let spec = resolve_spec(args, saved, &env(settings), &mut RandomIds)?;
    // A command fails early on a missing file; the console lets the connect say it instead.
    if let Some(ca) = &spec.ca_cert
        && !ca.is_file()
    {
        bail!("--ca-cert {}: no such file", ca.display());
    }
    Ok(Resolved {
        spec,
        session_name: args.session.clone(),
    })
}

//! `wsdeck sessions list|add|rm`.

use crate::cli::args::SessionsAction;
use crate::cli::target::resolve;
use crate::config::{ConfigError, Paths, SavedSession, SessionStore, Settings};
use crate::exit;
use anyhow::{Context, Result};

pub fn run(action: SessionsAction, paths: Option<&Paths>, settings: &Settings) -> Result<i32> {
    let paths = paths.ok_or(ConfigError::NoConfigDir)?;
    let file = paths.sessions_file();
    match action {
        SessionsAction::List { json } => {
            let store = SessionStore::load(&file)?;
            if json {
                for s in &store.sessions {
                    println!("{}", serde_json::to_string(s)?);
                }
            } else if store.sessions.is_empty() {
                eprintln!(
                    "no saved sessions in {} (add one: wsdeck sessions add NAME TARGET)",
                    file.display()
                );
            } else {
                println!(
                    "{:<16} {:<8} {:<34} TARGET",
                    "NAME", "KIND", "AGENT_SESSION_ID"
                );
                for s in &store.sessions {
                    let describe = s
                        .to_spec()
                        .map(|spec| spec.target.describe())
                        .unwrap_or_else(|e| format!("(invalid: {e})"));
                    println!(
                        "{:<16} {:<8} {:<34} {describe}",
                        s.name, s.kind, s.agent_session_id
                    );
                }
            }
            Ok(exit::OK)
        }
        SessionsAction::Add { name, target } => {
            let mut store = SessionStore::load(&file)?;
            let resolved = resolve(&target, Some(paths), settings)?;
            let mut spec = resolved.spec;
            if spec.session_id.is_none() {
                spec.session_id = Some(crate::engine::target::new_session_id());
            }
            let saved = SavedSession::from_spec(&name, &spec)?;
            let id = saved.agent_session_id.clone();
            store.add(saved).context("saving the session")?;
            eprintln!(
                "saved session {name:?} (agent_session_id {id}) in {}",
                file.display()
            );
            Ok(exit::OK)
        }
        SessionsAction::Rm { name } => {
            let mut store = SessionStore::load(&file)?;
            store.remove(&name)?;
            eprintln!("removed session {name:?}");
            Ok(exit::OK)
        }
    }
}

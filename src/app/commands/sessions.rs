//! `:add`, `:edit`, `:rename`, `:dup`, `:rm`, `:connect`, `:reconnect`: sessions made and changed
//! in the console, resolved with the user's connect defaults like the command line's.

use crate::app::commands::ProxyArgs;
use crate::app::proxy::ProxySetup;
use crate::app::{App, Effect, Origin, Pane, Session, actions};
use crate::engine::ConnectSpec;
use crate::engine::session::SessionCommand;
use crate::engine::target::{TargetArgs, resolve};
use crate::keymap::Action;

fn unique_name(app: &App, name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("a session needs a name".into());
    }
    if app.sessions.iter().any(|s| s.name == name) {
        return Err(format!("a session named {name:?} exists already"));
    }
    Ok(name.to_string())
}

/// TARGET arguments to a spec: `--session NAME` starts from that session here, the rest is the
/// engine's resolution with this console's defaults and ids.
pub fn resolve_in(app: &mut App, target: &TargetArgs) -> Result<ConnectSpec, String> {
    let saved = target.session.as_ref().and_then(|name| {
        app.sessions
            .iter()
            .find(|s| &s.name == name)
            .map(|s| s.spec.clone())
    });
    let env = app.resolve_env_for_kept();
    let mut spec = resolve(target, saved, &env, app.ids.as_mut()).map_err(|e| e.to_string())?;
    if spec.session_id.is_none() {
        spec.session_id = Some(app.new_session_id());
    }
    Ok(spec)
}

/// The proxy setup `:add`/`:edit` ask for: `Ok(None)` for a plain session, `keep` when they say
/// nothing about it.
fn proxy_setup(args: &ProxyArgs, keep: Option<ProxySetup>) -> Result<Option<ProxySetup>, String> {
    if args.no_listen {
        return Ok(None);
    }
    match &args.listen {
        Some(listen) => {
            ProxySetup::new(listen, args.allow_origin.clone(), args.allow_remote).map(Some)
        }
        None if !args.allow_origin.is_empty() || args.allow_remote => {
            let Some(k) = keep else {
                return Err(
                    "--allow-origin and --allow-remote are for a proxy: add --listen ADDR:PORT"
                        .into(),
                );
            };
            let origins = if args.allow_origin.is_empty() {
                k.allow_origins
            } else {
                args.allow_origin.clone()
            };
            ProxySetup::new(&k.listen, origins, args.allow_remote || k.allow_remote).map(Some)
        }
        None => Ok(keep),
    }
}

pub fn add(app: &mut App, name: &str, target: &TargetArgs, proxy: &ProxyArgs) -> Vec<Effect> {
    let name = match unique_name(app, name) {
        Ok(n) => n,
        Err(e) => {
            app.status = Some(e);
            return vec![];
        }
    };
    let spec = match resolve_in(app, target) {
        Ok(s) => s,
        Err(e) => {
            app.status = Some(format!("not added: {e}"));
            return vec![];
        }
    };
    if let Err(e) = crate::config::SavedSession::from_spec(&name, &spec) {
        app.status = Some(format!("not added: {e}"));
        return vec![];
    }
    let proxy = match proxy_setup(proxy, None) {
        Ok(p) => p,
        Err(e) => {
            app.status = Some(format!("not added: {e}"));
            return vec![];
        }
    };
    let mut s = Session::new(name, spec).with_origin(Origin::Saved);
    s.proxy = proxy;
    app.add_session(s, None);
    app.focus = Pane::Sessions;
    app.save()
}

pub fn edit(app: &mut App, target: &TargetArgs, proxy: &ProxyArgs) -> Vec<Effect> {
    let Some(cur) = app.current() else {
        return vec![];
    };
    let (running, old_id, name) = (cur.running, cur.spec.session_id.clone(), cur.name.clone());
    if cur.proxy_client().is_some() {
        app.status = Some("a proxy client's session has its proxy's target: edit the proxy".into());
        return vec![];
    }
    let proxy = match proxy_setup(proxy, cur.proxy.clone()) {
        Ok(p) => p,
        Err(e) => {
            app.status = Some(format!("not changed: {e}"));
            return vec![];
        }
    };
    if running {
        app.status = Some("disconnect first (x), then :edit".into());
        return vec![];
    }
    let mut spec = match resolve_in(app, target) {
        Ok(s) => s,
        Err(e) => {
            app.status = Some(format!("not changed: {e}"));
            return vec![];
        }
    };
    if target.session_id.is_none() && !target.new_session_id {
        spec.session_id = old_id;
    }
    if let Err(e) = crate::config::SavedSession::from_spec(&name, &spec) {
        app.status = Some(format!("not changed: {e}"));
        return vec![];
    }
    if let Some(s) = app.current_mut() {
        s.target = spec.target.describe();
        s.spec = spec;
        s.proxy = proxy;
    }
    app.save()
}

pub fn rename(app: &mut App, name: &str) -> Vec<Effect> {
    match unique_name(app, name) {
        Ok(n) => {
            if let Some(s) = app.current_mut() {
                s.name = n;
            }
            app.save()
        }
        Err(e) => {
            app.status = Some(e);
            vec![]
        }
    }
}

pub fn dup(app: &mut App, name: &str) -> Vec<Effect> {
    let name = match unique_name(app, name) {
        Ok(n) => n,
        Err(e) => {
            app.status = Some(e);
            return vec![];
        }
    };
    let Some(mut spec) = app.current().map(|s| s.spec.clone()) else {
        return vec![];
    };
    spec.session_id = Some(app.new_session_id());
    let at = app.selected + 1;
    app.add_session(
        Session::new(name, spec).with_origin(Origin::Saved),
        Some(at),
    );
    app.save()
}

/// Delete the selected session, stopping its connection and its container logs reader.
pub fn remove_selected(app: &mut App) -> Vec<Effect> {
    match app.selected_id() {
        Some(id) => remove(app, id),
        None => vec![],
    }
}

/// Delete session `id`, stopping its connection and its container logs reader.
pub fn remove(app: &mut App, id: usize) -> Vec<Effect> {
    let Some(i) = app.sessions.iter().position(|s| s.id == id) else {
        return vec![];
    };
    let s = app.sessions.remove(i);
    if i < app.selected {
        app.selected -= 1;
    }
    app.selected = app.selected.min(app.sessions.len().saturating_sub(1));
    app.status = Some(format!("deleted session {:?}", s.name));
    let mut out = Vec::new();
    if s.running {
        out.push(Effect::ToSession(s.id, SessionCommand::Shutdown));
    }
    if s.container_logs.as_ref().is_some_and(|l| l.running) {
        out.push(Effect::StopContainerLogs { id: s.id });
    }
    if s.saved() {
        out.extend(app.save());
    }
    out
}

pub fn connect(app: &mut App) -> Vec<Effect> {
    actions::run(app, Action::Connect)
}

pub fn reconnect(app: &mut App, new_id: bool) -> Vec<Effect> {
    actions::run(
        app,
        if new_id {
            Action::ReconnectNew
        } else {
            Action::Reconnect
        },
    )
}

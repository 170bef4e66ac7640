//! The session form: create or edit a session in the console, validated by the same resolver the
//! command line uses, errors shown in the form (nothing is saved until it is valid).

use crate::app::proxy::ProxySetup;
use crate::app::{App, Effect, Origin, Session};
use crate::engine::target::{ConnectSpec, IdSource, ResolveEnv, Target, TargetArgs, resolve};
use crate::keymap::Action;
use crate::keymap::typed_char;
use crossterm::event::{KeyCode, KeyEvent};

pub const FIELDS: [&str; 10] = [
    "name",
    "kind",
    "url",
    "endpoint",
    "agent",
    "route",
    "port",
    "agent_session_id",
    "auth",
    "listen",
];

/// Which fields a kind uses (the rest are shown dimmed and ignored).
pub fn used(kind: &str, field: &str) -> bool {
    match field {
        "name" | "kind" | "agent_session_id" | "auth" | "listen" => true,
        "url" => kind == "url",
        "endpoint" | "agent" | "route" => kind == "foundry",
        "port" => kind == "local",
        _ => false,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionForm {
    /// The session being edited (its id), or None for a new one.
    pub editing: Option<usize>,
    pub values: Vec<String>,
    pub focus: usize,
    pub error: Option<String>,
    /// A proxy session's `--allow-origin`s and `--allow-remote`, kept through an edit (the form
    /// has no field for them; `:edit` sets them).
    pub proxy_keep: (Vec<String>, bool),
}

impl SessionForm {
    pub fn new_session() -> Self {
        let mut values = vec![String::new(); FIELDS.len()];
        values[1] = "url".into();
        values[5] = "ga".into();
        values[8] = "auto".into();
        SessionForm {
            editing: None,
            values,
            focus: 0,
            error: None,
            proxy_keep: (Vec::new(), false),
        }
    }

    pub fn edit(id: usize, name: &str, spec: &ConnectSpec, proxy: Option<&ProxySetup>) -> Self {
        let mut f = Self::new_session();
        f.editing = Some(id);
        f.values[0] = name.to_string();
        f.values[1] = spec.target.kind().into();
        match &spec.target {
            Target::Url { url } => f.values[2] = url.clone(),
            Target::Foundry {
                endpoint,
                agent,
                route,
                ..
            } => {
                f.values[3] = endpoint.https_url.clone();
                f.values[4] = agent.clone();
                f.values[5] = route.as_str().into();
            }
            Target::Local { port, .. } => f.values[6] = port.to_string(),
        }
        f.values[7] = spec.session_id.clone().unwrap_or_default();
        f.values[8] = spec.auth.spec();
        if let Some(p) = proxy {
            f.values[9] = p.listen.clone();
            f.proxy_keep = (p.allow_origins.clone(), p.allow_remote);
        }
        f
    }

    pub fn value(&self, field: &str) -> &str {
        FIELDS
            .iter()
            .position(|f| *f == field)
            .map(|i| self.values[i].as_str())
            .unwrap_or_default()
    }

    /// The kind field cycles through its three values instead of taking text.
    pub fn cycle_kind(&mut self) {
        self.values[1] = match self.values[1].as_str() {
            "url" => "local",
            "local" => "foundry",
            _ => "url",
        }
        .into();
    }

    /// Validate and build the session: (name, spec, the proxy's setup when `listen` is given),
    /// or what is wrong.
    pub fn build(
        &self,
        env: &ResolveEnv,
        ids: &mut dyn IdSource,
    ) -> Result<(String, ConnectSpec, Option<ProxySetup>), String> {
        let name = self.value("name").trim().to_string();
        if name.is_empty() {
            return Err("name: a session needs a name".into());
        }
        let kind = self.value("kind");
        let mut args = TargetArgs {
            route: self.value("route").trim().to_string(),
            preview_flag: "query".into(),
            ..Default::default()
        };
        match kind {
            "url" => args.url = Some(self.value("url").trim().to_string()),
            "local" => {
                args.local = true;
                let p = self.value("port").trim();
                if !p.is_empty() {
                    args.port = Some(
                        p.parse()
                            .map_err(|_| format!("port: {p:?} is not a port number"))?,
                    );
                }
            }
            _ => {
                args.endpoint = Some(self.value("endpoint").trim().to_string());
                args.agent = Some(self.value("agent").trim().to_string());
            }
        }
        let id = self.value("agent_session_id").trim();
        if !id.is_empty() {
            args.session_id = Some(id.to_string());
        }
        let auth = self.value("auth").trim();
        if !auth.is_empty() {
            args.auth = Some(auth.to_string());
        }
        let mut spec = resolve(&args, None, env, ids).map_err(|e| e.to_string())?;
        if spec.session_id.is_none() {
            spec.session_id = Some(ids.session_id());
        }
        crate::config::SavedSession::from_spec(&name, &spec).map_err(|e| e.to_string())?;
        let listen = self.value("listen").trim();
        let proxy = if listen.is_empty() {
            None
        } else {
            let (origins, remote) = self.proxy_keep.clone();
            Some(ProxySetup::new(listen, origins, remote).map_err(|e| format!("listen: {e}"))?)
        };
        Ok((name, spec, proxy))
    }
}

/// Keys in the form: its table's actions; other keys type into the focused field.
pub fn on_key(app: &mut App, action: Option<Action>, key: KeyEvent) -> Vec<Effect> {
    let Some(f) = app.layers.form.as_mut() else {
        return vec![];
    };
    let on_choice = FIELDS[f.focus] == "kind";
    match action {
        Some(Action::QuitNow) => return vec![Effect::Quit],
        Some(Action::Cancel) => app.layers.form = None,
        Some(Action::NextField) => f.focus = (f.focus + 1) % FIELDS.len(),
        Some(Action::PrevField) => f.focus = (f.focus + FIELDS.len() - 1) % FIELDS.len(),
        Some(Action::CycleChoice) if on_choice => f.cycle_kind(),
        Some(Action::Submit) => return submit(app),
        _ => match key.code {
            // The kind takes no text: any letter changes it, and nothing erases it.
            KeyCode::Char(_) if on_choice => f.cycle_kind(),
            KeyCode::Backspace if on_choice => {}
            KeyCode::Backspace => {
                f.values[f.focus].pop();
            }
            _ if let Some(c) = typed_char(&key) => f.values[f.focus].push(c),
            _ => {}
        },
    }
    vec![]
}

fn submit(app: &mut App) -> Vec<Effect> {
    let env = app.resolve_env_for_kept();
    let Some(f) = app.layers.form.as_mut() else {
        return vec![];
    };
    let (name, spec, proxy) = match f.build(&env, app.ids.as_mut()) {
        Ok(v) => v,
        Err(e) => {
            f.error = Some(e);
            return vec![];
        }
    };
    let editing = f.editing;
    let taken = app
        .sessions
        .iter()
        .any(|s| s.name == name && Some(s.id) != editing);
    if taken {
        f.error = Some(format!("name: a session named {name:?} exists already"));
        return vec![];
    }
    app.layers.form = None;
    match editing.and_then(|id| app.sessions.iter().position(|s| s.id == id)) {
        Some(i) => {
            if app.sessions[i].running {
                app.status = Some("saved; the change applies at the next connect".into());
            }
            let s = &mut app.sessions[i];
            s.name = name;
            s.target = spec.target.describe();
            s.spec = spec;
            s.origin = Origin::Saved;
            s.proxy = proxy;
        }
        None => {
            let mut s = Session::new(name, spec).with_origin(Origin::Saved);
            s.proxy = proxy;
            app.add_session(s, None)
        }
    }
    app.save()
}

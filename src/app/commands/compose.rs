//! `:set`, `:unset`, `:snip` and `:like`: what the composer starts from.

use crate::app::picker::{self, Picker};
use crate::app::{App, Effect};

const BUILT_IN: [&str; 4] = ["session_id", "uuid", "now", "seq"];

pub fn set(app: &mut App, name: String, value: String) -> Vec<Effect> {
    let ok = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok || BUILT_IN.contains(&name.as_str()) {
        app.status = Some(format!(
            "{name:?}: a variable name is letters, digits and _, and not a built-in"
        ));
        return vec![];
    }
    let Some(s) = app.current_mut() else {
        return vec![];
    };
    s.vars.insert(name.clone(), value);
    let saved = s.saved();
    app.status = Some(format!("{{{{{name}}}}} set"));
    if saved { app.save() } else { vec![] }
}

pub fn unset(app: &mut App, name: &str) -> Vec<Effect> {
    let Some(s) = app.current_mut() else {
        return vec![];
    };
    s.vars.remove(name);
    let saved = s.saved();
    if saved { app.save() } else { vec![] }
}

/// Load an item into the composer and open it.
fn load(app: &mut App, item: &picker::Item) {
    app.composer.set_text(item.mode, &item.text);
    app.layers.composing = true;
}

pub fn snip(app: &mut App, action: &str, name: Option<String>, global: bool) -> Vec<Effect> {
    let session = app.current().map(|s| s.name.clone());
    match (action, name) {
        ("save", Some(name)) => {
            let text = app.composer.text();
            if text.trim().is_empty() {
                app.status = Some("the composer is empty: write the frame first".into());
                return vec![];
            }
            let owner = if global { None } else { session };
            app.snippets
                .retain(|s| !(s.name == name && s.session == owner));
            app.snippets.push(crate::config::Snippet {
                name: name.clone(),
                mode: picker::mode_name(app.composer.mode).into(),
                text,
                session: owner.clone(),
            });
            app.status = Some(format!(
                "snippet {name:?} saved ({})",
                owner
                    .map(|o| format!("session {o}"))
                    .unwrap_or_else(|| "global".into())
            ));
            vec![Effect::SaveSnippets(app.snippets.clone())]
        }
        ("save" | "rm", None) => {
            app.status = Some(format!(":snip {action} NAME"));
            vec![]
        }
        ("rm", Some(name)) => {
            let before = app.snippets.len();
            app.snippets
                .retain(|s| !(s.name == name && (s.session.is_none() || s.session == session)));
            if app.snippets.len() == before {
                app.status = Some(format!("no snippet {name:?}"));
                return vec![];
            }
            vec![Effect::SaveSnippets(app.snippets.clone())]
        }
        ("list", _) => {
            app.layers.picker = Some(picker::snippets(&app.snippets, session.as_deref()));
            vec![]
        }
        (other, _) => {
            // `:snip NAME` loads it at once.
            let found = app
                .snippets
                .iter()
                .filter(|s| s.name == other)
                .max_by_key(|s| s.session == session)
                .map(|s| picker::Item {
                    label: s.name.clone(),
                    mode: picker::mode_from(&s.mode),
                    text: s.text.clone(),
                });
            match found {
                Some(item) => load(app, &item),
                None => app.status = Some(format!("no snippet {other:?} (:snip lists them)")),
            }
            vec![]
        }
    }
}

/// `:like` lists a template per message type seen; `:like TYPE` loads one at once.
pub fn like(app: &mut App, kind: Option<String>) -> Vec<Effect> {
    let Some(s) = app.current() else {
        return vec![];
    };
    let items = picker::templates(s);
    if items.is_empty() {
        app.status = Some("no JSON message with a type field in this session yet".into());
        return vec![];
    }
    let mut p = Picker::new("New frame like… (message types seen)", items);
    match kind {
        Some(k) => {
            p.query = k;
            match p.chosen().cloned() {
                Some(item) => load(app, &item),
                None => {
                    app.status = Some(format!("no message type like {:?} seen yet", p.query));
                }
            }
        }
        None => app.layers.picker = Some(p),
    }
    vec![]
}

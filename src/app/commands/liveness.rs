//! `:logs`, `:ping`, `:pings` and `:autoreconnect`: watching a session stay alive, and reading
//! its container when it does not.

use super::HideShow;
use crate::app::container_logs::{self, StartedBy};
use crate::app::reconnect::MAX_ATTEMPTS;
use crate::app::{App, Effect, actions};
use crate::engine::session::SessionCommand;
use std::time::Duration;

pub fn logs(app: &mut App, what: &[String]) -> Vec<Effect> {
    let Some(id) = app.selected_id() else {
        return vec![];
    };
    // The words were split like a shell would; a command template needs them back.
    let what = (!what.is_empty()).then(|| {
        shlex::try_join(what.iter().map(String::as_str)).unwrap_or_else(|_| what.join(" "))
    });
    match what.as_deref() {
        Some("stop") => container_logs::stop(app, id),
        None | Some("start") => container_logs::start(app, id, StartedBy::User),
        Some(src) => match crate::monitor::MonitorSource::parse(src) {
            Ok(source) => {
                if let Some(s) = app.by_id_mut(id) {
                    s.container_logs_source = Some(source);
                }
                container_logs::start(app, id, StartedBy::User)
            }
            Err(e) => {
                app.status = Some(e.to_string());
                vec![]
            }
        },
    }
}

pub fn ping(app: &mut App, every: Option<Duration>) -> Vec<Effect> {
    let Some(s) = app.current_mut() else {
        return vec![];
    };
    s.spec.ping_interval = every;
    let (id, running, saved) = (s.id, s.running, s.saved());
    app.status = Some(match every {
        Some(d) => format!(
            "keepalive ping every {:.1} s (round trips on the pong rows; :pings hide hides them)",
            d.as_secs_f64()
        ),
        None => "keepalive pings off".into(),
    });
    let mut effects = Vec::new();
    if running {
        effects.push(Effect::ToSession(id, SessionCommand::Keepalive(every)));
    }
    if saved {
        effects.extend(app.save());
    }
    effects
}

pub fn pings(app: &mut App, what: HideShow) -> Vec<Effect> {
    let current = app
        .current()
        .and_then(|s| s.view.filter.as_ref().map(|f| f.source.clone()))
        .unwrap_or_default();
    let others: Vec<&str> = current
        .split(' ')
        .filter(|w| *w != "-ping" && !w.is_empty())
        .collect();
    // A jq expression runs to the end of the filter: the term goes in front.
    let text = match what {
        HideShow::Hide => std::iter::once("-ping")
            .chain(others)
            .collect::<Vec<_>>()
            .join(" "),
        HideShow::Show => others.join(" "),
    };
    actions::apply_filter(app, &text);
    vec![]
}

pub fn autoreconnect(app: &mut App, on: bool) -> Vec<Effect> {
    let Some(s) = app.current_mut() else {
        return vec![];
    };
    s.auto_reconnect.enabled = on;
    if !on {
        s.auto_reconnect.cancel();
    }
    let saved = s.saved();
    app.status = Some(if on {
        format!(
            "automatic reconnect on: after an abnormal close, with backoff 1 s … 30 s, {MAX_ATTEMPTS} attempts; x cancels a countdown"
        )
    } else {
        "automatic reconnect off".into()
    });
    if saved { app.save() } else { vec![] }
}

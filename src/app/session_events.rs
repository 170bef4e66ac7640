//! What the console does with a session's events beyond its own state: starting the container
//! logs after an abnormal close, the automatic reconnect's schedule, and the status bar's word.

use crate::app::container_logs::{self, StartedBy};
use crate::app::reconnect::MAX_ATTEMPTS;
use crate::app::{App, ConnState, Effect, Pane, Session};
use crate::engine::close::{self, Initiator};
use crate::engine::session::SessionEvent;

pub fn on_event(app: &mut App, id: usize, event: SessionEvent) -> Vec<Effect> {
    let rows = app.frame_rows();
    // An abnormal close: the frames cannot say why, the container logs can.
    let abnormal = matches!(&event, SessionEvent::Closed { info, .. }
        if !info.clean && !app.config.container_logs_quiet_codes.contains(&info.code));
    let mut effects = Vec::new();
    if abnormal
        && app.config.container_logs_on_abnormal_close
        && let Some(s) = app.by_id(id)
        && s.container_logs.as_ref().is_none_or(|l| !l.running)
    {
        effects = container_logs::start(app, id, StartedBy::AbnormalClose);
    } else if abnormal && let Some(s) = app.by_id_mut(id) {
        // Already reading: Enter in the pane goes back to this newest close.
        let next_row = s.log.len();
        if let Some(l) = s.container_logs.as_mut() {
            l.from_row = Some(next_row);
        }
    }
    // The automatic reconnect (when on): after a close we did not ask for, and again after each
    // attempt that fails, with a growing pause.
    let retry_at = match &event {
        SessionEvent::Closed { at, info } if !info.clean && info.initiator != Initiator::Client => {
            Some(*at)
        }
        SessionEvent::Failed { at, .. } => Some(*at),
        _ => None,
    };
    let opened = matches!(&event, SessionEvent::Opened { .. });
    // Events of a deleted session find nothing and are dropped.
    if let Some(s) = app.by_id_mut(id) {
        s.apply(event, rows);
        if opened {
            s.auto_reconnect.opened();
        } else if let Some(at) = retry_at
            && (s.auto_reconnect.attempt > 0 || !matches!(s.state, ConnState::Failed(_)))
        {
            s.auto_reconnect.schedule(at);
        }
    }
    if let Some(s) = app.current()
        && s.id == id
        && let Some(word) = status_word(s)
    {
        app.status = Some(word);
    }
    effects
}

/// What the status bar says after an event of the selected session, if anything.
fn status_word(s: &Session) -> Option<String> {
    let r = &s.auto_reconnect;
    if r.enabled && r.due.is_none() && r.attempt >= MAX_ATTEMPTS {
        return Some(format!(
            "{}: gave up reconnecting after {MAX_ATTEMPTS} attempts (R tries again)",
            s.name
        ));
    }
    match &s.state {
        ConnState::Failed(msg) => Some(format!("{}: {msg} (h: details)", s.name)),
        ConnState::Closed { code, clean: false } => {
            let ex = close::explain(*code);
            let logs = if s.container_logs.is_some() {
                " (l: logs)"
            } else {
                ""
            };
            Some(format!(
                "{}: {code} {}{logs} — {}",
                s.name, ex.name, ex.likely_cause
            ))
        }
        _ => None,
    }
}

/// A capture was read: it opens as a read-only session.
pub fn capture_opened(
    app: &mut App,
    name: String,
    result: Result<Box<crate::capture::Capture>, String>,
) {
    match result {
        Ok(cap) => {
            app.add_session(Session::from_capture(&name, &cap), None);
            app.focus = Pane::Frames;
            let rows = app.frame_rows();
            if let Some(s) = app.current_mut() {
                s.keep_cursor_visible(rows);
            }
            app.status = Some(match cap.warnings.first() {
                None => format!("opened {name} (read-only)"),
                Some(first) => format!(
                    "opened {name} with {} warning(s): {first}",
                    cap.warnings.len()
                ),
            });
        }
        Err(e) => app.status = Some(e),
    }
}

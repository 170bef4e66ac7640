//! What each pane-level action does, one function per group: moving and focus, sessions, the
//! frame log (filter, search, copy, compose), views, and quitting.

use crate::app::container_logs;
use crate::app::frames::Move;
use crate::app::layers::{Overlay, PromptKind, open_prompt};
use crate::app::{App, ConnState, DetailView, Effect, Pane, TimeMode, form};
use crate::engine::session::SessionCommand;
use crate::keymap::Action;
use crate::store::RowKind;

pub fn run(app: &mut App, action: Action) -> Vec<Effect> {
    use Action as A;
    match action {
        // In the vocabulary pane "like this" means like the selected type, not a frame.
        A::ComposeLike if app.focus == Pane::Vocab => crate::app::vocab::compose_like_selected(app),
        A::Up | A::Down | A::PageUp | A::PageDown | A::Top | A::Bottom => {
            move_in(app, action);
            vec![]
        }
        // Esc on a capture still being read stops the reading first.
        A::Back if let Some(effects) = crate::app::opening::stop(app) => effects,
        A::NextPane | A::PrevPane | A::Back => {
            focus(app, action);
            vec![]
        }
        A::Connect
        | A::Disconnect
        | A::Reconnect
        | A::ReconnectNew
        | A::AddSession
        | A::EditSession
        | A::DeleteSession => sessions(app, action),
        A::Filter
        | A::Search
        | A::SearchNext
        | A::SearchPrev
        | A::Copy
        | A::Compose
        | A::ComposeLike
        | A::OpenDetail
        | A::CommandLine => frames(app, action),
        A::Help | A::Handshake | A::ToggleTime | A::NextView | A::Wrap => {
            views(app, action);
            vec![]
        }
        A::ContainerLogs => container_logs::toggle(app),
        A::Vocabulary => crate::app::vocab::toggle(app),
        A::FilterType => crate::app::vocab::filter_to_selected(app),
        A::Mark => {
            let Some(s) = app.current_mut() else {
                return vec![];
            };
            let at = s.selected_row_index();
            s.mark = if s.mark == at { None } else { at };
            app.status = Some(match s.mark {
                Some(i) => format!(
                    "marked row {}: the mark and the cursor make a range (:wav FILE)",
                    i + 1
                ),
                None => "mark cleared".into(),
            });
            vec![]
        }
        A::ToggleLatency => {
            app.show_latency = !app.show_latency;
            app.status = Some(if app.show_latency {
                "reply column on: time to the first / last reply of each sent frame".into()
            } else {
                "reply column off".into()
            });
            vec![]
        }
        A::JumpToClose => {
            container_logs::jump_to_close(app);
            vec![]
        }
        A::ReplayStep => match app.selected_id() {
            Some(id) => vec![Effect::ReplayControl {
                id,
                ctl: crate::app::ReplayCtl::Step,
            }],
            None => vec![],
        },
        A::Quit => {
            if app.something_to_lose() {
                app.layers.overlay = Some(Overlay::ConfirmQuit);
                vec![]
            } else {
                vec![Effect::Quit]
            }
        }
        A::QuitNow => vec![Effect::Quit],
        // Editor and dialog actions reach their own layers, never a pane.
        _ => vec![],
    }
}

fn move_in(app: &mut App, action: Action) {
    let m = match action {
        Action::Up => Move::Up,
        Action::Down => Move::Down,
        Action::PageUp => Move::PageUp,
        Action::PageDown => Move::PageDown,
        Action::Top => Move::Top,
        _ => Move::Bottom,
    };
    let rows = app.frame_rows();
    match app.focus {
        Pane::Sessions => {
            let n = app.sessions.len();
            if n == 0 {
                return;
            }
            app.selected = match m {
                Move::Up => app.selected.saturating_sub(1),
                Move::Down => (app.selected + 1).min(n - 1),
                Move::Top | Move::PageUp => 0,
                _ => n - 1,
            };
            app.detail.scroll = 0;
        }
        Pane::Frames => {
            if let Some(s) = app.current_mut() {
                s.move_cursor(m, rows);
                app.detail.scroll = 0;
            }
        }
        Pane::Vocab => crate::app::vocab::move_cursor(app, m),
        Pane::Logs => {
            let lrows = app.container_log_rows();
            if let Some(l) = app.current_mut().and_then(|s| s.container_logs.as_mut()) {
                l.move_cursor(m, lrows);
            }
        }
        Pane::Detail => {
            let d = &mut app.detail.scroll;
            *d = match m {
                Move::Up => d.saturating_sub(1),
                Move::Down => *d + 1,
                Move::PageUp => d.saturating_sub(rows),
                Move::PageDown => *d + rows,
                Move::Top => 0,
                Move::Bottom => usize::MAX / 2,
            };
        }
    }
}

fn focus(app: &mut App, action: Action) {
    if action == Action::Back {
        app.focus = Pane::Frames;
        return;
    }
    // The cycle: the panes on screen, in reading order.
    let mut cycle = vec![Pane::Sessions, Pane::Frames];
    if app.vocab_shown() {
        cycle.push(Pane::Vocab);
    } else {
        cycle.push(Pane::Detail);
        if app.container_logs_shown() {
            cycle.push(Pane::Logs);
        }
    }
    let at = cycle.iter().position(|p| *p == app.focus).unwrap_or(1);
    let n = cycle.len();
    app.focus = if action == Action::NextPane {
        cycle[(at + 1) % n]
    } else {
        cycle[(at + n - 1) % n]
    };
}

const READ_ONLY: &str = "a capture opened from a file is read-only";
const CLIENTS_OWN: &str = "this connection is its client's, relayed by the proxy above: reconnect from the client (each connection is a session of its own)";

fn sessions(app: &mut App, action: Action) -> Vec<Effect> {
    let Some(s) = app.current() else {
        if action == Action::AddSession {
            app.layers.form = Some(form::SessionForm::new_session());
        }
        return vec![];
    };
    let (id, running, read_only, state) = (s.id, s.running, s.read_only(), s.state.clone());
    let (client, proxy) = (s.proxy_client().is_some(), s.proxy.is_some());
    match action {
        Action::Connect | Action::Reconnect | Action::ReconnectNew | Action::EditSession
            if client =>
        {
            app.status = Some(CLIENTS_OWN.into());
        }
        Action::Reconnect | Action::ReconnectNew if proxy && running => {
            app.status = Some("the proxy is listening: x stops it, c starts it again".into());
        }
        Action::Disconnect if proxy && state == ConnState::Listening => {
            return vec![Effect::ToSession(id, SessionCommand::Shutdown)];
        }
        Action::Connect => {
            app.focus = Pane::Frames;
            if read_only {
                app.status = Some(READ_ONLY.into());
            } else if !running {
                return vec![Effect::Connect(id)];
            } else if matches!(state, ConnState::Closed { .. } | ConnState::Failed(_)) {
                return vec![Effect::ToSession(
                    id,
                    SessionCommand::Reconnect { new_id: false },
                )];
            }
        }
        Action::Disconnect => {
            if let Some(s) = app.current_mut()
                && s.auto_reconnect.cancel()
            {
                app.status = Some(format!("{}: automatic reconnect cancelled", s.name));
                return vec![];
            }
            if matches!(state, ConnState::Open) {
                return vec![Effect::ToSession(
                    id,
                    SessionCommand::Close {
                        code: 1000,
                        reason: String::new(),
                    },
                )];
            }
            app.status = Some("not connected".into());
        }
        Action::Reconnect | Action::ReconnectNew => {
            let new_id = action == Action::ReconnectNew;
            if let Some(s) = app.current_mut() {
                s.auto_reconnect.due = None;
            }
            if read_only {
                app.status = Some(READ_ONLY.into());
                return vec![];
            }
            if !running {
                if new_id {
                    let fresh = app.new_session_id();
                    if let Some(s) = app.current_mut() {
                        s.spec.session_id = Some(fresh);
                    }
                }
                return vec![Effect::Connect(id)];
            }
            app.status = Some(if new_id {
                "reconnecting with a new agent_session_id".into()
            } else {
                "reconnecting with the same agent_session_id".into()
            });
            return vec![Effect::ToSession(id, SessionCommand::Reconnect { new_id })];
        }
        Action::AddSession => app.layers.form = Some(form::SessionForm::new_session()),
        // A capture has no target to edit (and editing it would make it connectable).
        Action::EditSession if read_only => app.status = Some(READ_ONLY.into()),
        Action::EditSession => {
            if let Some(s) = app.current() {
                app.layers.form = Some(form::SessionForm::edit(
                    s.id,
                    &s.name,
                    &s.spec,
                    s.proxy.as_ref(),
                ));
            }
        }
        Action::DeleteSession => app.layers.overlay = Some(Overlay::ConfirmDelete { id }),
        _ => {}
    }
    vec![]
}

fn frames(app: &mut App, action: Action) -> Vec<Effect> {
    match action {
        Action::Filter => {
            let text = app
                .current()
                .and_then(|s| s.view.filter.as_ref())
                .map(|f| f.source.clone())
                .unwrap_or_default();
            open_prompt(app, PromptKind::Filter, text);
        }
        Action::Search => {
            let text = app.search.clone().unwrap_or_default();
            open_prompt(app, PromptKind::Search, text);
        }
        Action::CommandLine => open_prompt(app, PromptKind::Command, String::new()),
        Action::SearchNext => search_step(app, true),
        Action::SearchPrev => search_step(app, false),
        Action::Copy => return copy(app),
        Action::Compose => app.layers.composing = true,
        Action::ComposeLike => {
            // "A new frame like this one": the selected frame into the composer.
            if let Some(RowKind::Frame(f)) =
                app.current().and_then(|s| s.selected_row()).map(|r| r.kind)
            {
                let (op, payload) = (f.opcode, f.payload.clone());
                app.composer.load_frame(op, &payload);
                app.layers.composing = true;
            }
        }
        Action::OpenDetail => {
            app.focus = Pane::Detail;
            app.detail.scroll = 0;
        }
        _ => {}
    }
    vec![]
}

fn copy(app: &mut App) -> Vec<Effect> {
    let text = if app.focus == Pane::Logs {
        app.current()
            .and_then(|s| s.container_logs.as_ref())
            .and_then(|l| l.lines.get(l.cursor))
            .map(|line| line.text.clone())
    } else {
        app.current()
            .and_then(|s| s.selected_row())
            .map(|row| match &row.kind {
                RowKind::Frame(f) => match f.text() {
                    Some(t) => t.to_string(),
                    None => hex::encode(&f.payload),
                },
                RowKind::Event { text, .. } => text.clone(),
            })
    };
    let Some(text) = text else { return vec![] };
    app.status = Some(format!(
        "copied {} characters (OSC 52)",
        text.chars().count()
    ));
    vec![Effect::Copy(text)]
}

fn views(app: &mut App, action: Action) {
    match action {
        Action::Help => {
            app.layers.help_scroll = 0;
            app.layers.overlay = Some(Overlay::Help);
        }
        Action::Handshake => app.layers.overlay = Some(Overlay::Handshake),
        Action::ToggleTime => {
            app.time_mode = match app.time_mode {
                TimeMode::Relative => TimeMode::Absolute,
                TimeMode::Absolute => TimeMode::Relative,
            }
        }
        Action::NextView => {
            let at = DetailView::CYCLE
                .iter()
                .position(|v| *v == app.detail.view)
                .unwrap_or(0);
            app.detail.view = DetailView::CYCLE[(at + 1) % DetailView::CYCLE.len()];
            app.status = Some(format!("detail view: {}", app.detail.view.decoder().name()));
            app.detail.scroll = 0;
        }
        Action::Wrap => app.detail.wrap = !app.detail.wrap,
        _ => {}
    }
}

/// Apply (or with empty text clear) the selected session's filter.
pub fn apply_filter(app: &mut App, text: &str) {
    let rows = app.frame_rows();
    let Some(s) = app.current_mut() else { return };
    let clearing = text.trim().is_empty();
    match s.set_filter(text, rows) {
        Ok(()) if clearing => app.status = Some("filter cleared".into()),
        Ok(()) => {}
        Err(e) => app.status = Some(format!("filter not applied: {e}")),
    }
}

/// Move to the next (or previous) row that holds the search text: in the container logs when
/// they are focused, else in the frame log.
pub fn search_step(app: &mut App, forward: bool) {
    let Some(needle) = app.search.clone().map(|n| n.to_lowercase()) else {
        app.status = Some("no search yet: / to search".into());
        return;
    };
    if app.focus == Pane::Logs {
        let lrows = app.container_log_rows();
        let Some(l) = app.current_mut().and_then(|s| s.container_logs.as_mut()) else {
            return;
        };
        app.status = Some(match l.find(&needle, forward) {
            Some(i) => {
                l.select(i, lrows);
                format!("/{needle}: log line {} of {}", i + 1, l.lines.len())
            }
            None => format!("/{needle}: no match in the logs"),
        });
        return;
    }
    let Some(s) = app.current_mut() else { return };
    if s.view_len() == 0 {
        return;
    }
    s.start_search(crate::needle::Needle::new(&needle), forward);
    super::search::run_slice(app, app.selected);
}

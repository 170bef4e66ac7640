//! The status bar: a prompt while one is open, otherwise the focused pane's keys and the
//! problem to report, if any.

use crate::app::layers::{Active, active, keymap_layer};
use crate::app::{App, ConnState, Pane};
use crate::engine::close::explain;
use crate::keymap::{Action, Layer};
use crate::ui::summary::clip;
use crate::ui::theme::Theme;
use crate::ui::widgets::state_glyph;
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub(super) fn draw_status(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
    if let Some(p) = &app.layers.prompt {
        let (label, hint) = match p.kind {
            crate::app::PromptKind::Filter => (
                " FILTER ",
                "in/out · op:text|binary|… · words · .jq (e.g. .type == \"pong\")".to_string(),
            ),
            crate::app::PromptKind::Search => (
                " SEARCH ",
                format!(
                    "{} next · {} previous",
                    app.keymap.keys_text(Layer::Global, Action::SearchNext),
                    app.keymap.keys_text(Layer::Global, Action::SearchPrev)
                ),
            ),
            crate::app::PromptKind::Command => (" : ", crate::app::commands::summary()),
        };
        let hint = format!("   {} · {hint}", key_hints(app));
        let line = Line::from(vec![
            Span::styled(label, t.selection),
            Span::raw(" "),
            Span::styled(format!("{}▏", p.text), t.base),
            Span::styled(hint, t.dim),
        ]);
        c.render_widget(Paragraph::new(line), area);
        return;
    }
    let pane = match active(app) {
        Active::Composer => "COMPOSE",
        Active::Form => "FORM",
        Active::Picker => "PICK",
        Active::Confirm(_) => "CONFIRM",
        Active::Prompt | Active::Info(_) | Active::Pane(_) => match app.focus {
            Pane::Sessions => "SESSIONS",
            Pane::Frames => "FRAMES",
            Pane::Detail => "DETAIL",
            Pane::Logs => "LOGS",
            Pane::Vocab => "VOCAB",
        },
    };
    let hints = key_hints(app);
    let hints = hints.as_str();
    let mut spans = vec![
        Span::styled(format!(" {pane} "), t.selection),
        Span::raw(" "),
    ];
    let problem = app.status.clone().or_else(|| {
        app.current().and_then(|s| match &s.state {
            ConnState::Closed { code, clean: false } => {
                let logs = if s.container_logs.is_some() {
                    " (l: logs)"
                } else {
                    ""
                };
                Some(format!("{code}{logs} — {}", explain(*code).likely_cause))
            }
            ConnState::Failed(m) => Some(m.clone()),
            _ => None,
        })
    });
    // Without a problem to report, the bar says where things stand: session, state, filter.
    let (msg, msg_style) = match problem {
        Some(m) => (Some(m), t.warn),
        None => (
            app.current().map(|s| {
                let filter = s
                    .view
                    .filter
                    .as_ref()
                    .map(|f| format!(" · filter: {}", f.source))
                    .unwrap_or_default();
                let rec = s
                    .recording
                    .as_ref()
                    .map(|p| format!(" · ● rec {}", p.display()))
                    .unwrap_or_default();
                format!(
                    "{} {} {}{filter}{rec}",
                    state_glyph(&s.state),
                    s.name,
                    s.state.word()
                )
            }),
            t.dim,
        ),
    };
    let w = area.width as usize;
    match msg {
        Some(m) => {
            let room = w.saturating_sub(pane.len() + 3);
            let hint_room = room.saturating_sub(m.chars().count() + 3);
            if hint_room > 20 {
                spans.push(Span::styled(clip(hints, hint_room), t.dim));
                spans.push(Span::raw("   "));
            }
            spans.push(Span::styled(clip(&m, room), msg_style));
        }
        None => spans.push(Span::styled(
            clip(hints, w.saturating_sub(pane.len() + 3)),
            t.dim,
        )),
    }
    c.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The keys of what has the keyboard, from the key table: its own actions first, then (for a
/// pane) the global ones.
fn key_hints(app: &App) -> String {
    let layer = keymap_layer(app);
    let mut hints = app.keymap.hints(layer);
    // Only a proxy client's conversation has a second end to write to.
    if app.current().is_none_or(|s| s.proxy_client().is_none()) {
        let toward = crate::keymap::Action::ToggleToward.short();
        hints.retain(|(_, label)| Some(*label) != toward);
    }
    if matches!(active(app), Active::Pane(_)) {
        // A global action the pane binds itself is hinted once, with the pane's key.
        let global = app.keymap.hints(Layer::Global);
        let own: Vec<&str> = hints.iter().map(|(_, label)| *label).collect();
        let global: Vec<_> = global
            .into_iter()
            .filter(|(_, l)| !own.contains(l))
            .collect();
        hints.extend(global);
    }
    hints
        .iter()
        .map(|(key, label)| format!("{key} {label}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

//! The status bar: a prompt while one is open, otherwise the focused pane's keys and the
//! problem to report, if any.

use crate::app::{App, ConnState, Pane};
use crate::engine::close::explain;
use crate::ui::summary::clip;
use crate::ui::theme::Theme;
use crate::ui::widgets::state_glyph;
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub(super) fn draw_status(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
    if let Some(p) = &app.prompt {
        let (label, hint) = match p.kind {
            crate::app::PromptKind::Filter => (
                " FILTER ",
                "   in/out · op:text|binary|… · words · .jq (e.g. .type == \"pong\") · Enter applies · Esc",
            ),
            crate::app::PromptKind::Search => {
                (" SEARCH ", "   Enter finds · n/N next/previous · Esc")
            }
            crate::app::PromptKind::Command => (
                " : ",
                "   add NAME TARGET · edit · rename · dup · rm · theme NAME · q · Esc",
            ),
        };
        let line = Line::from(vec![
            Span::styled(label, t.selection),
            Span::raw(" "),
            Span::styled(format!("{}▏", p.text), t.base),
            Span::styled(hint, t.dim),
        ]);
        c.render_widget(Paragraph::new(line), area);
        return;
    }
    let pane = match app.focus {
        _ if app.composing => "COMPOSE",
        Pane::Sessions => "SESSIONS",
        Pane::Frames => "FRAMES",
        Pane::Detail => "DETAIL",
        Pane::Logs => "LOGS",
    };
    let hints = match app.focus {
        _ if app.composing => {
            "Ctrl-s send · Ctrl-t text/binary · Ctrl-k ping/pong/close · Ctrl-o mode · Ctrl-f pretty/compact · Ctrl-p/n/r history · Esc"
        }
        Pane::Sessions => {
            "Enter connect · x disconnect · R reconnect · N new id · Tab pane · ? help"
        }
        Pane::Frames => {
            "j/k move · G follow · Enter detail · t time · h handshake · Tab pane · ? help"
        }
        Pane::Detail => "j/k scroll · v view · w wrap · Esc back · ? help",
        Pane::Logs => "j/k move · G follow · / search · Enter the close · l hide · ? help",
    };
    let mut spans = vec![
        Span::styled(format!(" {pane} "), t.selection),
        Span::raw(" "),
    ];
    let problem = app.status.clone().or_else(|| {
        app.current().and_then(|s| match &s.state {
            ConnState::Closed { code, clean: false } => {
                let logs = if s.logs.is_some() { " (l: logs)" } else { "" };
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

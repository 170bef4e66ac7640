//! The detail of an event row: a close is explained, an error points at the handshake.

use crate::app::App;
use crate::engine::close::explain;
use crate::store::EventKind;
use crate::ui::theme::Theme;
use ratatui::text::{Line, Span};

pub(super) fn event_detail<'a>(app: &App, kind: EventKind, text: &str, t: &Theme) -> Vec<Line<'a>> {
    let mut out = vec![Line::from(Span::styled(text.to_string(), t.base))];
    if let EventKind::Close { code, clean } = kind {
        let ex = explain(code);
        out.push(Line::from(vec![
            Span::styled("code     ", t.dim),
            Span::styled(
                format!("{code} {}", ex.name),
                if clean { t.ok } else { t.error },
            ),
        ]));
        out.push(Line::from(vec![
            Span::styled("meaning  ", t.dim),
            Span::raw(ex.meaning.to_string()),
        ]));
        out.push(Line::from(vec![
            Span::styled("likely   ", t.dim),
            Span::raw(ex.likely_cause.to_string()),
        ]));
        if let Some(c) = app.current().and_then(|s| s.last_close.as_ref()) {
            out.push(Line::from(vec![
                Span::styled("closed by ", t.dim),
                Span::raw(c.initiator.as_str().to_string()),
                Span::styled(
                    if c.clean {
                        " · clean"
                    } else {
                        " · not clean"
                    },
                    t.dim,
                ),
            ]));
        }
    }
    if matches!(kind, EventKind::Error | EventKind::Open) {
        out.push(Line::from(Span::styled(
            "h: the handshake (request, response, advice)",
            t.dim,
        )));
    }
    out
}

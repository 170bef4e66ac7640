//! The questions asked before something cannot be undone: quitting with connections open,
//! deleting a session.

use crate::app::App;
use crate::ui::theme::Theme;
use crate::ui::widgets::{centered, pane_block};
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

pub(super) fn draw_confirm(c: &mut Canvas, area: Rect, t: &Theme) {
    let r = centered(area, 52, 4);
    c.render_widget(Clear, r);
    c.render_widget(
        Paragraph::new(vec![
            Line::from("Connections are open and will be closed."),
            Line::from(Span::styled("q quits · any other key stays", t.dim)),
        ])
        .block(pane_block(" Quit? ".into(), true, t))
        .style(t.base),
        r,
    );
}

pub(super) fn draw_confirm_delete(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
    let name = app.current().map(|s| s.name.clone()).unwrap_or_default();
    let r = centered(area, 52, 4);
    c.render_widget(Clear, r);
    c.render_widget(
        Paragraph::new(vec![
            Line::from(format!("Delete session {name:?}?")),
            Line::from(Span::styled("y deletes · any other key keeps it", t.dim)),
        ])
        .block(pane_block(" Delete? ".into(), true, t))
        .style(t.base),
        r,
    );
}

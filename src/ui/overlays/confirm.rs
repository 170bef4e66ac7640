//! The questions asked before something cannot be undone: quitting with connections open,
//! deleting a session.

use crate::app::App;
use crate::keymap::{Action, Layer};
use crate::ui::theme::Theme;
use crate::ui::widgets::{centered, pane_block};
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

/// `y/enter yes · n/esc no`, from the key table.
fn answers(app: &App) -> String {
    format!(
        "{} yes · {} no",
        app.keymap.keys_text(Layer::Confirm, Action::Yes),
        app.keymap.keys_text(Layer::Confirm, Action::No)
    )
}

pub(super) fn draw_confirm(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
    let mut lines: Vec<Line> = app
        .what_would_be_lost()
        .into_iter()
        .map(|w| Line::from(format!("· {w}")))
        .collect();
    lines.insert(0, Line::from("Quitting cuts off:"));
    lines.push(Line::from(Span::styled(answers(app), t.dim)));
    let r = centered(area, 60, lines.len() as u16 + 2);
    c.render_widget(Clear, r);
    c.render_widget(
        Paragraph::new(lines)
            .block(pane_block(" Quit? ".into(), true, t))
            .style(t.base),
        r,
    );
}

pub(super) fn draw_confirm_delete(c: &mut Canvas, area: Rect, app: &App, id: usize, t: &Theme) {
    let name = app.by_id(id).map(|s| s.name.clone()).unwrap_or_default();
    let r = centered(area, 52, 4);
    c.render_widget(Clear, r);
    c.render_widget(
        Paragraph::new(vec![
            Line::from(format!("Delete session {name:?}?")),
            Line::from(Span::styled(answers(app), t.dim)),
        ])
        .block(pane_block(" Delete? ".into(), true, t))
        .style(t.base),
        r,
    );
}

//! The sessions list.

use crate::app::{App, Pane};
use crate::ui::summary::clip;
use crate::ui::theme::Theme;
use crate::ui::widgets::{pane_block, state_glyph, state_style};
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub(super) fn draw_sessions(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
    let focused = app.focus == Pane::Sessions && app.layers.overlay.is_none();
    let block = pane_block(" Sessions ".into(), focused, t);
    let inner = block.inner(area);
    c.render_widget(block, area);
    let w = inner.width as usize;
    let lines: Vec<Line> = app
        .sessions
        .iter()
        .enumerate()
        .take(inner.height as usize)
        .map(|(i, s)| {
            let countdown = s
                .auto_reconnect
                .left(app.now.saturating_sub(s.clock_base))
                .map(|l| format!("↻{l}s"));
            let word = countdown.unwrap_or_else(|| s.state.word());
            // A proxy's clients sit under it, indented.
            let indent = if s.proxy_client().is_some() {
                "└ "
            } else {
                ""
            };
            let name_w = w.saturating_sub(word.chars().count() + 3 + indent.chars().count());
            let text = format!(
                "{indent}{} {:<name_w$} {word}",
                state_glyph(&s.state),
                clip(&s.name, name_w)
            );
            let style = if i == app.selected {
                if focused {
                    t.selection
                } else {
                    t.base.add_modifier(Modifier::REVERSED)
                }
            } else {
                state_style(&s.state, t).patch(Style::default())
            };
            Line::from(Span::styled(clip(&text, w), style))
        })
        .collect();
    c.render_widget(Paragraph::new(lines), inner);
}

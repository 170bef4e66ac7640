//! The picker: a list narrowed as you type, of frames to load into the composer.

use crate::ui::summary::clip;
use crate::ui::theme::Theme;
use crate::ui::widgets::{centered, pane_block};
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

pub(super) fn draw_picker(c: &mut Canvas, area: Rect, p: &crate::app::picker::Picker, t: &Theme) {
    let visible = p.visible();
    let r = centered(
        area,
        90,
        (visible.len() as u16 + 4).clamp(6, area.height.saturating_sub(2)),
    );
    let rows = r.height.saturating_sub(4) as usize;
    let first = p.selected.saturating_sub(rows.saturating_sub(1));
    let mut lines = vec![
        Line::from(vec![
            Span::styled("filter: ", t.dim),
            Span::styled(format!("{}▏", p.query), t.base),
            Span::styled(format!("   {} of {}", visible.len(), p.items.len()), t.dim),
        ]),
        Line::from(""),
    ];
    for (i, item) in visible.iter().enumerate().skip(first).take(rows) {
        let style = if i == p.selected { t.selection } else { t.base };
        lines.push(Line::from(Span::styled(clip(&item.label, 86), style)));
    }
    if visible.is_empty() {
        lines.push(Line::from(Span::styled("nothing matches", t.dim)));
    }
    c.render_widget(Clear, r);
    c.render_widget(
        Paragraph::new(lines)
            .block(pane_block(
                format!(" {} · ↑/↓ Enter loads into the composer · Esc ", p.title),
                true,
                t,
            ))
            .style(t.base),
        r,
    );
}

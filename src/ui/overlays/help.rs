//! The help overlay: every binding, the focused pane's bright.

use crate::app::keymap::{BINDINGS, Scope};
use crate::app::{App, Pane};
use crate::ui::theme::Theme;
use crate::ui::widgets::{centered, pane_block};
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

pub(super) fn draw_help(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
    let focus_scope = match app.focus {
        Pane::Sessions => Scope::Sessions,
        Pane::Frames => Scope::Frames,
        Pane::Detail => Scope::Detail,
        Pane::Logs => Scope::Logs,
    };
    let mut lines = Vec::new();
    for b in BINDINGS {
        let here = b.scope == Scope::Anywhere
            || b.scope == focus_scope
            || (b.scope == Scope::Lists && focus_scope != Scope::Detail);
        let here = here
            || (b.scope == Scope::Frames && b.keys.starts_with('/') && focus_scope == Scope::Logs);
        let style = if here { t.base } else { t.dim };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:<26}", b.keys),
                if here { t.accent } else { t.dim },
            ),
            Span::styled(format!("{:<10}", b.scope.name()), t.dim),
            Span::styled(b.does.to_string(), style),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "Keys for the focused pane are bright. ? or Esc closes.",
        t.dim,
    )));
    // On a short terminal the footer goes first, so every binding stays visible at 80x24.
    if lines.len() + 2 > area.height as usize {
        lines.truncate(lines.len().saturating_sub(2));
    }
    let r = centered(area, 90, lines.len() as u16 + 2);
    c.render_widget(Clear, r);
    c.render_widget(
        Paragraph::new(lines)
            .block(pane_block(" Help ".into(), true, t))
            .style(t.base),
        r,
    );
}

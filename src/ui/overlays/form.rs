//! The new and edit session form.

use crate::ui::theme::Theme;
use crate::ui::widgets::{centered, pane_block};
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

pub(super) fn draw_form(c: &mut Canvas, area: Rect, f: &crate::app::form::SessionForm, t: &Theme) {
    use crate::app::form::{FIELDS, used};
    let kind = f.value("kind").to_string();
    let mut lines = Vec::new();
    for (i, field) in FIELDS.iter().enumerate() {
        let on = used(&kind, field);
        let placeholder = *field == "listen" && f.values[i].is_empty() && i != f.focus;
        let value = if *field == "kind" {
            format!("‹ {} ›  (←/→: url, local, foundry)", f.values[i])
        } else if placeholder {
            "(empty: a session; ADDR:PORT: a proxy for your own client)".to_string()
        } else {
            f.values[i].clone()
        };
        let cursor = if i == f.focus && *field != "kind" {
            "▏"
        } else {
            ""
        };
        let label_style = if i == f.focus {
            t.focus
        } else if on {
            t.accent
        } else {
            t.dim
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{field:>17}  "), label_style),
            Span::styled(
                format!("{value}{cursor}"),
                if on && !placeholder { t.base } else { t.dim },
            ),
        ]));
    }
    lines.push(Line::from(""));
    match &f.error {
        Some(e) => lines.push(Line::from(Span::styled(e.clone(), t.error))),
        None => lines.push(Line::from(Span::styled(
            "Tab/↓ next · Shift-Tab/↑ previous · Enter saves · Esc cancels · empty id = a new one",
            t.dim,
        ))),
    }
    let title = if f.editing.is_some() {
        " Edit session "
    } else {
        " New session "
    };
    // Room for an error that wraps onto a second or third line.
    let extra = f
        .error
        .as_ref()
        .map_or(0, |e| (e.chars().count() / 86) as u16);
    let r = centered(area, 90, lines.len() as u16 + 2 + extra);
    c.render_widget(Clear, r);
    c.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(pane_block(title.into(), true, t))
            .style(t.base),
        r,
    );
}

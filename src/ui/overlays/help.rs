//! The help overlay, generated from the key table and the `:` command table: the focused pane's
//! keys first and bright, then the global ones, the other layers, and the commands. It scrolls.

use crate::app::App;
use crate::app::layers::pane_layer;
use crate::keymap::{Action, Layer};
use crate::ui::theme::Theme;
use crate::ui::widgets::{centered, pane_block};
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

/// Every line of the help, the ones that apply now marked.
pub fn help_lines<'a>(app: &App, t: &Theme) -> Vec<Line<'a>> {
    let focus = pane_layer(app.focus);
    let first = [focus, Layer::Global];
    let order: Vec<Layer> = first
        .into_iter()
        .chain(Layer::ALL.iter().copied().filter(|l| !first.contains(l)))
        .collect();
    let mut lines = Vec::new();
    for layer in order {
        let here = layer == focus || layer == Layer::Global;
        let rows: Vec<_> = app
            .keymap
            .bindings()
            .iter()
            .filter(|b| b.layer == layer)
            .collect();
        if rows.is_empty() {
            continue;
        }
        lines.push(Line::from(Span::styled(
            layer.title().to_string(),
            if here { t.accent } else { t.dim },
        )));
        for b in rows {
            lines.push(Line::from(vec![
                Span::styled(
                    format!("  {:<20} ", app.keymap.keys_text(layer, b.action)),
                    if here { t.accent } else { t.dim },
                ),
                Span::styled(b.action.describe(), if here { t.base } else { t.dim }),
            ]));
        }
    }
    lines.push(Line::from(Span::styled(": commands", t.accent)));
    for (usage, about) in crate::app::commands::table() {
        lines.push(Line::from(vec![
            Span::styled(format!("  {usage}  "), t.accent),
            Span::styled(about.clone(), t.dim),
        ]));
    }
    lines
}

pub(super) fn draw_help(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
    let lines = help_lines(app, t);
    let total = lines.len();
    let room = crate::app::layers::help_rows(app);
    let scroll = app.layers.help_scroll.min(total.saturating_sub(room));
    let mut shown: Vec<Line> = lines.into_iter().skip(scroll).take(room).collect();
    shown.push(Line::from(Span::styled(
        format!(
            "keys of the focused pane are bright · {}, {} scroll ({}-{} of {total}) · {} closes",
            app.keymap.keys_text(Layer::Global, Action::Down),
            app.keymap.keys_text(Layer::Global, Action::PageDown),
            scroll + 1,
            (scroll + room).min(total),
            app.keymap.keys_text(Layer::Global, Action::Back),
        ),
        t.dim,
    )));
    let r = centered(area, 100, shown.len() as u16 + 2);
    c.render_widget(Clear, r);
    c.render_widget(
        Paragraph::new(shown)
            .block(pane_block(" Help ".into(), true, t))
            .style(t.base),
        r,
    );
}

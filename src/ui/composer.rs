//! The composer, drawn in the detail pane's place while composing.

use crate::app::App;
use crate::engine::Direction;
use crate::keymap::{Action, Layer};
use crate::ui::summary::human_bytes;
use crate::ui::theme::Theme;
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};

pub(super) fn draw_composer(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
    let comp = &app.composer;
    let send_as = comp.send_as.as_str();
    let no_vars = Default::default();
    let vars = app.current().map(|s| &s.vars).unwrap_or(&no_vars);
    let (verdict, style) = match comp.check(vars) {
        Ok(p) => (format!("✓ {}", human_bytes(p.len() as u64)), t.ok),
        Err(e) => (format!("✗ {e}"), t.error),
    };
    let mut spans = vec![Span::styled(
        format!(" Compose · {} ", comp.mode.name()),
        t.focus,
    )];
    // A proxy client's conversation has two ends to write to: say which, and how to switch.
    if app.current().is_some_and(|s| s.proxy_client().is_some()) {
        let side = match comp.toward {
            Direction::Out => "→ agent",
            Direction::In => "→ client",
        };
        let key = app.keymap.keys_text(Layer::Composer, Action::ToggleToward);
        spans.push(Span::styled(format!("{side} "), t.warn));
        spans.push(Span::styled(format!("({key} switches) "), t.dim));
    }
    spans.extend([
        Span::styled(verdict, style),
        Span::styled(
            format!(
                " · send as {send_as} · Ctrl-s send · Ctrl-t text/binary · Ctrl-k ping/pong/close · Ctrl-o mode · Esc "
            ),
            t.dim,
        ),
    ]);
    let title = Line::from(spans);
    let mut editor = comp.editor.clone();
    editor.set_block(
        Block::default()
            .borders(Borders::ALL)
            .border_style(t.focus)
            .title(title),
    );
    editor.set_style(t.base);
    editor.set_cursor_line_style(Style::default());
    c.render_widget(&editor, area);
}

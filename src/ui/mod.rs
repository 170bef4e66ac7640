//! Drawing: `draw(&App, &Theme)` reads the state and never changes it.

pub mod summary;
pub mod theme;

mod composer;
mod container_logs;
mod detail;
mod format;
mod frames;
mod overlays;
mod sessions;
mod status;
mod title;
mod vocab;
mod widgets;

pub use overlays::help_lines;

pub use format::rtt_text;

use crate::app::{App, Pane};
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;
use ratatui::widgets::Block;
use theme::Theme;

pub fn draw(c: &mut Canvas, app: &App, t: &Theme) {
    let area = c.area();
    c.render_widget(Block::default().style(t.base), area);
    let a = crate::app::layout::areas(area);
    title::draw_title(c, a.title, app, t);
    if let Some(sa) = a.sessions {
        sessions::draw_sessions(c, sa, app, t);
    }
    frames::draw_frames(c, a.log, app, t);
    // The vocabulary, when shown, takes the whole bottom: it needs the width for its fields.
    if let Some(s) = app.current().filter(|_| app.vocab_shown()) {
        vocab::draw_vocab(c, a.detail, app, s, t);
        status::draw_status(c, a.status, app, t);
        overlays::draw(c, area, app, t);
        return;
    }
    // The logs pane shares the bottom with the detail once a session has one.
    let focused = app.focus == Pane::Logs;
    match app
        .current()
        .and_then(|s| s.container_logs.as_ref())
        .filter(|l| !l.hidden)
    {
        // Focused, the logs take the whole bottom: a traceback needs the width.
        Some(logs) if a.detail.width >= 60 && !focused => {
            let left = a.detail.width * 11 / 20;
            detail::draw_detail(
                c,
                Rect {
                    width: left,
                    ..a.detail
                },
                app,
                t,
            );
            container_logs::draw_container_logs(
                c,
                Rect {
                    x: a.detail.x + left,
                    width: a.detail.width - left,
                    ..a.detail
                },
                logs,
                false,
                app.search.as_deref(),
                t,
            );
        }
        Some(logs) => container_logs::draw_container_logs(
            c,
            a.detail,
            logs,
            focused,
            app.search.as_deref(),
            t,
        ),
        None => detail::draw_detail(c, a.detail, app, t),
    }
    status::draw_status(c, a.status, app, t);
    overlays::draw(c, area, app, t);
}

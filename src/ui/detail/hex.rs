//! The hex view: any frame, with its rows computed only for the lines on screen.

use crate::app::App;
use crate::decode::hexdump;
use crate::engine::Frame;
use crate::ui::summary::human_bytes;
use crate::ui::theme::Theme;
use ratatui::text::{Line, Span};

/// The title and the lines on screen: `lines` (notes on why the frame is not shown as JSON, or
/// what its close code means) first, then as many rows of the dump as still fit.
pub(super) fn dump<'a>(
    app: &App,
    f: &Frame,
    mut lines: Vec<Line<'a>>,
    fits: &str,
    height: usize,
    t: &Theme,
) -> (String, Vec<Line<'a>>) {
    let title = format!(
        " Detail · #{} · {} {} · hex · {fits} ({}) ",
        f.seq,
        f.opcode.as_str(),
        human_bytes(f.payload.len() as u64),
        crate::ui::detail::view_key(app)
    );
    let total = hexdump::row_count(f.payload.len());
    let start = app.detail.scroll.min(total.saturating_sub(1));
    let room = height.saturating_sub(lines.len());
    lines.extend(
        hexdump::rows(&f.payload, start, room).map(|r| Line::from(Span::styled(r, t.base))),
    );
    if f.payload.is_empty() {
        lines.push(Line::from(Span::styled("(empty payload)", t.dim)));
    }
    (title, lines)
}

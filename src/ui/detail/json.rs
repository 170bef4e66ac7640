//! The JSON view of a text frame: pretty-printed, coloured, only the lines on screen.

use crate::app::App;
use crate::decode::pretty::Pretty;
use crate::engine::Frame;
use crate::ui::summary::human_bytes;
use crate::ui::theme::Theme;
use ratatui::text::{Line, Span};

/// The title and the lines on screen of `p`, the frame's payload pretty-printed.
pub(super) fn pretty<'a>(
    app: &App,
    f: &Frame,
    p: &Pretty,
    fits: &str,
    height: usize,
    t: &Theme,
) -> (String, Vec<Line<'a>>) {
    let title = format!(
        " Detail · #{} · {} {} · JSON · {fits} ({}) ",
        f.seq,
        f.opcode.as_str(),
        human_bytes(f.payload.len() as u64),
        crate::ui::detail::view_key(app)
    );
    let start = app.detail.scroll.min(p.line_count().saturating_sub(1));
    let lines = p
        .lines(start, height)
        .map(|(depth, l)| json_line(depth, l, t))
        .collect();
    (title, lines)
}

/// Indentation shown at most this deep: a frame nested thousands of levels would otherwise
/// draw every visible line as a screenful of spaces.
const MAX_INDENT: usize = 64;

/// Colour one line of pretty JSON: key, then the value by its first character.
fn json_line<'a>(depth: usize, rest: &str, t: &Theme) -> Line<'a> {
    let mut spans = vec![Span::raw(" ".repeat(depth.min(MAX_INDENT) * 2))];
    let value = if rest.starts_with('"')
        && let Some(pos) = rest.find("\": ")
    {
        spans.push(Span::styled(rest[..pos + 1].to_string(), t.json_key));
        spans.push(Span::styled(": ".to_string(), t.dim));
        &rest[pos + 3..]
    } else {
        rest
    };
    let style = match value.as_bytes().first() {
        Some(b'"') => t.json_string,
        Some(b'-' | b'0'..=b'9') => t.json_number,
        Some(b't' | b'f' | b'n') => t.json_literal,
        _ => t.dim,
    };
    spans.push(Span::styled(value.to_string(), style));
    Line::from(spans)
}

//! The JSON view of a text frame: pretty-printed, coloured, only the lines on screen.

use crate::app::App;
use crate::engine::Frame;
use crate::ui::summary::human_bytes;
use crate::ui::theme::Theme;
use ratatui::text::{Line, Span};

/// The title and the lines on screen of `p`, the frame's payload pretty-printed.
pub(super) fn pretty<'a>(
    app: &App,
    f: &Frame,
    p: &str,
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
    let total = p.lines().count();
    let start = app.detail.scroll.min(total.saturating_sub(1));
    let lines = p
        .lines()
        .skip(start)
        .take(height)
        .map(|l| json_line(l, t))
        .collect();
    (title, lines)
}

/// Colour one line of pretty JSON: key, then the value by its first character.
fn json_line<'a>(l: &str, t: &Theme) -> Line<'a> {
    let indent_len = l.len() - l.trim_start().len();
    let (indent, rest) = l.split_at(indent_len);
    let mut spans = vec![Span::raw(indent.to_string())];
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

//! A binary frame read by a structured decoder (protobuf wire format, MessagePack, CBOR): the
//! tree as indented lines, only the lines in view built.

use crate::app::App;
use crate::decode::{Decoded, DecoderKind};
use crate::engine::Frame;
use crate::ui::summary::human_bytes;
use crate::ui::theme::Theme;
use ratatui::text::{Line, Span};

pub(super) fn tree<'a>(
    app: &App,
    f: &Frame,
    d: &Decoded,
    chosen: DecoderKind,
    height: usize,
    t: &Theme,
) -> (String, Vec<Line<'a>>) {
    let how = if chosen == DecoderKind::Auto {
        format!("{} (auto)", d.kind.name())
    } else {
        d.kind.name().to_string()
    };
    let title = format!(
        " Detail · #{} · {} {} · {how} ({}) ",
        f.seq,
        f.opcode.as_str(),
        human_bytes(f.payload.len() as u64),
        super::view_key(app)
    );
    let start = app.detail.scroll.min(d.lines.len().saturating_sub(1));
    let lines = d
        .lines
        .iter()
        .skip(start)
        .take(height.max(1))
        .map(|l| {
            let indent = "  ".repeat(l.depth as usize);
            let mut spans = vec![
                Span::raw(indent),
                Span::styled(format!("{}: ", l.label), t.json_key),
                Span::styled(l.value.clone(), value_style(&l.value, t)),
            ];
            if !l.note.is_empty() {
                spans.push(Span::styled(format!("  {}", l.note), t.dim));
            }
            Line::from(spans)
        })
        .collect();
    (title, lines)
}

fn value_style(v: &str, t: &Theme) -> ratatui::style::Style {
    if v.starts_with('"') {
        t.json_string
    } else if v.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        t.json_number
    } else {
        t.base
    }
}

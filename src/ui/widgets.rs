//! The pieces panes and overlays share, so that they all look alike.

use crate::app::ConnState;
use crate::ui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};

pub(super) fn pane_block<'a>(title: String, focused: bool, t: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(if focused { t.focus } else { t.border })
        .title(Span::styled(
            title,
            if focused { t.focus } else { t.accent },
        ))
}

pub(super) fn state_glyph(s: &ConnState) -> &'static str {
    match s {
        ConnState::Open => "●",
        ConnState::Connecting => "◐",
        ConnState::Idle => "◌",
        ConnState::File => "▤",
        ConnState::Listening => "◉",
        ConnState::Closed { clean: true, .. } => "○",
        ConnState::Closed { .. } | ConnState::Failed(_) => "✖",
    }
}

pub(super) fn state_style(s: &ConnState, t: &Theme) -> Style {
    match s {
        ConnState::Open | ConnState::Listening => t.ok,
        ConnState::Connecting => t.warn,
        ConnState::Idle | ConnState::File => t.dim,
        ConnState::Closed { clean: true, .. } => t.dim,
        ConnState::Closed { .. } | ConnState::Failed(_) => t.error,
    }
}

pub(super) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

pub(super) fn kv<'a>(k: &str, v: String, t: &Theme) -> Line<'a> {
    Line::from(vec![Span::styled(format!("{k:<10}"), t.dim), Span::raw(v)])
}

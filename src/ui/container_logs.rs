//! The container logs pane: the agent's own output beside its frames, so a close can be matched
//! to the traceback that caused it.

use crate::ui::format::wrap_words;
use crate::ui::summary::clip;
use crate::ui::theme::Theme;
use crate::ui::widgets::pane_block;
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub(super) fn draw_container_logs(
    c: &mut Canvas,
    area: Rect,
    logs: &crate::app::ContainerLogs,
    focused: bool,
    search: Option<&str>,
    t: &Theme,
) {
    let state = if logs.running { "live" } else { "ended" };
    let count = if logs.lines.is_empty() {
        String::new()
    } else {
        format!(" · {}/{}", logs.cursor + 1, logs.lines.len())
    };
    let fixed = " Logs ·  · ".chars().count() + state.len() + count.chars().count() + 3;
    let title = format!(
        " Logs · {} · {state}{count} ",
        clip(
            &logs.source,
            (area.width as usize).saturating_sub(fixed).max(8)
        )
    );
    let block = pane_block(title, focused, t);
    let inner = block.inner(area);
    c.render_widget(block, area);
    let room = inner.height as usize;
    let width = inner.width as usize;
    // Why it stopped, with the advice: wrapped, up to half the pane.
    let message: Vec<String> = logs
        .message
        .as_deref()
        .map(|m| wrap_words(m, width.max(1)))
        .unwrap_or_default();
    let message = &message[..message.len().min((room / 2).max(1))];
    let reserve = message.len();
    let shown = room.saturating_sub(reserve);
    // `top` is kept for the pane's full height; the message line takes the last one.
    let start = if logs.follow {
        logs.lines.len().saturating_sub(shown)
    } else {
        logs.top.min(logs.lines.len())
    };
    let end = (start + shown).min(logs.lines.len());
    let needle = search.filter(|n| !n.is_empty()).map(str::to_lowercase);
    let mut lines: Vec<Line> = Vec::new();
    for (i, l) in logs.lines.range(start..end).enumerate() {
        let i = start + i;
        let style = match l.stream {
            crate::monitor::Stream::Stderr
                if crate::app::container_logs::looks_like_error(&l.text) =>
            {
                t.error
            }
            crate::monitor::Stream::Stderr => t.warn,
            crate::monitor::Stream::Status => t.accent,
            crate::monitor::Stream::Stdout => t.base,
        };
        let time = l.short_time();
        let time = time.get(..8).unwrap_or(time);
        let tag = match l.stream {
            crate::monitor::Stream::Stdout => "out",
            crate::monitor::Stream::Stderr => "err",
            crate::monitor::Stream::Status => "sta",
        };
        let prefix = format!("{time:<8} {tag} ");
        let text_room = width.saturating_sub(prefix.chars().count());
        let hit = needle
            .as_deref()
            .is_some_and(|n| l.text.to_lowercase().contains(n));
        let mut spans = vec![
            Span::styled(prefix, t.dim),
            Span::styled(
                clip(&l.text, text_room),
                if hit {
                    style
                        .patch(t.accent)
                        .add_modifier(ratatui::style::Modifier::UNDERLINED)
                } else {
                    style
                },
            ),
        ];
        if focused && i == logs.cursor {
            spans = spans
                .into_iter()
                .map(|sp| {
                    let st = sp.style.patch(t.selection);
                    sp.style(st)
                })
                .collect();
        }
        lines.push(Line::from(spans));
    }
    for m in message {
        lines.push(Line::from(Span::styled(m.clone(), t.dim)));
    }
    c.render_widget(Paragraph::new(lines), inner);
}

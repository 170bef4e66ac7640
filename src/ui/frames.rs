//! The frame log: one line per row, built only for the rows on screen.

use crate::app::{App, ConnState, Pane, Session, TimeMode};
use crate::engine::{Direction, Opcode};
use crate::store::{EventKind, Row, RowKind};
use crate::ui::format::rtt_text;
use crate::ui::summary::{clip, frame_summary};
use crate::ui::theme::Theme;
use crate::ui::widgets::pane_block;
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use std::time::{Duration, SystemTime};

/// `↩ 3.1/120 ms`: the first and last reply, in milliseconds.
fn reply_text(first: Duration, last: Duration) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    if first == last {
        format!("↩ {:.1} ms", ms(first))
    } else {
        format!("↩ {:.1}/{:.0} ms", ms(first), ms(last))
    }
}

fn time_text(app: &App, s: &Session, at: Duration) -> String {
    match app.time_mode {
        TimeMode::Relative => {
            let ms = at.as_millis();
            format!("+{}:{:02}.{:03}", ms / 60_000, (ms / 1000) % 60, ms % 1000)
        }
        TimeMode::Absolute => {
            let wall = s.started.unwrap_or(SystemTime::UNIX_EPOCH) + at;
            let t = time::OffsetDateTime::from(wall);
            format!(
                "{:02}:{:02}:{:02}.{:03}",
                t.hour(),
                t.minute(),
                t.second(),
                t.millisecond()
            )
        }
    }
}

pub(super) fn draw_frames(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
    let focused = app.focus == Pane::Frames && app.layers.overlay.is_none();
    let Some(s) = app.current() else {
        let block = pane_block(" Frames ".into(), focused, t);
        c.render_widget(
            Paragraph::new("No sessions. Add one: wsdeck sessions add NAME TARGET").block(block),
            area,
        );
        return;
    };
    let follow = if s.view.follow { " · following" } else { "" };
    let filter = match &s.view.filter {
        Some(f) if s.filter_pending() => format!(
            " · filter: {} · {} of {} rows (scanning {}%)",
            f.source,
            s.view_len(),
            s.log.len(),
            s.view.scanned * 100 / s.log.len().max(1)
        ),
        Some(f) => format!(
            " · filter: {} · {} of {} rows",
            f.source,
            s.view_len(),
            s.log.len()
        ),
        None => format!(" · {} rows", s.log.len()),
    };
    let block = pane_block(format!(" Frames · {}{filter}{follow} ", s.name), focused, t);
    let inner = block.inner(area);
    c.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let w = inner.width as usize;
    let reply = if app.show_latency {
        format!("{:<17}", "reply first/last")
    } else {
        String::new()
    };
    let header = format!(
        "{:>7} {:<11} {:<4}{:<7}{:>8}  {reply}summary",
        "#", "time", "dir", "op", "size"
    );
    let mut lines = vec![Line::from(Span::styled(clip(&header, w), t.dim))];
    let rows = inner.height.saturating_sub(1) as usize;
    let end = (s.view.top + rows).min(s.view_len());
    for index in s.view.top..end {
        let Some(row) = s.view_row(index) else { break };
        let mut line = row_line(app, s, &row, w, t);
        // The mark (`m`): one end of the range `:wav` takes.
        let log_index = match &s.view.filter {
            Some(_) => s.view.visible.get(index).copied(),
            None => Some(index),
        };
        if s.mark.is_some() && s.mark == log_index {
            line.spans.insert(0, Span::styled("◆", t.accent));
        }
        if index == s.view.cursor {
            line = line.style(if focused {
                t.selection
            } else {
                t.base.add_modifier(Modifier::REVERSED)
            });
        }
        lines.push(line);
    }
    if s.log.is_empty() {
        lines.push(Line::from(Span::styled(
            match &s.state {
                ConnState::Idle => "Not connected. Enter (in Sessions) connects.",
                _ => "No frames yet.",
            },
            t.dim,
        )));
    }
    c.render_widget(Paragraph::new(lines), inner);
}

fn row_line(app: &App, s: &Session, row: &Row, w: usize, t: &Theme) -> Line<'static> {
    let time = time_text(app, s, row.at);
    match &row.kind {
        RowKind::Frame(f) => {
            let (arrow, dir_style) = match f.dir {
                Direction::Out => ("▲", t.dir_out),
                Direction::In => ("▼", t.dir_in),
            };

            let fixed = format!("{:>7} {:<11} ", f.seq, time);
            let size = format!("{:>8}  ", f.payload.len());
            // The reply column: time to the first / last reply of a frame we sent.
            let reply = app.show_latency.then(|| match f.dir {
                Direction::Out => s
                    .replies
                    .replies(f.seq)
                    .map(|r| format!("{:<17}", reply_text(r.first, r.last)))
                    .unwrap_or_else(|| format!("{:<17}", "")),
                Direction::In => format!("{:<17}", ""),
            });
            let reply_w = reply.as_ref().map_or(0, |r| r.chars().count());
            let room = w.saturating_sub(fixed.len() + 4 + 7 + size.len() + reply_w);
            let (mut lead, rest) = frame_summary(f, room);
            if f.opcode == Opcode::Pong
                && let Some(rtt) = s.rtt.of_pong(f)
            {
                lead = format!("rtt {}", rtt_text(rtt));
            }
            let op_style = match f.opcode {
                Opcode::Close => t.warn,
                Opcode::Binary => t.accent,
                _ => t.base,
            };
            let mut spans = vec![
                Span::styled(fixed, t.dim),
                Span::styled(format!("{arrow}   "), dir_style),
                Span::styled(format!("{:<7}", f.opcode.as_str()), op_style),
                Span::styled(size, t.dim),
            ];
            if let Some(r) = reply {
                spans.push(Span::styled(r, t.ok));
            }
            // A frame that does not fit the agent's published schema.
            if let Some(v) = s.verdict(f).filter(|v| !v.ok) {
                lead = if lead == v.message {
                    format!("✗ {lead}")
                } else {
                    format!("✗ {}: {lead}", v.message)
                };
            }
            // Injected from the composer into a proxied conversation: neither side sent it.
            if s.is_injected(f) {
                lead = if lead.is_empty() {
                    "✎ injected".to_string()
                } else {
                    format!("✎ injected {lead}")
                };
            }
            if !lead.is_empty() {
                let lead_style = if lead.starts_with("invalid") || lead.starts_with('✗') {
                    t.error
                } else if lead.starts_with('✎') {
                    t.warn
                } else {
                    t.json_key.add_modifier(Modifier::BOLD)
                };
                spans.push(Span::styled(format!("{}  ", clip(&lead, room)), lead_style));
            }
            let used = if lead.is_empty() {
                0
            } else {
                lead.chars().count() + 2
            };
            spans.push(Span::styled(clip(&rest, room.saturating_sub(used)), t.base));
            Line::from(spans)
        }
        RowKind::Event { kind, text } => {
            let style = match kind {
                EventKind::Close { clean: true, .. } | EventKind::Open => t.ok,
                EventKind::Close { .. } | EventKind::Error => t.error,
                EventKind::Warning => t.warn,
                EventKind::Connecting => t.dim,
            };
            let word = match kind {
                EventKind::Connecting => "connect",
                EventKind::Open => "open",
                EventKind::Close { .. } => "close",
                EventKind::Error => "error",
                EventKind::Warning => "warning",
            };
            let fixed = format!("{:>7} {:<11} ── {:<8}", "", time, word);
            let room = w.saturating_sub(fixed.chars().count());
            Line::from(vec![
                Span::styled(fixed, style),
                Span::styled(clip(text, room), style),
            ])
        }
    }
}

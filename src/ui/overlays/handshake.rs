//! The handshake overlay: the request and response, or why the connection failed, and how the
//! last one closed.

use crate::app::App;
use crate::engine::close::explain;
use crate::ui::theme::Theme;
use crate::ui::widgets::{centered, kv, pane_block};
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

pub(super) fn draw_handshake(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
    let mut lines = Vec::new();
    if let Some(s) = app.current() {
        lines.push(kv("target", s.target.clone(), t));
        if let Some(id) = &s.spec.session_id {
            lines.push(kv("session", format!("agent_session_id {id}"), t));
        }
        if let Some(f) = &s.failure {
            lines.push(Line::from(Span::styled(f.message.clone(), t.error)));
            if let Some((url, headers)) = &f.request {
                lines.push(kv("request", format!("GET {url}"), t));
                for (k, v) in headers {
                    lines.push(Line::from(Span::styled(format!("    {k}: {v}"), t.dim)));
                }
            }
            if let Some(st) = f.status {
                lines.push(kv("response", format!("HTTP {st}"), t));
                for (k, v) in &f.response_headers {
                    lines.push(Line::from(Span::styled(format!("    {k}: {v}"), t.dim)));
                }
            }
            if !f.body.is_empty() {
                lines.push(kv("body", String::new(), t));
                for l in f.body.lines().take(12) {
                    lines.push(Line::from(format!("    {l}")));
                }
            }
            lines.push(Line::from(Span::styled("what to do:", t.accent)));
            for a in &f.advice {
                lines.push(Line::from(format!("  - {a}")));
            }
        } else if let Some(h) = &s.handshake {
            lines.push(kv("request", format!("GET {}", h.url), t));
            for (k, v) in &h.request_headers {
                lines.push(Line::from(Span::styled(format!("    {k}: {v}"), t.dim)));
            }
            lines.push(kv("response", format!("HTTP {}", h.status), t));
            for (k, v) in &h.response_headers {
                lines.push(Line::from(Span::styled(format!("    {k}: {v}"), t.dim)));
            }
            if let Some(p) = &h.platform_session_id {
                lines.push(kv("platform", format!("x-agent-session-id {p}"), t));
            }
        } else {
            lines.push(Line::from(Span::styled("Not connected yet.", t.dim)));
        }
        if let Some(cl) = &s.last_close {
            let ex = explain(cl.code);
            lines.push(Line::from(""));
            lines.push(kv(
                "close",
                format!(
                    "{} {} by {} · {}",
                    cl.code,
                    ex.name,
                    cl.initiator.as_str(),
                    if cl.clean { "clean" } else { "not clean" }
                ),
                t,
            ));
            if !cl.reason.is_empty() {
                lines.push(kv("reason", format!("{:?}", cl.reason), t));
            }
            lines.push(kv("meaning", ex.meaning.to_string(), t));
            lines.push(kv("likely", ex.likely_cause.to_string(), t));
        }
    }
    let r = centered(
        area,
        area.width.saturating_sub(4),
        area.height.saturating_sub(2),
    );
    c.render_widget(Clear, r);
    c.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(pane_block(
                " Handshake and close · h or Esc closes ".into(),
                true,
                t,
            ))
            .style(t.base),
        r,
    );
}

//! The title bar: the current session at a glance.

use crate::app::{App, ConnState};
use crate::ui::format::{clock, rtt_text};
use crate::ui::summary::{clip, human_bytes};
use crate::ui::theme::Theme;
use crate::ui::widgets::{state_glyph, state_style};
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub(super) fn draw_title(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
    let mut spans = vec![Span::styled(" wsdeck ", t.accent)];
    if let Some(s) = app.current() {
        spans.push(Span::styled(
            format!(" {} ", s.name),
            t.base.add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::styled(
            format!("{} {}", state_glyph(&s.state), s.state.word()),
            state_style(&s.state, t),
        ));
        if let (ConnState::Open, Some(at)) = (&s.state, s.opened_at) {
            spans.push(Span::styled(
                format!(" {}", clock(app.now.saturating_sub(s.clock_base + at))),
                t.dim,
            ));
        }
        if let Some(o) = &s.opening {
            let word = if o.stopping { "stopping" } else { "reading" };
            spans.push(Span::styled(
                format!(
                    "  {word} {}% · {} records · Esc stops",
                    o.percent(),
                    o.records
                ),
                t.warn,
            ));
        }
        // Liveness first: it is what someone watching a flaky agent looks for.
        if let Some(rtt) = s.rtt.last {
            spans.push(Span::styled(format!("  rtt {}", rtt_text(rtt)), t.dim));
        }
        if let Some(left) = s.auto_reconnect.left(app.now.saturating_sub(s.clock_base)) {
            spans.push(Span::styled(
                format!(
                    "  ↻ reconnecting in {left}s (attempt {}, x cancels)",
                    s.auto_reconnect.attempt + 1
                ),
                t.warn,
            ));
        }
        if let Some(r) = &s.replay {
            let done = if r.total == 0 {
                1.0
            } else {
                r.sent as f64 / r.total as f64
            };
            let filled = (done * 10.0).round() as usize;
            let state = if r.finished {
                match &r.diffs {
                    Some(d) if d.is_empty() => "✓ match".to_string(),
                    Some(d) => format!("✗ {} diff", d.len()),
                    None => String::new(),
                }
            } else if r.step {
                "step: ]".into()
            } else {
                String::new()
            };
            spans.push(Span::styled(
                format!(
                    "  replay {}/{} {}s ▕{}{}▏ {state}",
                    r.sent,
                    r.total,
                    app.now.saturating_sub(r.started_at).as_secs(),
                    "█".repeat(filled),
                    "░".repeat(10 - filled.min(10))
                ),
                t.accent,
            ));
        }
        // A proxy's frames are its clients': say where it listens and who is connected.
        if s.proxy.is_some() {
            let (n, open) = app.proxy_clients(s.id);
            let at = match s.listening_on {
                Some(a) => format!("  on ws://{a}/"),
                None => String::new(),
            };
            let clients = if n == 1 { "client" } else { "clients" };
            spans.push(Span::styled(
                format!("{at}  {n} {clients}, {open} open"),
                t.accent,
            ));
            c.render_widget(Paragraph::new(Line::from(spans)), area);
            return;
        }
        let k = &s.counters;
        if let Some(last) = k.last_activity {
            let ago = app.now.saturating_sub(s.clock_base + last);
            spans.push(Span::styled(
                format!("  last {}s ago", ago.as_secs()),
                t.dim,
            ));
        }
        spans.push(Span::styled(
            format!("  ▲ {} frames {}", k.frames_out, human_bytes(k.bytes_out)),
            t.dir_out,
        ));
        spans.push(Span::styled(
            format!("  ▼ {} frames {}", k.frames_in, human_bytes(k.bytes_in)),
            t.dir_in,
        ));
        if let Some(id) = &s.spec.session_id {
            spans.push(Span::styled(format!("  id {}", clip(id, 34)), t.dim));
        }
    }
    c.render_widget(Paragraph::new(Line::from(spans)), area);
}

//! The replay comparison: the replies that differ from the capture's.

use crate::app::App;
use crate::ui::summary::clip;
use crate::ui::theme::Theme;
use crate::ui::widgets::{centered, pane_block};
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

pub(super) fn draw_compare(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
    let mut lines = Vec::new();
    if let Some(r) = app.current().and_then(|s| s.replay.as_ref()) {
        lines.push(Line::from(vec![
            Span::styled(format!("{} · ", r.file), t.accent),
            Span::styled(
                format!(
                    "{} of {} frames sent · {} replies expected · ignoring {}",
                    r.sent,
                    r.total,
                    r.expected.len(),
                    r.ignore.join(", ")
                ),
                t.dim,
            ),
        ]));
        lines.push(Line::from(""));
        match &r.diffs {
            None => lines.push(Line::from(Span::styled(
                "replaying… (the comparison comes when it is done)",
                t.dim,
            ))),
            Some(d) if d.is_empty() => lines.push(Line::from(Span::styled(
                format!(
                    "✓ the replies match the capture ({} frames)",
                    r.expected.len()
                ),
                t.ok,
            ))),
            Some(d) => {
                lines.push(Line::from(Span::styled(
                    format!("{:>6}  {:<24} {:<30} got", "reply", "path", "expected"),
                    t.dim,
                )));
                for x in d {
                    lines.push(Line::from(vec![
                        Span::styled(format!("{:>6}  ", format!("#{}", x.index + 1)), t.base),
                        Span::styled(format!("{:<24} ", clip(&x.path, 24)), t.json_key),
                        Span::styled(
                            format!("{:<30} ", clip(&x.expected.to_string(), 30)),
                            t.dir_out,
                        ),
                        Span::styled(clip(&x.got.to_string(), 60), t.error),
                    ]));
                }
            }
        }
    }
    let r = centered(
        area,
        area.width.saturating_sub(4),
        (lines.len() as u16 + 2).min(area.height),
    );
    c.render_widget(Clear, r);
    c.render_widget(
        Paragraph::new(lines)
            .block(pane_block(
                " Replay comparison · Esc closes ".into(),
                true,
                t,
            ))
            .style(t.base),
        r,
    );
}

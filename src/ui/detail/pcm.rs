//! The PCM view of a binary frame.

use crate::engine::Frame;
use crate::ui::summary::human_bytes;
use crate::ui::theme::Theme;
use crate::ui::widgets::pane_block;
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// 16-bit PCM: level and a waveform envelope, one column per slice of samples.
pub(super) fn draw_pcm(
    c: &mut Canvas,
    area: Rect,
    f: &Frame,
    view_key: &str,
    focused: bool,
    t: &Theme,
) {
    use crate::decode::pcm;
    let title = format!(
        " Detail · #{} · binary {} · pcm16le (assumed) · hex | pcm? ({view_key}) ",
        f.seq,
        human_bytes(f.payload.len() as u64)
    );
    let block = pane_block(title, focused, t);
    let inner = block.inner(area);
    c.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let st = pcm::stats(&f.payload);
    let db = |v: f64| {
        if v.is_finite() {
            format!("{v:.1} dBFS")
        } else {
            "silence".to_string()
        }
    };
    let info = Line::from(vec![
        Span::styled(format!("{} samples", st.samples), t.base),
        Span::styled(
            format!(
                " · {:.1} ms at {} kHz mono",
                st.samples as f64 * 1000.0 / pcm::ASSUMED_RATE as f64,
                pcm::ASSUMED_RATE / 1000
            ),
            t.dim,
        ),
        Span::styled(" · peak ", t.dim),
        Span::styled(db(st.peak_dbfs), t.accent),
        Span::styled(" · rms ", t.dim),
        Span::styled(db(st.rms_dbfs), t.accent),
    ]);
    c.render_widget(Paragraph::new(info), Rect { height: 1, ..inner });
    let wave = Rect {
        y: inner.y + 1,
        height: inner.height.saturating_sub(1),
        ..inner
    };
    let env = pcm::envelope(&f.payload, wave.width as usize);
    c.render_widget(
        ratatui::widgets::Sparkline::default()
            .data(&env)
            .max(100)
            .style(t.dir_in),
        wave,
    );
}

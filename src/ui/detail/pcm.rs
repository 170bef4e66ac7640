//! The PCM view of a binary frame.

use crate::decode::pcm::PcmFormat;
use crate::engine::Frame;
use crate::ui::summary::human_bytes;
use crate::ui::theme::Theme;
use crate::ui::widgets::pane_block;
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// 16-bit PCM in the session's format: level and a waveform envelope, one column per slice.
#[allow(clippy::too_many_arguments)]
pub(super) fn draw_pcm(
    c: &mut Canvas,
    area: Rect,
    f: &Frame,
    audio: &[u8],
    fmt: PcmFormat,
    view_key: &str,
    focused: bool,
    t: &Theme,
) {
    use crate::decode::pcm;
    let from = if f.opcode == crate::engine::Opcode::Text {
        " · base64 audio in JSON"
    } else {
        ""
    };
    let title = format!(
        " Detail · #{} · {} {}{from} · pcm {} (assumed; :pcm sets it) ({view_key}) ",
        f.seq,
        f.opcode.as_str(),
        human_bytes(f.payload.len() as u64),
        fmt.describe()
    );
    let block = pane_block(title, focused, t);
    let inner = block.inner(area);
    c.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let st = pcm::stats_in(audio, fmt);
    let db = |v: f64| {
        if v.is_finite() {
            format!("{v:.1} dBFS")
        } else {
            "silence".to_string()
        }
    };
    let info = Line::from(vec![
        Span::styled(format!("{} samples", st.frames), t.base),
        Span::styled(
            format!(" · {:.1} ms at {}", st.seconds * 1000.0, fmt.describe()),
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
    let env = pcm::envelope_in(audio, fmt, wave.width as usize);
    c.render_widget(
        ratatui::widgets::Sparkline::default()
            .data(&env)
            .max(100)
            .style(t.dir_in),
        wave,
    );
}

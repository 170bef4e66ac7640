//! The vocabulary pane: the session's message types per direction with counts on the left; the
//! selected type's fields, what follows it on the wire and its reply latency on the right.

use crate::app::{App, Session};
use crate::engine::Direction;
use crate::keymap::{Action, Layer};
use crate::ui::summary::clip;
use crate::ui::theme::Theme;
use crate::ui::widgets::pane_block;
use crate::vocab::infer::MessageType;
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Width of the list of types.
const LIST_WIDTH: u16 = 40;

pub(super) fn draw_vocab(c: &mut Canvas, area: Rect, app: &App, s: &Session, t: &Theme) {
    let focused = app.focus == crate::app::Pane::Vocab;
    let types = s.vocab_types();
    let disc = s
        .vocab
        .discriminator()
        .map(|d| format!(" · by {d:?}"))
        .unwrap_or_default();
    let learning = if s.vocab_pending() {
        format!(" · learning {}/{}", s.vocab_seen, s.log.len())
    } else {
        String::new()
    };
    let title = format!(
        " Vocabulary · {} types in {} frames{disc}{learning} ",
        types.len(),
        s.vocab.frames()
    );
    let block = pane_block(title, focused, t);
    let inner = block.inner(area);
    c.render_widget(block, area);
    if types.is_empty() {
        let hint = "no text or binary frames yet: the vocabulary fills in as frames come";
        c.render_widget(Paragraph::new(Span::styled(hint, t.dim)), inner);
        return;
    }
    let list_w = LIST_WIDTH.min(inner.width / 2);
    let list = Rect {
        width: list_w,
        ..inner
    };
    let right = Rect {
        x: inner.x + list_w + 1,
        width: inner.width.saturating_sub(list_w + 1),
        ..inner
    };
    let pane = s.vocab_pane.clone().unwrap_or_default();
    let rows = list.height as usize;
    let top = pane.top.min(types.len().saturating_sub(rows));
    let lines: Vec<Line> = types
        .iter()
        .enumerate()
        .skip(top)
        .take(rows)
        .map(|(i, ty)| {
            let (arrow, style) = match ty.key.dir {
                Direction::Out => ("▲ out", t.dir_out),
                Direction::In => ("▼ in ", t.dir_in),
            };
            let name_w = (list_w as usize).saturating_sub(14);
            // `?`: seen on the wire but not in the agent's own document.
            let unknown = if s.documented(ty.key.dir, &ty.key.name) == Some(false) {
                "?"
            } else {
                " "
            };
            let text = format!(
                " {:<name_w$} {:>6}{unknown}",
                clip(&ty.key.name, name_w),
                ty.count
            );
            let line_style = if i == pane.cursor {
                t.selection
            } else {
                t.base
            };
            Line::from(vec![
                Span::styled(arrow, if i == pane.cursor { t.selection } else { style }),
                Span::styled(text, line_style),
            ])
        })
        .collect();
    let mut lines = lines;
    let unseen = s.documented_not_seen();
    if !unseen.is_empty() && lines.len() < rows {
        let names: Vec<String> = unseen
            .iter()
            .map(|(d, n)| match d {
                Some(Direction::Out) => format!("out {n}"),
                Some(Direction::In) => format!("in {n}"),
                None => n.clone(),
            })
            .collect();
        let text = format!("documented, not seen: {}", names.join(", "));
        lines.push(Line::from(Span::styled(
            clip(&text, list_w as usize),
            t.warn,
        )));
    }
    c.render_widget(Paragraph::new(lines), list);
    if let Some(ty) = types.get(pane.cursor) {
        let lines = type_lines(app, s, ty, right.width as usize, t);
        c.render_widget(Paragraph::new(lines), right);
    }
}

/// The selected type: its fields (path, types, required or optional, example), what follows
/// it, and its reply latency.
fn type_lines<'a>(
    app: &App,
    s: &Session,
    ty: &MessageType,
    width: usize,
    t: &Theme,
) -> Vec<Line<'a>> {
    let dir = match ty.key.dir {
        Direction::Out => "out",
        Direction::In => "in",
    };
    let keys = |a| app.keymap.keys_text(Layer::Vocab, a);
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("{dir} {}", ty.key.name), t.accent),
        Span::styled(
            format!(
                " · {}× · {} its frames · {} a new one like it",
                ty.count,
                keys(Action::FilterType),
                keys(Action::ComposeLike)
            ),
            t.dim,
        ),
    ])];
    if let Some(l) = s
        .replies
        .latencies()
        .into_iter()
        .find(|l| l.request_type == ty.key.name && ty.key.dir == Direction::Out)
    {
        lines.push(Line::from(Span::styled(
            format!(
                "first reply: n {} · p50 {:.1} ms · p95 {:.1} ms · max {:.1} ms",
                l.n, l.p50_ms, l.p95_ms, l.max_ms
            ),
            t.ok,
        )));
    }
    // Binary frames: their leading bytes and sizes instead of fields.
    if ty.key.name == crate::vocab::infer::BINARY {
        for b in s.vocab.binary().into_iter().filter(|b| b.dir == ty.key.dir) {
            let sizes: Vec<String> = b
                .sizes
                .iter()
                .take(6)
                .map(|(size, n)| format!("≤{size} B ×{n}"))
                .collect();
            lines.push(Line::from(vec![
                Span::styled(format!("magic {:<10} ", b.magic), t.json_key),
                Span::styled(
                    clip(
                        &format!(
                            "{}× · {}–{} B · {}",
                            b.count,
                            b.min_len,
                            b.max_len,
                            sizes.join(" ")
                        ),
                        width.saturating_sub(17),
                    ),
                    t.base,
                ),
            ]));
        }
    }
    let path_w = ty
        .fields
        .iter()
        .map(|f| f.path.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 32);
    for f in &ty.fields {
        let types: Vec<&str> = f.types.iter().map(|x| x.name()).collect();
        let req = if f.required(ty) {
            "required"
        } else {
            "optional"
        };
        let example = f.example.clone().unwrap_or_default();
        let head = format!(
            "{:<path_w$} {:<16} {req:<8} ",
            clip(&f.path, path_w),
            clip(&types.join("|"), 16)
        );
        let room = width.saturating_sub(head.chars().count());
        lines.push(Line::from(vec![
            Span::styled(head, if f.required(ty) { t.json_key } else { t.dim }),
            Span::styled(clip(&example, room), t.json_string),
        ]));
    }
    let next: Vec<String> = s
        .vocab
        .transitions()
        .into_iter()
        .filter(|tr| tr.from == ty.key)
        .take(4)
        .map(|tr| {
            let d = match tr.to.dir {
                Direction::Out => "out",
                Direction::In => "in",
            };
            format!("{d} {} ({})", tr.to.name, tr.count)
        })
        .collect();
    if !next.is_empty() {
        lines.push(Line::from(vec![
            Span::styled("then → ", t.dim),
            Span::styled(clip(&next.join(" · "), width.saturating_sub(7)), t.base),
        ]));
    }
    lines
}

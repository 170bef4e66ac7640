//! The detail pane: the selected row, in the view that fits it and that was asked for.

mod decoded;
mod event;
mod hex;
mod json;
mod pcm;

use crate::app::{App, DetailView, Pane, Session};
use crate::engine::close::explain;
use crate::engine::{Frame, Opcode};
use crate::store::{Row, RowKind};
use crate::ui::composer::draw_composer;
use crate::ui::theme::Theme;
use crate::ui::widgets::pane_block;
use event::event_detail;
use pcm::draw_pcm;
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

/// The largest payload pretty-printed as JSON in the detail view; larger ones show as hex, whose
/// rows are computed only for the lines on screen.
const PRETTY_MAX: usize = 1024 * 1024;

/// The key that changes the view, as the title names it.
pub(super) fn view_key(app: &App) -> String {
    app.keymap.keys_text(
        crate::keymap::Layer::Detail,
        crate::keymap::Action::NextView,
    )
}

pub(super) fn draw_detail(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
    if app.layers.composing {
        draw_composer(c, area, app, t);
        return;
    }
    let focused = app.focus == Pane::Detail && app.layers.overlay.is_none();
    let session = app.current();
    let row = session.and_then(Session::selected_row);
    if let (
        Some(s),
        Some(Row {
            kind: RowKind::Frame(f),
            ..
        }),
    ) = (session, row.as_ref())
        && app.detail.view == DetailView::Pcm
        && let Some(audio) = pcm_bytes(f, s.pcm)
    {
        draw_pcm(c, area, f, &audio, s.pcm, &view_key(app), focused, t);
        return;
    }
    let (title, lines) = match row.as_ref() {
        None => (
            " Detail ".to_string(),
            vec![Line::from(Span::styled("Select a frame.", t.dim))],
        ),
        Some(Row {
            kind: RowKind::Frame(f),
            ..
        }) => {
            let (title, lines) = frame_detail(app, f, area.height.saturating_sub(2) as usize, t);
            let title = match app.current() {
                Some(s) if s.is_injected(f) => {
                    let toward = match f.dir {
                        crate::engine::Direction::Out => "agent",
                        crate::engine::Direction::In => "client",
                    };
                    format!("{title}· injected toward the {toward} ")
                }
                _ => title,
            };
            (title, lines)
        }
        Some(Row {
            kind: RowKind::Event { kind, text },
            ..
        }) => (
            " Detail · event ".to_string(),
            event_detail(app, *kind, text, t),
        ),
    };
    let block = pane_block(title, focused, t);
    let is_event = matches!(
        row.as_ref(),
        Some(Row {
            kind: RowKind::Event { .. },
            ..
        })
    );
    let mut p = Paragraph::new(lines).block(block);
    if app.detail.wrap || is_event {
        p = p.wrap(Wrap { trim: false });
    }
    c.render_widget(p, area);
}

/// The audio a frame holds in the session's format: a binary frame of whole sample frames, or
/// base64 audio inside a JSON frame (`audio`, `delta`).
fn pcm_bytes(f: &Frame, fmt: crate::decode::pcm::PcmFormat) -> Option<std::borrow::Cow<'_, [u8]>> {
    use crate::decode::pcm;
    match f.opcode {
        Opcode::Binary if pcm::fits_format(&f.payload, fmt) => {
            Some(std::borrow::Cow::Borrowed(&f.payload[..]))
        }
        Opcode::Text if f.payload.len() <= PRETTY_MAX => {
            let v: serde_json::Value = serde_json::from_slice(&f.payload).ok()?;
            pcm::base64_audio(&v)
                .filter(|b| pcm::fits_format(b, fmt))
                .map(std::borrow::Cow::Owned)
        }
        _ => None,
    }
}

fn frame_detail<'a>(app: &App, f: &Frame, height: usize, t: &Theme) -> (String, Vec<Line<'a>>) {
    use crate::decode::DecoderKind;
    // Binary frames through a decoder: the one asked for, or in Auto one that claims the frame.
    let chosen = app.detail.view.decoder();
    let structured = matches!(
        chosen,
        DecoderKind::Auto | DecoderKind::Protobuf | DecoderKind::MsgPack | DecoderKind::Cbor
    );
    let mut notes = Vec::new();
    // The user's .proto files read protobuf frames with names (in auto and protobuf views).
    if f.opcode == Opcode::Binary
        && matches!(chosen, DecoderKind::Auto | DecoderKind::Protobuf)
        && let Some(p) = app.current().and_then(|s| s.proto.as_ref())
        && let Some(read) =
            crate::decode::decode_protobuf_with(&p.schema, p.message.as_deref(), &f.payload)
    {
        let fit = match read.misfits {
            0 => String::new(),
            n => format!(", closest fit: {n} field(s) not as declared"),
        };
        let (_, lines) = decoded::tree(app, f, &read.decoded, chosen, height, t);
        let title = format!(
            " Detail · #{} · binary {} B · protobuf {}{fit} ({}) ",
            f.seq,
            f.payload.len(),
            read.message,
            view_key(app)
        );
        return (title, lines);
    }
    if f.opcode == Opcode::Binary && structured {
        match crate::decode::decode(chosen, &f.payload) {
            Some(d) => return decoded::tree(app, f, &d, chosen, height, t),
            None if chosen != DecoderKind::Auto => notes.push(Line::from(Span::styled(
                format!("{}: does not read this frame; shown as hex", chosen.name()),
                t.warn,
            ))),
            None => {}
        }
    }
    if app.detail.view == DetailView::Pcm {
        notes.push(Line::from(Span::styled(
            "pcm: not whole 16-bit sample frames in this session's format (:pcm RATE [CHANNELS] [le|be]); shown as hex",
            t.warn,
        )));
    }
    let json_text = f
        .text()
        .filter(|_| f.payload.len() <= PRETTY_MAX && app.detail.view == DetailView::Auto);
    let session = app.current().map_or(usize::MAX, |s| s.id);
    let parsed = json_text.map(|text| app.view_memo.json(session, f.seq, &f.payload, text));
    let fits = if f.text().is_some() && f.payload.len() <= PRETTY_MAX {
        "json | hex"
    } else if f.opcode == Opcode::Binary && crate::decode::pcm::fits(&f.payload) {
        "hex | pcm?"
    } else {
        "hex"
    };
    // What the agent's published schema says about this frame.
    if let Some(v) = app.current().and_then(|s| s.verdict(f)) {
        if v.ok {
            notes.push(Line::from(Span::styled(
                format!("fits the published {}", v.message),
                t.ok,
            )));
        } else {
            notes.push(Line::from(Span::styled(
                format!("does not fit the published {}:", v.message),
                t.error,
            )));
            for e in &v.errors {
                let at = if e.path.is_empty() {
                    "(the payload)"
                } else {
                    &e.path
                };
                notes.push(Line::from(vec![
                    Span::styled(format!("  {at} "), t.json_key),
                    Span::styled(e.rule.clone(), t.error),
                ]));
            }
        }
    }
    if let Some(crate::decode::json::JsonView::Pretty(p)) = parsed.as_deref() {
        let (title, lines) = json::pretty(app, f, p, fits, height.saturating_sub(notes.len()), t);
        notes.extend(lines);
        return (title, notes);
    }
    let mut lines = notes;
    if let Some(crate::decode::json::JsonView::Invalid {
        line,
        column,
        message,
    }) = parsed.as_deref()
    {
        lines.push(Line::from(Span::styled(
            format!("not JSON: {message} (line {line}, column {column})"),
            t.error,
        )));
    }
    if let Some((code, reason)) = f.close_code() {
        let ex = explain(code);
        lines.push(Line::from(Span::styled(
            format!("close {code} {}: {} {reason:?}", ex.name, ex.meaning),
            t.warn,
        )));
    }
    hex::dump(app, f, lines, fits, height, t)
}

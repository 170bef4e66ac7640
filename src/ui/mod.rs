//! Drawing: `draw(&App, &Theme)` reads the state and never changes it.

pub mod layout;
pub mod summary;
pub mod theme;

use crate::app::keymap::{BINDINGS, Scope};
use crate::app::{App, ConnState, DetailView, Overlay, Pane, SessionView, TimeMode};
use crate::decode::hexdump;
use crate::engine::close::explain;
use crate::engine::{Direction, Frame, Opcode};
use crate::store::{EventKind, Row, RowKind};
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use std::time::{Duration, SystemTime};
use summary::{clip, frame_summary, human_bytes};
use theme::Theme;

/// The largest payload pretty-printed as JSON in the detail view; larger ones show as hex, whose
/// rows are computed only for the lines on screen.
const PRETTY_MAX: usize = 1024 * 1024;

pub fn draw(c: &mut Canvas, app: &App, t: &Theme) {
    let area = c.area();
    c.render_widget(Block::default().style(t.base), area);
    let a = layout::areas(area);
    draw_title(c, a.title, app, t);
    if let Some(sa) = a.sessions {
        draw_sessions(c, sa, app, t);
    }
    draw_log(c, a.log, app, t);
    // The logs pane shares the bottom with the detail once a session has one.
    let focused = app.focus == Pane::Logs;
    match app
        .current()
        .and_then(|s| s.logs.as_ref())
        .filter(|l| !l.hidden)
    {
        // Focused, the logs take the whole bottom: a traceback needs the width.
        Some(logs) if a.detail.width >= 60 && !focused => {
            let left = a.detail.width * 11 / 20;
            draw_detail(
                c,
                Rect {
                    width: left,
                    ..a.detail
                },
                app,
                t,
            );
            draw_logs(
                c,
                Rect {
                    x: a.detail.x + left,
                    width: a.detail.width - left,
                    ..a.detail
                },
                logs,
                false,
                app.search.as_deref(),
                t,
            );
        }
        Some(logs) => draw_logs(c, a.detail, logs, focused, app.search.as_deref(), t),
        None => draw_detail(c, a.detail, app, t),
    }
    draw_status(c, a.status, app, t);
    if let Some(f) = &app.form {
        draw_form(c, area, f, t);
    }
    if let Some(p) = &app.picker {
        draw_picker(c, area, p, t);
    }
    match app.overlay {
        Some(Overlay::Help) => draw_help(c, area, app, t),
        Some(Overlay::Handshake) => draw_handshake(c, area, app, t),
        Some(Overlay::ConfirmQuit) => draw_confirm(c, area, t),
        Some(Overlay::ConfirmDelete) => draw_confirm_delete(c, area, app, t),
        Some(Overlay::Compare) => draw_compare(c, area, app, t),
        None => {}
    }
}

fn pane_block<'a>(title: String, focused: bool, t: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(if focused { t.focus } else { t.border })
        .title(Span::styled(
            title,
            if focused { t.focus } else { t.accent },
        ))
}

fn state_glyph(s: &ConnState) -> &'static str {
    match s {
        ConnState::Open => "●",
        ConnState::Connecting => "◐",
        ConnState::Idle => "◌",
        ConnState::File => "▤",
        ConnState::Closed { clean: true, .. } => "○",
        ConnState::Closed { .. } | ConnState::Failed(_) => "✖",
    }
}

fn state_style(s: &ConnState, t: &Theme) -> Style {
    match s {
        ConnState::Open => t.ok,
        ConnState::Connecting => t.warn,
        ConnState::Idle | ConnState::File => t.dim,
        ConnState::Closed { clean: true, .. } => t.dim,
        ConnState::Closed { .. } | ConnState::Failed(_) => t.error,
    }
}

fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

fn draw_title(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
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

/// Break `text` into lines of at most `width` characters, at spaces where it can.
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        loop {
            let need = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
            if need <= width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
                continue;
            }
            // A word longer than the line: cut it.
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            out.push(head);
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// A round trip as people read it: 0.42 ms, 12.3 ms, 1.20 s.
pub fn rtt_text(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

fn draw_sessions(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
    let focused = app.focus == Pane::Sessions && app.overlay.is_none();
    let block = pane_block(" Sessions ".into(), focused, t);
    let inner = block.inner(area);
    c.render_widget(block, area);
    let w = inner.width as usize;
    let lines: Vec<Line> = app
        .sessions
        .iter()
        .enumerate()
        .take(inner.height as usize)
        .map(|(i, s)| {
            let countdown = s
                .auto_reconnect
                .left(app.now.saturating_sub(s.clock_base))
                .map(|l| format!("↻{l}s"));
            let word = countdown.unwrap_or_else(|| s.state.word());
            let name_w = w.saturating_sub(word.len() + 3);
            let text = format!(
                "{} {:<name_w$} {word}",
                state_glyph(&s.state),
                clip(&s.name, name_w)
            );
            let style = if i == app.selected {
                if focused {
                    t.selection
                } else {
                    t.base.add_modifier(Modifier::REVERSED)
                }
            } else {
                state_style(&s.state, t).patch(Style::default())
            };
            Line::from(Span::styled(clip(&text, w), style))
        })
        .collect();
    c.render_widget(Paragraph::new(lines), inner);
}

fn time_text(app: &App, s: &SessionView, at: Duration) -> String {
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

fn draw_log(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
    let focused = app.focus == Pane::Frames && app.overlay.is_none();
    let Some(s) = app.current() else {
        let block = pane_block(" Frames ".into(), focused, t);
        c.render_widget(
            Paragraph::new("No sessions. Add one: wsdeck sessions add NAME TARGET").block(block),
            area,
        );
        return;
    };
    let follow = if s.follow { " · following" } else { "" };
    let filter = match &s.filter {
        Some(f) if s.filter_pending() => format!(
            " · filter: {} · {} of {} rows (scanning {}%)",
            f.source,
            s.view_len(),
            s.log.len(),
            s.scanned * 100 / s.log.len().max(1)
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
    let header = format!(
        "{:>7} {:<11} {:<4}{:<7}{:>8}  summary",
        "#", "time", "dir", "op", "size"
    );
    let mut lines = vec![Line::from(Span::styled(clip(&header, w), t.dim))];
    let rows = inner.height.saturating_sub(1) as usize;
    let end = (s.top + rows).min(s.view_len());
    for index in s.top..end {
        let Some(row) = s.view_row(index) else { break };
        let mut line = row_line(app, s, row, w, t);
        if index == s.cursor {
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

fn row_line<'a>(app: &App, s: &SessionView, row: &'a Row, w: usize, t: &Theme) -> Line<'a> {
    let time = time_text(app, s, row.at);
    match &row.kind {
        RowKind::Frame(f) => {
            let (arrow, dir_style) = match f.dir {
                Direction::Out => ("▲", t.dir_out),
                Direction::In => ("▼", t.dir_in),
            };
            let fixed = format!("{:>7} {:<11} ", f.seq, time);
            let size = format!("{:>8}  ", f.payload.len());
            let room = w.saturating_sub(fixed.len() + 4 + 7 + size.len());
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
            if !lead.is_empty() {
                let lead_style = if lead.starts_with("invalid") {
                    t.error
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

fn draw_composer(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
    let comp = &app.composer;
    let send_as = comp.send_as.as_str();
    let no_vars = Default::default();
    let vars = app.current().map(|s| &s.vars).unwrap_or(&no_vars);
    let (verdict, style) = match comp.check(vars) {
        Ok(p) => (format!("✓ {}", human_bytes(p.len() as u64)), t.ok),
        Err(e) => (format!("✗ {e}"), t.error),
    };
    let title = Line::from(vec![
        Span::styled(format!(" Compose · {} ", comp.mode.name()), t.focus),
        Span::styled(verdict, style),
        Span::styled(
            format!(
                " · send as {send_as} · Ctrl-s send · Ctrl-t text/binary · Ctrl-k ping/pong/close · Ctrl-o mode · Esc "
            ),
            t.dim,
        ),
    ]);
    let mut editor = comp.editor.clone();
    editor.set_block(
        Block::default()
            .borders(Borders::ALL)
            .border_style(t.focus)
            .title(title),
    );
    editor.set_style(t.base);
    editor.set_cursor_line_style(Style::default());
    c.render_widget(&editor, area);
}

fn draw_detail(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
    if app.composing {
        draw_composer(c, area, app, t);
        return;
    }
    let focused = app.focus == Pane::Detail && app.overlay.is_none();
    let row = app.current().and_then(SessionView::selected_row);
    if let Some(Row {
        kind: RowKind::Frame(f),
        ..
    }) = row
        && app.detail_view == DetailView::Pcm
        && f.opcode == Opcode::Binary
        && crate::decode::pcm::fits(&f.payload)
    {
        draw_pcm(c, area, f, focused, t);
        return;
    }
    let (title, lines) = match row {
        None => (
            " Detail ".to_string(),
            vec![Line::from(Span::styled("Select a frame.", t.dim))],
        ),
        Some(Row {
            kind: RowKind::Frame(f),
            ..
        }) => frame_detail(app, f, area.height.saturating_sub(2) as usize, t),
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
        row,
        Some(Row {
            kind: RowKind::Event { .. },
            ..
        })
    );
    let mut p = Paragraph::new(lines).block(block);
    if app.wrap || is_event {
        p = p.wrap(Wrap { trim: false });
    }
    c.render_widget(p, area);
}

/// 16-bit PCM: level and a waveform envelope, one column per slice of samples.
fn draw_pcm(c: &mut Canvas, area: Rect, f: &Frame, focused: bool, t: &Theme) {
    use crate::decode::pcm;
    let title = format!(
        " Detail · #{} · binary {} · pcm16le (assumed) · hex | pcm? (v) ",
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

fn frame_detail<'a>(app: &App, f: &Frame, height: usize, t: &Theme) -> (String, Vec<Line<'a>>) {
    let json_text = f
        .text()
        .filter(|_| f.payload.len() <= PRETTY_MAX && app.detail_view == DetailView::Auto);
    let parsed = json_text.map(crate::decode::json::view);
    let fits = if f.text().is_some() && f.payload.len() <= PRETTY_MAX {
        "json | hex"
    } else if f.opcode == Opcode::Binary && crate::decode::pcm::fits(&f.payload) {
        "hex | pcm?"
    } else {
        "hex"
    };
    if let Some(crate::decode::json::JsonView::Pretty(p)) = &parsed {
        let title = format!(
            " Detail · #{} · {} {} · JSON · {fits} (v) ",
            f.seq,
            f.opcode.as_str(),
            human_bytes(f.payload.len() as u64)
        );
        let total = p.lines().count();
        let start = app.detail_scroll.min(total.saturating_sub(1));
        let lines = p
            .lines()
            .skip(start)
            .take(height)
            .map(|l| json_line(l, t))
            .collect();
        return (title, lines);
    }
    let mut lines = Vec::new();
    if let Some(crate::decode::json::JsonView::Invalid {
        line,
        column,
        message,
    }) = &parsed
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
    let title = format!(
        " Detail · #{} · {} {} · hex · {fits} (v) ",
        f.seq,
        f.opcode.as_str(),
        human_bytes(f.payload.len() as u64)
    );
    let total = hexdump::row_count(f.payload.len());
    let start = app.detail_scroll.min(total.saturating_sub(1));
    let room = height.saturating_sub(lines.len());
    lines.extend(
        hexdump::rows(&f.payload, start, room).map(|r| Line::from(Span::styled(r, t.base))),
    );
    if f.payload.is_empty() {
        lines.push(Line::from(Span::styled("(empty payload)", t.dim)));
    }
    (title, lines)
}

/// Colour one line of pretty JSON: key, then the value by its first character.
fn json_line<'a>(l: &str, t: &Theme) -> Line<'a> {
    let indent_len = l.len() - l.trim_start().len();
    let (indent, rest) = l.split_at(indent_len);
    let mut spans = vec![Span::raw(indent.to_string())];
    let value = if rest.starts_with('"')
        && let Some(pos) = rest.find("\": ")
    {
        spans.push(Span::styled(rest[..pos + 1].to_string(), t.json_key));
        spans.push(Span::styled(": ".to_string(), t.dim));
        &rest[pos + 3..]
    } else {
        rest
    };
    let style = match value.as_bytes().first() {
        Some(b'"') => t.json_string,
        Some(b'-' | b'0'..=b'9') => t.json_number,
        Some(b't' | b'f' | b'n') => t.json_literal,
        _ => t.dim,
    };
    spans.push(Span::styled(value.to_string(), style));
    Line::from(spans)
}

fn event_detail<'a>(app: &App, kind: EventKind, text: &str, t: &Theme) -> Vec<Line<'a>> {
    let mut out = vec![Line::from(Span::styled(text.to_string(), t.base))];
    if let EventKind::Close { code, clean } = kind {
        let ex = explain(code);
        out.push(Line::from(vec![
            Span::styled("code     ", t.dim),
            Span::styled(
                format!("{code} {}", ex.name),
                if clean { t.ok } else { t.error },
            ),
        ]));
        out.push(Line::from(vec![
            Span::styled("meaning  ", t.dim),
            Span::raw(ex.meaning.to_string()),
        ]));
        out.push(Line::from(vec![
            Span::styled("likely   ", t.dim),
            Span::raw(ex.likely_cause.to_string()),
        ]));
        if let Some(c) = app.current().and_then(|s| s.last_close.as_ref()) {
            out.push(Line::from(vec![
                Span::styled("closed by ", t.dim),
                Span::raw(c.initiator.as_str().to_string()),
                Span::styled(
                    if c.clean {
                        " · clean"
                    } else {
                        " · not clean"
                    },
                    t.dim,
                ),
            ]));
        }
    }
    if matches!(kind, EventKind::Error | EventKind::Open) {
        out.push(Line::from(Span::styled(
            "h: the handshake (request, response, advice)",
            t.dim,
        )));
    }
    out
}

fn draw_status(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
    if let Some(p) = &app.prompt {
        let (label, hint) = match p.kind {
            crate::app::PromptKind::Filter => (
                " FILTER ",
                "   in/out · op:text|binary|… · words · .jq (e.g. .type == \"pong\") · Enter applies · Esc",
            ),
            crate::app::PromptKind::Search => {
                (" SEARCH ", "   Enter finds · n/N next/previous · Esc")
            }
            crate::app::PromptKind::Command => (
                " : ",
                "   add NAME TARGET · edit · rename · dup · rm · theme NAME · q · Esc",
            ),
        };
        let line = Line::from(vec![
            Span::styled(label, t.selection),
            Span::raw(" "),
            Span::styled(format!("{}▏", p.text), t.base),
            Span::styled(hint, t.dim),
        ]);
        c.render_widget(Paragraph::new(line), area);
        return;
    }
    let pane = match app.focus {
        _ if app.composing => "COMPOSE",
        Pane::Sessions => "SESSIONS",
        Pane::Frames => "FRAMES",
        Pane::Detail => "DETAIL",
        Pane::Logs => "LOGS",
    };
    let hints = match app.focus {
        _ if app.composing => {
            "Ctrl-s send · Ctrl-t text/binary · Ctrl-k ping/pong/close · Ctrl-o mode · Ctrl-f pretty/compact · Ctrl-p/n/r history · Esc"
        }
        Pane::Sessions => {
            "Enter connect · x disconnect · R reconnect · N new id · Tab pane · ? help"
        }
        Pane::Frames => {
            "j/k move · G follow · Enter detail · t time · h handshake · Tab pane · ? help"
        }
        Pane::Detail => "j/k scroll · v view · w wrap · Esc back · ? help",
        Pane::Logs => "j/k move · G follow · / search · Enter the close · l hide · ? help",
    };
    let mut spans = vec![
        Span::styled(format!(" {pane} "), t.selection),
        Span::raw(" "),
    ];
    let problem = app.status.clone().or_else(|| {
        app.current().and_then(|s| match &s.state {
            ConnState::Closed { code, clean: false } => {
                let logs = if s.logs.is_some() { " (l: logs)" } else { "" };
                Some(format!("{code}{logs} — {}", explain(*code).likely_cause))
            }
            ConnState::Failed(m) => Some(m.clone()),
            _ => None,
        })
    });
    // Without a problem to report, the bar says where things stand: session, state, filter.
    let (msg, msg_style) = match problem {
        Some(m) => (Some(m), t.warn),
        None => (
            app.current().map(|s| {
                let filter = s
                    .filter
                    .as_ref()
                    .map(|f| format!(" · filter: {}", f.source))
                    .unwrap_or_default();
                let rec = s
                    .recording
                    .as_ref()
                    .map(|p| format!(" · ● rec {}", p.display()))
                    .unwrap_or_default();
                format!(
                    "{} {} {}{filter}{rec}",
                    state_glyph(&s.state),
                    s.name,
                    s.state.word()
                )
            }),
            t.dim,
        ),
    };
    let w = area.width as usize;
    match msg {
        Some(m) => {
            let room = w.saturating_sub(pane.len() + 3);
            let hint_room = room.saturating_sub(m.chars().count() + 3);
            if hint_room > 20 {
                spans.push(Span::styled(clip(hints, hint_room), t.dim));
                spans.push(Span::raw("   "));
            }
            spans.push(Span::styled(clip(&m, room), msg_style));
        }
        None => spans.push(Span::styled(
            clip(hints, w.saturating_sub(pane.len() + 3)),
            t.dim,
        )),
    }
    c.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn draw_help(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
    let focus_scope = match app.focus {
        Pane::Sessions => Scope::Sessions,
        Pane::Frames => Scope::Frames,
        Pane::Detail => Scope::Detail,
        Pane::Logs => Scope::Logs,
    };
    let mut lines = Vec::new();
    for b in BINDINGS {
        let here = b.scope == Scope::Anywhere
            || b.scope == focus_scope
            || (b.scope == Scope::Lists && focus_scope != Scope::Detail);
        let here = here
            || (b.scope == Scope::Frames && b.keys.starts_with('/') && focus_scope == Scope::Logs);
        let style = if here { t.base } else { t.dim };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:<26}", b.keys),
                if here { t.accent } else { t.dim },
            ),
            Span::styled(format!("{:<10}", b.scope.name()), t.dim),
            Span::styled(b.does.to_string(), style),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "Keys for the focused pane are bright. ? or Esc closes.",
        t.dim,
    )));
    // On a short terminal the footer goes first, so every binding stays visible at 80x24.
    if lines.len() + 2 > area.height as usize {
        lines.truncate(lines.len().saturating_sub(2));
    }
    let r = centered(area, 90, lines.len() as u16 + 2);
    c.render_widget(Clear, r);
    c.render_widget(
        Paragraph::new(lines)
            .block(pane_block(" Help ".into(), true, t))
            .style(t.base),
        r,
    );
}

fn kv<'a>(k: &str, v: String, t: &Theme) -> Line<'a> {
    Line::from(vec![Span::styled(format!("{k:<10}"), t.dim), Span::raw(v)])
}

fn draw_handshake(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
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

fn draw_form(c: &mut Canvas, area: Rect, f: &crate::app::form::SessionForm, t: &Theme) {
    use crate::app::form::{FIELDS, used};
    let kind = f.value("kind").to_string();
    let mut lines = Vec::new();
    for (i, field) in FIELDS.iter().enumerate() {
        let on = used(&kind, field);
        let value = if *field == "kind" {
            format!("‹ {} ›  (←/→: url, local, foundry)", f.values[i])
        } else {
            f.values[i].clone()
        };
        let cursor = if i == f.focus && *field != "kind" {
            "▏"
        } else {
            ""
        };
        let label_style = if i == f.focus {
            t.focus
        } else if on {
            t.accent
        } else {
            t.dim
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{field:>17}  "), label_style),
            Span::styled(format!("{value}{cursor}"), if on { t.base } else { t.dim }),
        ]));
    }
    lines.push(Line::from(""));
    match &f.error {
        Some(e) => lines.push(Line::from(Span::styled(e.clone(), t.error))),
        None => lines.push(Line::from(Span::styled(
            "Tab/↓ next · Shift-Tab/↑ previous · Enter saves · Esc cancels · empty id = a new one",
            t.dim,
        ))),
    }
    let title = if f.editing.is_some() {
        " Edit session "
    } else {
        " New session "
    };
    // Room for an error that wraps onto a second or third line.
    let extra = f
        .error
        .as_ref()
        .map_or(0, |e| (e.chars().count() / 86) as u16);
    let r = centered(area, 90, lines.len() as u16 + 2 + extra);
    c.render_widget(Clear, r);
    c.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(pane_block(title.into(), true, t))
            .style(t.base),
        r,
    );
}

fn draw_confirm_delete(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
    let name = app.current().map(|s| s.name.clone()).unwrap_or_default();
    let r = centered(area, 52, 4);
    c.render_widget(Clear, r);
    c.render_widget(
        Paragraph::new(vec![
            Line::from(format!("Delete session {name:?}?")),
            Line::from(Span::styled("y deletes · any other key keeps it", t.dim)),
        ])
        .block(pane_block(" Delete? ".into(), true, t))
        .style(t.base),
        r,
    );
}

fn draw_compare(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
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

fn draw_picker(c: &mut Canvas, area: Rect, p: &crate::app::picker::Picker, t: &Theme) {
    let visible = p.visible();
    let r = centered(
        area,
        90,
        (visible.len() as u16 + 4).clamp(6, area.height.saturating_sub(2)),
    );
    let rows = r.height.saturating_sub(4) as usize;
    let first = p.selected.saturating_sub(rows.saturating_sub(1));
    let mut lines = vec![
        Line::from(vec![
            Span::styled("filter: ", t.dim),
            Span::styled(format!("{}▏", p.query), t.base),
            Span::styled(format!("   {} of {}", visible.len(), p.items.len()), t.dim),
        ]),
        Line::from(""),
    ];
    for (i, item) in visible.iter().enumerate().skip(first).take(rows) {
        let style = if i == p.selected { t.selection } else { t.base };
        lines.push(Line::from(Span::styled(clip(&item.label, 86), style)));
    }
    if visible.is_empty() {
        lines.push(Line::from(Span::styled("nothing matches", t.dim)));
    }
    c.render_widget(Clear, r);
    c.render_widget(
        Paragraph::new(lines)
            .block(pane_block(
                format!(" {} · ↑/↓ Enter loads into the composer · Esc ", p.title),
                true,
                t,
            ))
            .style(t.base),
        r,
    );
}

fn draw_logs(
    c: &mut Canvas,
    area: Rect,
    logs: &crate::app::LogsPane,
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
            crate::monitor::Stream::Stderr if crate::app::logs::looks_like_error(&l.text) => {
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

fn draw_confirm(c: &mut Canvas, area: Rect, t: &Theme) {
    let r = centered(area, 52, 4);
    c.render_widget(Clear, r);
    c.render_widget(
        Paragraph::new(vec![
            Line::from("Connections are open and will be closed."),
            Line::from(Span::styled("q quits · any other key stays", t.dim)),
        ])
        .block(pane_block(" Quit? ".into(), true, t))
        .style(t.base),
        r,
    );
}

#[cfg(test)]
mod wrap_tests {
    use super::wrap_words;

    #[test]
    fn words_wrap_and_long_words_are_cut() {
        assert_eq!(
            wrap_words("azd is not installed: install it", 12),
            ["azd is not", "installed:", "install it"]
        );
        assert_eq!(wrap_words("abcdefghij xy", 4), ["abcd", "efgh", "ij", "xy"]);
        assert!(wrap_words("", 5).is_empty());
    }
}

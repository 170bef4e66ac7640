//! Big frames in the detail pane: a console whose last (selected, followed) frame is a 16 MiB
//! binary frame or a JSON frame just under 1 MiB, drawn at 160x48 on a TestBackend. The first
//! draw is timed (nothing cached yet), then the median of a few more (the JSON view is memoised
//! for the selected frame, so later draws show what the memo saves).

use crate::support::{console_app, median, offline_session};
use bytes::Bytes;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, Instant};
use wsdeck::app::{App, DetailView, Event, update};
use wsdeck::engine::session::SessionEvent;
use wsdeck::engine::{Direction, Frame, Opcode};
use wsdeck::ui::theme::Theme;

/// Bytes that no decoder claims by accident (xorshift), as audio or compressed data would be.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A JSON document of about `len` bytes (at most `len`): an array of records with nesting.
fn json_of(len: usize) -> Vec<u8> {
    let mut out = String::from(r#"{"type":"conversation.item.list","items":["#);
    let mut i = 0;
    loop {
        let item = format!(
            r#"{{"id":"item_{i:06}","role":"assistant","status":"completed","content":[{{"type":"output_text","text":"line {i} of a long transcript, with some words"}}],"usage":{{"in":{i},"out":{}}}}}"#,
            i * 3
        );
        if out.len() + item.len() + 3 > len {
            break;
        }
        if i > 0 {
            out.push(',');
        }
        out.push_str(&item);
        i += 1;
    }
    out.push_str("]}");
    out.into_bytes()
}

fn app_showing(opcode: Opcode, payload: Vec<u8>) -> App {
    let mut app = console_app(offline_session("big"));
    let small = Frame {
        seq: 1,
        at: Duration::ZERO,
        dir: Direction::Out,
        opcode: Opcode::Text,
        payload: Bytes::from_static(br#"{"type":"conversation.item.list"}"#),
    };
    let big = Frame {
        seq: 2,
        at: Duration::from_millis(3),
        dir: Direction::In,
        opcode,
        payload: Bytes::from(payload),
    };
    update(
        &mut app,
        Event::Session {
            id: 0,
            event: SessionEvent::Frames(vec![small, big]),
        },
    );
    app
}

pub struct Row {
    pub name: String,
    pub first_ms: f64,
    pub then_ms: f64,
    /// The detail pane's title, to show what was drawn.
    pub title: String,
}

fn time_draws(name: String, app: &App, theme: &Theme) -> Row {
    let mut term = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    let draw = |term: &mut Terminal<TestBackend>| {
        let t0 = Instant::now();
        term.draw(|c| wsdeck::ui::draw(c, app, theme))
            .expect("draw");
        t0.elapsed().as_secs_f64() * 1e3
    };
    let first_ms = draw(&mut term);
    let mut then: Vec<f64> = (0..5).map(|_| draw(&mut term)).collect();
    let screen = term.backend().to_string();
    let title = screen
        .lines()
        .find_map(|l| {
            let at = l.find("Detail ·")?;
            Some(l[at..].split('─').next().unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "(no detail pane on screen)".into());
    Row {
        name,
        first_ms,
        then_ms: median(&mut then),
        title,
    }
}

pub fn run() -> Vec<Row> {
    let theme = Theme::load("dark", None).expect("theme");
    let mut rows = Vec::new();
    let binary = noise(16 << 20);
    let mut app = app_showing(Opcode::Binary, binary);
    rows.push(time_draws("16 MiB binary, auto view".into(), &app, &theme));
    app.detail.view = DetailView::Hex;
    rows.push(time_draws("16 MiB binary, hex view".into(), &app, &theme));
    let json = json_of(1 << 20);
    let len = json.len();
    let app = app_showing(Opcode::Text, json);
    rows.push(time_draws(
        format!("{:.2} MiB JSON, pretty view", len as f64 / (1 << 20) as f64),
        &app,
        &theme,
    ));
    rows
}

//! Drawing one screen of the frame log with 1 000 vs 1 000 000 frames stored: the cost must not
//! grow with the log. Prints medians of several runs and the ratio.
//!
//! cargo bench --bench draw [-- RUNS]

use bytes::Bytes;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, Instant};
use wsdeck::app::{App, Event, Session, update};
use wsdeck::engine::session::SessionEvent;
use wsdeck::engine::target::{ConnectSpec, Target};
use wsdeck::engine::{Direction, Frame, Opcode};
use wsdeck::ui::theme::Theme;

fn app_with(n: usize) -> App {
    let spec = ConnectSpec::new(Target::url("ws://127.0.0.1:1/x").expect("url"));
    let mut app = App::new(vec![Session::new("bench", spec)]);
    update(
        &mut app,
        Event::Resize {
            width: 160,
            height: 48,
        },
    );
    let json = Bytes::from_static(br#"{"type":"response.output_text.delta","id":"m_1","response_id":"r_be3c","item_id":"it_068e","delta":"you "}"#);
    let pcm = Bytes::from(vec![7u8; 640]);
    let frames: Vec<Frame> = (0..n as u64)
        .map(|i| Frame {
            seq: i + 1,
            at: Duration::from_micros(i * 50),
            dir: if i % 3 == 0 {
                Direction::Out
            } else {
                Direction::In
            },
            opcode: if i % 4 == 0 {
                Opcode::Binary
            } else {
                Opcode::Text
            },
            payload: if i % 4 == 0 {
                pcm.clone()
            } else {
                json.clone()
            },
        })
        .collect();
    update(
        &mut app,
        Event::Session {
            id: 0,
            event: SessionEvent::Frames(frames),
        },
    );
    app
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(7);
    let theme = Theme::load("dark", None).expect("theme");
    let mut term = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    let small = app_with(1_000);
    let big = app_with(1_000_000);
    let draws = 200;
    let mut measure = |app: &App| {
        let t0 = Instant::now();
        for _ in 0..draws {
            term.draw(|c| wsdeck::ui::draw(c, app, &theme))
                .expect("draw");
        }
        t0.elapsed().as_secs_f64() * 1e6 / draws as f64
    };
    let (mut s, mut b, mut r) = (vec![], vec![], vec![]);
    for _ in 0..runs {
        let a = measure(&small);
        let c = measure(&big);
        s.push(a);
        b.push(c);
        r.push(c / a);
    }
    println!(
        "draw one 160x48 screen (following the tail), {runs} runs of {draws} draws: 1 000 frames {:.0} µs | 1 000 000 frames {:.0} µs | ratio median {:.2}",
        median(&mut s),
        median(&mut b),
        median(&mut r)
    );
}

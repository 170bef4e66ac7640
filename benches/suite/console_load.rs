//! The console under load: the real event loop (`wsdeck::tui::run_loop`, 160x48, recording on)
//! with one session connected to a loopback source that sends mixed JSON and binary frames at a
//! steady rate, while `?` is pressed every 100 ms or so (help on, help off). Measured: each
//! draw's duration, the time from a key press to the first finished screen that answers it
//! (the help overlay appears or goes), and frames missing from the log and from the capture at
//! the end against what the source sent.

use crate::support::{BINARY, CLOSE_1000, Source, TEXT, await_close_answer, frame_head, pct};
use crate::timed_backend::{Drawn, TimedBackend};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, watch};
use wsdeck::app::{App, Event, Session};
use wsdeck::engine::target::{ConnectSpec, Target};
use wsdeck::engine::{Direction, Opcode};
use wsdeck::store::RowKind;
use wsdeck::ui::theme::Theme;

/// The help overlay's title, as drawn (mark bit 0).
const HELP_MARK: &str = " Help ";
/// The title once the source's close came in (mark bit 1): every frame is in by then.
const CLOSED_MARK: &str = "closed by the server";

/// One cycle of frames the source repeats: three JSON deltas of varying length for one 640 B
/// binary (PCM-sized) frame, each pre-encoded, with the end offset of each frame.
fn pool() -> (Vec<u8>, Vec<usize>) {
    let mut bytes = Vec::new();
    let mut ends = Vec::new();
    for i in 0..1000usize {
        let payload: Vec<u8> = if i % 4 == 3 {
            (0..640).map(|k| ((i + k) % 251) as u8).collect()
        } else {
            format!(
                r#"{{"type":"response.output_text.delta","response_id":"r_{:04}","item_id":"it_{:03}","output_index":0,"delta":"{}"}}"#,
                i / 40,
                i % 97,
                "token ".repeat(1 + i % 9)
            )
            .into_bytes()
        };
        let opcode = if i % 4 == 3 { BINARY } else { TEXT };
        bytes.extend_from_slice(&frame_head(opcode, payload.len()));
        bytes.extend_from_slice(&payload);
        ends.push(bytes.len());
    }
    (bytes, ends)
}

/// Send `rate` frames a second for `secs`, each millisecond what is due, then a close; returns
/// the data frames sent.
async fn paced(mut raw: tokio::net::TcpStream, rate: usize, secs: f64) -> usize {
    let (bytes, ends) = pool();
    let start = |i: usize| if i == 0 { 0 } else { ends[i - 1] };
    let total = (rate as f64 * secs) as usize;
    let t0 = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut sent = 0usize;
    let mut buf = Vec::with_capacity(1 << 20);
    while sent < total {
        tick.tick().await;
        let due = ((t0.elapsed().as_secs_f64() * rate as f64) as usize).min(total);
        buf.clear();
        while sent < due {
            let i = sent % ends.len();
            buf.extend_from_slice(&bytes[start(i)..ends[i]]);
            sent += 1;
        }
        if raw.write_all(&buf).await.is_err() {
            return sent;
        }
    }
    let _ = raw.write_all(&CLOSE_1000).await;
    await_close_answer(&mut raw).await;
    sent
}

pub struct Report {
    pub sent: usize,
    pub seconds: f64,
    pub draws: usize,
    pub draw_p50_ms: f64,
    pub draw_p99_ms: f64,
    pub draw_max_ms: f64,
    pub keys: usize,
    pub key_p50_ms: f64,
    pub key_p99_ms: f64,
    pub key_max_ms: f64,
    pub unanswered: usize,
    pub in_log: usize,
    pub in_capture: usize,
}

fn key(c: KeyCode) -> Event {
    Event::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

/// Wait for the first draw finished after `after` whose help state is `shown`.
async fn answered(
    drawn: &mut watch::Receiver<Drawn>,
    after: Instant,
    shown: bool,
) -> Option<Instant> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let d = *drawn.borrow_and_update();
        if d.done > after && (d.marks & 1 == 1) == shown {
            return Some(d.done);
        }
        if tokio::time::timeout_at(deadline, drawn.changed())
            .await
            .is_err()
        {
            return None;
        }
    }
}

/// Data frames (text and binary) received, in the app's log.
fn frames_in_log(app: &App) -> usize {
    let log = &app.sessions[0].log;
    (0..log.len())
        .filter_map(|i| log.get(i))
        .filter(|r| {
            matches!(&r.kind, RowKind::Frame(f)
                if f.dir == Direction::In && matches!(f.opcode, Opcode::Text | Opcode::Binary))
        })
        .count()
}

/// Data frames received, in the capture's lines.
fn frames_in_capture(dir: &std::path::Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        n += text
            .lines()
            .filter(|l| {
                l.contains(r#""dir":"in""#)
                    && (l.contains(r#""op":"text""#) || l.contains(r#""op":"binary""#))
            })
            .count();
    }
    n
}

pub fn run(rate: usize, secs: f64) -> Report {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let source = Source::start(move |tcp| paced(tcp, rate, secs));
    let captures = tempfile::tempdir().expect("capture dir");
    let spec = ConnectSpec::new(Target::url(&source.url).expect("url"));
    let mut app = App::new(vec![Session::new("load", spec)]);
    app.size = (160, 48);
    let options = wsdeck::tui::LoopOptions {
        connect_now: vec![0],
        capture_dir: Some(captures.path().to_path_buf()),
        record_by_default: true,
        ..Default::default()
    };
    let (backend, mut drawn) = TimedBackend::new(160, 48, &[HELP_MARK, CLOSED_MARK]);
    let theme = Theme::load("dark", None).expect("theme");
    // As tui::run: one channel for keys and the sessions' events.
    let (tx, rx) = mpsc::channel::<Event>(8192);
    let keys = tx.clone();
    let (app, term, keys_ms, unanswered, t_load) = rt.block_on(async move {
        let looped = tokio::spawn(async move {
            let mut term = Terminal::new(backend).expect("terminal");
            let app = wsdeck::tui::run_loop(&mut term, app, &theme, (tx, rx), options)
                .await
                .expect("loop");
            (app, term)
        });
        // The first frames are on screen when the draws come every frame budget.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let t_load = Instant::now();
        let mut keys_ms = Vec::new();
        let mut unanswered = 0;
        let mut shown = false;
        while t_load.elapsed().as_secs_f64() < secs - 0.3 {
            let sent = Instant::now();
            keys.send(key(KeyCode::Char('?'))).await.expect("key");
            shown = !shown;
            match answered(&mut drawn, sent, shown).await {
                Some(at) => keys_ms.push((at - sent).as_secs_f64() * 1e3),
                None => unanswered += 1,
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if shown {
            let _ = keys.send(key(KeyCode::Char('?'))).await;
        }
        // The session closes after the last frame (the source's close), then `q` and `y`: the
        // recording makes `q` ask.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while drawn.borrow_and_update().marks & 2 == 0 {
            if tokio::time::timeout_at(deadline, drawn.changed())
                .await
                .is_err()
            {
                eprintln!("  the session never showed its close: counting what came");
                break;
            }
        }
        for c in ['q', 'y'] {
            let _ = keys.send(key(KeyCode::Char(c))).await;
        }
        let (app, term) = looped.await.expect("loop task");
        (app, term, keys_ms, unanswered, t_load)
    });
    let sent = source.join();
    let _ = t_load;
    if term.backend().took.is_empty() || std::env::var_os("WSDECK_BENCH_SCREEN").is_some() {
        eprintln!("{}", term.backend().screen());
    }
    let mut draws: Vec<f64> = term
        .backend()
        .took
        .iter()
        .map(|d| d.as_secs_f64() * 1e3)
        .collect();
    draws.sort_by(|a, b| a.total_cmp(b));
    let mut keys = keys_ms.clone();
    keys.sort_by(|a, b| a.total_cmp(b));
    Report {
        sent,
        seconds: secs,
        draws: draws.len(),
        draw_p50_ms: pct(&draws, 0.5),
        draw_p99_ms: pct(&draws, 0.99),
        draw_max_ms: draws.last().copied().unwrap_or(0.0),
        keys: keys.len(),
        key_p50_ms: pct(&keys, 0.5),
        key_p99_ms: pct(&keys, 0.99),
        key_max_ms: keys.last().copied().unwrap_or(0.0),
        unanswered,
        in_log: frames_in_log(&app),
        in_capture: frames_in_capture(captures.path()),
    }
}

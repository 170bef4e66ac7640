//! Learning an agent's vocabulary: `Vocabulary::observe` and the reply `Correlator` on a million
//! small Voice-host-like frames, against parsing each frame into a `serde_json::Value` alone
//! (the floor: learning parses every frame once). Medians of RUNS, ratios within each run.
//!
//! cargo bench --bench vocab [-- RUNS]

#[path = "support/mod.rs"]
mod support;

use bytes::Bytes;
use std::time::{Duration, Instant};
use support::{median, runs_arg};
use wsdeck::engine::{Direction, Frame, Opcode};
use wsdeck::vocab::correlate::Correlator;
use wsdeck::vocab::infer::Vocabulary;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const FRAMES: u64 = 1_000_000;

/// One turn of a conversation: a user message, the response's start, deltas, its end.
fn frame(i: u64) -> Frame {
    let turn = i / 6;
    let (dir, text) = match i % 6 {
        0 => (
            Direction::Out,
            format!(
                r#"{{"type":"user.message","id":"m_{i}","ts":"2026-11-25T09:37:48.246Z","item_id":"in_{turn}","content":[{{"type":"input_text","text":"hello {turn}"}}]}}"#
            ),
        ),
        1 => (
            Direction::In,
            format!(
                r#"{{"type":"response.created","id":"m_{i}","ts":"2026-11-25T09:37:48.250Z","response_id":"r_{turn}","in_reply_to":["in_{turn}"]}}"#
            ),
        ),
        2..=4 => (
            Direction::In,
            format!(
                r#"{{"type":"response.output_text.delta","id":"m_{i}","ts":"2026-11-25T09:37:48.251Z","response_id":"r_{turn}","item_id":"it_{turn}","delta":"word {i} "}}"#
            ),
        ),
        _ => (
            Direction::In,
            format!(
                r#"{{"type":"response.done","id":"m_{i}","ts":"2026-11-25T09:37:48.254Z","response_id":"r_{turn}"}}"#
            ),
        ),
    };
    Frame {
        seq: i + 1,
        at: Duration::from_micros(i * 50),
        dir,
        opcode: Opcode::Text,
        payload: Bytes::from(text),
    }
}

fn per_frame_us(t: Duration) -> f64 {
    t.as_secs_f64() * 1e6 / FRAMES as f64
}

fn main() {
    let runs = runs_arg(3);
    let frames: Vec<Frame> = (0..FRAMES).map(frame).collect();
    let mb = frames.iter().map(|f| f.payload.len()).sum::<usize>() / 1_000_000;
    println!("{FRAMES} frames ({mb} MB), {runs} runs (µs a frame)");
    let (mut parse, mut observe, mut correlate, mut ratio) = (vec![], vec![], vec![], vec![]);
    for run in 0..runs {
        let t = Instant::now();
        let parsed = frames
            .iter()
            .filter(|f| serde_json::from_slice::<serde_json::Value>(&f.payload).is_ok())
            .count();
        let p = per_frame_us(t.elapsed());
        assert_eq!(parsed as u64, FRAMES);

        let mut v = Vocabulary::new();
        let t = Instant::now();
        frames.iter().for_each(|f| v.observe(f));
        let o = per_frame_us(t.elapsed());
        assert_eq!(v.frames(), FRAMES);

        let mut c = Correlator::default();
        let t = Instant::now();
        frames.iter().for_each(|f| c.observe(f, Some("x")));
        let k = per_frame_us(t.elapsed());
        println!("  run {run}: parse only {p:.2} | observe {o:.2} | correlate {k:.2}");
        parse.push(p);
        observe.push(o);
        correlate.push(k);
        ratio.push(o / p);
    }
    println!(
        "parse only {:.2} µs | observe {:.2} µs ({:.2}x the parse) | correlate {:.2} µs",
        median(&mut parse),
        median(&mut observe),
        median(&mut ratio),
        median(&mut correlate)
    );
}

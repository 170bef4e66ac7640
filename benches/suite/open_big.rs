//! Opening a 1 GB capture as `:open` opens it, with `[store] memory_mb = 256`: the time to the
//! first screen (the session shown, the first batch of records indexed, ingested and drawn),
//! the time until every record is in, and the console's resident memory then (`VmRSS`) and at
//! its peak (`VmHWM`). A child process per run (`suite open-probe PATH`), so what other
//! sections allocated does not count; the capture (700 000 binary frames of 1 KiB, as
//! `capture_index`'s 1k case) is written once and read from the page cache.

use crate::support::draw_us;
use bytes::Bytes;
use std::ops::ControlFlow;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use wsdeck::app::opening::IndexStep;
use wsdeck::app::{App, ConsoleConfig, Event, update};
use wsdeck::capture::index::index_capture;
use wsdeck::capture::source::CaptureSource;
use wsdeck::capture::writer::{CaptureMeta, CaptureWriter};
use wsdeck::engine::{Direction, Frame, Opcode};
use wsdeck::store::Budget;

const FRAMES: u64 = 700_000;
const BUDGET_MB: u64 = 256;

/// The capture, written in `dir`.
pub fn write_capture(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("open-1g.jsonl");
    let mut w =
        CaptureWriter::create(&path, &CaptureMeta::default(), SystemTime::now()).expect("capture");
    let payloads: Vec<Bytes> = (0..61u8)
        .map(|k| {
            Bytes::from(
                (0..1024u32)
                    .map(|i| (i as u8) ^ k.wrapping_mul(37))
                    .collect::<Vec<u8>>(),
            )
        })
        .collect();
    let mut batch = Vec::with_capacity(4096);
    for seq in 1..=FRAMES {
        batch.push(Frame {
            seq,
            at: Duration::from_micros(seq * 20),
            dir: if seq % 3 == 0 {
                Direction::Out
            } else {
                Direction::In
            },
            opcode: Opcode::Binary,
            payload: payloads[(seq % 61) as usize].clone(),
        });
        if batch.len() == 4096 {
            w.frames(&batch).expect("write");
            batch.clear();
        }
    }
    w.frames(&batch).expect("write");
    w.flush().expect("flush");
    path
}

/// The child's side: open, time, print `first_ms all_ms rss_mb hwm_mb frames`.
pub fn probe(path: &Path) {
    let spill = tempfile::tempdir().expect("spill dir");
    let config = ConsoleConfig {
        store: Budget::from_mb(BUDGET_MB, Some(spill.path().to_path_buf())),
        ..ConsoleConfig::default()
    };
    let mut app = App::new(vec![]).with_config(config);
    update(
        &mut app,
        Event::Resize {
            width: 160,
            height: 48,
        },
    );
    draw_us(&app, 1);
    let t0 = Instant::now();
    let step = |step| Event::CaptureIndexing {
        ticket: 1,
        name: "open-1g.jsonl".into(),
        step,
    };
    let source = Arc::new(CaptureSource::open(path).expect("open"));
    let total_bytes = std::fs::metadata(path).expect("size").len();
    update(
        &mut app,
        step(IndexStep::Started {
            source,
            total_bytes,
        }),
    );
    let mut first = None;
    // The console's batch size (`tui::open_task`).
    let summary = index_capture(path, 50_000, |records, progress| {
        update(&mut app, step(IndexStep::Batch { records, progress }));
        if first.is_none() {
            draw_us(&app, 1);
            first = Some(t0.elapsed());
        }
        ControlFlow::Continue(())
    })
    .expect("index");
    update(&mut app, step(IndexStep::Done(Ok(summary))));
    draw_us(&app, 1);
    let all = t0.elapsed();
    let frames = app.sessions.first().map_or(0, |s| s.log.len());
    let (rss, hwm) = (status_kb("VmRSS:"), status_kb("VmHWM:"));
    println!(
        "{:.1} {:.1} {:.1} {:.1} {frames}",
        first.unwrap_or(all).as_secs_f64() * 1e3,
        all.as_secs_f64() * 1e3,
        rss / 1e3,
        hwm / 1e3,
    );
}

fn status_kb(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

pub struct Row {
    pub bytes: u64,
    pub first_ms: f64,
    pub all_ms: f64,
    pub rss_mb: f64,
    pub hwm_mb: f64,
}

/// Medians of `runs` children on the capture at `path`.
pub fn measure(path: &Path, runs: usize) -> Result<Row, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut v: [Vec<f64>; 4] = Default::default();
    for _ in 0..runs.max(1) {
        let out = Command::new(&exe)
            .arg("open-probe")
            .arg(path)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let w: Vec<f64> = text
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        let [first, all, rss, hwm, frames] = w[..] else {
            return Err(format!("probe printed {text:?}"));
        };
        if frames as u64 != FRAMES {
            return Err(format!("{frames} of {FRAMES} frames opened"));
        }
        for (k, x) in [first, all, rss, hwm].into_iter().enumerate() {
            v[k].push(x);
        }
    }
    let [mut first, mut all, mut rss, mut hwm] = v;
    Ok(Row {
        bytes: std::fs::metadata(path).map_or(0, |m| m.len()),
        first_ms: crate::median(&mut first),
        all_ms: crate::median(&mut all),
        rss_mb: crate::median(&mut rss),
        hwm_mb: crate::median(&mut hwm),
    })
}

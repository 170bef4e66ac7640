//! Memory per stored frame: the console's resident memory (`VmRSS`) with 10⁶ frames ingested,
//! minus the same console empty, minus the payload bytes, over the frame count. Each
//! measurement runs in a fresh child process (this binary, `memory-probe SIZE N MODE`), so
//! what earlier sections allocated and freed does not blur it.
//!
//! Frames go in as the live loop takes them: `Event::Session` batches of 512 through `update`.
//! Payloads are made two ways: `arena` as the session actor makes them (small payloads are
//! slices of shared 64 KiB blocks, its `ARENA_CHUNK`), `own` one allocation per payload, as opening a capture
//! makes them today.

use crate::support::console_app;
use bytes::Bytes;
use std::process::Command;
use std::time::Duration;
use wsdeck::app::{Event, update};
use wsdeck::engine::session::SessionEvent;
use wsdeck::engine::{Direction, Frame, Opcode};

pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Payloads of `size` bytes, varying per frame.
struct Payloads {
    arena: bool,
    block: bytes::BytesMut,
}

impl Payloads {
    fn next(&mut self, i: usize, size: usize) -> Bytes {
        let fill = (i % 251) as u8;
        if !self.arena {
            return Bytes::from(vec![fill; size]);
        }
        if self.block.capacity() < size {
            self.block = bytes::BytesMut::with_capacity(64 * 1024);
        }
        self.block.extend(std::iter::repeat_n(fill, size));
        self.block.split().freeze()
    }
}

/// The child's side: build, measure, print `empty_rss full_rss`.
pub fn probe(size: usize, n: usize, mode: &str) {
    let mut app = console_app(crate::support::offline_session("memory"));
    crate::support::draw_us(&app, 1);
    let empty = rss_bytes();
    let mut payloads = Payloads {
        arena: mode == "arena",
        block: bytes::BytesMut::new(),
    };
    let mut seq = 0u64;
    while (seq as usize) < n {
        let batch: Vec<Frame> = (0..512.min(n - seq as usize))
            .map(|_| {
                seq += 1;
                Frame {
                    seq,
                    at: Duration::from_micros(seq * 20),
                    dir: Direction::In,
                    opcode: Opcode::Binary,
                    payload: payloads.next(seq as usize, size),
                }
            })
            .collect();
        update(
            &mut app,
            Event::Session {
                id: 0,
                event: SessionEvent::Frames(batch),
            },
        );
    }
    while app.has_work() {
        update(&mut app, Event::ScanSlice);
    }
    crate::support::draw_us(&app, 1);
    let full = rss_bytes();
    assert_eq!(app.sessions[0].log.len(), n, "every frame stored");
    println!("{empty} {full}");
}

pub struct Row {
    pub size: usize,
    pub mode: &'static str,
    pub n: usize,
    pub empty_mb: f64,
    pub full_mb: f64,
    /// Resident bytes per frame beyond its payload.
    pub per_frame: f64,
}

pub fn measure(size: usize, n: usize, mode: &'static str) -> Result<Row, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe)
        .args(["memory-probe", &size.to_string(), &n.to_string(), mode])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Vec<u64> = text
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let [empty, full] = v[..] else {
        return Err(format!("probe printed {text:?}"));
    };
    Ok(Row {
        size,
        mode,
        n,
        empty_mb: empty as f64 / 1e6,
        full_mb: full as f64 / 1e6,
        per_frame: (full as f64 - empty as f64 - (n * size) as f64) / n as f64,
    })
}

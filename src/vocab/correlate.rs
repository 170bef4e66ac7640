//! (placeholder API for the console's integration; the real correlation lands from i10-vocab)

use crate::engine::Frame;
use std::time::Duration;

#[derive(Debug, Default)]
pub struct Correlator {}

#[derive(Debug, Clone, Copy)]
pub struct Replies {
    pub first: Duration,
    pub last: Duration,
    pub count: u64,
}

#[derive(Debug, Clone)]
pub struct Latency {
    pub request_type: String,
    pub n: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

impl Correlator {
    pub fn observe(&mut self, frame: &Frame, kind: Option<&str>) {
        let _ = (frame, kind);
    }

    pub fn replies(&self, seq: u64) -> Option<Replies> {
        let _ = seq;
        None
    }

    pub fn latencies(&self) -> Vec<Latency> {
        vec![]
    }

    pub fn links(&self) -> Vec<String> {
        vec![]
    }
}

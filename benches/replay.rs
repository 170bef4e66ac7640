//! Replay timing fidelity and capture write throughput.
//!
//! cargo bench --bench replay [-- RUNS]
//!
//! Fidelity: a capture of 200 frames 10 ms apart is replayed with original timing into a
//! loopback server that timestamps each arrival; the error of each gap against 10 ms gives a
//! median and a p99. Throughput: CaptureWriter alone, frames of 64 B and 1 KiB to a temp file.

use bytes::Bytes;
use futures_util::StreamExt;
use std::time::{Duration, Instant, SystemTime};
use wsdeck::capture::writer::{CaptureMeta, CaptureWriter};
use wsdeck::engine::{Direction, Frame, Opcode};

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

async fn fidelity(dir: &std::path::Path, n: usize, gap: Duration) -> Vec<f64> {
    let cap = dir.join("fidelity.jsonl");
    {
        let mut w = CaptureWriter::create(&cap, &CaptureMeta::default(), SystemTime::now())
            .expect("capture");
        for i in 0..n {
            w.frame(&Frame {
                seq: i as u64 + 1,
                at: gap * i as u32,
                dir: Direction::Out,
                opcode: Opcode::Text,
                payload: Bytes::from(format!("{{\"n\":{i}}}")),
            })
            .expect("write");
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("ws://{}/", listener.local_addr().expect("addr"));
    let arrivals = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut ws = tokio_tungstenite::accept_async(tcp).await.expect("ws");
        let mut at = Vec::new();
        while let Some(Ok(m)) = ws.next().await {
            if m.is_text() {
                at.push(Instant::now());
            }
            if m.is_close() {
                break;
            }
        }
        at
    });
    let opts = wsdeck::cli::replay::ReplayOptions {
        timing: wsdeck::cli::replay::Timing::Original,
        expect: false,
        ignore: vec![],
        wait_replies: None,
        linger: Duration::from_millis(50),
        monitor: None,
    };
    let spec = wsdeck::engine::ConnectSpec::new(wsdeck::engine::Target::url(&url).expect("url"));
    let resolved = wsdeck::cli::target::Resolved {
        spec,
        session_name: None,
    };
    wsdeck::cli::replay::run(&cap, resolved, opts)
        .await
        .expect("replay");
    let at = arrivals.await.expect("arrivals");
    at.windows(2)
        .map(|w| (w[1].duration_since(w[0]).as_secs_f64() - gap.as_secs_f64()).abs() * 1e3)
        .collect()
}

fn throughput(dir: &std::path::Path, size: usize, n: usize) -> (f64, f64) {
    let path = dir.join(format!("tp-{size}.jsonl"));
    let payload = Bytes::from(vec![b'a'; size]);
    let t0 = Instant::now();
    {
        let mut w = CaptureWriter::create(&path, &CaptureMeta::default(), SystemTime::now())
            .expect("capture");
        for i in 0..n {
            w.frame(&Frame {
                seq: i as u64,
                at: Duration::from_micros(i as u64),
                dir: Direction::In,
                opcode: if i % 2 == 0 {
                    Opcode::Text
                } else {
                    Opcode::Binary
                },
                payload: payload.clone(),
            })
            .expect("write");
        }
        w.flush().expect("flush");
    }
    let dt = t0.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64;
    let _ = std::fs::remove_file(&path);
    (n as f64 / dt, bytes / dt / 1e6)
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir().expect("tmp");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("rt");
    let (mut med, mut p99) = (vec![], vec![]);
    for _ in 0..runs {
        let mut errs = rt.block_on(fidelity(dir.path(), 200, Duration::from_millis(10)));
        med.push(percentile(&mut errs, 0.5));
        p99.push(percentile(&mut errs, 0.99));
    }
    println!(
        "replay timing fidelity, 200 frames 10 ms apart, {runs} runs: gap error median {:.3} ms, p99 {:.3} ms (medians over runs)",
        percentile(&mut med, 0.5),
        percentile(&mut p99, 0.5)
    );
    for (size, n) in [(64usize, 2_000_000usize), (1024, 500_000)] {
        let (mut fps, mut mbs) = (vec![], vec![]);
        for _ in 0..runs {
            let (f, m) = throughput(dir.path(), size, n);
            fps.push(f);
            mbs.push(m);
        }
        println!(
            "capture write {size:>5} B frames (half text, half binary): {:.0} frames/s, {:.0} MB/s of capture (medians)",
            percentile(&mut fps, 0.5),
            percentile(&mut mbs, 0.5)
        );
    }
}

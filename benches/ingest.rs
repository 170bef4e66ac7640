//! Ingest throughput: `wsdeck record` (socket → events → capture file) against a bare
//! tokio-tungstenite reader, on loopback, from a server that writes pre-encoded frames as fast
//! as the socket takes them. Prints medians of several runs and the ratio taken in each run.
//!
//! cargo bench --bench ingest [-- RUNS]

use std::time::{Duration, Instant};

// The allocator the wsdeck binary uses, so the bench measures what ships.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "support/mod.rs"]
mod support;
use support::{BINARY, bare_reader, flood_source, median};

async fn wsdeck_record(size: usize, count: usize, out: Option<&std::path::Path>) -> Duration {
    use wsdeck::cli::live::{Input, LiveOptions, run_live};
    use wsdeck::cli::target::Resolved;
    use wsdeck::engine::target::{ConnectSpec, Target};
    let server = flood_source(BINARY, size, count);
    let url = server.url.clone();
    let mut spec = ConnectSpec::new(Target::url(&url).expect("url"));
    spec.max_message_size = Some(64 << 20);
    let t0 = Instant::now();
    let code = run_live(
        Resolved {
            spec,
            session_name: None,
        },
        Input::Nothing,
        LiveOptions {
            linger: Duration::ZERO,
            expect: None,
            expect_timeout: Duration::ZERO,
            record: out.map(|p| p.to_path_buf()),
            print: false,
            monitor: None,
        },
    )
    .await
    .expect("record");
    let dt = t0.elapsed();
    assert_eq!(code, 0, "record should end cleanly");
    server.join();
    dt
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    // WSDECK_BENCH_RT=current|multi1|multi2 (default multi2, what main.rs uses).
    let flavour = std::env::var("WSDECK_BENCH_RT").unwrap_or_else(|_| "multi2".into());
    let rt = match flavour.as_str() {
        "current" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        "multi1" => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build(),
        _ => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build(),
    }
    .expect("runtime");
    println!("client runtime: {flavour}");
    // WSDECK_BENCH_DIR=/dev/shm separates the CPU cost from the disk's write speed.
    let dir = match std::env::var_os("WSDECK_BENCH_DIR") {
        Some(d) => tempfile::tempdir_in(d).expect("tmp"),
        None => tempfile::tempdir().expect("tmp"),
    };
    println!("captures in {}", dir.path().display());
    println!("ingest on loopback, {runs} runs each; frames/s (MB/s of payload)");
    // WSDECK_BENCH_SIZES=1024,65536 runs only those sizes.
    let only: Option<Vec<usize>> = std::env::var("WSDECK_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect());
    for (size, count) in [
        (64usize, 2_000_000usize),
        (1024, 1_000_000),
        (65536, 20_000),
    ] {
        if only.as_ref().is_some_and(|o| !o.contains(&size)) {
            continue;
        }
        let (mut bare, mut ours, mut ratio) = (vec![], vec![], vec![]);
        for r in 0..runs {
            // WSDECK_BENCH_ONLY_RECORD=1: profile the record path alone (no ratio).
            let b = if std::env::var_os("WSDECK_BENCH_ONLY_RECORD").is_some() {
                Duration::from_secs(1)
            } else {
                let server = flood_source(BINARY, size, count);
                let dt = rt.block_on(bare_reader(&server.url, count));
                server.join();
                dt
            };
            let path = dir.path().join(format!("cap-{size}-{r}.jsonl"));
            // WSDECK_BENCH_NO_CAPTURE=1: the engine alone (socket -> events), no file.
            let capture = std::env::var_os("WSDECK_BENCH_NO_CAPTURE").is_none();
            let o = rt.block_on(wsdeck_record(
                size,
                count,
                capture.then_some(path.as_path()),
            ));
            let cap_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let _ = std::fs::remove_file(&path);
            let bf = count as f64 / b.as_secs_f64();
            let of = count as f64 / o.as_secs_f64();
            eprintln!(
                "  {size:>6} B run {r}: bare {bf:>10.0}/s  record {of:>10.0}/s  ratio {:.2}  capture {:.1} MB",
                of / bf,
                cap_bytes as f64 / 1e6
            );
            bare.push(bf);
            ours.push(of);
            ratio.push(of / bf);
        }
        let (b, o, r) = (median(&mut bare), median(&mut ours), median(&mut ratio));
        println!(
            "{size:>6} B x {count}: bare tokio-tungstenite {b:>10.0}/s ({:>7.1} MB/s) | wsdeck record {o:>10.0}/s ({:>7.1} MB/s) | ratio median {r:.2}",
            b * size as f64 / 1e6,
            o * size as f64 / 1e6
        );
    }
}

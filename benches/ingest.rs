//! Ingest throughput: `wsdeck record` (socket → events → capture file) against a bare
//! tokio-tungstenite reader, on loopback, from a server that writes pre-encoded frames as fast
//! as the socket takes them. Prints medians of several runs and the ratio taken in each run.
//!
//! cargo bench --bench ingest [-- RUNS]

use std::time::{Duration, Instant};

// The allocator the wsdeck binary uses, so the bench measures what ships.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn encode_frames(size: usize, per_chunk: usize) -> Vec<u8> {
    let mut head = vec![0x82u8];
    if size < 126 {
        head.push(size as u8);
    } else if size < 65536 {
        head.push(126);
        head.extend_from_slice(&(size as u16).to_be_bytes());
    } else {
        head.push(127);
        head.extend_from_slice(&(size as u64).to_be_bytes());
    }
    let mut out = Vec::with_capacity((head.len() + size) * per_chunk);
    for i in 0..per_chunk {
        out.extend_from_slice(&head);
        out.extend(std::iter::repeat_n((i % 251) as u8, size));
    }
    out
}

/// Serve one connection: handshake, `count` frames of `size` bytes, a close, then wait. The
/// server has its own thread and runtime, as a peer in another process would, so it never
/// shares a worker with the client under test.
async fn flood_server(size: usize, count: usize) -> (String, ServerThread) {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    std_listener.set_nonblocking(true).expect("nonblocking");
    let url = format!("ws://{}/flood", std_listener.local_addr().expect("addr"));
    let thread = std::thread::Builder::new()
        .name("flood-server".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("server runtime");
            rt.block_on(serve_flood(std_listener, size, count));
        })
        .expect("server thread");
    (url, ServerThread(Some(thread)))
}

struct ServerThread(Option<std::thread::JoinHandle<()>>);

impl ServerThread {
    fn abort(mut self) {
        if let Some(t) = self.0.take() {
            let _ = t.join();
        }
    }
}

async fn serve_flood(std_listener: std::net::TcpListener, size: usize, count: usize) {
    let listener = TcpListener::from_std(std_listener).expect("listener");
    {
        let (tcp, _) = listener.accept().await.expect("accept");
        let _ = tcp.set_nodelay(true);
        let ws = tokio_tungstenite::accept_async(tcp)
            .await
            .expect("handshake");
        let mut raw = ws.into_inner();
        let per_chunk = (1 << 20) / (size + 10) + 1;
        let per_chunk = per_chunk.min(count);
        let chunk = encode_frames(size, per_chunk);
        let mut left = count;
        while left >= per_chunk {
            raw.write_all(&chunk).await.expect("write");
            left -= per_chunk;
        }
        if left > 0 {
            raw.write_all(&encode_frames(size, left))
                .await
                .expect("write");
        }
        raw.write_all(&[0x88, 0x02, 0x03, 0xe8])
            .await
            .expect("close");
        let mut sink = [0u8; 256];
        let _ = tokio::time::timeout(Duration::from_secs(5), raw.read(&mut sink)).await;
    }
}

fn ws_config() -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
    tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20))
}

async fn bare_reader(size: usize, count: usize) -> Duration {
    use futures_util::StreamExt;
    let (url, server) = flood_server(size, count).await;
    let t0 = Instant::now();
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(ws_config()), true)
        .await
        .expect("connect");
    let mut n = 0usize;
    while let Some(Ok(m)) = ws.next().await {
        if m.is_binary() {
            n += 1;
        }
        if m.is_close() {
            break;
        }
    }
    let dt = t0.elapsed();
    assert_eq!(n, count, "bare reader lost frames");
    server.abort();
    dt
}

async fn wsdeck_record(size: usize, count: usize, out: Option<&std::path::Path>) -> Duration {
    use wsdeck::cli::live::{Input, LiveOptions, run_live};
    use wsdeck::cli::target::Resolved;
    use wsdeck::engine::target::{ConnectSpec, Target};
    let (url, server) = flood_server(size, count).await;
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
    server.abort();
    dt
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
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
                rt.block_on(bare_reader(size, count))
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

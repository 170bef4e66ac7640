//! `wsdeck proxy` on loopback: the round trip through it against a direct connection to the same
//! echo server (p50, p99, and what the proxy adds), and the throughput of a flood from the same
//! source read through it, directly, and through `websocat -b ws-l:ADDR ws://UPSTREAM` when
//! websocat is on PATH. The proxy is the real binary (as a user runs it, stdout to /dev/null);
//! the servers have a thread and a runtime of their own, as peers in another process would.
//!
//! cargo bench --bench proxy [-- RUNS]
//! WSDECK_BENCH_PROXY_OUT=FILE sends the proxy's JSON lines to FILE instead of /dev/null;
//! WSDECK_BENCH_SIZES=1024,65536 runs only those sizes; WSDECK_BENCH_SCALE=N sends N times the
//! frames.

use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

#[path = "support/mod.rs"]
mod support;
use support::{median, pct, ws_config};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROUND_TRIPS: usize = 2000;
const WARMUP: usize = 200;

/// A server on its own thread and runtime; every connection is served by `serve`.
fn server<F, Fut>(serve: F) -> SocketAddr
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    std_listener.set_nonblocking(true).expect("nonblocking");
    let addr = std_listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async move {
            let listener = TcpListener::from_std(std_listener).expect("listener");
            while let Ok((tcp, _)) = listener.accept().await {
                let _ = tcp.set_nodelay(true);
                tokio::task::spawn_local(serve(tcp));
            }
        });
    });
    addr
}

async fn echo(tcp: tokio::net::TcpStream) {
    let Ok(mut ws) = tokio_tungstenite::accept_async_with_config(tcp, Some(ws_config())).await
    else {
        return;
    };
    while let Some(Ok(m)) = ws.next().await {
        if (m.is_text() || m.is_binary()) && ws.send(m).await.is_err() {
            return;
        }
    }
}

/// The shared flood (pre-encoded binary frames, then a close) behind a handshake of its own:
/// this source serves every reader, one connection each.
async fn flood(tcp: tokio::net::TcpStream, size: usize, count: usize) {
    let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    support::flood(ws.into_inner(), support::BINARY, size, count).await;
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A bridge process, killed when dropped.
struct Bridge(Child, SocketAddr);

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_listening(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "{addr} did not listen in 20s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wsdeck_proxy(upstream: &str, home: &std::path::Path) -> Bridge {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let out = match std::env::var_os("WSDECK_BENCH_PROXY_OUT") {
        Some(p) => Stdio::from(std::fs::File::create(p).expect("proxy output file")),
        None => Stdio::null(),
    };
    let child = Command::new(env!("CARGO_BIN_EXE_wsdeck"))
        .env("WSDECK_CONFIG_DIR", home.join("config"))
        .env("WSDECK_DATA_DIR", home.join("data"))
        .args(["proxy", upstream, "--listen", &addr.to_string()])
        .args(["--max-message-size", "0"])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::null())
        .spawn()
        .expect("wsdeck proxy");
    wait_listening(addr);
    Bridge(child, addr)
}

fn websocat_on_path() -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("websocat").is_file()))
}

fn websocat(upstream: &str) -> Bridge {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let child = Command::new("websocat")
        .args(["-b", &format!("ws-l:{addr}"), upstream])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("websocat");
    wait_listening(addr);
    Bridge(child, addr)
}

/// Round trips of a 64-byte text frame, in µs, sorted.
async fn round_trips(url: &str) -> Vec<f64> {
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(ws_config()), true)
        .await
        .expect("connect");
    let payload = "x".repeat(64);
    let mut out = Vec::with_capacity(ROUND_TRIPS);
    for i in 0..WARMUP + ROUND_TRIPS {
        let t0 = Instant::now();
        ws.send(Message::text(payload.clone())).await.expect("send");
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(_))) => break,
                Some(Ok(_)) => continue,
                other => panic!("echo lost: {other:?}"),
            }
        }
        if i >= WARMUP {
            out.push(t0.elapsed().as_secs_f64() * 1e6);
        }
    }
    let _ = ws.close(None).await;
    out.sort_by(|a, b| a.total_cmp(b));
    out
}

/// Frames per second of a flood read to its close.
async fn read_flood(url: &str, count: usize) -> f64 {
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
    assert_eq!(n, count, "frames lost");
    count as f64 / dt.as_secs_f64()
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(3);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let home = tempfile::tempdir().expect("home");
    let have_websocat = websocat_on_path();
    if !have_websocat {
        println!("websocat is not on PATH: its column is skipped (cargo install websocat adds it)");
    }

    let echo_addr = server(echo);
    let echo_url = format!("ws://{echo_addr}/echo");
    let proxy = wsdeck_proxy(&echo_url, home.path());
    let via = format!("ws://{}/", proxy.1);
    println!("round trip of a 64 B text frame, {ROUND_TRIPS} per run, {runs} runs (µs)");
    let (mut d50, mut d99, mut p50, mut p99) = (vec![], vec![], vec![], vec![]);
    for r in 0..runs {
        let d = rt.block_on(round_trips(&echo_url));
        let p = rt.block_on(round_trips(&via));
        eprintln!(
            "  run {r}: direct p50 {:.1} p99 {:.1} | proxy p50 {:.1} p99 {:.1}",
            pct(&d, 0.5),
            pct(&d, 0.99),
            pct(&p, 0.5),
            pct(&p, 0.99)
        );
        d50.push(pct(&d, 0.5));
        d99.push(pct(&d, 0.99));
        p50.push(pct(&p, 0.5));
        p99.push(pct(&p, 0.99));
    }
    let (d50, d99, p50, p99) = (
        median(&mut d50),
        median(&mut d99),
        median(&mut p50),
        median(&mut p99),
    );
    println!(
        "direct p50 {d50:.1} p99 {d99:.1} | proxy p50 {p50:.1} p99 {p99:.1} | added p50 {:.1} p99 {:.1}",
        p50 - d50,
        p99 - d99
    );
    drop(proxy);

    println!("flood from one source to its close, {runs} runs; frames/s (MB/s of payload)");
    let only: Option<Vec<usize>> = std::env::var("WSDECK_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect());
    // WSDECK_BENCH_SCALE=4 sends four times the frames (longer runs, for profiling).
    let scale: usize = std::env::var("WSDECK_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    for (size, count) in [(64usize, 500_000usize), (1024, 200_000), (65536, 5_000)] {
        let count = count * scale;
        if only.as_ref().is_some_and(|o| !o.contains(&size)) {
            continue;
        }
        let src = server(move |tcp| flood(tcp, size, count));
        let src_url = format!("ws://{src}/flood");
        let proxy = wsdeck_proxy(&src_url, home.path());
        let via = format!("ws://{}/", proxy.1);
        let bridge = have_websocat.then(|| websocat(&src_url));
        let (mut direct, mut ours, mut theirs, mut ratio) = (vec![], vec![], vec![], vec![]);
        for r in 0..runs {
            let d = rt.block_on(read_flood(&src_url, count));
            let p = rt.block_on(read_flood(&via, count));
            let w = bridge
                .as_ref()
                .map(|b| rt.block_on(read_flood(&format!("ws://{}/", b.1), count)));
            eprintln!(
                "  {size:>6} B run {r}: direct {d:>10.0}/s  proxy {p:>10.0}/s  websocat {}",
                w.map(|w| format!("{w:>10.0}/s  ratio {:.2}", p / w))
                    .unwrap_or_else(|| "-".into())
            );
            direct.push(d);
            ours.push(p);
            if let Some(w) = w {
                theirs.push(w);
                ratio.push(p / w);
            }
        }
        let mb = |f: f64| f * size as f64 / 1e6;
        let (d, p) = (median(&mut direct), median(&mut ours));
        let websocat_col = if theirs.is_empty() {
            "websocat skipped".to_string()
        } else {
            let w = median(&mut theirs);
            format!(
                "websocat {w:>10.0}/s ({:>7.1} MB/s) | proxy/websocat median {:.2}",
                mb(w),
                median(&mut ratio)
            )
        };
        println!(
            "{size:>6} B x {count}: direct {d:>10.0}/s ({:>7.1} MB/s) | proxy {p:>10.0}/s ({:>7.1} MB/s, {:.2}x direct) | {websocat_col}",
            mb(d),
            mb(p),
            p / d
        );
    }
}

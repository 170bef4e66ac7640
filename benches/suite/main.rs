//! The benchmark suite: one command, its own loopback sources, one table at the end.
//!
//! cargo bench --bench suite [-- RUNS] [SECTION…]
//!
//! SECTION: ingest, console, big, startup, store, memory (default: all). RUNS (default 5) is how
//! many runs the ingest rows, the start-up and the draws take their medians over. The ingest
//! rows set the real binary against websocat (found on PATH or in ~/.cargo/bin, installed with
//! `cargo install websocat` when missing) and a bare tokio-tungstenite reader, with the ratios
//! taken within each run.
//!
//! Environment:
//! - WSDECK_BENCH_RATE (frames/s, default 50000), WSDECK_BENCH_SECS (default 5): the console's
//!   load; WSDECK_BENCH_SCREEN=1 prints its last screen.
//! - WSDECK_BENCH_DIR: where files are written (default: the temp dir).
//! - WSDECK_BENCH_ONLY=TEXT: only the ingest rows whose name holds TEXT ("64 KiB", "record").
//! - WSDECK_BENCH_BASELINE=PATH: another wsdeck binary read in the same runs (before/after).
//! - WSDECK_BENCH_SCALE=N: N times the ingest frames; WSDECK_BENCH_WRAP="perf record -g -o F --"
//!   runs wsdeck under a profiler.
//!
//! `suite serve SIZE COUNT [text]` serves one flood and prints its URL, for a profiler run by
//! hand; `suite memory-probe SIZE N MODE` is the memory rows' child, `suite open-probe PATH`
//! the 1 GB capture's.

#[path = "../support/mod.rs"]
mod support;

mod big_frames;
mod cli_ingest;
mod console_load;
mod memory;
mod open_big;
mod startup;
mod store;
mod timed_backend;

use support::median;

// The allocator the wsdeck binary uses, so the in-process rows measure what ships.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SECTIONS: [&str; 6] = ["ingest", "console", "big", "startup", "store", "memory"];

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "**not met**" }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("memory-probe") {
        let size = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(64);
        let n = args
            .get(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or(1_000_000);
        memory::probe(size, n, args.get(3).map_or("arena", String::as_str));
        return;
    }
    if args.first().map(String::as_str) == Some("open-probe") {
        match args.get(1) {
            Some(path) => open_big::probe(std::path::Path::new(path)),
            None => eprintln!("open-probe PATH"),
        }
        return;
    }
    // `serve SIZE COUNT [text]`: one flood on loopback for a profiler run by hand; prints its URL.
    if args.first().map(String::as_str) == Some("serve") {
        let size = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(65536);
        let count = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20_000);
        let op = if args.get(3).map(String::as_str) == Some("text") {
            support::TEXT
        } else {
            support::BINARY
        };
        let source = support::flood_source(op, size, count);
        println!("{}", source.url);
        source.join();
        return;
    }
    let runs: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(5);
    let chosen: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| SECTIONS.contains(a))
        .collect();
    let wanted = |s: &str| chosen.is_empty() || chosen.contains(&s);
    let dir = match std::env::var_os("WSDECK_BENCH_DIR") {
        Some(d) => tempfile::tempdir_in(d),
        None => tempfile::tempdir(),
    }
    .expect("bench dir");
    println!(
        "wsdeck benchmark suite: {runs} runs; files in {}",
        dir.path().display()
    );
    let mut table: Vec<String> = vec![
        "| what | wsdeck | peer, same run | ratio (median of the runs' ratios) | goal |".into(),
        "|---|---|---|---|---|".into(),
    ];

    if wanted("ingest") {
        let websocat = cli_ingest::find_websocat();
        match &websocat {
            Some(p) => {
                let v = std::process::Command::new(p)
                    .arg("--version")
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                    .unwrap_or_default();
                println!("websocat: {} ({v})", p.display());
            }
            None => println!("websocat: missing, its column is skipped"),
        }
        let only = std::env::var("WSDECK_BENCH_ONLY").unwrap_or_default();
        for case in cli_ingest::CASES
            .iter()
            .filter(|c| c.name.contains(only.as_str()))
        {
            let r = cli_ingest::measure(case, runs, websocat.as_deref(), dir.path());
            let mb = |f: f64| f * r.size as f64 / 1e6;
            let peer = match r.websocat {
                Some(w) => format!("websocat {w:.0}/s ({:.0} MB/s)", mb(w)),
                None => "websocat skipped".into(),
            };
            if let Some(x) = r.vs_baseline {
                println!("{}: this build / the baseline's, median {x:.2}x", r.name);
            }
            let cpu = match (r.cpu_ms, r.websocat_cpu_ms) {
                (Some(o), Some(w)) => format!("; CPU {o:.0} vs {w:.0} ms"),
                (Some(o), None) => format!("; CPU {o:.0} ms"),
                _ => String::new(),
            };
            let files = r
                .file_mb
                .map(|(o, t)| format!("; files {o:.0} MB vs {t:.0} MB"))
                .unwrap_or_default();
            let goal = r
                .vs_websocat
                .map(|x| format!("≥ 1.0× websocat: {}", met(x >= 1.0)))
                .unwrap_or_else(|| "-".into());
            table.push(format!(
                "| {} ×{} | {:.0}/s ({:.0} MB/s) | {peer}; bare reader {:.0}/s | {} vs websocat, {:.2}× vs bare{files}{cpu} | {goal} |",
                r.name,
                r.count,
                r.wsdeck,
                mb(r.wsdeck),
                r.bare,
                r.vs_websocat
                    .map(|x| format!("**{x:.2}×**"))
                    .unwrap_or_else(|| "-".into()),
                r.vs_bare,
            ));
        }
    }

    if wanted("console") {
        let rate = env_or("WSDECK_BENCH_RATE", 50_000usize);
        let secs = env_or("WSDECK_BENCH_SECS", 5.0f64);
        println!("console under load: {rate} frames/s for {secs} s, 160x48, recording on");
        let r = console_load::run(rate, secs);
        eprintln!(
            "  {} draws, max {:.1} ms; {} keys answered, {} unanswered, max {:.1} ms",
            r.draws, r.draw_max_ms, r.keys, r.unanswered, r.key_max_ms
        );
        table.push(format!(
            "| console at {rate} frames/s for {:.0} s: draw p50 / p99 | {:.2} / {:.2} ms ({} draws, max {:.1}) | | | p99 ≤ 16 ms: {} |",
            r.seconds,
            r.draw_p50_ms,
            r.draw_p99_ms,
            r.draws,
            r.draw_max_ms,
            met(r.draw_p99_ms <= 16.0)
        ));
        table.push(format!(
            "| … key press to the screen answering it, p50 / p99 | {:.1} / {:.1} ms ({} keys, {} unanswered) | | | p99 ≤ 50 ms: {} |",
            r.key_p50_ms,
            r.key_p99_ms,
            r.keys,
            r.unanswered,
            met(r.key_p99_ms <= 50.0 && r.unanswered == 0)
        ));
        let lost_log = r.sent as i64 - r.in_log as i64;
        let lost_cap = r.sent as i64 - r.in_capture as i64;
        table.push(format!(
            "| … frames lost: log / capture | {lost_log} / {lost_cap} (of {} sent) | | | 0: {} |",
            r.sent,
            met(lost_log == 0 && lost_cap == 0)
        ));
    }

    if wanted("big") {
        for r in big_frames::run() {
            table.push(format!(
                "| first draw, {} ({}) | {:.2} ms (then {:.2}) | | | ≤ 10 ms: {} |",
                r.name,
                r.title.replace('|', "\\|"),
                r.first_ms,
                r.then_ms,
                met(r.first_ms <= 10.0)
            ));
        }
    }

    if wanted("startup") {
        let home = tempfile::tempdir().expect("home");
        let (mut bin, mut inproc, mut why) = (vec![], vec![], None);
        for _ in 0..runs {
            match startup::binary_ms(home.path()) {
                Ok(ms) => bin.push(ms),
                Err(e) => why = Some(e),
            }
            inproc.push(startup::in_process_ms());
        }
        eprintln!("  start-up runs: binary {bin:.1?} ms, in-process {inproc:.2?} ms");
        let b = (!bin.is_empty()).then(|| median(&mut bin));
        table.push(format!(
            "| start-up to the first screen: `wsdeck`, empty config, 160x48 pty | {} | | | ≤ 50 ms: {} |",
            b.map(|b| format!("{b:.1} ms"))
                .unwrap_or_else(|| format!("not measured: {}", why.unwrap_or_default())),
            b.map_or("-", |b| met(b <= 50.0))
        ));
        table.push(format!(
            "| … in-process: `App::new` to `run_loop`'s first draw | {:.2} ms | | | |",
            median(&mut inproc)
        ));
    }

    if wanted("store") {
        let r = store::run(runs);
        table.push(format!(
            "| draw one screen: 10⁶ frames vs 10³ | {:.0} µs vs {:.0} µs | | **{:.2}** | 1.0 |",
            r.draws.big_us, r.draws.small_us, r.draws.ratio
        ));
        table.push(format!(
            "| draw one screen: 10⁶ frames opened from a capture (payloads read back) vs 10³ in memory | {:.0} µs vs {:.0} µs | | **{:.2}** | |",
            r.capture_draws.big_us, r.capture_draws.small_us, r.capture_draws.ratio
        ));
        for (name, s) in [
            ("filter `in delta` over 10⁶", &r.word),
            ("jq filter over 10⁶", &r.jq),
            ("search (a miss) over 10⁶", &r.search),
        ] {
            table.push(format!(
                "| {name} | {:.0} ms; longest event {:.1} ms; {} rows match | | | |",
                s.total_ms, s.longest_ms, s.matched
            ));
        }
    }

    if wanted("memory") {
        for (size, mode) in [(64, "arena"), (64, "own"), (1024, "arena"), (1024, "own")] {
            match memory::measure(size, 1_000_000, mode) {
                Ok(r) => table.push(format!(
                    "| memory per stored frame beyond its payload, {} × {} B ({} payloads) | {:.0} B (RSS {:.0} MB, empty {:.0} MB) | | | ≤ 64 B: {} |",
                    r.n,
                    r.size,
                    r.mode,
                    r.per_frame,
                    r.full_mb,
                    r.empty_mb,
                    met(r.per_frame <= 64.0)
                )),
                Err(e) => table.push(format!("| memory, {size} B {mode} | probe failed: {e} | | | |")),
            }
        }
        let t = std::time::Instant::now();
        let path = open_big::write_capture(dir.path());
        println!("1 GB capture written in {:.1} s", t.elapsed().as_secs_f64());
        match open_big::measure(&path, runs) {
            Ok(r) => table.push(format!(
                "| opening a {:.2} GB capture (700k × 1 KiB), `memory_mb = 256`: first screen / all read | {:.0} ms / {:.0} ms ({:.1} GB/s); resident {:.0} MB at the end, peak {:.0} MB | | | resident ≤ 256 MB + the index: {} |",
                r.bytes as f64 / 1e9,
                r.first_ms,
                r.all_ms,
                r.bytes as f64 / r.all_ms / 1e6,
                r.rss_mb,
                r.hwm_mb,
                met(r.hwm_mb <= 256.0 + 700_000.0 * 64.0 / 1e6)
            )),
            Err(e) => table.push(format!("| opening a 1 GB capture | probe failed: {e} | | | |")),
        }
        let _ = std::fs::remove_file(&path);
    }

    println!();
    for l in table {
        println!("{l}");
    }
}

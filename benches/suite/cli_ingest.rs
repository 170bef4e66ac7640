//! Ingest as a user runs it: the real `wsdeck connect URL >/dev/null` and `wsdeck record URL
//! --out F` against `websocat -b -U URL >/dev/null` and `websocat --base64 -U URL > F`, and the
//! bare tokio-tungstenite reader, each reading the same flood from a fresh loopback source. A
//! process is timed from spawn to exit (start-up included, for both); the order of the three
//! readers turns every run so none always goes first.

use crate::support::{BINARY, TEXT, bare_reader, flood_source, median};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one row reads.
pub struct Case {
    pub name: &'static str,
    pub opcode: u8,
    pub size: usize,
    pub count: usize,
    /// `record --out F` (and websocat --base64 > F) rather than `connect >/dev/null`.
    pub record: bool,
}

pub const CASES: [Case; 6] = [
    Case {
        name: "connect, 64 B binary",
        opcode: BINARY,
        size: 64,
        count: 2_000_000,
        record: false,
    },
    Case {
        name: "connect, 1 KiB binary",
        opcode: BINARY,
        size: 1024,
        count: 1_000_000,
        record: false,
    },
    Case {
        name: "connect, 1 KiB text",
        opcode: TEXT,
        size: 1024,
        count: 1_000_000,
        record: false,
    },
    Case {
        name: "connect, 64 KiB binary",
        opcode: BINARY,
        size: 65536,
        count: 20_000,
        record: false,
    },
    Case {
        name: "record, 1 KiB binary",
        opcode: BINARY,
        size: 1024,
        count: 500_000,
        record: true,
    },
    Case {
        name: "record, 64 KiB binary",
        opcode: BINARY,
        size: 65536,
        count: 10_000,
        record: true,
    },
];

/// websocat on PATH or in ~/.cargo/bin; when missing, `cargo install websocat` is tried once.
pub fn find_websocat() -> Option<PathBuf> {
    let on_path = |name: &str| {
        std::env::var_os("PATH").and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|f| f.is_file())
        })
    };
    let cargo_bin = || {
        std::env::var_os("HOME")
            .map(|h| Path::new(&h).join(".cargo/bin/websocat"))
            .filter(|p| p.is_file())
    };
    if let Some(p) = on_path("websocat").or_else(cargo_bin) {
        return Some(p);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    println!("websocat is not installed: trying `cargo install websocat` (a few minutes)");
    let installed = Command::new(cargo)
        .args(["install", "websocat"])
        .status()
        .is_ok_and(|s| s.success());
    match cargo_bin() {
        Some(p) if installed => Some(p),
        _ => {
            println!(
                "cannot install websocat (no registry, or the build failed): its column is skipped"
            );
            None
        }
    }
}

/// WSDECK_BENCH_BASELINE=PATH: another wsdeck binary (a copy of an earlier build) read in the
/// same runs, for a before/after within one sitting.
fn baseline() -> Option<PathBuf> {
    std::env::var_os("WSDECK_BENCH_BASELINE").map(PathBuf::from)
}

/// The real binary (or the baseline); WSDECK_BENCH_WRAP="perf record -g -o FILE --" runs it
/// under a profiler.
fn wsdeck(home: &Path, args: &[&str], stdout: Stdio, base: bool) -> Command {
    let bin = match baseline() {
        Some(b) if base => b,
        _ => PathBuf::from(env!("CARGO_BIN_EXE_wsdeck")),
    };
    let wrap = std::env::var("WSDECK_BENCH_WRAP").unwrap_or_default();
    let mut words = wrap.split_whitespace();
    let mut c = match words.next() {
        Some(first) => {
            let mut c = Command::new(first);
            c.args(words).arg(&bin);
            c
        }
        None => Command::new(bin),
    };
    c.env("WSDECK_CONFIG_DIR", home.join("config"))
        .env("WSDECK_DATA_DIR", home.join("data"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped());
    c
}

/// CPU time (user + system) of the children waited for so far, from /proc/self/stat (in clock
/// ticks, 10 ms on Linux).
fn children_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at the state, field 3.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // cutime and cstime are fields 16 and 17, counting from 1 with the pid.
    let ticks: u64 = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Spawn, wait, check the exit; the time from spawn to exit, and the CPU time the process used
/// (what it costs the machine, apart from how the scheduler placed it).
fn timed(mut cmd: Command, what: &str) -> (Duration, Option<Duration>) {
    let cpu0 = children_cpu();
    let t0 = Instant::now();
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let dt = t0.elapsed();
    let cpu = children_cpu().zip(cpu0).map(|(b, a)| b.saturating_sub(a));
    assert!(
        out.status.success(),
        "{what} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    (dt, cpu)
}

#[derive(Clone, Copy)]
enum Reader {
    Wsdeck,
    Baseline,
    Websocat,
    Bare,
}

/// One timed read of a fresh flood; the file written, if any, is removed after its size is read.
fn read_once(
    case: &Case,
    who: Reader,
    websocat: &Path,
    dir: &Path,
) -> (Duration, Option<Duration>, u64) {
    let source = flood_source(case.opcode, case.size, case.count);
    let url = source.url.clone();
    let file = dir.join("out.jsonl");
    let (dt, cpu) = match who {
        Reader::Bare => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            (rt.block_on(bare_reader(&url, case.count)), None)
        }
        Reader::Wsdeck | Reader::Baseline if case.record => {
            let f = file.to_string_lossy().into_owned();
            timed(
                wsdeck(
                    dir,
                    &["record", &url, "--out", &f],
                    Stdio::null(),
                    matches!(who, Reader::Baseline),
                ),
                "wsdeck record",
            )
        }
        Reader::Wsdeck | Reader::Baseline => timed(
            wsdeck(
                dir,
                &["connect", &url],
                Stdio::null(),
                matches!(who, Reader::Baseline),
            ),
            "wsdeck connect",
        ),
        Reader::Websocat => {
            let mut c = Command::new(websocat);
            let out = if case.record {
                c.args(["--base64", "-U", &url]);
                Stdio::from(std::fs::File::create(&file).expect("websocat's file"))
            } else {
                c.args(["-b", "-U", &url]);
                Stdio::null()
            };
            c.stdin(Stdio::null()).stdout(out).stderr(Stdio::piped());
            timed(c, "websocat")
        }
    };
    source.join();
    let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let _ = std::fs::remove_file(&file);
    (dt, cpu, bytes)
}

/// Medians over the runs, frames/s, and the ratios taken within each run.
pub struct Row {
    pub name: &'static str,
    pub size: usize,
    pub count: usize,
    pub wsdeck: f64,
    pub websocat: Option<f64>,
    pub bare: f64,
    pub vs_websocat: Option<f64>,
    pub vs_bare: f64,
    pub file_mb: Option<(f64, f64)>,
    /// This build against WSDECK_BENCH_BASELINE's, median of the runs' ratios.
    pub vs_baseline: Option<f64>,
    /// Median CPU time of a wsdeck and of a websocat run (10 ms resolution).
    pub cpu_ms: Option<f64>,
    pub websocat_cpu_ms: Option<f64>,
}

pub fn measure(case: &Case, runs: usize, websocat: Option<&Path>, dir: &Path) -> Row {
    // WSDECK_BENCH_SCALE=N: N times the frames (longer runs, for a profiler).
    let scale: usize = std::env::var("WSDECK_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let case = &Case {
        count: case.count * scale,
        ..*case
    };
    let (mut ours, mut theirs, mut bare, mut r_w, mut r_b) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut our_file, mut their_file) = (0u64, 0u64);
    let mut r_base = vec![];
    let (mut o_cpu, mut w_cpu) = (vec![], vec![]);
    let fps = |d: Duration| case.count as f64 / d.as_secs_f64();
    for run in 0..runs {
        let mut order = vec![Reader::Wsdeck, Reader::Bare];
        if websocat.is_some() {
            order.insert(1, Reader::Websocat);
        }
        if baseline().is_some() {
            order.push(Reader::Baseline);
        }
        let turn = run % order.len();
        order.rotate_left(turn);
        let (mut o, mut w, mut b, mut base) = (0.0, None, 0.0, None);
        for who in order {
            let (dt, cpu, bytes) =
                read_once(case, who, websocat.unwrap_or(Path::new("websocat")), dir);
            let cpu_ms = cpu.map(|c| c.as_secs_f64() * 1e3);
            match who {
                Reader::Wsdeck => {
                    o = fps(dt);
                    o_cpu.extend(cpu_ms);
                    our_file = bytes;
                }
                Reader::Websocat => {
                    w = Some(fps(dt));
                    w_cpu.extend(cpu_ms);
                    their_file = bytes;
                }
                Reader::Bare => b = fps(dt),
                Reader::Baseline => base = Some(fps(dt)),
            }
        }
        eprintln!(
            "  {} run {run}: wsdeck {o:.0}/s  websocat {}  bare {b:.0}/s{}",
            case.name,
            w.map(|w| format!("{w:.0}/s ({:.2}x)", o / w))
                .unwrap_or_else(|| "-".into()),
            base.map(|x| format!("  baseline {x:.0}/s ({:.2}x)", o / x))
                .unwrap_or_default()
        );
        if let Some(x) = base {
            r_base.push(o / x);
        }
        ours.push(o);
        bare.push(b);
        r_b.push(o / b);
        if let Some(w) = w {
            theirs.push(w);
            r_w.push(o / w);
        }
    }
    Row {
        name: case.name,
        size: case.size,
        count: case.count,
        wsdeck: median(&mut ours),
        websocat: (!theirs.is_empty()).then(|| median(&mut theirs)),
        bare: median(&mut bare),
        vs_websocat: (!r_w.is_empty()).then(|| median(&mut r_w)),
        vs_bare: median(&mut r_b),
        file_mb: case
            .record
            .then_some((our_file as f64 / 1e6, their_file as f64 / 1e6)),
        vs_baseline: (!r_base.is_empty()).then(|| median(&mut r_base)),
        cpu_ms: (!o_cpu.is_empty()).then(|| median(&mut o_cpu)),
        websocat_cpu_ms: (!w_cpu.is_empty()).then(|| median(&mut w_cpu)),
    }
}

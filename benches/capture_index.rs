//! Opening and printing large captures: `capture::index` and `wsdeck inspect --json` against
//! reading the capture whole (`read_capture`), on the same file in the same run.
//!
//! cargo bench --bench capture_index [-- RUNS]
//! WSDECK_BENCH_DIR=/dev/shm cargo bench --bench capture_index     # where captures are written
//! WSDECK_BENCH_CASES=1k,64,text cargo bench --bench capture_index  # which captures (all three)
//! cargo bench --bench capture_index -- --write 1k DIR                # only write DIR/capture-1k.jsonl
//!
//! Captures are written once per case with `CaptureWriter` (1k: 700 000 binary frames of 1 KiB,
//! ≈ 1.0 GB; 64: 10⁶ binary frames of 64 B, ≈ 190 MB; text: 10⁶ JSON text frames of ~120 B
//! with escapes), so every run reads them from the page cache. Each run times, in turn:
//! - index: `index_capture` to the end, the batches counted and dropped;
//! - read_capture: the whole capture loaded (payloads decoded), as the console opens it today;
//! - inspect --json: the release binary (a copy taken at the start), stdout to /dev/null; then
//!   the same held to one CPU (`sched_setaffinity`), where it reads without workers;
//! - whole + encode: what `inspect --json` did before it streamed, in process: `read_capture`,
//!   then every entry re-encoded (binary frames through the auto decoder) into a buffer that is
//!   emptied every MiB, as writes to /dev/null would.
//!
//! Medians of RUNS (default 5); ratios are per run, then the median. The CPU time (user +
//! system, `getrusage`) of the index pass and of the `inspect` child is shown too: on a loaded
//! machine it is the steadier figure, the wall clock holding the waits for a core. Peak
//! resident memory (`/usr/bin/time -f %M`, when present) of one index pass (this bench re-run
//! with `--index-one`) and of one `inspect --json`.

use bytes::Bytes;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};
use wsdeck::capture::index::index_capture;
use wsdeck::capture::line::LineEncoder;
use wsdeck::capture::writer::{CaptureMeta, CaptureWriter};
use wsdeck::capture::{Entry, read_capture};
use wsdeck::decode::{DecoderKind, decode};
use wsdeck::engine::{Direction, Frame, Opcode};

const BIN: &str = env!("CARGO_BIN_EXE_wsdeck");

struct Case {
    name: String,
    frames: u64,
    payloads: Vec<(Opcode, Bytes)>,
}

/// xorshift64*: payload bytes that look like data to base64 and the decoders.
fn random_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

fn case(name: &str) -> Case {
    let name_ = name.to_string();
    let binary = |size: usize| -> Vec<(Opcode, Bytes)> {
        (0..64)
            .map(|i| (Opcode::Binary, Bytes::from(random_bytes(i + 1, size))))
            .collect()
    };
    match name {
        "1k" => Case {
            name: name_,
            frames: 700_000,
            payloads: binary(1024),
        },
        "64" => Case {
            name: name_,
            frames: 1_000_000,
            payloads: binary(64),
        },
        "text" => Case {
            name: name_,
            frames: 1_000_000,
            payloads: (0..64u64)
                .map(|i| {
                    let t = format!(
                        "{{\"type\":\"response.output_text.delta\",\"item_id\":\"item_{i:04}\",\"delta\":\"line {i}\\nsaid \\\"hi\\\" é\",\"n\":{}}}",
                        i * 37
                    );
                    (Opcode::Text, Bytes::from(t))
                })
                .collect(),
        },
        other => panic!("unknown case {other} (1k, 64, text)"),
    }
}

fn write_capture(dir: &Path, c: &Case) -> PathBuf {
    let path = dir.join(format!("capture-{}.jsonl", c.name));
    let mut w =
        CaptureWriter::create(&path, &CaptureMeta::default(), SystemTime::now()).expect("capture");
    let mut batch = Vec::with_capacity(512);
    for seq in 1..=c.frames {
        let (opcode, payload) = &c.payloads[(seq % c.payloads.len() as u64) as usize];
        batch.push(Frame {
            seq,
            at: Duration::from_micros(seq * 20),
            dir: if seq % 3 == 0 {
                Direction::Out
            } else {
                Direction::In
            },
            opcode: *opcode,
            payload: payload.clone(),
        });
        if batch.len() == 512 {
            w.frames(&batch).expect("write");
            batch.clear();
        }
    }
    w.frames(&batch).expect("write");
    w.flush().expect("flush");
    path
}

fn index_once(path: &Path) -> u64 {
    let mut n = 0u64;
    index_capture(path, 4096, |b, _| {
        n += b.len() as u64;
        ControlFlow::Continue(())
    })
    .expect("index");
    n
}

/// `inspect --json` as it was before it streamed: everything read, then encoded.
fn whole_and_encode(path: &Path) -> u64 {
    let cap = read_capture(path).expect("read");
    let started = cap
        .header
        .as_ref()
        .and_then(|h| h.get("started"))
        .and_then(|s| s.as_str())
        .and_then(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        })
        .map(SystemTime::from)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut enc = LineEncoder::new(started);
    let mut out = Vec::with_capacity(2 << 20);
    let mut written = 0u64;
    for e in &cap.entries {
        match e {
            Entry::Frame(f) => {
                enc.frame(&mut out, f);
                if f.opcode == Opcode::Binary
                    && let Some(d) = decode(DecoderKind::Auto, &f.payload)
                {
                    out.truncate(out.len() - 2);
                    out.extend_from_slice(b",\"decoder\":\"");
                    out.extend_from_slice(d.kind.name().as_bytes());
                    out.extend_from_slice(b"\",\"decoded\":");
                    serde_json::to_writer(&mut out, &d.lines).expect("json");
                    out.extend_from_slice(b"}\n");
                }
            }
            Entry::Event { at, kind, fields } => enc.event(&mut out, *at, kind, fields.clone()),
        }
        if out.len() >= 1 << 20 {
            written += out.len() as u64;
            out.clear();
        }
    }
    written + out.len() as u64
}

fn inspect_command(bin: &Path, path: &Path, home: &Path) -> Command {
    let mut c = Command::new(bin);
    c.args(["inspect", "--json"])
        .arg(path)
        .env("WSDECK_CONFIG_DIR", home.join("config"))
        .env("WSDECK_DATA_DIR", home.join("data"))
        .stdout(Stdio::null());
    c
}

fn inspect(bin: &Path, path: &Path, home: &Path) {
    let o = inspect_command(bin, path, home).output().expect("inspect");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// `inspect` held to the first CPU, where it reads in order without workers (it counts the
/// cores it may run on).
fn inspect_on_one_core(bin: &Path, path: &Path, home: &Path) {
    use std::os::unix::process::CommandExt;
    let mut c = inspect_command(bin, path, home);
    // SAFETY: between fork and exec only `sched_setaffinity` runs, which is async-signal-safe
    // and touches nothing of the parent's.
    unsafe {
        c.pre_exec(|| {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(0, &mut set);
            if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = c.output().expect("inspect");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Peak resident memory (MB) of a command, from `/usr/bin/time`.
fn peak_rss_mb(c: Command) -> Option<f64> {
    let program = c.get_program().to_owned();
    let args: Vec<_> = c.get_args().map(|a| a.to_owned()).collect();
    let envs: Vec<_> = c
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned())))
        .collect();
    let o = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(program)
        .args(args)
        .envs(envs)
        .stdout(Stdio::null())
        .output()
        .ok()?;
    let err = String::from_utf8_lossy(&o.stderr);
    let kb: f64 = err.lines().last()?.trim().parse().ok()?;
    Some(kb / 1024.0)
}

fn timed(f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64()
}

/// CPU seconds (user + system) used so far by this process (`libc::RUSAGE_SELF`) or by the
/// children it waited for (`RUSAGE_CHILDREN`): on two shared cores the wall clock also holds
/// the time spent waiting for a core.
fn cpu_seconds(who: i32) -> f64 {
    // SAFETY: an all-zero rusage is a valid value of that plain C struct.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `r` is a valid, writable rusage for the call to fill.
    if unsafe { libc::getrusage(who, &mut r) } != 0 {
        return f64::NAN;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(r.ru_utime) + secs(r.ru_stime)
}

/// The wall-clock and CPU seconds of `f`, the CPU counted for `who`.
fn timed_cpu(who: i32, f: impl FnOnce()) -> (f64, f64) {
    let c = cpu_seconds(who);
    let w = timed(f);
    (w, cpu_seconds(who) - c)
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--write") {
        // A capture to try by hand (the console, perf): --write CASE DIR.
        let path = write_capture(Path::new(&args[i + 2]), &case(&args[i + 1]));
        println!("{}", path.display());
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--index-one") {
        let n = index_once(Path::new(&args[i + 1]));
        println!("{n}");
        return;
    }
    let runs: usize = args
        .iter()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5)
        .max(1);
    let base = std::env::var_os("WSDECK_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::tempdir_in(&base).expect("temp dir");
    let home = tempfile::tempdir().expect("home");
    // The target directory may be shared with other builds: run a private copy of the binary
    // cargo just built for this bench.
    let bin = home.path().join("wsdeck");
    std::fs::copy(BIN, &bin).expect("copy the wsdeck binary");
    let cases = std::env::var("WSDECK_BENCH_CASES").unwrap_or_else(|_| "1k,64,text".into());
    println!("capture_index: {runs} runs, captures in {}", base.display());
    for name in cases.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let c = case(name);
        let t = Instant::now();
        let path = write_capture(dir.path(), &c);
        let bytes = std::fs::metadata(&path).expect("size").len();
        let mb = bytes as f64 / 1e6;
        println!(
            "\n{name}: {} frames, {mb:.0} MB, written in {:.2} s",
            c.frames,
            t.elapsed().as_secs_f64()
        );
        // Warm the page cache and check that every reading sees every frame.
        assert_eq!(index_once(&path), c.frames);
        let (mut idx, mut whole, mut insp, mut old) = (vec![], vec![], vec![], vec![]);
        let (mut r_idx, mut r_insp) = (vec![], vec![]);
        let (mut idx_cpu, mut insp_cpu, mut r_cpu) = (vec![], vec![], vec![]);
        // The light runs first, the index pass and the child `inspect` in turn, then the runs
        // that load the whole capture in this process: right after one of those freed its
        // gigabyte, the next child's page faults cost it a third more time.
        let mut one = vec![];
        for _ in 0..runs {
            let (i, ic) = timed_cpu(libc::RUSAGE_SELF, || {
                index_once(&path);
            });
            let (s, sc) = timed_cpu(libc::RUSAGE_CHILDREN, || inspect(&bin, &path, home.path()));
            let single = timed(|| inspect_on_one_core(&bin, &path, home.path()));
            idx_cpu.push(ic);
            insp_cpu.push(sc);
            r_cpu.push(sc / ic);
            idx.push(i);
            insp.push(s);
            one.push(single);
        }
        for k in 0..runs {
            let mut loaded = None;
            let w = timed(|| loaded = Some(read_capture(&path).expect("read")));
            assert_eq!(
                loaded.take().map(|c| c.entries.len() as u64),
                Some(c.frames)
            );
            let o = timed(|| {
                whole_and_encode(&path);
            });
            r_idx.push(w / idx[k]);
            r_insp.push(o / insp[k]);
            whole.push(w);
            old.push(o);
        }
        let row = |what: &str, v: &[f64]| {
            let s = median(v);
            println!(
                "  {what:<34} {:>7.3} s  {:>7.0} MB/s  {:>6.2} M records/s   (runs {})",
                s,
                mb / s,
                c.frames as f64 / s / 1e6,
                v.iter()
                    .map(|x| format!("{x:.3}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        };
        row("index_capture", &idx);
        row("read_capture (whole)", &whole);
        row("inspect --json >/dev/null", &insp);
        row("inspect --json, one core", &one);
        row("whole + encode (old inspect --json)", &old);
        row("index_capture, CPU time", &idx_cpu);
        row("inspect --json, CPU time", &insp_cpu);
        println!(
            "  inspect --json takes {:.2}x the CPU time of index_capture (median of per-run ratios)",
            median(&r_cpu)
        );
        println!(
            "  index {:.1}x read_capture; inspect --json {:.1}x the old way (medians of per-run ratios)",
            median(&r_idx),
            median(&r_insp)
        );
        let exe = std::env::current_exe().expect("exe");
        let mut one = Command::new(exe);
        one.arg("--index-one").arg(&path);
        match (
            peak_rss_mb(one),
            peak_rss_mb(inspect_command(&bin, &path, home.path())),
        ) {
            (Some(a), Some(b)) => println!(
                "  peak resident memory: index pass {a:.0} MB (records dropped per batch), inspect --json {b:.0} MB"
            ),
            _ => println!("  peak resident memory: /usr/bin/time not available"),
        }
    }
}

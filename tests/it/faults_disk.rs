//! Disk and process faults while recording (issue 13): the disk fills, wsdeck is killed, the log
//! child will not stop. Real files, real limits, the real binary, a loopback peer (in
//! faults_process.rs).
//!
//! A disk fills in two ways here. A file-size limit (`ulimit -f` in the shell that starts the
//! process: writes past it fail with EFBIG) works everywhere, so those tests always run. A full
//! tmpfs (ENOSPC) needs root and CAP_SYS_ADMIN (`unshare -m` + `mount`); where it cannot be
//! mounted those tests print why and return. The engine and console tests must run inside the
//! limited process, so they are `#[ignore]`d children that their parent test runs from this test
//! binary under the limit (and that check nothing when run alone).
//!
//! | scenario | expected | where tested |
//! |---|---|---|
//! | the disk fills mid-recording: the capture writer | the error once, naming the file and the OS error; the file cut back to its last whole line; the rest of the session taken, not written, and counted | `writer_*` (engine: CaptureWriter and CaptureThread) |
//! | the disk fills during `wsdeck record URL --out F` | exit 7; stderr names F and the OS error once and says how the session ended; the peer's close 1000 answered (a proper close); F holds whole lines, frames 1..k in order (none after a gap), and `inspect F` reads it without a warning; every frame counted | `record_*` (CLI) |
//! | `--out /dev/full`: no write ever succeeds | the same: exit 7, the error once, a proper close | `record_to_dev_full_*` (CLI) |
//! | a path that cannot be created | exit 2 before anything connects | `record_to_an_impossible_path_*` (CLI) |
//! | the disk fills during `:record on` | the status bar and one warning row say it (file, OS error, frames kept); frames keep arriving, every one in the log | `console_*` (the console's event loop) |
//! | `kill -9` of `wsdeck record` while a peer floods | `inspect F` exits 0; every complete line reads back, frames 1..k in order; at most the last line cut, with the reader's warning | `faults_process::kill_9_*` |
//! | the log child ignores SIGTERM | SIGTERM to its process group, SIGKILL after `monitor::child::STOP_GRACE` (1 s); no process of its group left (/proc), its helpers included | `faults_process::monitor_*` (engine `collect`, CLI `--monitor`), `faults_process::console_logs_stop_*` (console `:logs stop`) |

use crate::console_support::{Console, key, wait_for};
use crate::faults_process::peer;
use crate::support::{assert_exit, run};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};
use wsdeck::app::{App, Session};
use wsdeck::capture::writer::{CaptureMeta, CaptureThread, CaptureWriter};
use wsdeck::engine::target::{ConnectSpec, Target};
use wsdeck::engine::{Direction, Frame, Opcode};
use wsdeck::store::{EventKind, RowKind};

/// Frames per burst: about 700 KB of capture, far past either limit below.
const BURST: usize = 5000;
/// `ulimit -f` blocks: 64 KiB (dash counts 512 bytes) or 128 KiB (bash, 1024).
const FSIZE_BLOCKS: u32 = 128;
const TMPFS_SIZE: &str = "size=64k";
const DONE: &str = "fault child done:";

// ---------------------------------------------------------------------------------------------
// The limits.

/// How the disk is made to fill.
#[derive(Clone, Copy, Debug)]
enum Limit {
    /// `ulimit -f`: EFBIG past the size (SIGXFSZ is wsdeck's to ignore, and it does).
    FileSize,
    /// A 64 KiB tmpfs in a mount namespace of the process's own: ENOSPC.
    Tmpfs,
}

impl Limit {
    fn errno(self) -> i32 {
        match self {
            Limit::FileSize => 27,
            Limit::Tmpfs => 28,
        }
    }

    fn os_error(self) -> &'static str {
        match self {
            Limit::FileSize => "File too large (os error 27)",
            Limit::Tmpfs => "No space left on device (os error 28)",
        }
    }

    /// `argv` under this limit, with `dir` the place it fills. A tmpfs is mounted on `dir` in a
    /// namespace that ends with the command, so what it holds is copied to `keep` first.
    fn command(self, dir: &Path, keep: &Path, argv: &[OsString]) -> Command {
        let mut c;
        match self {
            Limit::FileSize => {
                c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("ulimit -f {FSIZE_BLOCKS} && exec \"$@\""))
                    .arg("sh");
            }
            Limit::Tmpfs => {
                c = Command::new("unshare");
                c.args(["-m", "sh", "-c"])
                    .arg(format!(
                        "d=$1; k=$2; shift 2; mount -t tmpfs -o {TMPFS_SIZE} tmpfs \"$d\" || exit 97; \"$@\"; rc=$?; cp -R \"$d\"/. \"$k\"/; exit $rc"
                    ))
                    .arg("sh")
                    .arg(dir)
                    .arg(keep);
            }
        }
        c.args(argv);
        c
    }
}

/// Whether a tmpfs can be mounted here; if not, why (printed by the tests that skip).
fn tmpfs_here() -> Result<(), String> {
    let dir = tempfile::tempdir().expect("dir");
    let o = Command::new("unshare")
        .args(["-m", "mount", "-t", "tmpfs", "-o", TMPFS_SIZE, "tmpfs"])
        .arg(dir.path())
        .output()
        .map_err(|e| format!("unshare: {e}"))?;
    if o.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&o.stderr).trim().to_string())
    }
}

macro_rules! tmpfs_or_skip {
    ($test:expr) => {
        if let Err(why) = tmpfs_here() {
            println!(
                "SKIPPED {}: cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): {why}; the file-size variant ran instead",
                $test
            );
            return;
        }
    };
}

/// Run the `#[ignore]`d test `name` of this binary under `limit`, its disk in `dir`.
fn run_child(name: &str, limit: Limit, dir: &Path) {
    let exe = std::env::current_exe().expect("test binary");
    let argv: Vec<OsString> = [
        exe.into_os_string(),
        "--ignored".into(),
        "--exact".into(),
        format!("faults_disk::{name}").into(),
        "--nocapture".into(),
        "--test-threads=1".into(),
    ]
    .into();
    let keep = tempfile::tempdir().expect("keep");
    let mut c = limit.command(dir, keep.path(), &argv);
    c.env("WSDECK_FAULT_DIR", dir)
        .env("WSDECK_FAULT_ERRNO", limit.errno().to_string());
    let o = c.output().expect("child test");
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && out.contains(&format!("{DONE} {name}")),
        "{name} under {limit:?}: {:?}\nstdout:\n{out}\nstderr:\n{err}",
        o.status
    );
    println!("{name} under {limit:?}:\n{out}");
}

/// In a child: its disk and the errno the limit gives, or `None` when run alone.
fn child_env(name: &str) -> Option<(PathBuf, i32)> {
    let dir = std::env::var_os("WSDECK_FAULT_DIR")?;
    let errno = std::env::var("WSDECK_FAULT_ERRNO").ok()?.parse().ok()?;
    println!("{name}: disk in {}", Path::new(&dir).display());
    Some((PathBuf::from(dir), errno))
}

// ---------------------------------------------------------------------------------------------
// What a capture must look like after a failure.

/// Every line whole and JSON, the header first, frames numbered in order without a gap (from 1
/// unless recording started mid-session): how many.
fn whole_lines(path: &Path) -> u64 {
    let bytes = std::fs::read(path).expect("read capture");
    assert!(
        bytes.is_empty() || bytes.ends_with(b"\n"),
        "{}: the last line is cut",
        path.display()
    );
    let mut seqs = Vec::new();
    for (i, line) in bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let v: serde_json::Value = serde_json::from_slice(line)
            .unwrap_or_else(|e| panic!("line {}: {e}: {}", i + 1, String::from_utf8_lossy(line)));
        if i == 0 {
            assert_eq!(v["wsdeck_capture"], 1, "the header comes first");
        }
        if let Some(seq) = v["seq"].as_u64() {
            seqs.push(seq);
        }
    }
    let k = seqs.len() as u64;
    let first = seqs.first().copied().unwrap_or(1);
    assert_eq!(
        seqs,
        (first..first + k).collect::<Vec<_>>(),
        "frames in order, no gap"
    );
    k
}

fn frames(from: u64, n: u64) -> Vec<Frame> {
    (from..from + n)
        .map(|seq| Frame {
            seq,
            at: Duration::from_micros(seq * 10),
            dir: Direction::In,
            opcode: Opcode::Text,
            payload: bytes::Bytes::from(format!(
                r#"{{"type":"tick","n":{seq},"pad":"{}"}}"#,
                ".".repeat(80)
            )),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The engine: CaptureWriter and CaptureThread.

#[test]
fn writer_fails_once_under_a_file_size_limit() {
    let dir = tempfile::tempdir().expect("dir");
    run_child("writer_child", Limit::FileSize, dir.path());
}

#[test]
fn writer_fails_once_on_a_full_tmpfs() {
    tmpfs_or_skip!("writer_fails_once_on_a_full_tmpfs");
    let dir = tempfile::tempdir().expect("dir");
    run_child("writer_child", Limit::Tmpfs, dir.path());
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "run by writer_fails_once_* under a disk limit"]
async fn writer_child() {
    let Some((dir, errno)) = child_env("writer_child") else {
        return;
    };
    let total = BURST as u64;
    // The writer: the error comes back once, from the call that met it.
    let path = dir.join("writer.jsonl");
    let mut w =
        CaptureWriter::create(&path, &CaptureMeta::default(), SystemTime::now()).expect("create");
    let mut errors = Vec::new();
    for start in (1..=total).step_by(50) {
        if let Err(e) = w.frames(&frames(start, 50)) {
            errors.push(e);
        }
    }
    if let Err(e) = w.flush() {
        errors.push(e);
    }
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(e.path, path);
    assert_eq!(e.error.raw_os_error(), Some(errno), "{e}");
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    assert!(w.has_failed());
    assert_eq!(w.frames_written(), e.frames_kept);
    assert_eq!(w.frames_written() + w.frames_dropped(), total);
    drop(w);
    let kept = whole_lines(&path);
    assert_eq!(kept, e.frames_kept);
    assert!(kept > 0 && kept < total, "{kept} of {total}");
    println!("writer: {kept} of {total} frames kept, then: {e}");
    // A tmpfs is shared by both files: the thread's gets the room back.
    std::fs::remove_file(&path).expect("rm");

    // The thread: the failure is handed out once (as it happens, or at the end), the session
    // side never waits on it.
    let path = dir.join("thread.jsonl");
    let w =
        CaptureWriter::create(&path, &CaptureMeta::default(), SystemTime::now()).expect("create");
    let mut t = CaptureThread::spawn(w).expect("thread");
    let mut said = Vec::new();
    for start in (1..=total).step_by(50) {
        t.frames(frames(start, 50))
            .await
            .expect("the thread takes frames");
        said.extend(t.failure());
    }
    let end = t.finish().await;
    said.extend(end.error);
    assert_eq!(said.len(), 1, "{said:?}");
    assert_eq!(said[0].error.raw_os_error(), Some(errno));
    assert!(end.failed);
    assert_eq!(end.frames + end.dropped, total);
    assert_eq!(whole_lines(&path), end.frames);
    println!("{DONE} writer_child");
}

// ---------------------------------------------------------------------------------------------
// The command line.

/// `wsdeck record URL --out DIR/F` under `limit`: the output, F as it was left, the peer.
async fn record_under(limit: Limit) -> (Output, Option<PathBuf>, String, tempfile::TempDir) {
    let peer = peer(Some(BURST), false).await;
    let home = tempfile::tempdir().expect("home");
    let disk = home.path().join("disk");
    let keep = home.path().join("keep");
    std::fs::create_dir_all(&disk).expect("disk");
    std::fs::create_dir_all(&keep).expect("keep");
    let out = disk.join("session.jsonl");
    let argv: Vec<OsString> = vec![
        env!("CARGO_BIN_EXE_wsdeck").into(),
        "record".into(),
        peer.url.clone().into(),
        "--out".into(),
        out.clone().into(),
    ];
    let mut c = limit.command(&disk, &keep, &argv);
    c.env("WSDECK_CONFIG_DIR", home.path().join("config"))
        .env("WSDECK_DATA_DIR", home.path().join("data"));
    let mut c = assert_cmd::Command::from_std(c);
    c.timeout(Duration::from_secs(60));
    let o = run(c).await;
    let seen = peer.close_seen().await;
    let file = match limit {
        Limit::FileSize => out.clone(),
        Limit::Tmpfs => keep.join("session.jsonl"),
    };
    (o, file.exists().then_some(file), seen, home)
}

/// The number that follows the last `after` in `text` ("N frames …").
fn number_after(text: &str, after: &str) -> u64 {
    text.rmatch_indices(after)
        .find_map(|(i, _)| {
            text[i + after.len()..]
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or_else(|| panic!("a number after {after:?} in {text}"))
}

fn check_record(limit: Limit, o: &Output, file: &Path, seen: &str) {
    assert_exit(o, 7);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches(limit.os_error()).count(), 1, "{err}");
    assert!(err.contains("session.jsonl"), "{err}");
    assert!(err.contains("the session itself ended with 0"), "{err}");
    assert_eq!(seen, "close 1000", "the peer's close was answered");
    let kept = whole_lines(file);
    assert!(kept > 0, "{err}");
    // Every frame the session had is either in the file or counted as not.
    assert_eq!(number_after(&err, "wsdeck: recorded "), kept, "{err}");
    let dropped = number_after(&err, "before a write failed; ");
    let summary = err
        .lines()
        .find(|l| l.contains(" frames in ("))
        .unwrap_or_else(|| panic!("no summary in {err}"));
    let n_in = number_after(summary, "wsdeck: ");
    let n_out = number_after(summary, "bytes), ");
    assert_eq!(kept + dropped, n_in + n_out, "{err}");
    // hello, the burst and its done frame, the close: every one came in.
    assert_eq!(n_in, BURST as u64 + 3, "{err}");
    let inspect = assert_cmd::Command::new(env!("CARGO_BIN_EXE_wsdeck"))
        .arg("inspect")
        .arg(file)
        .output()
        .expect("inspect");
    assert_exit(&inspect, 0);
    assert!(
        inspect.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&inspect.stderr)
    );
    println!("record under {limit:?}: {kept} frames kept, {dropped} not; stderr:\n{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn record_under_a_file_size_limit_goes_on_and_exits_7() {
    let (o, file, seen, _home) = record_under(Limit::FileSize).await;
    check_record(Limit::FileSize, &o, &file.expect("capture"), &seen);
}

#[tokio::test(flavor = "multi_thread")]
async fn record_on_a_full_tmpfs_goes_on_and_exits_7() {
    tmpfs_or_skip!("record_on_a_full_tmpfs_goes_on_and_exits_7");
    let (o, file, seen, _home) = record_under(Limit::Tmpfs).await;
    check_record(Limit::Tmpfs, &o, &file.expect("capture"), &seen);
}

#[tokio::test(flavor = "multi_thread")]
async fn record_to_dev_full_says_it_once_and_closes_properly() {
    let peer = peer(Some(100), false).await;
    let home = tempfile::tempdir().expect("home");
    let mut c = crate::support::wsdeck(home.path());
    c.args(["record", &peer.url, "--out", "/dev/full"]);
    let o = run(c).await;
    assert_exit(&o, 7);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        err.matches("cannot write the capture /dev/full: No space left on device")
            .count(),
        1,
        "{err}"
    );
    assert!(
        err.contains("recorded 0 frames to /dev/full before a write failed"),
        "{err}"
    );
    assert_eq!(peer.close_seen().await, "close 1000");
}

#[tokio::test(flavor = "multi_thread")]
async fn record_to_an_impossible_path_is_bad_usage_before_connecting() {
    let peer = peer(Some(1), false).await;
    let home = tempfile::tempdir().expect("home");
    let blocker = home.path().join("a-file");
    std::fs::write(&blocker, "x").expect("file");
    let mut c = crate::support::wsdeck(home.path());
    c.args(["record", &peer.url, "--out"])
        .arg(blocker.join("inside.jsonl"));
    let o = run(c).await;
    assert_exit(&o, 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cannot create the capture"), "{err}");
    assert_eq!(peer.clients_so_far().await, 0, "nothing connected");
}

// ---------------------------------------------------------------------------------------------
// The console's event loop.

#[test]
fn console_record_under_a_file_size_limit_says_it_once() {
    let dir = tempfile::tempdir().expect("dir");
    run_child("console_child", Limit::FileSize, dir.path());
}

#[test]
fn console_record_on_a_full_tmpfs_says_it_once() {
    tmpfs_or_skip!("console_record_on_a_full_tmpfs_says_it_once");
    let dir = tempfile::tempdir().expect("dir");
    run_child("console_child", Limit::Tmpfs, dir.path());
}

fn typed(text: &str) -> Vec<wsdeck::app::Event> {
    text.chars().map(|c| key(KeyCode::Char(c))).collect()
}

/// Compose `text` and send it (Ctrl-s), then leave the composer.
fn compose(text: &str) -> Vec<wsdeck::app::Event> {
    let mut keys = vec![key(KeyCode::Char('c'))];
    keys.extend(typed(text));
    keys.push(wsdeck::app::Event::Key(KeyEvent::new(
        KeyCode::Char('s'),
        KeyModifiers::CONTROL,
    )));
    keys.push(key(KeyCode::Esc));
    keys
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "run by console_record_* under a disk limit"]
async fn console_child() {
    let Some((dir, errno)) = child_env("console_child") else {
        return;
    };
    let os_error = if errno == 27 {
        Limit::FileSize.os_error()
    } else {
        Limit::Tmpfs.os_error()
    };
    let peer = peer(None, false).await;
    let spec = ConnectSpec::new(Target::url(&peer.url).expect("url"));
    let c = Console::start(
        App::new(vec![Session::new("disk", spec)]),
        (200, 40),
        wsdeck::tui::LoopOptions {
            connect_now: vec![0],
            capture_dir: Some(dir.join("captures")),
            ..Default::default()
        },
    );
    let mut screens = c.screens.clone();
    wait_for(&mut screens, "hello").await;
    c.press(typed(":record on")).await;
    c.press(vec![key(KeyCode::Enter)]).await;
    wait_for(&mut screens, "recording to").await;
    c.press(compose(&format!(r#"{{"burst":{BURST},"tag":"a"}}"#)))
        .await;
    let screen = wait_for(&mut screens, "recording failed: cannot write the capture").await;
    assert!(screen.contains(os_error), "{screen}");
    wait_for(&mut screens, "done-a").await;
    // After the failure: the session goes on, and its frames still reach the log.
    c.press(compose(r#"{"burst":10,"tag":"b"}"#)).await;
    wait_for(&mut screens, "done-b").await;
    let app = c.quit().await;
    let s = &app.sessions[0];
    assert!(s.recording.is_none());
    let (mut frames, mut failures) = (0u64, Vec::new());
    for i in 0..s.log.len() {
        match s.log.get(i).map(|r| r.kind) {
            Some(RowKind::Frame(_)) => frames += 1,
            Some(RowKind::Event {
                kind: EventKind::Warning,
                text,
            }) if text.contains("recording failed") => failures.push(text),
            _ => {}
        }
    }
    assert_eq!(failures.len(), 1, "said once: {failures:?}");
    assert!(failures[0].contains(os_error), "{failures:?}");
    assert!(
        failures[0].contains("the file holds the first"),
        "{failures:?}"
    );
    // hello, two bursts with their done frames; two frames out; none lost from the log.
    let expected_in = 1 + (BURST as u64 + 1) + 11;
    assert_eq!(s.counters.frames_in, expected_in);
    assert!(frames >= expected_in + 2, "{frames} rows of frames");
    let file = std::fs::read_dir(dir.join("captures"))
        .expect("captures")
        .next()
        .expect("a capture")
        .expect("entry")
        .path();
    let kept = whole_lines(&file);
    assert!(
        failures[0].contains(&format!("the first {kept} frames")),
        "{failures:?}"
    );
    println!("console: {failures:?}");
    println!("{DONE} console_child");
}

//! Process faults (issue 13; the table is in faults_disk.rs): `kill -9` of wsdeck while it
//! records a flood, and a container-log child that ignores SIGTERM and leaves a helper of its
//! own running, stopped from the library, from `--monitor` and from the console. Also the
//! loopback peer both files record from.

use crate::console_support::{Console, key, wait_for};
use crate::support::{Script, assert_exit, run, serve, wsdeck};
use crossterm::event::KeyCode;
use futures_util::{SinkExt, StreamExt};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use wsdeck::app::{App, Session};
use wsdeck::engine::target::{ConnectSpec, Target};
use wsdeck::monitor::child::STOP_GRACE;
use wsdeck::monitor::{MonitorSource, Plan, collect};

// ---------------------------------------------------------------------------------------------
// kill -9 while recording.

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_while_recording_a_flood_leaves_every_complete_line() {
    let peer = peer(None, true).await;
    let home = tempfile::tempdir().expect("home");
    let out = home.path().join("flood.jsonl");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wsdeck"))
        .env("WSDECK_CONFIG_DIR", home.path().join("config"))
        .env("WSDECK_DATA_DIR", home.path().join("data"))
        .args(["record", &peer.url, "--out"])
        .arg(&out)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("wsdeck record");
    // Mid-flood: a few MB in, the writer busy.
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::metadata(&out).map_or(0, |m| m.len()) < 4 << 20 {
        assert!(Instant::now() < deadline, "the capture never grew");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("wait");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );

    let bytes = std::fs::read(&out).expect("capture");
    let cut = !bytes.ends_with(b"\n");
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    // The part after the last newline: empty, or the line the kill cut.
    lines.pop();
    let mut seqs = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_slice(l)
            .unwrap_or_else(|e| panic!("complete line {} does not read: {e}", i + 1));
        if let Some(s) = v["seq"].as_u64() {
            seqs.push(s);
        }
    }
    let k = seqs.len() as u64;
    assert!(k > 1000, "{k} frames");
    assert_eq!(seqs, (1..=k).collect::<Vec<_>>());

    let mut c = wsdeck(home.path());
    c.arg("inspect").arg(&out).arg("--json");
    let o = run(c).await;
    assert_exit(&o, 0);
    let records = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.starts_with("{\"seq\":"))
        .count() as u64;
    assert_eq!(records, k, "every complete frame line reads back");
    let err = String::from_utf8_lossy(&o.stderr);
    if cut {
        assert!(err.contains("cut off mid-line"), "{err}");
    } else {
        assert!(err.is_empty(), "{err}");
    }
    println!(
        "kill -9 after {} bytes: {k} frames read back, last line {}",
        bytes.len(),
        if cut { "cut (warned)" } else { "whole" }
    );
}

// ---------------------------------------------------------------------------------------------
// A log child that ignores SIGTERM.

/// A stand-in for `azd ai agent monitor … --follow` that will not stop: it traps TERM (noting it
/// in DIR/term), starts a helper that ignores TERM too (as azd's extension process is a child of
/// its own), prints a line and sleeps forever. Its pid is in DIR/leader.pid.
fn stubborn_azd(bin: &Path, dir: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(bin).expect("bin");
    let p = bin.join("azd");
    let d = dir.display();
    let script = format!(
        "#!/bin/sh\necho $$ > {d}/leader.pid\ntrap 'echo TERM >> {d}/term' TERM\nsh -c 'trap \"\" TERM; exec sleep 1000' &\necho $! > {d}/helper.pid\necho \"following the logs\"\nwhile :; do sleep 1; done\n"
    );
    std::fs::write(&p, script).expect("write");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    p
}

/// A shell that obeys SIGTERM, for the other side of the measure.
fn obedient(dir: &Path) -> Vec<String> {
    let d = dir.display();
    vec![
        "sh".into(),
        "-c".into(),
        format!("echo $$ > {d}/leader.pid; echo following; sleep 1000"),
    ]
}

fn pid(dir: &Path, name: &str) -> u32 {
    std::fs::read_to_string(dir.join(name))
        .expect("pid file")
        .trim()
        .parse()
        .expect("pid")
}

/// Live processes (zombies and dead ones aside) whose process group is `pgid`, from /proc.
fn group_members(pgid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.len() > 2 && !matches!(f[0], "Z" | "X") && f[2] == pgid.to_string() {
            found.push(pid);
        }
    }
    found
}

fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rfind(')')
            .and_then(|i| s[i + 1..].split_whitespace().next())
            .is_some_and(|state| !matches!(state, "Z" | "X"))
    })
}

/// The group is empty, waiting a little for the kernel to finish the kill (bounded).
async fn group_gone(pgid: u32) -> Vec<u32> {
    for _ in 0..100 {
        let left = group_members(pgid);
        if left.is_empty() {
            return left;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    group_members(pgid)
}

async fn check_nothing_left(dir: &Path) {
    let leader = pid(dir, "leader.pid");
    let helper = pid(dir, "helper.pid");
    let left = group_gone(leader).await;
    assert!(left.is_empty(), "still in the log child's group: {left:?}");
    assert!(!running(leader), "the log child {leader} runs");
    assert!(!running(helper), "its helper {helper} runs (an orphan)");
    let term = std::fs::read_to_string(dir.join("term")).unwrap_or_default();
    assert!(term.contains("TERM"), "SIGTERM came first");
}

#[tokio::test(flavor = "multi_thread")]
async fn monitor_child_that_ignores_sigterm_is_killed_after_the_grace_with_its_helper() {
    let dir = tempfile::tempdir().expect("dir");
    let azd = stubborn_azd(&dir.path().join("bin"), dir.path());
    let watch = Duration::from_millis(300);
    let t = Instant::now();
    let (lines, result) = collect(
        &Plan::Child(vec![azd.display().to_string()]),
        None,
        watch,
        100,
    )
    .await;
    let stubborn = t.elapsed().saturating_sub(watch);
    assert!(
        lines.iter().any(|l| l.text == "following the logs"),
        "{lines:?}"
    );
    assert!(matches!(result, Ok(None)), "stopped, not ended: {result:?}");
    check_nothing_left(dir.path()).await;

    // The same stop for a child that obeys SIGTERM: what the grace costs only the stubborn.
    let dir2 = tempfile::tempdir().expect("dir");
    let t = Instant::now();
    let (lines, result) = collect(&Plan::Child(obedient(dir2.path())), None, watch, 100).await;
    let obeying = t.elapsed().saturating_sub(watch);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(matches!(result, Ok(None)), "{result:?}");
    let leader = pid(dir2.path(), "leader.pid");
    assert!(group_gone(leader).await.is_empty());
    println!(
        "stop: a child that obeys SIGTERM {obeying:?}; one that ignores it {stubborn:?} (STOP_GRACE {STOP_GRACE:?})"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn monitor_flag_leaves_no_process_of_a_stubborn_azd() {
    let server = serve(Script::CloseAfterFirst {
        code: 1011,
        reason: "Internal server error".into(),
    })
    .await;
    let home = tempfile::tempdir().expect("home");
    let bin = home.path().join("bin");
    stubborn_azd(&bin, home.path());
    let mut c = wsdeck(home.path());
    c.env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .args([
            "send",
            &server.url(),
            "--session-id",
            "s-term",
            "--text",
            "x",
        ])
        .args(["--monitor", "--monitor-timeout", "0.5"]);
    let t = Instant::now();
    let o = run(c).await;
    let took = t.elapsed();
    assert_exit(&o, 5);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("following the logs"), "{err}");
    check_nothing_left(home.path()).await;
    println!("send --monitor with a stubborn azd: {took:?} in all");
}

#[tokio::test(flavor = "multi_thread")]
async fn console_logs_stop_leaves_no_process_of_a_stubborn_child() {
    let demo = wsdeck::demo::start(0).await.expect("demo");
    let dir = tempfile::tempdir().expect("dir");
    let azd = stubborn_azd(&dir.path().join("bin"), dir.path());
    let mut spec = ConnectSpec::new(Target::url(&format!("{}?quiet=1", demo.url())).expect("url"));
    spec.session_id = Some("sess-term".into());
    let mut app = App::new(vec![Session::new("demo", spec)]);
    app.config.container_logs_source = MonitorSource::Cmd(azd.display().to_string());
    let c = Console::start(
        app,
        (120, 30),
        wsdeck::tui::LoopOptions {
            connect_now: vec![0],
            ..Default::default()
        },
    );
    let mut screens = c.screens.clone();
    wait_for(&mut screens, "session.ready").await;
    c.press(vec![key(KeyCode::Char('l'))]).await;
    wait_for(&mut screens, "following the logs").await;
    c.press(
        ":logs stop"
            .chars()
            .map(|ch| key(KeyCode::Char(ch)))
            .collect(),
    )
    .await;
    c.press(vec![key(KeyCode::Enter)]).await;
    wait_for(&mut screens, "stopped (:logs starts it again)").await;
    // The reader gives the child its grace, then kills the group: wait past it (bounded).
    let leader = pid(dir.path(), "leader.pid");
    let deadline = Instant::now() + STOP_GRACE + Duration::from_secs(5);
    while !group_members(leader).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check_nothing_left(dir.path()).await;
    c.quit().await;
}

// ---------------------------------------------------------------------------------------------
// The loopback peer.

/// A WebSocket peer on loopback: says hello, sends bursts of frames, and remembers how the
/// client's side of the close looked (`close 1000`, or the error the socket ended with).
pub struct Peer {
    pub url: String,
    pub seen: Arc<Mutex<Option<String>>>,
    addr: std::net::SocketAddr,
    accepted: Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Peer {
    /// How the client ended the connection, once it did (bounded wait).
    pub async fn close_seen(&self) -> String {
        for _ in 0..200 {
            if let Some(s) = self.seen.lock().expect("lock").clone() {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        "nothing yet".into()
    }

    /// How many clients connected before now: a probe connects last, and connections are
    /// accepted in order, so once the probe is counted every earlier one is.
    pub async fn clients_so_far(&self) -> usize {
        use std::sync::atomic::Ordering;
        let before = self.accepted.load(Ordering::SeqCst);
        let _probe = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("probe");
        for _ in 0..400 {
            let now = self.accepted.load(Ordering::SeqCst);
            if now > before {
                return now - 1;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("the probe was never accepted");
    }
}

/// `burst_then_close`: on connect, that many frames and a close 1000 ("done"). `None`: a burst
/// for each `{"burst":N,"tag":T}` the client sends, ending with a `done-T` frame.
/// `flood`: frames until the client goes away.
pub async fn peer(burst_then_close: Option<usize>, flood: bool) -> Peer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let url = format!("ws://{addr}/ws");
    let seen = Arc::new(Mutex::new(None));
    let saw = seen.clone();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let saw = saw.clone();
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                let outcome = converse(&mut ws, burst_then_close, flood).await;
                *saw.lock().expect("lock") = Some(outcome);
            });
        }
    });
    Peer {
        url,
        seen,
        addr,
        accepted,
        task,
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

fn tick(tag: &str, n: usize) -> Message {
    let pad = ".".repeat(80);
    Message::text(format!(
        r#"{{"type":"tick","tag":"{tag}","n":{n},"pad":"{pad}"}}"#
    ))
}

async fn burst(ws: &mut Ws, tag: &str, count: usize) -> bool {
    for n in 1..=count {
        if ws.feed(tick(tag, n)).await.is_err() {
            return false;
        }
    }
    let done = format!(r#"{{"type":"done-{tag}","count":{count}}}"#);
    ws.send(Message::text(done)).await.is_ok()
}

async fn converse(ws: &mut Ws, burst_then_close: Option<usize>, flood: bool) -> String {
    let _ = ws.send(Message::text(r#"{"type":"hello"}"#)).await;
    if flood {
        let mut n = 0;
        loop {
            n += 1;
            if let Err(e) = ws.send(tick("flood", n)).await {
                return format!("error: {e}");
            }
        }
    }
    if let Some(count) = burst_then_close {
        burst(ws, "a", count).await;
        let done = CloseFrame {
            code: CloseCode::Normal,
            reason: "done".into(),
        };
        let _ = ws.close(Some(done)).await;
    }
    while let Some(msg) = ws.next().await {
        match msg {
            Ok(Message::Close(cf)) => {
                let code = cf.map(|c| u16::from(c.code).to_string());
                return format!("close {}", code.unwrap_or_else(|| "without a code".into()));
            }
            Ok(Message::Text(t)) => {
                let v: serde_json::Value = serde_json::from_str(&t).unwrap_or_default();
                if let (Some(n), Some(tag)) = (v["burst"].as_u64(), v["tag"].as_str()) {
                    burst(ws, tag, n as usize).await;
                }
            }
            Ok(_) => {}
            Err(e) => return format!("error: {e}"),
        }
    }
    "ended without a close frame".into()
}

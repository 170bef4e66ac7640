//! Real peers on loopback for the tests: a scripted tokio-tungstenite server, raw HTTP refusals,
//! and the real agentserver SDK agents in a Python venv this module creates itself.

#![allow(dead_code)]

use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// Every upgrade request's headers, in arrival order.
pub type Requests = Arc<Mutex<Vec<Vec<(String, String)>>>>;

/// How the scripted server treats each connection.
#[derive(Clone, Debug)]
pub enum Script {
    /// Echo text and binary frames; `{"close":CODE}` closes with that code.
    Echo,
    /// Answer the upgrade with this status, content type and body (raw HTTP).
    Refuse { status: u16, body: String },
    /// After the first message, close with this code and reason.
    CloseAfterFirst { code: u16, reason: String },
    /// After the first message, write half a frame and drop the TCP connection.
    DropMidFrame,
    /// Send N binary frames of SIZE bytes as fast as possible, then close 1000.
    Flood { count: usize, size: usize },
    /// After the first message, send a text frame whose bytes are not UTF-8.
    InvalidUtf8,
    /// Accept TCP and never answer.
    Silent,
    /// Complete the upgrade, then never read again (so pings go unanswered, as behind a dead
    /// path or a wedged process).
    Deaf,
}

pub struct Server {
    pub addr: SocketAddr,
    /// Request headers of each upgrade, lower-cased names.
    pub requests: Requests,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn serve(script: Script) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let requests = Arc::new(Mutex::new(Vec::new()));
    let reqs = requests.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let script = script.clone();
            let reqs = reqs.clone();
            tokio::spawn(async move { handle(stream, script, reqs).await });
        }
    });
    Server {
        addr,
        requests,
        task,
    }
}

async fn handle(mut stream: TcpStream, script: Script, reqs: Requests) {
    match script {
        Script::Refuse { status, body } => {
            let mut buf = vec![0u8; 8192];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                let Ok(n) = stream.read(&mut buf).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                got.extend_from_slice(&buf[..n]);
            }
            record_raw_headers(&got, &reqs);
            let reason = match status {
                401 => "Unauthorized",
                403 => "Forbidden",
                404 => "Not Found",
                _ => "Error",
            };
            let resp = format!(
                "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(resp.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
        Script::Silent => {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        other => {
            let reqs2 = reqs.clone();
            let callback = move |req: &Request, resp: Response| {
                let headers = req
                    .headers()
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_string(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .chain(std::iter::once((":uri".to_string(), req.uri().to_string())))
                    .collect();
                reqs2.lock().expect("lock").push(headers);
                Ok(resp)
            };
            let cfg = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
                .max_message_size(Some(64 << 20))
                .max_frame_size(Some(64 << 20));
            let Ok(mut ws) =
                tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(cfg)).await
            else {
                return;
            };
            match other {
                Script::Echo => {
                    while let Some(Ok(msg)) = ws.next().await {
                        match msg {
                            Message::Text(t) => {
                                if let Some(code) = t
                                    .strip_prefix("{\"close\":")
                                    .and_then(|r| r.strip_suffix('}'))
                                    .and_then(|c| c.parse::<u16>().ok())
                                {
                                    let _ = ws
                                        .close(Some(CloseFrame {
                                            code: CloseCode::from(code),
                                            reason: "as asked".into(),
                                        }))
                                        .await;
                                    while ws.next().await.is_some() {}
                                    return;
                                }
                                if ws.send(Message::Text(t)).await.is_err() {
                                    return;
                                }
                            }
                            Message::Binary(b)
                                if ws.send(Message::Binary(b.clone())).await.is_err() =>
                            {
                                return;
                            }
                            Message::Close(_) => {
                                while ws.next().await.is_some() {}
                                return;
                            }
                            _ => {}
                        }
                    }
                }
                Script::CloseAfterFirst { code, reason } => {
                    let _ = ws.next().await;
                    let _ = ws
                        .close(Some(CloseFrame {
                            code: CloseCode::from(code),
                            reason: reason.into(),
                        }))
                        .await;
                    while ws.next().await.is_some() {}
                }
                Script::DropMidFrame => {
                    let _ = ws.next().await;
                    let mut raw = ws.into_inner();
                    // A binary frame announcing 256 bytes, of which 3 arrive.
                    let _ = raw.write_all(&[0x82, 0x7e, 0x01, 0x00, 1, 2, 3]).await;
                    let _ = raw.flush().await;
                    drop(raw);
                }
                Script::InvalidUtf8 => {
                    let _ = ws.next().await;
                    let mut raw = ws.into_inner();
                    let _ = raw.write_all(&[0x81, 0x02, 0xc3, 0x28]).await;
                    let _ = raw.flush().await;
                    let mut sink = [0u8; 1024];
                    let _ = tokio::time::timeout(Duration::from_secs(5), raw.read(&mut sink)).await;
                }
                Script::Flood { count, size } => {
                    let payload = bytes::Bytes::from(vec![7u8; size]);
                    for _ in 0..count {
                        if ws.feed(Message::Binary(payload.clone())).await.is_err() {
                            return;
                        }
                    }
                    let _ = ws.flush().await;
                    let _ = ws.close(None).await;
                    while ws.next().await.is_some() {}
                }
                Script::Deaf => {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    drop(ws);
                }
                Script::Refuse { .. } | Script::Silent => {}
            }
        }
    }
}

fn record_raw_headers(raw: &[u8], reqs: &Requests) {
    let text = String::from_utf8_lossy(raw);
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or_default().to_string();
    let mut headers = vec![(":request".to_string(), first)];
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_lowercase(), v.trim().to_string()));
        }
    }
    reqs.lock().expect("lock").push(headers);
}

/// The header `name` of upgrade request `i`.
pub fn header(server: &Server, i: usize, name: &str) -> Option<String> {
    server
        .requests
        .lock()
        .expect("lock")
        .get(i)?
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// A port nothing listens on.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"))
}

/// The Python venv with the real SDK, created on first use under `target/` and reused while
/// `tests/agents/requirements.txt` is unchanged.
pub fn python() -> &'static Path {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        let venv = target_dir().join("pyvenv");
        let reqs = repo().join("tests/agents/requirements.txt");
        let want = std::fs::read_to_string(&reqs).expect("requirements.txt");
        let marker = venv.join(".wsdeck-requirements");
        let py = venv.join("bin/python");
        if std::fs::read_to_string(&marker).ok().as_deref() == Some(want.as_str()) && py.exists() {
            return py;
        }
        let _ = std::fs::remove_dir_all(&venv);
        let host_py = std::env::var("WSDECK_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let ok = Command::new(&host_py)
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 -m venv: is Python 3 installed?");
        assert!(ok.success(), "python3 -m venv failed");
        let ok = Command::new(&py)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&reqs)
            .status()
            .expect("pip");
        assert!(
            ok.success(),
            "pip install -r tests/agents/requirements.txt failed"
        );
        std::fs::write(&marker, want).expect("marker");
        py
    })
}

/// A real SDK agent process, killed when dropped.
pub struct Agent {
    pub port: u16,
    child: Child,
    stderr_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Agent {
    /// Start `tests/agents/{script}` on a free port and wait for `/readiness`.
    pub fn start(script: &str) -> Agent {
        let py = python();
        let dir = tempfile::tempdir().expect("tmp");
        let stderr_path = dir.path().join("stderr.log");
        let port = closed_port();
        let child = Command::new(py)
            .arg(repo().join("tests/agents").join(script))
            .env("PORT", port.to_string())
            .env("APPLICATIONINSIGHTS_SDKSTATS_DISABLED", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
            .spawn()
            .expect("start agent");
        let mut agent = Agent {
            port,
            child,
            stderr_path,
            _dir: dir,
        };
        agent.wait_ready();
        agent
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("agent exited early ({status}): {}", self.stderr());
            }
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                use std::io::{Read, Write};
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = s.write_all(
                    b"GET /readiness HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                );
                let mut resp = String::new();
                let _ = s.read_to_string(&mut resp);
                if resp.starts_with("HTTP/1.1 200") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("agent not ready in 60s: {}", self.stderr());
    }

    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/invocations_ws", self.port)
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The wsdeck binary with a private config and data dir.
pub fn wsdeck(home: &Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("wsdeck").expect("binary");
    c.env("WSDECK_CONFIG_DIR", home.join("config"))
        .env("WSDECK_DATA_DIR", home.join("data"))
        .env_remove("FOUNDRY_PROJECT_ENDPOINT")
        .timeout(Duration::from_secs(60));
    c
}

/// Parse stdout JSON lines.
pub fn json_lines(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Run a wsdeck command without blocking the test's runtime (its loopback servers run there).
pub async fn run(mut cmd: assert_cmd::Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("run wsdeck"))
        .await
        .expect("join")
}

/// The command exited with `code`; otherwise fail showing its stderr.
#[track_caller]
pub fn assert_exit(o: &std::process::Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// How the Foundry stand-in answers one request for a session log stream.
#[derive(Clone, Debug)]
pub enum SseReply {
    /// 200 `text/event-stream` (chunked): these pieces, then the TCP connection drops without
    /// ending the body, as a stream cut by a proxy does.
    Drop(Vec<String>),
    /// 200: these pieces, then the stream stays open.
    Hold(Vec<String>),
    /// This status and JSON body.
    Status(u16, String),
}

/// A stand-in for a Foundry project on one port, as `http://ADDR/api/projects/p`: WebSocket
/// upgrades get `ws`; `…:logstream` requests get the next of `sse` (the last one repeats).
pub struct Foundry {
    pub server: Server,
    /// Each log-stream request: headers with lower-cased names, plus `:uri`.
    pub log_requests: Requests,
}

impl Foundry {
    pub fn endpoint(&self) -> String {
        format!("http://{}/api/projects/p", self.server.addr)
    }
}

pub async fn serve_foundry(ws: Script, sse: Vec<SseReply>) -> Foundry {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let requests: Requests = Arc::new(Mutex::new(Vec::new()));
    let log_requests: Requests = Arc::new(Mutex::new(Vec::new()));
    let (reqs, logs) = (requests.clone(), log_requests.clone());
    let replies = Arc::new(Mutex::new(std::collections::VecDeque::from(sse)));
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let mut head = [0u8; 512];
            let n = stream.peek(&mut head).await.unwrap_or(0);
            let line = String::from_utf8_lossy(&head[..n]).into_owned();
            if line
                .lines()
                .next()
                .is_some_and(|l| l.contains(":logstream"))
            {
                let reply = {
                    let mut q = replies.lock().expect("lock");
                    if q.len() > 1 {
                        q.pop_front()
                    } else {
                        q.front().cloned()
                    }
                };
                let logs = logs.clone();
                tokio::spawn(async move { serve_sse(stream, reply, logs).await });
            } else {
                let (ws, reqs) = (ws.clone(), reqs.clone());
                tokio::spawn(async move { handle(stream, ws, reqs).await });
            }
        }
    });
    Foundry {
        server: Server {
            addr,
            requests,
            task,
        },
        log_requests,
    }
}

async fn serve_sse(mut stream: TcpStream, reply: Option<SseReply>, reqs: Requests) {
    let mut buf = vec![0u8; 8192];
    let mut got = Vec::new();
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&got).into_owned();
    let uri = text
        .lines()
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("")
        .to_string();
    let mut headers: Vec<(String, String)> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    headers.push((":uri".into(), uri));
    reqs.lock().expect("lock").push(headers);
    let Some(reply) = reply else { return };
    let (pieces, hold) = match reply {
        SseReply::Status(status, body) => {
            let resp = format!(
                "HTTP/1.1 {status} Error\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(resp.as_bytes()).await;
            let _ = stream.shutdown().await;
            return;
        }
        SseReply::Drop(p) => (p, false),
        SseReply::Hold(p) => (p, true),
    };
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n";
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    for p in pieces {
        let chunk = format!("{:x}\r\n{p}\r\n", p.len());
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            return;
        }
        let _ = stream.flush().await;
        // Pieces arrive apart, so events split across reads as they do on a real network.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if hold {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
}

/// A fake `azd` in `dir` that acts like `azd ai agent monitor … --session-id ID --follow`: its
/// pid in `pid_file`, a banner on stderr, two log lines naming the session on stdout, then it
/// follows (sleeps) until killed.
pub fn fake_azd(dir: &Path, pid_file: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).expect("dir");
    let p = dir.join("azd");
    // As `azd ai agent monitor … --session-id ID --follow` does: a banner on stderr, then one
    // line per event on stdout, then it follows forever.
    let script = format!(
        "#!/bin/sh\necho $$ > {pid}\nsid=''\nwhile [ $# -gt 0 ]; do [ \"$1\" = --session-id ] && sid=$2; shift; done\necho \"Streaming session logs for agent (session: $sid)...\" >&2\necho \"09:41:07  stderr  WebSocket handler raised for session $sid: boom\"\necho \"09:41:07  stderr  RuntimeError: boom\"\nexec sleep 30\n",
        pid = pid_file.display()
    );
    std::fs::write(&p, script).expect("write");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

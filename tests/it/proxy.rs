//! `wsdeck proxy` as a user runs it: the real binary between a tokio-tungstenite client and the
//! real SDK echo agent (or a scripted loopback server), its JSON lines read as they come.
//! The security rules (origins, listen addresses, the token) are in proxy_guard.rs.

use crate::support::{Agent, Script, header, serve};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A running `wsdeck proxy`, its stdout parsed line by line and its stderr kept.
pub struct Proxy {
    child: Child,
    pub addr: SocketAddr,
    lines: Arc<Mutex<Vec<Value>>>,
    stderr: Arc<Mutex<String>>,
}

impl Proxy {
    /// `wsdeck proxy ARGS --listen 127.0.0.1:0`, with a private config and data dir under `home`
    /// and `env` set; waits for its `listening` line.
    pub fn start(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Proxy {
        Proxy::start_under(&[], home, args, env)
    }

    /// As `start`, run by `wrapper` (a shell that sets a limit, say): `wrapper... wsdeck proxy`.
    pub fn start_under(
        wrapper: &[&str],
        home: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Proxy {
        let bin = env!("CARGO_BIN_EXE_wsdeck");
        let mut cmd = match wrapper.split_first() {
            None => Command::new(bin),
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(bin);
                c
            }
        };
        cmd.env("WSDECK_CONFIG_DIR", home.join("config"))
            .env("WSDECK_DATA_DIR", home.join("data"))
            .env_remove("FOUNDRY_PROJECT_ENDPOINT")
            .arg("proxy")
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start wsdeck proxy");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let out = child.stdout.take().expect("stdout");
        let l = lines.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                l.lock().unwrap().push(v);
            }
        });
        let err = child.stderr.take().expect("stderr");
        let e = stderr.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                let mut s = e.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            if let Some(first) = lines.lock().unwrap().first() {
                assert_eq!(first["event"], "listening", "the first line: {first}");
                break first["addr"].as_str().expect("addr").parse().expect("addr");
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("wsdeck proxy exited ({status}): {}", stderr.lock().unwrap());
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no listening line in 30s: {}", stderr.lock().unwrap());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Proxy {
            child,
            addr,
            lines,
            stderr,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    pub fn lines(&self) -> Vec<Value> {
        self.lines.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Wait (at most 10 s) until a line matches.
    pub async fn wait_line(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(v) = self.lines().into_iter().find(|v| pred(v)) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} line in 10s; lines: {:#?}\nstderr: {}",
                self.lines(),
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Wait (at most 10 s) until stderr holds `needle`; all of stderr.
    pub async fn wait_stderr(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let s = self.stderr();
            if s.contains(needle) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} on stderr in 10s: {s}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Ctrl-C, as a user stops it; the exit code.
    pub async fn interrupt(mut self) -> (i32, Vec<Value>, String) {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill");
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "proxy still running 15s after SIGINT"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        // The reader threads drain what is left.
        tokio::time::sleep(Duration::from_millis(100)).await;
        (status.code().unwrap_or(-1), self.lines(), self.stderr())
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The lines of one kind for client `n`.
pub fn of_client<'a>(lines: &'a [Value], n: u64, event: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|l| l["client"] == n && l["event"] == event)
        .collect()
}

/// Frame lines of client `n`: (dir, op, text or b64).
pub fn frames_of(lines: &[Value], n: u64) -> Vec<(String, String, String)> {
    lines
        .iter()
        .filter(|l| l["client"] == n && l.get("dir").is_some())
        .map(|l| {
            let body = l["text"].as_str().or(l["b64"].as_str()).unwrap_or("");
            (
                l["dir"].as_str().unwrap_or("").to_string(),
                l["op"].as_str().unwrap_or("").to_string(),
                body.to_string(),
            )
        })
        .collect()
}

pub async fn connect(url: &str) -> Client {
    let (ws, resp) = tokio::time::timeout(
        Duration::from_secs(30),
        tokio_tungstenite::connect_async(url),
    )
    .await
    .expect("connect in time")
    .unwrap_or_else(|e| panic!("connect {url}: {e}"));
    assert_eq!(resp.status(), 101);
    ws
}

/// The next message (or a panic after 10 s).
pub async fn next(ws: &mut Client) -> Message {
    tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("a message in 10s")
        .expect("the stream is open")
        .expect("a message")
}

#[tokio::test(flavor = "multi_thread")]
async fn frames_pass_both_ways_to_the_sdk_echo_agent() {
    let agent = Agent::start("echo_agent.py");
    let home = tempfile::tempdir().expect("home");
    let proxy = Proxy::start(home.path(), &[&agent.url()], &[]);
    let mut ws = connect(&proxy.url("/any/path?agent_session_id=from-client-7")).await;

    ws.send(Message::text("{\"type\":\"hello\"}"))
        .await
        .unwrap();
    assert_eq!(next(&mut ws).await, Message::text("{\"type\":\"hello\"}"));
    ws.send(Message::binary(vec![0u8, 1, 254, 255]))
        .await
        .unwrap();
    assert_eq!(next(&mut ws).await, Message::binary(vec![0u8, 1, 254, 255]));
    // The id the client asked for is the one the agent got.
    ws.send(Message::text("{\"type\":\"whoami\"}"))
        .await
        .unwrap();
    let Message::Text(who) = next(&mut ws).await else {
        panic!("whoami answers text")
    };
    let who: Value = serde_json::from_str(&who).unwrap();
    assert_eq!(who["agent_session_id"], "from-client-7", "{who}");

    // A ping is answered with its payload, once: the next message after the pong is the echo.
    ws.send(Message::Ping("p-1".into())).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::Pong("p-1".into()));
    ws.send(Message::text("after the ping")).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text("after the ping"));

    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    }))
    .await
    .unwrap();
    let mut got_close = None;
    while let Some(Ok(m)) = ws.next().await {
        if let Message::Close(cf) = m {
            got_close = cf;
        }
    }
    assert_eq!(got_close.map(|c| u16::from(c.code)), Some(1000));

    let close = proxy
        .wait_line("close", |l| l["event"] == "close" && l["client"] == 1)
        .await;
    assert_eq!(close["code"], 1000);
    assert_eq!(close["clean"], true);
    assert_eq!(close["by"], "client");
    let lines = proxy.lines();
    let request = &of_client(&lines, 1, "request")[0];
    assert_eq!(request["path"], "/any/path?agent_session_id=from-client-7");
    assert_eq!(request["agent_session_id"], "from-client-7");
    let connecting = &of_client(&lines, 1, "connecting")[0];
    assert!(
        connecting["url"]
            .as_str()
            .unwrap()
            .ends_with("/invocations_ws?agent_session_id=from-client-7"),
        "{connecting}"
    );
    assert_eq!(of_client(&lines, 1, "open")[0]["status"], 101);
    let frames = frames_of(&lines, 1);
    let want = |d: &str, o: &str, b: &str| (d.to_string(), o.to_string(), b.to_string());
    // `out` = client to agent, `in` = agent to client.
    for f in [
        want("out", "text", "{\"type\":\"hello\"}"),
        want("in", "text", "{\"type\":\"hello\"}"),
        want("out", "binary", "AAH+/w=="),
        want("in", "binary", "AAH+/w=="),
        want("out", "ping", "cC0x"),
        want("in", "pong", "cC0x"),
        want("out", "text", "after the ping"),
    ] {
        assert!(frames.contains(&f), "{f:?} missing from {frames:#?}");
    }
    let out_close = lines
        .iter()
        .find(|l| l["dir"] == "out" && l["op"] == "close")
        .expect("the client's close");
    assert_eq!(out_close["code"], 1000);
    assert_eq!(out_close["reason"], "bye");
    // Each client's frames are numbered from 1.
    assert_eq!(
        lines.iter().find(|l| l.get("seq").is_some()).unwrap()["seq"],
        1
    );

    let (code, _, stderr) = proxy.interrupt().await;
    assert_eq!(code, 0, "{stderr}");
}

/// A server that records every message it receives (close frames with their code and reason,
/// pongs) and obeys a few commands: `ping:P` pings with P, `close:CODE:REASON` closes.
struct Recorder {
    addr: SocketAddr,
    got: Arc<Mutex<Vec<Message>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn recorder() -> Recorder {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let g = g.clone();
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                while let Some(Ok(m)) = ws.next().await {
                    g.lock().unwrap().push(m.clone());
                    if let Message::Text(t) = &m {
                        if let Some(p) = t.strip_prefix("ping:") {
                            let _ = ws.send(Message::Ping(p.to_string().into())).await;
                        } else if let Some(rest) = t.strip_prefix("close:") {
                            let (code, reason) = rest.split_once(':').unwrap();
                            let _ = ws
                                .close(Some(CloseFrame {
                                    code: CloseCode::from(code.parse::<u16>().unwrap()),
                                    reason: reason.to_string().into(),
                                }))
                                .await;
                        } else {
                            let _ = ws.send(m).await;
                        }
                    }
                }
            });
        }
    });
    Recorder { addr, got, task }
}

#[tokio::test(flavor = "multi_thread")]
async fn close_codes_and_reasons_are_relayed_each_way() {
    let home = tempfile::tempdir().expect("home");
    let rec = recorder().await;
    let proxy = Proxy::start(home.path(), &[&format!("ws://{}/rec", rec.addr)], &[]);

    // The client closes: the agent gets the client's code and reason.
    let mut ws = connect(&proxy.url("/")).await;
    ws.close(Some(CloseFrame {
        code: CloseCode::from(4001),
        reason: "client done".into(),
    }))
    .await
    .unwrap();
    while ws.next().await.is_some() {}
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got = rec.got.lock().unwrap().clone();
        if let Some(Message::Close(Some(cf))) = got.last() {
            assert_eq!(u16::from(cf.code), 4001);
            assert_eq!(cf.reason.as_str(), "client done");
            break;
        }
        assert!(Instant::now() < deadline, "the agent got no close: {got:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let c1 = proxy
        .wait_line("close", |l| l["event"] == "close" && l["client"] == 1)
        .await;
    assert_eq!(
        (c1["code"].clone(), c1["by"].clone()),
        (4001.into(), "client".into())
    );

    // The agent pings: the client sees the ping, the agent gets one pong.
    let mut ws = connect(&proxy.url("/")).await;
    ws.send(Message::text("ping:from-agent")).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::Ping("from-agent".into()));
    // The agent closes, from a scripted command: the client gets its code and reason.
    ws.send(Message::text("close:4002:agent done"))
        .await
        .unwrap();
    let m = next(&mut ws).await;
    let Message::Close(Some(cf)) = m else {
        panic!("expected the agent's close, got {m:?}")
    };
    assert_eq!(
        (u16::from(cf.code), cf.reason.as_str()),
        (4002, "agent done")
    );
    let pongs = rec
        .got
        .lock()
        .unwrap()
        .iter()
        .filter(|m| matches!(m, Message::Pong(p) if &p[..] == b"from-agent"))
        .count();
    assert_eq!(pongs, 1, "the agent's ping is answered once");
    let c2 = proxy
        .wait_line("close", |l| l["event"] == "close" && l["client"] == 2)
        .await;
    assert_eq!(
        (c2["code"].clone(), c2["by"].clone()),
        (4002.into(), "server".into())
    );
    assert_eq!(c2["reason"], "agent done");
    let frames = frames_of(&proxy.lines(), 2);
    assert!(frames.contains(&("in".into(), "ping".into(), "ZnJvbS1hZ2VudA==".into())));
    assert!(frames.contains(&("out".into(), "pong".into(), "ZnJvbS1hZ2VudA==".into())));

    // And from the support suite's scripted server: a close after the first message.
    let scripted = serve(Script::CloseAfterFirst {
        code: 1011,
        reason: "Internal server error".into(),
    })
    .await;
    let proxy2 = Proxy::start(home.path(), &[&scripted.url()], &[]);
    let mut ws = connect(&proxy2.url("/")).await;
    ws.send(Message::text("go")).await.unwrap();
    let m = next(&mut ws).await;
    let Message::Close(Some(cf)) = m else {
        panic!("expected a close, got {m:?}")
    };
    assert_eq!(
        (u16::from(cf.code), cf.reason.as_str()),
        (1011, "Internal server error")
    );
    let c = proxy2
        .wait_line("close", |l| l["event"] == "close" && l["client"] == 1)
        .await;
    assert_eq!(c["clean"], false);
    proxy2.wait_stderr("closed 1011").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_agent_drops_the_client_without_a_close() {
    let mut agent = Agent::start("echo_agent.py");
    let home = tempfile::tempdir().expect("home");
    let proxy = Proxy::start(home.path(), &[&agent.url()], &[]);
    let mut ws = connect(&proxy.url("/")).await;
    ws.send(Message::text("alive?")).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text("alive?"));
    agent.kill();
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(cf))) => return Err(format!("a close frame: {cf:?}")),
                Some(Ok(_)) => continue,
                // No close frame: the client's 1006.
                Some(Err(e)) => return Ok(e.to_string()),
                None => return Ok("ended".to_string()),
            }
        }
    })
    .await
    .expect("the client is dropped within 10s");
    assert!(end.is_ok(), "{end:?}");
    let close = proxy
        .wait_line("close", |l| l["event"] == "close" && l["client"] == 1)
        .await;
    assert_eq!(close["code"], 1006);
    assert_eq!(close["by"], "transport");
    proxy
        .wait_stderr("the agent's connection ended without a close frame")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_clients_at_once_each_with_its_own_upstream_and_number() {
    let server = serve(Script::Echo).await;
    let home = tempfile::tempdir().expect("home");
    let proxy = Proxy::start(
        home.path(),
        &[&server.url(), "--session-id", "target-own"],
        &[],
    );
    let mut a = connect(&proxy.url("/?agent_session_id=aaa")).await;
    proxy
        .wait_line("open 1", |l| l["event"] == "open" && l["client"] == 1)
        .await;
    let mut b = connect(&proxy.url("/")).await;
    b.send(Message::text("from b")).await.unwrap();
    a.send(Message::text("from a")).await.unwrap();
    assert_eq!(next(&mut a).await, Message::text("from a"));
    assert_eq!(next(&mut b).await, Message::text("from b"));
    assert_eq!(
        server.requests.lock().unwrap().len(),
        2,
        "one upstream each"
    );
    assert_eq!(
        header(&server, 0, ":uri").as_deref(),
        Some("/ws?agent_session_id=aaa")
    );
    // A client without an id gets the target's own.
    assert_eq!(
        header(&server, 1, ":uri").as_deref(),
        Some("/ws?agent_session_id=target-own")
    );
    a.close(None).await.unwrap();
    b.close(None).await.unwrap();
    proxy
        .wait_line("close 2", |l| l["event"] == "close" && l["client"] == 2)
        .await;
    let lines = proxy.lines();
    let t = |d: &str, s: &str| (d.to_string(), "text".to_string(), s.to_string());
    assert!(frames_of(&lines, 1).contains(&t("out", "from a")));
    assert!(frames_of(&lines, 1).contains(&t("in", "from a")));
    assert!(frames_of(&lines, 2).contains(&t("out", "from b")));
    assert!(!frames_of(&lines, 2).contains(&t("out", "from a")));
    let (code, lines, _) = proxy.interrupt().await;
    assert_eq!(code, 0);
    assert_eq!(of_client(&lines, 1, "open").len(), 1);
    assert_eq!(of_client(&lines, 2, "open").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upstream_refusal_reaches_the_client_as_its_status() {
    let home = tempfile::tempdir().expect("home");
    for status in [401u16, 404] {
        let server = serve(Script::Refuse {
            status,
            body: "{\"error\":\"no\"}".into(),
        })
        .await;
        let proxy = Proxy::start(home.path(), &[&server.url()], &[]);
        let e = tokio_tungstenite::connect_async(proxy.url("/"))
            .await
            .expect_err("refused");
        match e {
            tokio_tungstenite::tungstenite::Error::Http(resp) => {
                assert_eq!(resp.status().as_u16(), status);
                let body = String::from_utf8_lossy(resp.body().as_deref().unwrap_or_default())
                    .into_owned();
                assert!(body.contains(&format!("HTTP {status}")), "{body}");
            }
            other => panic!("expected HTTP {status}, got {other}"),
        }
        let err = proxy
            .wait_line("error", |l| l["event"] == "error" && l["client"] == 1)
            .await;
        assert_eq!(err["kind"], "refused");
        assert_eq!(err["status"], status);
        // The diagnosis, as `connect` prints it. Its lines arrive one by one: each is waited for
        // (reading stderr once the first was there failed under load).
        proxy
            .wait_stderr(&format!(
                "the server refused the WebSocket upgrade: HTTP {status}"
            ))
            .await;
        let stderr = proxy.wait_stderr("what to do:").await;
        let refused = stderr
            .find(&format!("refused the WebSocket upgrade: HTTP {status}"))
            .expect("the refusal");
        assert!(
            stderr[refused..].contains("what to do:"),
            "the advice follows this refusal: {stderr}"
        );
        let (code, _, _) = proxy.interrupt().await;
        assert_eq!(code, 0, "a refused client does not stop the proxy");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_closes_every_client_with_1001_and_exits_0() {
    let server = serve(Script::Echo).await;
    let home = tempfile::tempdir().expect("home");
    let proxy = Proxy::start(home.path(), &[&server.url()], &[]);
    let mut ws = connect(&proxy.url("/")).await;
    ws.send(Message::text("still here")).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text("still here"));
    // The client keeps reading (and so answers the close) while the proxy stops.
    let reader = tokio::spawn(async move {
        let mut close = None;
        while let Some(Ok(m)) = ws.next().await {
            if let Message::Close(cf) = m {
                close = cf.map(|c| (u16::from(c.code), c.reason.to_string()));
            }
        }
        close
    });
    let (code, lines, stderr) = proxy.interrupt().await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        reader.await.unwrap(),
        Some((1001, "wsdeck proxy stopped".to_string()))
    );
    let close = &of_client(&lines, 1, "close")[0];
    assert_eq!(close["code"], 1001);
    assert_eq!(close["clean"], true, "the agent answered: {close}");
}

#[tokio::test(flavor = "multi_thread")]
async fn monitor_reads_the_logs_of_a_client_that_closed_abnormally() {
    let scripted = serve(Script::CloseAfterFirst {
        code: 1011,
        reason: "Internal server error".into(),
    })
    .await;
    let home = tempfile::tempdir().expect("home");
    let proxy = Proxy::start(
        home.path(),
        &[
            &scripted.url(),
            "--monitor",
            "--monitor-source",
            "cmd:echo container log for {session_id}",
        ],
        &[],
    );
    let mut ws = connect(&proxy.url("/?agent_session_id=crashy-1")).await;
    ws.send(Message::text("boom")).await.unwrap();
    while ws.next().await.is_some() {}
    let log = proxy
        .wait_line("log", |l| l["event"] == "log" && l["client"] == 1)
        .await;
    assert_eq!(log["text"], "container log for crashy-1");
}

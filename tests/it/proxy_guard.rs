//! The proxy lets no one in who does not belong: pages from other origins, remote listeners; and
//! the token it adds reaches the agent and nothing else (stdout, stderr, capture, logs, the
//! client's answer).

use crate::proxy::{Proxy, frames_of, next, of_client};
use crate::support::{Script, assert_exit, header, run, serve, serve_foundry, wsdeck};
use futures_util::SinkExt;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const CANARY: &str = "eyJ0eXAiOiJKV1QifQ.CANARY-proxy-5e1d.wsdeck-secret-sig";

/// An upgrade request written by hand, with `origin` when given; the status and the whole
/// answer (a refusal is read to its end; a 101 up to its blank line).
async fn raw_upgrade(addr: SocketAddr, origin: Option<&str>, upgrade: bool) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut req = String::from("GET /invocations_ws HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if upgrade {
        req.push_str("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
    }
    if let Some(o) = origin {
        req.push_str(&format!("Origin: {o}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .expect("an answer in 10s")
            .unwrap_or(0);
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        if got.starts_with(b"HTTP/1.1 101") && got.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&got).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    (status, text)
}

async fn connect_with_origin(url: &str, origin: &str) -> crate::proxy::Client {
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("origin", origin.parse().expect("header"));
    let (ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .unwrap_or_else(|e| panic!("origin {origin}: {e}"));
    ws
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_origins_get_403_and_nothing_reaches_the_agent() {
    let server = serve(Script::Echo).await;
    let home = tempfile::tempdir().expect("home");
    let proxy = Proxy::start(home.path(), &[&server.url()], &[]);

    let (status, answer) = raw_upgrade(proxy.addr, Some("https://evil.example"), true).await;
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer.contains("--allow-origin https://evil.example"),
        "{answer}"
    );
    let (status, _) = raw_upgrade(proxy.addr, Some("http://localhost.evil.example"), true).await;
    assert_eq!(status, 403, "origins are compared whole");
    let (status, _) = raw_upgrade(proxy.addr, Some("null"), true).await;
    assert_eq!(status, 403, "null needs --allow-origin null");
    assert!(
        server.requests.lock().unwrap().is_empty(),
        "nothing was sent upstream for a refused origin"
    );
    let rejected = proxy
        .wait_line("rejected", |l| l["event"] == "rejected" && l["client"] == 3)
        .await;
    assert_eq!(rejected["status"], 403);
    proxy.wait_stderr("--allow-origin").await;

    // A page on this machine, on any port, is let in; no extension is negotiated.
    let (status, answer) = raw_upgrade(proxy.addr, Some("http://localhost:3000"), true).await;
    assert_eq!(status, 101, "{answer}");
    assert!(
        !answer
            .to_ascii_lowercase()
            .contains("sec-websocket-extensions"),
        "{answer}"
    );
    let mut ws = connect_with_origin(&proxy.url("/"), "http://127.0.0.1:5173").await;
    ws.send(Message::text("local page")).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text("local page"));
    // No extension went upstream either.
    assert_eq!(header(&server, 0, "sec-websocket-extensions"), None);

    // Not a WebSocket upgrade at all.
    let (status, answer) = raw_upgrade(proxy.addr, None, false).await;
    assert_eq!(status, 426, "{answer}");
    let (code, _, _) = proxy.interrupt().await;
    assert_eq!(code, 0);

    let proxy = Proxy::start(
        home.path(),
        &[
            &server.url(),
            "--allow-origin",
            "null",
            "--allow-origin",
            "https://app.example.com",
        ],
        &[],
    );
    let mut ws = connect_with_origin(&proxy.url("/"), "null").await;
    ws.send(Message::text("from a file page")).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text("from a file page"));
    let _ = connect_with_origin(&proxy.url("/"), "https://app.example.com").await;
    let (status, _) = raw_upgrade(
        proxy.addr,
        Some("https://app.example.com.evil.example"),
        true,
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn listen_addresses_and_their_exit_codes() {
    let home = tempfile::tempdir().expect("home");
    let port = crate::support::closed_port();
    let run_with = |listen: String, extra: &[&str]| {
        let mut c = wsdeck(home.path());
        c.args(["proxy", "ws://127.0.0.1:9/ws", "--listen", &listen])
            .args(extra)
            .timeout(Duration::from_secs(5));
        c
    };
    // Not loopback: refused, saying why.
    let o = run(run_with(format!("0.0.0.0:{port}"), &[])).await;
    assert_exit(&o, 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--allow-remote") && err.contains("not a loopback address"),
        "{err}"
    );
    // A bad address.
    for bad in ["nonsense", "127.0.0.1:99999", "127.0.0.1"] {
        let o = run(run_with(bad.to_string(), &[])).await;
        assert_exit(&o, 2);
    }
    // A bad --allow-origin.
    let o = run(run_with(
        format!("127.0.0.1:{port}"),
        &["--allow-origin", "evil.example"],
    ))
    .await;
    assert_exit(&o, 2);
    // A taken port.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let o = run(run_with(taken.local_addr().unwrap().to_string(), &[])).await;
    assert_exit(&o, 4);
    assert!(String::from_utf8_lossy(&o.stderr).contains("taken"));
}

/// `az account get-access-token` as Azure CLI prints it, with the canary as the token.
fn fake_az(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).expect("dir");
    let p = dir.join("az");
    let body = format!(
        "#!/bin/sh\ncat <<'JSON'\n{{\"accessToken\":\"{CANARY}\",\"expiresOn\":\"2030-01-02 03:04:05.000000\",\"expires_on\":1893553445,\"subscription\":\"s\",\"tenant\":\"t\",\"tokenType\":\"Bearer\"}}\nJSON\n"
    );
    std::fs::write(&p, body).expect("write");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_goes_upstream_and_nowhere_else() {
    let foundry = serve_foundry(Script::Echo, vec![]).await;
    let home = tempfile::tempdir().expect("home");
    let bin = home.path().join("bin");
    fake_az(&bin);
    let cap = home.path().join("data/proxy.jsonl");
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let proxy = Proxy::start(
        home.path(),
        &[
            "-vv",
            "--endpoint",
            &foundry.endpoint(),
            "--agent",
            "echo-agent",
            "--record",
            cap.to_str().unwrap(),
        ],
        &[("PATH", &path)],
    );
    let (mut ws, resp) = tokio_tungstenite::connect_async(proxy.url("/?agent_session_id=c-1"))
        .await
        .expect("through the proxy");
    let answer = format!("{:?}", resp.headers());
    ws.send(Message::text("{\"type\":\"hi\"}")).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text("{\"type\":\"hi\"}"));
    ws.close(None).await.unwrap();
    proxy
        .wait_line("close", |l| l["event"] == "close" && l["client"] == 1)
        .await;

    // The proxy added the bearer token, on the GA route, with the client's id.
    assert_eq!(
        header(&foundry.server, 0, "authorization"),
        Some(format!("Bearer {CANARY}"))
    );
    assert_eq!(
        header(&foundry.server, 0, ":uri").as_deref(),
        Some(
            "/api/projects/p/agents/echo-agent/endpoint/protocols/invocations_ws?api-version=v1&agent_session_id=c-1"
        )
    );
    let (code, lines, stderr) = proxy.interrupt().await;
    assert_eq!(code, 0, "{stderr}");
    let open = &of_client(&lines, 1, "open")[0];
    assert!(open.to_string().contains("Bearer <redacted"), "{open}");
    assert!(frames_of(&lines, 1).len() >= 2);

    // Nowhere else: stdout, stderr (with -vv), the client's answer, the capture, the log file.
    let stdout: String = lines.iter().map(|l| l.to_string()).collect();
    assert!(!stdout.contains("CANARY"), "stdout leaks the token");
    assert!(!stderr.contains("CANARY"), "stderr leaks the token");
    assert!(
        !answer.contains("CANARY"),
        "the client's answer leaks the token"
    );
    let files = files_under(home.path());
    assert!(
        files.iter().any(|f| f.ends_with("proxy.jsonl")),
        "{files:?}"
    );
    for f in files.iter().filter(|f| !f.starts_with(&bin)) {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
        assert!(!text.contains("CANARY"), "{} holds the token", f.display());
    }

    // The capture holds every client, and reads back.
    let text = std::fs::read_to_string(&cap).unwrap();
    assert!(text.lines().next().unwrap().contains("wsdeck_capture"));
    assert!(text.contains("\"client\":1"), "{text}");
    let mut c = wsdeck(home.path());
    c.args(["inspect", cap.to_str().unwrap(), "--json"]);
    let o = run(c).await;
    assert_exit(&o, 0);
    assert!(String::from_utf8_lossy(&o.stdout).contains("{\\\"type\\\":\\\"hi\\\"}"));
}

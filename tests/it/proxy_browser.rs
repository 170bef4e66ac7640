//! The seed guide's browser case, end to end, in a real headless Chromium. A page served from
//! 127.0.0.1 opens `new WebSocket("ws://127.0.0.1:PORT/?agent_session_id=…")` to `wsdeck proxy`,
//! whose target is the real SDK echo agent behind a front door that, as Foundry does, answers
//! 401 to an upgrade without the bearer token. Through the proxy the page gets its echo; pointed
//! straight at the front door it cannot send the token (no browser can set `Authorization` on a
//! WebSocket) and fails with 1006, as the guide's error table says.
//!
//! The front door is Rust in this file rather than Python in the venv: the test reads what it
//! saw (the token, the Origin, the status it answered) from memory rather than from a second
//! process, and it relays bytes without parsing frames, so the agent gets what the proxy sent.
//!
//! Chromium is Debian's `chromium` (chromium.rs). When it is not on PATH the test installs it with
//! apt-get (as root) and, when it cannot, fails saying what it needs.

mod chromium;

use crate::proxy::{Proxy, frames_of, of_client};
use crate::support::Agent;
use chromium::Browser;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the fake `az` hands out, and so the one token the front door lets in.
const TOKEN: &str = "eyJ0eXAiOiJKV1QifQ.browser-case-5c2e.wsdeck-test-sig";
const ROUTE: &str = "/api/projects/p/agents/echo-agent/endpoint/protocols/invocations_ws";
const SID: &str = "browser-sess-42";
const PAGE: &str = include_str!("../browser/page.html");
/// How long the browser may take, its own start included, before the test gives up.
const BROWSER_WAIT: Duration = Duration::from_secs(60);

// ---- small HTTP pieces shared by the page server and the front door ----

/// Read up to the end of a request or response head (bounded in size and time): the head, and
/// the bytes that came after it.
async fn read_head(tcp: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let read = async {
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let rest = buf.split_off(end + 4);
                return Some((String::from_utf8_lossy(&buf).into_owned(), rest));
            }
            if buf.len() > 64 * 1024 {
                return None;
            }
            match tcp.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .ok()
        .flatten()
}

/// The head's header lines, names lower-cased.
fn headers(head: &str) -> Vec<(String, String)> {
    head.split("\r\n")
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect()
}

fn header(hs: &[(String, String)], name: &str) -> Option<String> {
    hs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// Answer, then close. What the peer still sends is read briefly first: closing with unread
/// bytes resets the connection, and a reset can discard the answer before the browser reads it.
async fn answer(tcp: &mut TcpStream, status: &str, ctype: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = tcp.write_all(head.as_bytes()).await;
    let _ = tcp.write_all(body).await;
    let _ = tcp.shutdown().await;
    let mut sink = [0u8; 1024];
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

// ---- the page's server: serves the page, collects its reports ----

struct PageServer {
    addr: SocketAddr,
    reports: Arc<Mutex<Vec<Value>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PageServer {
    async fn start() -> PageServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let reports = Arc::new(Mutex::new(Vec::new()));
        let r = reports.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(page_request(tcp, r.clone()));
            }
        });
        PageServer {
            addr,
            reports,
            task,
        }
    }

    /// The Origin the browser sends for this page.
    fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The page, told which WebSocket URL to open.
    fn url(&self, ws: &str) -> String {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("ws", ws)
            .finish();
        format!("{}/page.html?{q}", self.origin())
    }

    fn reports(&self) -> Vec<Value> {
        self.reports.lock().unwrap().clone()
    }

    /// The page's first report of `kind`, within BROWSER_WAIT; fails (with the browser's log)
    /// when the browser exits first or the time runs out.
    async fn wait(&self, browser: &mut Browser, kind: &str) -> Value {
        let deadline = Instant::now() + BROWSER_WAIT;
        loop {
            if let Some(r) = self.reports().into_iter().find(|r| r["kind"] == kind) {
                return r;
            }
            if let Some(status) = browser.exited() {
                panic!(
                    "chromium exited ({status}) before the page reported {kind:?}; reports: {:#?}\nchromium's log:\n{}",
                    self.reports(),
                    browser.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the page reported no {kind:?} within {}s; reports: {:#?}\nchromium's log:\n{}",
                BROWSER_WAIT.as_secs(),
                self.reports(),
                browser.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn page_request(mut tcp: TcpStream, reports: Arc<Mutex<Vec<Value>>>) {
    let Some((head, mut body)) = read_head(&mut tcp).await else {
        return;
    };
    let mut first = head.split(' ');
    let method = first.next().unwrap_or_default().to_string();
    let path = first.next().unwrap_or_default();
    let path = path.split('?').next().unwrap_or_default().to_string();
    let len: usize = header(&headers(&head), "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut chunk = [0u8; 4096];
    while body.len() < len {
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    match (method.as_str(), path.as_str()) {
        ("GET", "/page.html") => {
            answer(
                &mut tcp,
                "200 OK",
                "text/html; charset=utf-8",
                PAGE.as_bytes(),
            )
            .await
        }
        ("POST", "/report") => {
            let report: Value = serde_json::from_slice(&body)
                .unwrap_or_else(|e| panic!("a report that is not JSON ({e}): {body:?}"));
            reports.lock().unwrap().push(report);
            answer(&mut tcp, "204 No Content", "text/plain", b"").await
        }
        _ => answer(&mut tcp, "404 Not Found", "text/plain", b"not here").await,
    }
}

// ---- the front door: 401 without the token, else a byte relay to the agent ----

/// One upgrade as the front door saw it, and the status it answered.
#[derive(Clone, Debug)]
struct Seen {
    uri: String,
    authorization: Option<String>,
    origin: Option<String>,
    status: u16,
}

struct FrontDoor {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FrontDoor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FrontDoor {
    async fn start(agent_port: u16) -> FrontDoor {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(front_door_request(tcp, agent_port, s.clone()));
            }
        });
        FrontDoor { addr, seen, task }
    }

    /// The project endpoint, as the portal shows it.
    fn endpoint(&self) -> String {
        format!("http://{}/api/projects/p", self.addr)
    }

    /// The agent's GA route on this front door, as a page would open it directly.
    fn ws_url(&self, sid: &str) -> String {
        format!(
            "ws://{}{ROUTE}?api-version=v1&agent_session_id={sid}",
            self.addr
        )
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn front_door_request(mut tcp: TcpStream, agent_port: u16, seen: Arc<Mutex<Vec<Seen>>>) {
    let Some((head, rest)) = read_head(&mut tcp).await else {
        return;
    };
    let uri = head.split(' ').nth(1).unwrap_or_default().to_string();
    let hs = headers(&head);
    let (path, query) = uri.split_once('?').unwrap_or((&uri, ""));
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let authorization = header(&hs, "authorization");
    let status = if authorization.as_deref() != Some(format!("Bearer {TOKEN}").as_str()) {
        401
    } else if path != ROUTE || header(&params, "api-version").as_deref() != Some("v1") {
        404
    } else {
        101
    };
    seen.lock().unwrap().push(Seen {
        uri: uri.clone(),
        authorization,
        origin: header(&hs, "origin"),
        status,
    });
    match status {
        401 => {
            let body = br#"{"error":{"code":"Unauthorized","message":"Access denied: a bearer token for https://ai.azure.com is required."}}"#;
            return answer(&mut tcp, "401 Unauthorized", "application/json", body).await;
        }
        404 => {
            let body = br#"{"error":{"code":"NotFound","message":"No such agent or route."}}"#;
            return answer(&mut tcp, "404 Not Found", "application/json", body).await;
        }
        _ => {}
    }
    let sid = header(&params, "agent_session_id").unwrap_or_default();
    let Ok(mut agent) = TcpStream::connect(("127.0.0.1", agent_port)).await else {
        return answer(&mut tcp, "502 Bad Gateway", "text/plain", b"agent down").await;
    };
    // As the platform does: the container gets the upgrade on /invocations_ws, without the token.
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("agent_session_id", &sid)
        .finish();
    let mut up =
        format!("GET /invocations_ws?{query} HTTP/1.1\r\nhost: 127.0.0.1:{agent_port}\r\n");
    for (k, v) in hs
        .iter()
        .filter(|(k, _)| k != "host" && k != "authorization")
    {
        up.push_str(&format!("{k}: {v}\r\n"));
    }
    up.push_str("\r\n");
    if agent.write_all(up.as_bytes()).await.is_err() || agent.write_all(&rest).await.is_err() {
        return;
    }
    let Some((resp, early)) = read_head(&mut agent).await else {
        return;
    };
    // The front door names the session on its 101; the SDK on its own does not.
    let resp = match resp.strip_suffix("\r\n\r\n") {
        Some(h) if h.starts_with("HTTP/1.1 101") => {
            format!("{h}\r\nx-agent-session-id: {sid}\r\n\r\n")
        }
        _ => resp,
    };
    if tcp.write_all(resp.as_bytes()).await.is_err() || tcp.write_all(&early).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut tcp, &mut agent).await;
}

/// `az account get-access-token` as Azure CLI prints it, each call's arguments in `log`.
fn fake_az(dir: &Path, log: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).expect("dir");
    let p = dir.join("az");
    let body = format!(
        "#!/bin/sh\necho \"$@\" >> {log}\ncat <<'JSON'\n{{\"accessToken\":\"{TOKEN}\",\"expiresOn\":\"2030-01-02 03:04:05.000000\",\"expires_on\":1893553445,\"subscription\":\"s\",\"tenant\":\"t\",\"tokenType\":\"Bearer\"}}\nJSON\n",
        log = log.display()
    );
    std::fs::write(&p, body).expect("write");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_reaches_the_agent_through_the_proxy_which_adds_the_token() {
    let agent = Agent::start("echo_agent.py");
    let door = FrontDoor::start(agent.port).await;
    let page = PageServer::start().await;
    let home = tempfile::tempdir().expect("home");
    let bin = home.path().join("bin");
    let az_log = home.path().join("az-args.log");
    fake_az(&bin, &az_log);
    // No real az or azd from this machine: the token can only be the fake one's.
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let proxy = Proxy::start(
        home.path(),
        &[
            "--endpoint",
            &door.endpoint(),
            "--agent",
            "echo-agent",
            "--session-id",
            "the-proxys-own",
        ],
        &[("PATH", &path)],
    );

    let mut browser = Browser::open(&page.url(&proxy.url(&format!("/?agent_session_id={SID}"))));
    let done = page.wait(&mut browser, "close").await;
    drop(browser);

    // The page sent its frame and shows the echo, unchanged.
    assert_eq!(done["opened"], true, "{done:#}");
    assert_eq!(done["errored"], false, "{done:#}");
    let sent = done["sent"].as_str().expect("sent");
    assert_eq!(
        sent,
        "{\"type\":\"hello\",\"from\":\"chromium\",\"text\":\"héllo ✓\"}"
    );
    assert_eq!(done["echo"], sent, "{done:#}");
    // The agent got the page's agent_session_id, not the proxy's own.
    let whoami: Value = serde_json::from_str(done["whoami"].as_str().expect("whoami"))
        .unwrap_or_else(|e| panic!("whoami ({e}): {done:#}"));
    assert_eq!(whoami["agent_session_id"], SID, "{whoami}");
    assert_eq!(done["code"], 1000, "{done:#}");
    assert_eq!(done["reason"], "page done", "{done:#}");
    assert_eq!(done["wasClean"], true, "{done:#}");

    // The proxy's output holds both directions of the browser's conversation.
    let close = proxy
        .wait_line("close", |l| l["event"] == "close" && l["client"] == 1)
        .await;
    assert_eq!(
        (close["code"].clone(), close["by"].clone()),
        (1000.into(), "client".into())
    );
    let lines = proxy.lines();
    let request = &of_client(&lines, 1, "request")[0];
    assert_eq!(request["path"], format!("/?agent_session_id={SID}"));
    assert_eq!(request["agent_session_id"], SID);
    assert_eq!(request["origin"], page.origin());
    assert!(
        request["user_agent"]
            .as_str()
            .unwrap_or_default()
            .contains("HeadlessChrome"),
        "{request}"
    );
    let connecting = &of_client(&lines, 1, "connecting")[0];
    assert!(
        connecting["url"]
            .as_str()
            .unwrap_or_default()
            .ends_with(&format!("{ROUTE}?api-version=v1&agent_session_id={SID}")),
        "{connecting}"
    );
    let frames = frames_of(&lines, 1);
    let whoami_text = done["whoami"].as_str().unwrap().to_string();
    let text = |d: &str, s: &str| (d.to_string(), "text".to_string(), s.to_string());
    for f in [
        text("out", sent),
        text("in", sent),
        text("out", "{\"type\":\"whoami\"}"),
        text("in", &whoami_text),
    ] {
        assert!(frames.contains(&f), "{f:?} missing from {frames:#?}");
    }
    let page_close = lines
        .iter()
        .find(|l| l["client"] == 1 && l["dir"] == "out" && l["op"] == "close")
        .expect("the page's close frame");
    assert_eq!(
        (page_close["code"].clone(), page_close["reason"].clone()),
        (1000.into(), "page done".into())
    );
    let open = &of_client(&lines, 1, "open")[0];
    assert_eq!(open["status"], 101);
    // The id the front door named on its 101 (x-agent-session-id) is the page's.
    assert_eq!(open["platform_session_id"], SID, "{open}");

    // The token came from `az` through azure_identity, and the front door got it.
    let az_args = std::fs::read_to_string(&az_log).expect("az was run");
    assert!(
        az_args.contains("account get-access-token")
            && az_args.contains("--scope https://ai.azure.com/.default"),
        "{az_args}"
    );
    let seen = door.seen();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert_eq!(seen[0].status, 101, "{seen:#?}");
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(
        seen[0].uri,
        format!("{ROUTE}?api-version=v1&agent_session_id={SID}")
    );

    let (code, lines, stderr) = proxy.interrupt().await;
    assert_eq!(code, 0, "{stderr}");
    let stdout: String = lines.iter().map(|l| l.to_string()).collect();
    assert!(
        !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
        "the token leaked"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_straight_at_the_front_door_fails_with_1006() {
    let agent = Agent::start("echo_agent.py");
    let door = FrontDoor::start(agent.port).await;
    let page = PageServer::start().await;

    let mut browser = Browser::open(&page.url(&door.ws_url(SID)));
    let done = page.wait(&mut browser, "close").await;
    drop(browser);

    // The guide's error table: "Browser fails with 1006 abnormal closure".
    assert_eq!(done["code"], 1006, "{done:#}");
    assert_eq!(done["wasClean"], false, "{done:#}");
    assert_eq!(done["opened"], false, "{done:#}");
    assert_eq!(done["errored"], true, "{done:#}");
    assert_eq!(done["echo"], "", "{done:#}");
    // Because the browser could not send the token: the front door refused the upgrade with 401,
    // and nothing reached the agent (the door dials it only after a 101).
    let seen = door.seen();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert_eq!(seen[0].authorization, None, "{seen:#?}");
    assert_eq!(seen[0].status, 401, "{seen:#?}");
    assert_eq!(seen[0].origin.as_deref(), Some(page.origin().as_str()));
    assert_eq!(
        seen[0].uri,
        format!("{ROUTE}?api-version=v1&agent_session_id={SID}")
    );
}

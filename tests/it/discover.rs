//! `wsdeck discover` and AsyncAPI validation against the real SDK agents, and against loopback
//! HTTP servers for the answers an SDK agent never gives (garbage, a refusal, YAML only).

use crate::support::{Agent, assert_exit, closed_port, run, wsdeck};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wsdeck::engine::{ConnectSpec, Direction, Target};
use wsdeck::vocab::asyncapi::{self, Discovery};
use wsdeck::vocab::validate::{Validator, Violation};

async fn start(script: &'static str) -> Agent {
    tokio::task::spawn_blocking(move || Agent::start(script))
        .await
        .expect("agent")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn discover_prints_the_real_agents_document() {
    let agent = start("asyncapi_agent.py").await;
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args(["discover", "--local", "--port", &agent.port.to_string()]);
    let o = run(c).await;
    assert_exit(&o, 0);
    let out = text(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "wsdeck echo agent 1.0.0", "{out}");
    assert_eq!(
        lines[1],
        "  Echoes text and binary frames; a few JSON control messages."
    );
    assert_eq!(
        lines[2],
        format!(
            "  AsyncAPI 3.0.0 from http://localhost:{}/invocations/docs/asyncapi.json",
            agent.port
        )
    );
    let from = |head: &str| {
        let i = lines
            .iter()
            .position(|l| l.starts_with(head))
            .unwrap_or_else(|| panic!("no {head:?} in {out}"));
        lines[i..].to_vec()
    };
    assert_eq!(
        from("channels")[..2],
        ["channels (1)", "  invocations_ws  /invocations_ws"]
    );
    let messages = from("messages");
    assert_eq!(
        messages[..8],
        [
            "messages (4)",
            "  text    out, in  text/plain",
            "      payload: string",
            "  whoami  out, in  application/json",
            "      type              const \"whoami\"  required",
            "      query             string",
            "      agent_session_id  string | null",
            "  close   out      application/json",
        ],
        "{out}"
    );
    assert!(out.contains("  raise   out      application/json"), "{out}");

    // A ws:// URL target reads the same document from the same host and port.
    let mut c = wsdeck(home.path());
    c.args(["discover", &agent.url()]);
    let o = run(c).await;
    assert_exit(&o, 0);
    assert!(
        text(&o.stdout).contains(&format!(
            "from http://127.0.0.1:{}/invocations/docs/asyncapi.json",
            agent.port
        )),
        "{}",
        text(&o.stdout)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_without_a_document_is_said_plainly() {
    let agent = start("echo_agent.py").await;
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args(["discover", "--local", "--port", &agent.port.to_string()]);
    let o = run(c).await;
    assert_exit(&o, 0);
    assert_eq!(
        text(&o.stdout),
        format!(
            "this agent publishes no AsyncAPI document (GET http://localhost:{}/invocations/docs/asyncapi.json: 404)\n",
            agent.port
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_real_document_validates_frames() {
    let agent = start("asyncapi_agent.py").await;
    let spec = ConnectSpec::new(Target::local(agent.port));
    let Discovery::Found { url, document } = asyncapi::discover(&spec, None).await.expect("fetch")
    else {
        panic!("the asyncapi agent publishes a document");
    };
    assert!(url.ends_with("/invocations/docs/asyncapi.json"), "{url}");
    let v = Validator::new(&document).expect("validator");

    // Frames the agent really exchanges fit: what we send, and its answer.
    let reply = whoami_reply(&agent).await;
    let fits = v.check(Direction::In, reply.as_bytes()).expect("claimed");
    assert_eq!(
        (fits.message.as_str(), fits.ok),
        ("whoami", true),
        "{reply}"
    );
    let sent = v
        .check(Direction::Out, br#"{"type":"whoami"}"#)
        .expect("claimed");
    assert!(sent.ok);

    let broken = v
        .check(Direction::Out, br#"{"type":"whoami","query":5}"#)
        .expect("claimed");
    assert_eq!(broken.message, "whoami");
    assert!(!broken.ok);
    assert_eq!(
        broken.errors,
        vec![Violation {
            path: "/query".into(),
            rule: "type: \"string\" expected, got integer".into()
        }]
    );

    // The SDK's YAML route serves the author's YAML form of the same document.
    let yaml = reqwest::get(format!(
        "http://127.0.0.1:{}/invocations/docs/asyncapi.yaml",
        agent.port
    ))
    .await
    .expect("get yaml")
    .text()
    .await
    .expect("body");
    assert_eq!(asyncapi::parse_yaml(&yaml).expect("yaml"), document);
}

/// The agent's answer to `{"type":"whoami"}`, through `wsdeck send`.
async fn whoami_reply(agent: &Agent) -> String {
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args([
        "send",
        &agent.url(),
        "--json",
        "{\"type\":\"whoami\"}",
        "--expect",
        "1",
    ]);
    let o = run(c).await;
    assert_exit(&o, 0);
    let lines = crate::support::json_lines(&o.stdout);
    let reply = lines.iter().find(|l| l["dir"] == "in").expect("a reply");
    reply["text"].as_str().expect("text").to_string()
}

/// One request as the server saw it: the request target and the headers (names lower-cased).
type Seen = Arc<Mutex<Vec<(String, Vec<(String, String)>)>>>;

/// A loopback HTTP server: each request gets `answer(path)` = (status, content type, body).
async fn serve_http(
    answer: impl Fn(&str) -> (u16, &'static str, String) + Send + Sync + 'static,
) -> (u16, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let answer = Arc::new(answer);
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let (answer, log) = (answer.clone(), log.clone());
            tokio::spawn(async move {
                let mut got = Vec::new();
                let mut buf = [0u8; 4096];
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&got).into_owned();
                let target = head
                    .lines()
                    .next()
                    .and_then(|l| l.split(' ').nth(1))
                    .unwrap_or("")
                    .to_string();
                let headers = head
                    .lines()
                    .skip(1)
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                    .collect();
                log.lock().expect("lock").push((target.clone(), headers));
                let path = target.split('?').next().unwrap_or("").to_string();
                let (status, ctype, body) = answer(&path);
                let resp = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
                let _ = s.shutdown().await;
            });
        }
    });
    (port, seen)
}

const NOT_FOUND: &str =
    r#"{"error":{"code":"not_found","message":"No AsyncAPI (JSON) spec registered"}}"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_document_that_does_not_parse_exits_2_naming_the_problem() {
    let cases: [(&str, &str); 3] = [
        (
            "<html>Service Unavailable</html>",
            "not JSON: expected value at line 1 column 1",
        ),
        (
            r#"{"openapi":"3.1.0","info":{}}"#,
            "not an AsyncAPI document: it has no \"asyncapi\" version field",
        ),
        (
            r##"{"asyncapi":"3.0.0","info":{"title":"t","version":"1"},"channels":{"c":{"messages":{"m":{"$ref":"#/components/messages/Gone"}}}}}"##,
            "broken $ref \"#/components/messages/Gone\"",
        ),
    ];
    for (body, want) in cases {
        let (port, _) = serve_http(move |_| (200, "application/json", body.to_string())).await;
        let home = tempfile::tempdir().expect("home");
        let mut c = wsdeck(home.path());
        c.args(["discover", &format!("ws://127.0.0.1:{port}/invocations_ws")]);
        let o = run(c).await;
        assert_exit(&o, 2);
        let err = text(&o.stderr);
        assert!(
            err.contains(&format!(
                "the document at http://127.0.0.1:{port}/invocations/docs/asyncapi.json does not parse: "
            )) && err.contains(want),
            "{err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_yaml_only_agent_is_read_from_the_yaml_route() {
    let yaml = "asyncapi: 3.0.0\ninfo: {title: yaml only, version: '2'}\nchannels:\n  c:\n    messages:\n      ping: {payload: {type: object, required: [type], properties: {type: {const: ping}}}}\n";
    let (port, seen) = serve_http(move |path| {
        if path.ends_with(".yaml") {
            (200, "application/yaml", yaml.to_string())
        } else {
            (404, "application/json", NOT_FOUND.to_string())
        }
    })
    .await;
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args(["discover", &format!("ws://127.0.0.1:{port}/invocations_ws")]);
    let o = run(c).await;
    assert_exit(&o, 0);
    let out = text(&o.stdout);
    assert!(out.starts_with("yaml only 2\n"), "{out}");
    assert!(
        out.contains("  ping  ?\n      type  const \"ping\"  required"),
        "{out}"
    );
    let targets: Vec<String> = seen
        .lock()
        .expect("lock")
        .iter()
        .map(|s| s.0.clone())
        .collect();
    assert_eq!(
        targets,
        [
            "/invocations/docs/asyncapi.json",
            "/invocations/docs/asyncapi.yaml"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn foundry_targets_send_the_token_and_a_refusal_exits_3_without_printing_it() {
    const TOKEN: &str = "eyJcanary.discover-token-5551234";
    let (port, seen) = serve_http(|_| {
        (
            401,
            "application/json",
            format!(r#"{{"error":{{"code":"PermissionDenied","message":"bad token {TOKEN}"}}}}"#),
        )
    })
    .await;
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.env("WSDECK_IT_DISCOVER_TOKEN", TOKEN).args([
        "discover",
        "--endpoint",
        &format!("http://127.0.0.1:{port}/api/projects/p"),
        "--agent",
        "my-agent",
        "--auth",
        "env:WSDECK_IT_DISCOVER_TOKEN",
    ]);
    let o = run(c).await;
    assert_exit(&o, 3);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert!(
        err.contains(&format!(
            "GET http://127.0.0.1:{port}/api/projects/p/agents/my-agent/endpoint/protocols/invocations/docs/asyncapi.json?api-version=v1: HTTP 401"
        )),
        "{err}"
    );
    assert!(err.contains("az account get-access-token"), "{err}");
    assert!(!out.contains(TOKEN) && !err.contains(TOKEN), "{out}{err}");
    let seen = seen.lock().expect("lock");
    assert_eq!(
        seen[0].0,
        "/api/projects/p/agents/my-agent/endpoint/protocols/invocations/docs/asyncapi.json?api-version=v1"
    );
    let auth = seen[0].1.iter().find(|(k, _)| k == "authorization");
    assert_eq!(
        auth.map(|a| a.1.as_str()),
        Some(&*format!("Bearer {TOKEN}"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_agent_exits_4_with_the_reason() {
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args(["discover", "--local", "--port", &closed_port().to_string()]);
    let o = run(c).await;
    assert_exit(&o, 4);
    let err = text(&o.stderr);
    assert!(err.contains("cannot reach http://localhost:"), "{err}");
    assert!(err.to_ascii_lowercase().contains("connect"), "{err}");
    assert!(err.contains("what to do:"), "{err}");
}

//! Against the real agent SDK (azure-ai-agentserver-invocations from PyPI), in a venv the test
//! support creates under target/.

use crate::support::{Agent, assert_exit, json_lines, run, wsdeck};

async fn start(script: &'static str) -> Agent {
    tokio::task::spawn_blocking(move || Agent::start(script))
        .await
        .expect("agent")
}

#[tokio::test(flavor = "multi_thread")]
async fn sdk_echo_text_binary_and_session_id_query() {
    let agent = start("echo_agent.py").await;
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args([
        "send",
        "--local",
        "--port",
        &agent.port.to_string(),
        "--session-id",
        "sdk-sess-1",
    ])
    .args([
        "--text",
        "hello",
        "--hex",
        "00 01 fe ff",
        "--json",
        "{\"type\":\"whoami\"}",
        "--expect",
        "3",
    ]);
    let o = run(c).await;
    assert_exit(&o, 0);
    let lines = json_lines(&o.stdout);
    let ins: Vec<&serde_json::Value> = lines.iter().filter(|l| l["dir"] == "in").collect();
    assert_eq!(ins[0]["text"], "hello");
    assert_eq!(ins[1]["op"], "binary");
    assert_eq!(ins[1]["b64"], "AAH+/w==");
    let who: serde_json::Value =
        serde_json::from_str(ins[2]["text"].as_str().expect("text")).expect("json");
    assert_eq!(who["agent_session_id"], "sdk-sess-1");
    let close = lines.iter().find(|l| l["event"] == "close").expect("close");
    assert_eq!(
        (close["code"].as_u64(), close["clean"].as_bool()),
        (Some(1000), Some(true))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sdk_handler_that_raises_closes_1011_and_exits_5() {
    let agent = start("raising_agent.py").await;
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args(["send", &agent.url(), "--text", "anything"]);
    let o = run(c).await;
    assert_exit(&o, 5);
    let lines = json_lines(&o.stdout);
    let close = lines.iter().find(|l| l["event"] == "close").expect("close");
    assert_eq!(close["code"], 1011);
    assert_eq!(close["reason"], "Internal server error");
    assert_eq!(close["by"], "server");
    assert_eq!(close["name"], "internal error");
    // The agent's own logs say why: what the monitor pane will show.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !agent.stderr().contains("WebSocket handler raised")
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        agent.stderr().contains("handler failed on purpose"),
        "{}",
        agent.stderr()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sdk_offering_a_subprotocol_fails_the_handshake_with_advice() {
    let agent = start("echo_agent.py").await;
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args(["connect", &agent.url(), "--subprotocol", "json.v1"])
        .write_stdin("");
    let o = run(c).await;
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("offer none (drop --subprotocol)"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sdk_16_mib_frame_round_trips_and_process_kill_is_1006() {
    use bytes::Bytes;
    use wsdeck::engine::session::{SessionCommand, SessionEvent, spawn_session};
    use wsdeck::engine::target::{ConnectSpec, Target};
    use wsdeck::engine::{Direction, Opcode};
    let mut agent = start("echo_agent.py").await;
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let (h, _j) = spawn_session(
        ConnectSpec::new(Target::url(&agent.url()).expect("url")),
        tx,
    );
    let big = Bytes::from(vec![b'x'; 16 * 1024 * 1024]);
    let mut sent = false;
    let mut echoed = false;
    let mut closed = None;
    while closed.is_none() {
        let ev = tokio::time::timeout(std::time::Duration::from_secs(60), rx.recv())
            .await
            .expect("event in time")
            .expect("event");
        match ev {
            SessionEvent::Opened { .. } if !sent => {
                sent = true;
                h.send(SessionCommand::Send {
                    opcode: Opcode::Text,
                    payload: big.clone(),
                });
            }
            SessionEvent::Frames(fs) => {
                if fs
                    .iter()
                    .any(|f| f.dir == Direction::In && f.payload == big)
                {
                    echoed = true;
                    agent.kill();
                }
            }
            SessionEvent::Closed { info, .. } => closed = Some(info),
            SessionEvent::Failed { error, .. } => panic!("{error}"),
            _ => {}
        }
    }
    assert!(echoed, "16 MiB text frame echoed by the SDK");
    let info = closed.expect("closed");
    assert_eq!(info.code, 1006, "{info:?}");
    assert!(!info.clean);
}

/// Reconnect lands with the same agent_session_id (the SDK agent says which one it got), and
/// the new-id reconnect with a fresh one.
#[tokio::test(flavor = "multi_thread")]
async fn sdk_reconnect_keeps_or_renews_the_agent_session_id() {
    use bytes::Bytes;
    use wsdeck::engine::session::{SessionCommand, SessionEvent, spawn_session};
    use wsdeck::engine::target::{ConnectSpec, Target};
    use wsdeck::engine::{Direction, Opcode};
    let agent = start("echo_agent.py").await;
    let mut spec = ConnectSpec::new(Target::local(agent.port));
    spec.session_id = Some("sdk-stable-7".into());
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let (h, _j) = spawn_session(spec, tx);
    let whoami = || SessionCommand::Send {
        opcode: Opcode::Text,
        payload: Bytes::from_static(br#"{"type":"whoami"}"#),
    };
    let mut ids: Vec<Option<String>> = Vec::new();
    while ids.len() < 3 {
        let ev = tokio::time::timeout(std::time::Duration::from_secs(30), rx.recv())
            .await
            .expect("event in time")
            .expect("event");
        match ev {
            SessionEvent::Opened { .. } => {
                h.send(whoami());
            }
            SessionEvent::Frames(fs) => {
                for f in fs
                    .iter()
                    .filter(|f| f.dir == Direction::In && f.opcode == Opcode::Text)
                {
                    let v: serde_json::Value =
                        serde_json::from_slice(&f.payload).expect("whoami reply");
                    ids.push(v["agent_session_id"].as_str().map(str::to_string));
                    match ids.len() {
                        1 => h.send(SessionCommand::Reconnect { new_id: false }),
                        2 => h.send(SessionCommand::Reconnect { new_id: true }),
                        _ => h.send(SessionCommand::Shutdown),
                    };
                }
            }
            SessionEvent::Failed { error, .. } => panic!("{error}"),
            _ => {}
        }
    }
    assert_eq!(ids[0].as_deref(), Some("sdk-stable-7"));
    assert_eq!(
        ids[1], ids[0],
        "the reconnect kept the id, so the agent's state comes back"
    );
    let fresh = ids[2].clone().expect("an id");
    assert_ne!(fresh, "sdk-stable-7");
    assert_eq!(fresh.len(), 32, "a new id is 32 hex digits: {fresh}");
}

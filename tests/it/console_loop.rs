//! The whole console loop on a TestBackend, against the demo agent and a real SDK agent with two
//! sessions open at once; waits for conditions on the screen, never sleeps-then-asserts.

use crate::console_support::{Console, key, send_text, wait_for};
use crate::support::Agent;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::time::Duration;
use tokio::sync::mpsc;
use wsdeck::app::{App, ConnState, Event, Session};
use wsdeck::engine::target::{ConnectSpec, Target};

#[tokio::test(flavor = "multi_thread")]
async fn two_sessions_demo_and_sdk_agent_at_once() {
    let demo = wsdeck::demo::start(0).await.expect("demo");
    let agent = tokio::task::spawn_blocking(|| Agent::start("echo_agent.py"))
        .await
        .expect("agent");
    let sessions = vec![
        Session::new(
            "demo",
            ConnectSpec::new(Target::url(&format!("{}?quiet=1", demo.url())).expect("url")),
        ),
        Session::new(
            "sdk",
            ConnectSpec::new(Target::url(&agent.url()).expect("url")),
        ),
    ];
    let app = App::new(sessions);
    let Console {
        keys,
        mut screens,
        looped,
    } = Console::start(
        app,
        (140, 40),
        wsdeck::tui::LoopOptions {
            connect_now: vec![0, 1],
            first_frames: vec![
                send_text(0, r#"{"type":"ping","id":"p1"}"#),
                send_text(0, r#"{"type":"count","id":"c1","to":20}"#),
                send_text(1, "hello sdk"),
            ],
            ..Default::default()
        },
    );

    wait_for(&mut screens, "pong").await;
    // To the sessions pane, down to the SDK session: its echo is there while the demo keeps
    // streaming count.tick frames in the background.
    keys.send(key(KeyCode::BackTab)).await.expect("key");
    keys.send(key(KeyCode::Char('j'))).await.expect("key");
    let screen = wait_for(&mut screens, "Frames · sdk").await;
    assert!(screen.contains("hello sdk"), "{screen}");
    wait_for(&mut screens, "▲ 1 frames 9 B  ▼ 1 frames 9 B").await;
    keys.send(key(KeyCode::Char('k'))).await.expect("key");
    wait_for(&mut screens, "count.done").await;
    keys.send(key(KeyCode::Char('q'))).await.expect("key");
    wait_for(&mut screens, "Quit?").await;
    keys.send(key(KeyCode::Char('y'))).await.expect("key");
    let app = tokio::time::timeout(Duration::from_secs(10), looped)
        .await
        .expect("quits")
        .expect("join");
    assert_eq!(app.sessions[0].state, ConnState::Open);
    assert!(
        app.sessions[0].counters.frames_in >= 23,
        "ready + pong + 20 ticks + done"
    );
    assert_eq!(app.sessions[1].counters.frames_in, 1);
}

fn typed(keys: &mpsc::Sender<Event>, text: &str) -> Vec<Event> {
    let _ = keys;
    text.chars().map(|c| key(KeyCode::Char(c))).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn record_from_the_console_then_open_the_capture_read_only() {
    let demo = wsdeck::demo::start(0).await.expect("demo");
    let dir = tempfile::tempdir().expect("dir");
    let sessions = vec![Session::new(
        "demo",
        ConnectSpec::new(Target::url(&format!("{}?quiet=1", demo.url())).expect("url")),
    )];
    let capture_dir = dir.path().to_path_buf();
    let Console {
        keys,
        mut screens,
        looped,
    } = Console::start(
        App::new(sessions),
        (160, 40),
        wsdeck::tui::LoopOptions {
            connect_now: vec![0],
            capture_dir: Some(capture_dir),
            ..Default::default()
        },
    );
    let send = |evs: Vec<Event>| {
        let keys = keys.clone();
        async move {
            for e in evs {
                keys.send(e).await.expect("key");
            }
        }
    };
    wait_for(&mut screens, "session.ready").await;
    send(typed(&keys, ":record on")).await;
    send(vec![key(KeyCode::Enter)]).await;
    let screen = wait_for(&mut screens, "recording to").await;
    assert!(
        screen.contains(&dir.path().display().to_string()),
        "{screen}"
    );
    send(typed(
        &keys,
        "c{\"type\":\"echo\",\"text\":\"rec-{{seq}}\"}",
    ))
    .await;
    send(vec![
        Event::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)),
        key(KeyCode::Esc),
    ])
    .await;
    wait_for(&mut screens, "echo.reply").await;
    send(typed(&keys, ":record off")).await;
    send(vec![key(KeyCode::Enter)]).await;
    wait_for(&mut screens, "recording stopped").await;

    let files: Vec<std::path::PathBuf> = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).expect("capture");
    assert!(
        text.lines()
            .next()
            .expect("header")
            .contains("\"session\":\"demo\"")
    );
    assert!(
        text.contains(r#"rec-1"#),
        "the composed frame, expanded, is in the capture: {text}"
    );

    send(typed(&keys, &format!(":open {}", files[0].display()))).await;
    send(vec![key(KeyCode::Enter)]).await;
    let screen = wait_for(&mut screens, "(read-only)").await;
    assert!(screen.contains("▤"), "{screen}");
    assert!(screen.contains("echo.reply"), "{screen}");
    send(vec![key(KeyCode::Char('q')), key(KeyCode::Char('y'))]).await;
    let app = tokio::time::timeout(Duration::from_secs(10), looped)
        .await
        .expect("quits")
        .expect("join");
    assert_eq!(app.sessions.len(), 2);
    assert!(app.sessions[1].read_only());
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_a_capture_from_the_console_and_compare() {
    let demo = wsdeck::demo::start(0).await.expect("demo");
    let dir = tempfile::tempdir().expect("dir");
    let capture = |name: &str, expected_text: &str| {
        let p = dir.path().join(name);
        let reply = format!(
            "{{\"type\":\"echo.reply\",\"id\":\"d_2\",\"ts\":\"2026-01-01T00:00:00Z\",\"in_reply_to\":\"c1\",\"text\":\"{expected_text}\"}}"
        );
        let out = r#"{"type":"echo","id":"c1","text":"hi"}"#;
        let line = |seq: u32, dir: &str, text: &str| {
            serde_json::json!({"seq": seq, "ms": seq as f64, "dir": dir, "op": "text", "len": text.len(), "text": text}).to_string()
        };
        let body = format!(
            "{{\"wsdeck_capture\":1}}\n{}\n{}\n",
            line(1, "out", out),
            line(2, "in", &reply)
        );
        std::fs::write(&p, body).expect("write");
        p
    };
    let good = capture("match.jsonl", "hi");
    let bad = capture("differs.jsonl", "bye");
    let sessions = vec![Session::new(
        "demo",
        ConnectSpec::new(Target::url(&format!("{}?quiet=1", demo.url())).expect("url")),
    )];
    let Console {
        keys,
        mut screens,
        looped,
    } = Console::start(
        App::new(sessions),
        (160, 40),
        wsdeck::tui::LoopOptions {
            connect_now: vec![0],
            ..Default::default()
        },
    );
    let send = |evs: Vec<Event>| {
        let keys = keys.clone();
        async move {
            for e in evs {
                keys.send(e).await.expect("key");
            }
        }
    };
    wait_for(&mut screens, "session.ready").await;
    send(typed(&keys, &format!(":replay {} wait", good.display()))).await;
    send(vec![key(KeyCode::Enter)]).await;
    wait_for(&mut screens, "✓ the replies match the capture (1 frames)").await;
    send(vec![key(KeyCode::Esc)]).await;
    send(typed(&keys, &format!(":replay {} step", bad.display()))).await;
    send(vec![key(KeyCode::Enter)]).await;
    wait_for(&mut screens, "replay 0/1 ").await;
    send(vec![key(KeyCode::Char(']'))]).await;
    let screen = wait_for(&mut screens, "Replay comparison").await;
    assert!(screen.contains(".text"), "{screen}");
    assert!(screen.contains("\"bye\""), "{screen}");
    assert!(screen.contains("✗ 1 diff"), "{screen}");
    send(vec![
        key(KeyCode::Esc),
        key(KeyCode::Char('q')),
        key(KeyCode::Char('y')),
    ])
    .await;
    let app = tokio::time::timeout(Duration::from_secs(10), looped)
        .await
        .expect("quits")
        .expect("join");
    let r = app.sessions[0].replay.as_ref().expect("replay state");
    assert_eq!(r.diffs.as_ref().map(Vec::len), Some(1));
}

fn alive(pid: &str) -> bool {
    std::process::Command::new("kill")
        .args(["-0", pid])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Wait (bounded) until the process is gone.
async fn gone(pid: &str) -> bool {
    for _ in 0..50 {
        if !alive(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// A console on a TestBackend with one session to an SDK agent and the logs read by a fake
/// `azd` (called by its path, with the arguments the real one takes).
fn console_on(
    agent: &Agent,
    session_id: &str,
    azd: &std::path::Path,
    first: &'static str,
) -> Console {
    let mut spec = ConnectSpec::new(Target::local(agent.port));
    spec.session_id = Some(session_id.into());
    let mut app = App::new(vec![Session::new("sdk", spec)]);
    app.config.container_logs_source = wsdeck::monitor::MonitorSource::Cmd(format!(
        "{} ai agent monitor --session-id {{session_id}} --follow",
        azd.display()
    ));
    Console::start(
        app,
        (160, 40),
        wsdeck::tui::LoopOptions {
            connect_now: vec![0],
            first_frames: vec![send_text(0, first)],
            ..Default::default()
        },
    )
}

/// The SDK agent's handler raises: 1011, the logs pane opens with what the fake azd printed for
/// this session, and quitting stops the reader's child.
#[tokio::test(flavor = "multi_thread")]
async fn sdk_handler_raises_1011_the_logs_pane_shows_azd_and_quitting_stops_it() {
    let agent = tokio::task::spawn_blocking(|| Agent::start("echo_agent.py"))
        .await
        .expect("agent");
    let dir = tempfile::tempdir().expect("dir");
    let pid_file = dir.path().join("azd.pid");
    crate::support::fake_azd(&dir.path().join("bin"), &pid_file);
    let mut c = console_on(
        &agent,
        "sess-raise-1",
        &dir.path().join("bin/azd"),
        r#"{"type":"raise"}"#,
    );
    let screen = wait_for(
        &mut c.screens,
        "WebSocket handler raised for session sess-raise-1",
    )
    .await;
    assert!(screen.contains("Logs · "), "{screen}");
    assert!(
        screen.contains("1011 internal error"),
        "the close row beside the logs: {screen}"
    );
    assert!(
        screen.contains("09:41:07 err RuntimeError: boom"),
        "azd's time and stream: {screen}"
    );
    assert!(
        screen.contains("(l: logs)"),
        "the status bar points at the logs: {screen}"
    );
    let pid = std::fs::read_to_string(&pid_file)
        .expect("pid")
        .trim()
        .to_string();
    let app = c.quit().await;
    assert!(
        app.sessions[0]
            .container_logs
            .as_ref()
            .is_some_and(|l| !l.lines.is_empty())
    );
    assert!(
        gone(&pid).await,
        "the log source (pid {pid}) outlived the console"
    );
}

/// The SDK agent's process is killed mid-session: 1006 (no close frame), the logs pane opens,
/// and deleting the session stops its reader.
#[tokio::test(flavor = "multi_thread")]
async fn sdk_agent_killed_is_1006_and_deleting_the_session_stops_the_logs() {
    let mut agent = tokio::task::spawn_blocking(|| Agent::start("echo_agent.py"))
        .await
        .expect("agent");
    let dir = tempfile::tempdir().expect("dir");
    let pid_file = dir.path().join("azd.pid");
    crate::support::fake_azd(&dir.path().join("bin"), &pid_file);
    let mut c = console_on(
        &agent,
        "sess-kill-1",
        &dir.path().join("bin/azd"),
        "still here?",
    );
    wait_for(&mut c.screens, "still here?  ").await;
    wait_for(&mut c.screens, "▼   text").await;
    agent.kill();
    let screen = wait_for(&mut c.screens, "for session sess-kill-1").await;
    assert!(screen.contains("1006 abnormal closure"), "{screen}");
    assert!(screen.contains("no close frame"), "{screen}");
    let pid = std::fs::read_to_string(&pid_file)
        .expect("pid")
        .trim()
        .to_string();
    assert!(alive(&pid));
    c.press(typed(&c.keys, ":rm")).await;
    c.press(vec![key(KeyCode::Enter)]).await;
    assert!(
        gone(&pid).await,
        "deleting the session left its log reader (pid {pid}) running"
    );
    let app = c.quit().await;
    assert!(app.sessions.is_empty());
}

/// With no azd on PATH (the default source picks azd for a local target), the pane says what is
/// missing and what to do instead.
#[tokio::test(flavor = "multi_thread")]
async fn missing_azd_is_said_in_the_logs_pane() {
    if wsdeck::monitor::on_path("azd") {
        // The CLI test (monitor.rs) covers this with a PATH of its own; the console runs in
        // this process and shares its PATH.
        eprintln!("azd is installed here: the console's missing-azd message is not reachable");
        return;
    }
    let agent = tokio::task::spawn_blocking(|| Agent::start("echo_agent.py"))
        .await
        .expect("agent");
    let mut spec = ConnectSpec::new(Target::local(agent.port));
    spec.session_id = Some("sess-noazd".into());
    let app = App::new(vec![Session::new("sdk", spec)]);
    assert_eq!(
        app.config.container_logs_source,
        wsdeck::monitor::MonitorSource::Auto
    );
    let mut c = Console::start(
        app,
        (200, 40),
        wsdeck::tui::LoopOptions {
            connect_now: vec![0],
            first_frames: vec![send_text(0, r#"{"type":"raise"}"#)],
            ..Default::default()
        },
    );
    let screen = wait_for(&mut c.screens, "azd is not installed").await;
    assert!(screen.contains("Logs · azd ai agent monitor"), "{screen}");
    assert!(screen.contains("ended"), "{screen}");
    let app = c.quit().await;
    let msg = app.sessions[0]
        .container_logs
        .as_ref()
        .and_then(|l| l.message.clone())
        .unwrap_or_default();
    assert!(msg.contains("install the Azure Developer CLI"), "{msg}");
    assert!(msg.contains("cmd:"), "{msg}");
}

/// A console on a Foundry stand-in (one loopback port for the WebSocket and the log stream):
/// the handler "raises", and the logs pane reads the platform's stream with the session's token.
async fn logstream_console(sse: Vec<crate::support::SseReply>) -> (crate::support::Foundry, App) {
    let f = crate::support::serve_foundry(
        crate::support::Script::CloseAfterFirst {
            code: 1011,
            reason: "Internal server error".into(),
        },
        sse,
    )
    .await;
    let mut spec = ConnectSpec::new(Target::foundry(&f.endpoint(), "echo").expect("target"));
    spec.session_id = Some("sess-stream-1".into());
    spec.auth = wsdeck::engine::auth::AuthSource::Command("echo canary-console-token".into());
    let mut app = App::new(vec![Session::new("foundry", spec)]);
    app.config.container_logs_source = wsdeck::monitor::MonitorSource::Logstream;
    (f, app)
}

async fn run_until(app: App, what: &str) -> (String, App) {
    let mut c = Console::start(
        app,
        (160, 40),
        wsdeck::tui::LoopOptions {
            connect_now: vec![0],
            first_frames: vec![send_text(0, "hi")],
            ..Default::default()
        },
    );
    let screen = wait_for(&mut c.screens, what).await;
    (screen, c.quit().await)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_logs_pane_reads_the_platform_log_stream_and_says_when_it_is_refused() {
    let line = |msg: &str| {
        let data = serde_json::json!({"timestamp": "2026-11-25T09:41:07.250Z", "stream": "stderr", "message": msg});
        format!("event: log\ndata: {data}\n\n")
    };
    let (f, app) = logstream_console(vec![crate::support::SseReply::Hold(vec![
        line("Traceback (most recent call last):"),
        line("RuntimeError: boom from the stream"),
    ])])
    .await;
    let (screen, _) = run_until(app, "RuntimeError: boom from the stream").await;
    assert!(screen.contains("Logs · log stream http://"), "{screen}");
    assert!(screen.contains("09:41:07 err Traceback"), "{screen}");
    assert!(!screen.contains("canary-console-token"));
    let reqs = f.log_requests.lock().expect("lock").clone();
    assert!(
        reqs[0].contains(&("authorization".into(), "Bearer canary-console-token".into())),
        "the stream carries the session's token"
    );
    assert!(reqs[0].iter().any(|(k, v)| k == ":uri"
        && v == "/api/projects/p/agents/echo/sessions/sess-stream-1:logstream?api-version=v1&kind=console&tail=50&follow=true"));

    let (_f, app) = logstream_console(vec![crate::support::SseReply::Status(
        404,
        r#"{"error":{"code":"NotFound","message":"session not found"}}"#.into(),
    )])
    .await;
    let (screen, app) = run_until(app, "HTTP 404").await;
    assert!(screen.contains("ended"), "{screen}");
    let msg = app.sessions[0]
        .container_logs
        .as_ref()
        .and_then(|l| l.message.clone())
        .unwrap_or_default();
    assert!(msg.contains("session not found"), "{msg}");
    assert!(msg.contains("no such agent or session"), "{msg}");
}

/// A source that floods (`yes`): the pane keeps its last 100 000 lines, the console still takes
/// keys, and `:logs stop` kills the child and says so.
#[tokio::test(flavor = "multi_thread")]
async fn a_flooding_log_source_keeps_the_console_responsive_and_stops() {
    let demo = wsdeck::demo::start(0).await.expect("demo");
    let dir = tempfile::tempdir().expect("dir");
    let pid_file = dir.path().join("yes.pid");
    let mut spec = ConnectSpec::new(Target::url(&format!("{}?quiet=1", demo.url())).expect("url"));
    spec.session_id = Some("sess-flood".into());
    let mut app = App::new(vec![Session::new("demo", spec)]);
    app.config.container_logs_source = wsdeck::monitor::MonitorSource::Cmd(format!(
        "sh -c 'echo $$ > {}; exec yes flood'",
        pid_file.display()
    ));
    let mut c = Console::start(
        app,
        (120, 30),
        wsdeck::tui::LoopOptions {
            connect_now: vec![0],
            ..Default::default()
        },
    );
    c.press(vec![key(KeyCode::Char('l'))]).await;
    wait_for(&mut c.screens, "live · 100000/100000").await;
    let pid = std::fs::read_to_string(&pid_file)
        .expect("pid")
        .trim()
        .to_string();
    c.press(typed(&c.keys, ":logs stop")).await;
    c.press(vec![key(KeyCode::Enter)]).await;
    wait_for(&mut c.screens, "stopped (:logs starts it again)").await;
    assert!(
        gone(&pid).await,
        "the flooding child (pid {pid}) outlived :logs stop"
    );
    let app = c.quit().await;
    assert_eq!(
        app.sessions[0]
            .container_logs
            .as_ref()
            .map(|l| l.lines.len()),
        Some(100_000)
    );
}

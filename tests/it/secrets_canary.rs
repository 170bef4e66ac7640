//! The canary: a token made for one test (`wsdeck-canary-` and random hex) sent through every
//! path a token takes, then looked for everywhere it must not be: every file under the test's
//! HOME, XDG, config, data and temp dirs (bytes, walked), stdout, stderr (always with `-vv`, so
//! the debug log is on stderr and in the log file, whose existence is checked), the screen and
//! every error. What is looked for is the canary's random part, so a token cut short is caught
//! too. The loopback server of every test asserts the canary DID arrive in `Authorization`,
//! so no test passes by never sending it.
//!
//! | path | how it is tested |
//! |---|---|
//! | token from `az` (azure_identity's AzureCliCredential, the `auto` chain of a Foundry target) | `foundry_token_from_az_through_connect_and_record`: a fake `az` on PATH printing what Azure CLI prints |
//! | token from `azd` (AzureDeveloperCliCredential) | `azd_token_through_send`: a fake `azd` printing `{"token":…}` |
//! | token from an environment variable | `env_token_through_record_and_proxy` (`--auth env:VAR`) |
//! | token from a command | `command_token_through_connect_and_replay` (`--auth 'cmd:cat FILE'`: the command names the file, not the token) |
//! | `connect` (with `--record`) | `foundry_token_from_az_through_connect_and_record`, `command_token_through_connect_and_replay` |
//! | `send` | `azd_token_through_send` |
//! | `record` | `env_token_through_record_and_proxy` |
//! | `replay --expect` | `command_token_through_connect_and_replay` |
//! | `proxy` (a client through it to a loopback server that checks the header) | `env_token_through_record_and_proxy` |
//! | `--monitor` with the log stream, and with azd printing log lines | `monitor_reads_the_log_stream_with_the_token_and_prints_none` |
//! | errors: a refused upgrade (401), a failing token command that prints the token and quotes it on stderr, a token a header cannot carry | `errors_never_quote_the_token`; a 401 whose body and headers echo the token: `a_refusal_that_echoes_the_token_does_not_show_it` (dial.rs scrubs both) |
//! | the console, every screen drawn (sessions, frame log, detail, handshake, composer, help, container logs, vocabulary, the form showing the target) | `console_every_screen` (the real loop on a TestBackend, the screen buffer grepped) |
//! | `-vv` logs (stderr and the log file in the data dir) | every command above |
//! | a panic | panic_restore.rs: the console connected with the canary panics (UI loop, a task, the input reader) in a pseudo-terminal |

use crate::console_support::{Console, key, send_text, wait_for};
use crate::support::{
    Script, SseReply, assert_exit, fake_azd, json_lines, run, serve, serve_foundry,
};
use crossterm::event::KeyCode;
use futures_util::{SinkExt, StreamExt};
use std::process::Output;
use tokio_tungstenite::tungstenite::Message;

mod world;
use world::assert_sent;
pub use world::{Canary, World, assert_logged, assert_output_clean, canary};

#[tokio::test(flavor = "multi_thread")]
async fn foundry_token_from_az_through_connect_and_record() {
    let c = canary();
    let w = World::new();
    w.fake_az(&c);
    let server = serve(Script::Echo).await;
    let endpoint = format!("http://{}/api/projects/proj", server.addr);
    let cap = w.path("data/connect.jsonl");
    let mut cmd = w.wsdeck();
    cmd.args(["connect", "--endpoint", &endpoint, "--agent", "echo-agent"])
        .args(["--session-id", "s-1", "--linger", "0.2", "--record"])
        .arg(&cap)
        .write_stdin("{\"type\":\"hello\"}\n");
    let o = run(cmd).await;
    assert_exit(&o, 0);
    assert_logged(&o);
    assert_sent(&server, 0, &c);
    let az = std::fs::read_to_string(w.path("bin/az-args")).expect("az ran");
    assert!(az.contains("--scope https://ai.azure.com/.default"), "{az}");
    // The header is shown, redacted, where the request is.
    let open = json_lines(&o.stdout)
        .into_iter()
        .find(|l| l["event"] == "open")
        .expect("open");
    assert!(open.to_string().contains("Bearer <redacted"), "{open}");
    assert!(cap.exists());
    assert_output_clean(&o, &c);
    w.assert_no_file_holds(&c);
}

#[tokio::test(flavor = "multi_thread")]
async fn azd_token_through_send() {
    let c = canary();
    let w = World::new();
    w.tool(
        "azd",
        &format!(
            "cat <<'JSON'\n{{\"token\":\"{}\",\"expiresOn\":\"2030-01-02T03:04:05Z\"}}\nJSON",
            c.token
        ),
    );
    let server = serve(Script::Echo).await;
    let mut cmd = w.wsdeck();
    cmd.args(["send", &server.url(), "--auth", "azd"])
        .args(["--text", "x", "--expect", "1"]);
    let o = run(cmd).await;
    assert_exit(&o, 0);
    assert_logged(&o);
    assert_sent(&server, 0, &c);
    assert_output_clean(&o, &c);
    w.assert_no_file_holds(&c);
}

#[tokio::test(flavor = "multi_thread")]
async fn command_token_through_connect_and_replay() {
    let c = canary();
    let w = World::new();
    let auth = w.token_command(&c);
    let server = serve(Script::Echo).await;
    let cap = w.path("data/session.jsonl");
    let mut cmd = w.wsdeck();
    cmd.args(["connect", &server.url(), "--auth", &auth, "--linger", "0.2"])
        .arg("--record")
        .arg(&cap)
        .write_stdin("{\"type\":\"one\"}\n{\"type\":\"two\"}\n");
    let o = run(cmd).await;
    assert_exit(&o, 0);
    assert_logged(&o);
    assert_output_clean(&o, &c);

    let mut cmd = w.wsdeck();
    cmd.arg("replay")
        .arg(&cap)
        .arg(server.url())
        .args(["--auth", &auth, "--timing", "fast", "--expect"]);
    let o = run(cmd).await;
    assert_exit(&o, 0);
    assert_logged(&o);
    assert_sent(&server, 0, &c);
    assert_sent(&server, 1, &c);
    assert_output_clean(&o, &c);
    w.assert_no_file_holds(&c);
}

#[tokio::test(flavor = "multi_thread")]
async fn env_token_through_record_and_proxy() {
    let c = canary();
    let w = World::new();
    // record: three frames from the peer, then its close.
    let flood = serve(Script::Flood { count: 3, size: 5 }).await;
    let cap = w.path("data/recorded.jsonl");
    let mut cmd = w.wsdeck();
    cmd.env("WSDECK_CANARY", &c.token)
        .args([
            "record",
            &flood.url(),
            "--auth",
            "env:WSDECK_CANARY",
            "--out",
        ])
        .arg(&cap);
    let o = run(cmd).await;
    // The flooding peer closes without a code (1005): an abnormal end, exit 5.
    assert_exit(&o, 5);
    assert_logged(&o);
    assert_sent(&flood, 0, &c);
    assert!(
        std::fs::read_to_string(&cap)
            .expect("capture")
            .lines()
            .count()
            >= 3
    );
    assert_output_clean(&o, &c);

    // proxy: a client with no token of its own; the proxy adds it upstream.
    let server = serve(Script::Echo).await;
    let mut env: Vec<(String, String)> = w.env();
    env.push(("WSDECK_CANARY".into(), c.token.clone()));
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let url = server.url();
    let proxy = crate::proxy::Proxy::start(
        w.root.path(),
        &[&url, "--auth", "env:WSDECK_CANARY", "-vv"],
        &env_ref,
    );
    let mut ws = crate::proxy::connect(&proxy.url("/ws")).await;
    ws.send(Message::text("through")).await.expect("send");
    assert_eq!(crate::proxy::next(&mut ws).await, Message::text("through"));
    ws.close(None).await.expect("close");
    while ws.next().await.is_some() {}
    proxy.wait_line("closed", |l| l["event"] == "close").await;
    let (_code, lines, stderr) = proxy.interrupt().await;
    assert_sent(&server, 0, &c);
    let out = Output {
        status: std::process::ExitStatus::default(),
        stdout: lines
            .iter()
            .map(|l| l.to_string() + "\n")
            .collect::<String>()
            .into_bytes(),
        stderr: stderr.into_bytes(),
    };
    assert_logged(&out);
    assert_output_clean(&out, &c);
    w.assert_no_file_holds(&c);
}

#[tokio::test(flavor = "multi_thread")]
async fn monitor_reads_the_log_stream_with_the_token_and_prints_none() {
    let c = canary();
    let w = World::new();
    w.fake_az(&c);
    let event = serde_json::json!({"timestamp": "2026-11-25T10:00:02.000Z", "stream": "stderr", "message": "RuntimeError: boom"});
    let f = serve_foundry(
        Script::CloseAfterFirst {
            code: 1011,
            reason: "Internal server error".into(),
        },
        vec![SseReply::Hold(vec![format!(
            "id: 1\nevent: log\ndata: {event}\n\n"
        )])],
    )
    .await;
    let mut cmd = w.wsdeck();
    cmd.args(["send", "--endpoint", &f.endpoint(), "--agent", "echo"])
        .args(["--session-id", "s1", "--text", "hi"])
        .args([
            "--monitor",
            "--monitor-source",
            "logstream",
            "--monitor-timeout",
            "2",
        ]);
    let o = run(cmd).await;
    assert_exit(&o, 5);
    assert_logged(&o);
    assert_sent(&f.server, 0, &c);
    let reqs = f.log_requests.lock().expect("lock").clone();
    assert!(
        reqs[0].contains(&("authorization".into(), format!("Bearer {}", c.token))),
        "the log stream carries the session's token"
    );
    let logs: Vec<_> = json_lines(&o.stdout)
        .into_iter()
        .filter(|l| l["event"] == "log")
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_output_clean(&o, &c);

    // And azd printing log lines (it signs in by itself: no token goes to it).
    fake_azd(&w.bin(), &w.path("bin/azd.pid"));
    let mut cmd = w.wsdeck();
    cmd.args(["send", "--endpoint", &f.endpoint(), "--agent", "echo"])
        .args(["--session-id", "s2", "--text", "hi", "--auth", "az"])
        .args([
            "--monitor",
            "--monitor-source",
            "azd",
            "--monitor-timeout",
            "2",
        ]);
    let o = run(cmd).await;
    assert_exit(&o, 5);
    assert_logged(&o);
    assert_sent(&f.server, 1, &c);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("RuntimeError: boom"),
        "azd's lines are printed"
    );
    assert_output_clean(&o, &c);
    w.assert_no_file_holds(&c);
}

/// Errors quote what the peer or a child said; none may quote the token, even when they echo it.
#[tokio::test(flavor = "multi_thread")]
async fn errors_never_quote_the_token() {
    let c = canary();
    let w = World::new();
    let auth = w.token_command(&c);

    // A 401 whose body says nothing of the token: the token went out, the refusal is shown.
    let server = serve(Script::Refuse {
        status: 401,
        body: "{\"error\":\"invalid token\"}".into(),
    })
    .await;
    let mut cmd = w.wsdeck();
    cmd.args(["connect", &server.url(), "--auth", &auth])
        .write_stdin("");
    let o = run(cmd).await;
    assert_exit(&o, 3);
    assert_sent(&server, 0, &c);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("401"), "{err}");
    assert_output_clean(&o, &c);

    // A token command that prints the token, quotes it on stderr, and fails.
    let failing = format!("{auth}; {} >&2; exit 1", auth.trim_start_matches("cmd:"));
    let mut cmd = w.wsdeck();
    cmd.args(["connect", &server.url(), "--auth", &failing])
        .write_stdin("");
    let o = run(cmd).await;
    assert_exit(&o, 4);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("token command failed"), "{err}");
    assert!(err.contains("<redacted>"), "{err}");
    assert_output_clean(&o, &c);

    // A token with a byte no header can carry: refused, and not quoted.
    let mut cmd = w.wsdeck();
    cmd.env("WSDECK_CANARY", format!("{}\u{1}x", c.token))
        .args(["connect", &server.url(), "--auth", "env:WSDECK_CANARY"])
        .write_stdin("");
    let o = run(cmd).await;
    assert_exit(&o, 4);
    assert_output_clean(&o, &c);
    w.assert_no_file_holds(&c);
}

/// The real loop on a TestBackend, through every pane and overlay of a Foundry session whose
/// handler raises (1011), with the logs pane reading the platform's stream with the token.
#[tokio::test(flavor = "multi_thread")]
async fn console_every_screen() {
    use wsdeck::app::{App, Session};
    use wsdeck::engine::target::{ConnectSpec, Target};
    let c = canary();
    let w = World::new();
    let auth = w.token_command(&c);
    let line = |msg: &str| {
        let data = serde_json::json!({"timestamp": "2026-11-25T09:41:07.250Z", "stream": "stderr", "message": msg});
        format!("event: log\ndata: {data}\n\n")
    };
    let f = serve_foundry(
        Script::CloseAfterFirst {
            code: 1011,
            reason: "Internal server error".into(),
        },
        vec![SseReply::Hold(vec![line(
            "RuntimeError: boom from the stream",
        )])],
    )
    .await;
    let mut spec = ConnectSpec::new(Target::foundry(&f.endpoint(), "echo").expect("target"));
    spec.session_id = Some("sess-canary".into());
    spec.auth = wsdeck::engine::auth::AuthSource::parse(&auth, true).expect("auth");
    let mut app = App::new(vec![Session::new("canary", spec)]);
    app.config.container_logs_source = wsdeck::monitor::MonitorSource::Logstream;
    let mut console = Console::start(
        app,
        (160, 48),
        wsdeck::tui::LoopOptions {
            connect_now: vec![0],
            first_frames: vec![send_text(0, r#"{"type":"hello","id":"h1"}"#)],
            sessions_file: Some(w.path("config/sessions.toml")),
            capture_dir: Some(w.path("data/captures")),
            snippets_file: Some(w.path("config/snippets.toml")),
            record_by_default: true,
            ..Default::default()
        },
    );
    // Every screen drawn while the test runs, not only those waited for.
    let mut every = console.screens.clone();
    let needle = c.needle.clone();
    let watcher = tokio::spawn(async move {
        let mut seen = 0usize;
        while every.changed().await.is_ok() {
            let s = every.borrow_and_update().clone();
            assert!(!s.contains(&needle), "a screen shows the token:\n{s}");
            seen += 1;
        }
        seen
    });
    let mut shown: Vec<(&str, String)> = vec![];
    let mut step = async |name: &'static str, keys: Vec<wsdeck::app::Event>, what: &str| {
        console.press(keys).await;
        let s = wait_for(&mut console.screens, what).await;
        shown.push((name, s));
    };
    step(
        "container logs",
        vec![],
        "RuntimeError: boom from the stream",
    )
    .await;
    step("frame log", vec![], " FRAMES ").await;
    // The open row's detail: the handshake's request, headers and all.
    let to_open_row = vec![
        key(KeyCode::Char('g')),
        key(KeyCode::Char('j')),
        key(KeyCode::Enter),
    ];
    step("detail", to_open_row, " DETAIL ").await;
    step(
        "handshake",
        vec![key(KeyCode::Char('h'))],
        "Bearer <redacted",
    )
    .await;
    step(
        "help",
        vec![key(KeyCode::Esc), key(KeyCode::Char('?'))],
        "┌ Help",
    )
    .await;
    step(
        "composer",
        vec![key(KeyCode::Esc), key(KeyCode::Char('c'))],
        " COMPOSE ",
    )
    .await;
    step(
        "vocabulary",
        vec![key(KeyCode::Esc), key(KeyCode::Char('V'))],
        " VOCAB ",
    )
    .await;
    step(
        "sessions",
        vec![key(KeyCode::BackTab), key(KeyCode::BackTab)],
        " SESSIONS ",
    )
    .await;
    step("form", vec![key(KeyCode::Char('e'))], "cmd:cat").await;
    for (name, s) in &shown {
        assert!(
            !s.contains(&c.needle),
            "the {name} screen shows the token:\n{s}"
        );
    }
    console.press(vec![key(KeyCode::Esc)]).await;
    let _app = console.quit().await;
    let seen = watcher.await.expect("no screen showed the token");
    assert!(seen > 0, "the watcher saw screens");
    assert_sent(&f.server, 0, &c);
    let reqs = f.log_requests.lock().expect("lock").clone();
    assert!(reqs[0].contains(&("authorization".into(), format!("Bearer {}", c.token))));
    let files = w.written_files();
    assert!(
        files.iter().any(|f| f.starts_with(w.path("data/captures"))),
        "the session was recorded: {files:?}"
    );
    for f in files {
        let bytes = std::fs::read(&f).expect("read");
        assert!(
            memchr::memmem::find(&bytes, c.needle.as_bytes()).is_none(),
            "{} holds the token",
            f.display()
        );
    }
}

/// A refusal whose body echoes the request's `Authorization` header (some gateways and debug
/// servers do): it was shown verbatim, token included; dial.rs now keeps the token across the
/// upgrade and scrubs the refusal's body and headers with it.
#[tokio::test(flavor = "multi_thread")]
async fn a_refusal_that_echoes_the_token_does_not_show_it() {
    let c = canary();
    let w = World::new();
    let auth = w.token_command(&c);
    let server = serve(Script::Refuse {
        status: 401,
        body: format!(
            "{{\"error\":\"invalid token\",\"got\":\"Bearer {}\"}}",
            c.token
        ),
    })
    .await;
    let mut cmd = w.wsdeck();
    cmd.args(["connect", &server.url(), "--auth", &auth])
        .write_stdin("");
    let o = run(cmd).await;
    assert_exit(&o, 3);
    assert_sent(&server, 0, &c);
    assert_output_clean(&o, &c);
    w.assert_no_file_holds(&c);
}

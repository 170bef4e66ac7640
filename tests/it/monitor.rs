//! `--monitor`: after an abnormal close, the container logs for the session, from a fake `azd`
//! on PATH (what the real one prints), a command template, or the platform's log stream (a
//! loopback stand-in serving its server-sent events); bounded, no child left behind.

use crate::support::{
    Script, SseReply, assert_exit, fake_azd, json_lines, run, serve, serve_foundry, wsdeck,
};
use std::sync::Arc;
use std::time::Duration;
use wsdeck::engine::auth::{AuthSource, TokenProvider};
use wsdeck::monitor::{MonitorError, Plan, Stream, StreamPlan, collect, logstream_url};

fn tokens(command: &str) -> Option<Arc<TokenProvider>> {
    let source = AuthSource::parse(&format!("cmd:{command}"), true).expect("auth source");
    Some(Arc::new(TokenProvider::new(source)))
}

fn log_event(id: u32, at: &str, stream: &str, message: &str) -> String {
    let data = serde_json::json!({"timestamp": at, "stream": stream, "message": message});
    format!("id: {id}\nevent: log\ndata: {data}\n\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn log_stream_shows_each_shape_and_survives_a_drop() {
    let traceback = log_event(
        2,
        "2026-11-25T10:00:02.000Z",
        "stderr",
        "Traceback (most recent call last):\n  RuntimeError: boom\n",
    );
    let first = vec![
        ": connected\n\n".to_string(),
        "event: log\ndata: {\"session_state\":\"Running\",\"agent\":\"echo\",\"version\":\"3\"}\n\n".into(),
        log_event(1, "2026-11-25T10:00:01.000Z", "stdout", "handling s1"),
        traceback.clone(),
        "event: heartbeat\ndata: {\"n\":1}\n\n".into(),
        "event: log\ndata: plain text, not JSON\n\n".into(),
        // Cut in the middle of an event: it is never shown half.
        "event: log\ndata: {\"timest".into(),
    ];
    // The new stream starts with its tail again (the traceback), then something new.
    let second = vec![
        traceback,
        log_event(
            3,
            "2026-11-25T10:00:05.000Z",
            "status",
            "container restarted",
        ),
    ];
    let f = serve_foundry(
        Script::Echo,
        vec![SseReply::Drop(first), SseReply::Hold(second)],
    )
    .await;
    let plan = Plan::Stream(StreamPlan {
        url: logstream_url(&f.endpoint(), "echo", "s1"),
        ca_cert: None,
    });
    let (lines, result) = collect(
        &plan,
        tokens("echo canary-logstream-token"),
        Duration::from_secs(10),
        7,
    )
    .await;
    assert_eq!(result, Ok(None), "still following when collect stopped it");
    let got: Vec<(Stream, &str)> = lines.iter().map(|l| (l.stream, l.text.as_str())).collect();
    assert_eq!(got.len(), 7, "{got:#?}");
    assert_eq!(
        got[0],
        (
            Stream::Status,
            "session: state Running · agent echo · version 3"
        )
    );
    assert_eq!(got[1], (Stream::Stdout, "handling s1"));
    assert_eq!(
        got[2],
        (Stream::Stderr, "Traceback (most recent call last):")
    );
    assert_eq!(got[3], (Stream::Stderr, "  RuntimeError: boom"));
    assert_eq!(got[4], (Stream::Stdout, "plain text, not JSON"));
    assert_eq!(got[5].0, Stream::Status);
    assert!(
        got[5].1.starts_with("the log stream dropped") && got[5].1.contains("reconnecting in 1 s"),
        "{}",
        got[5].1
    );
    assert_eq!(
        got[6],
        (Stream::Status, "container restarted"),
        "the repeated tail is not shown twice"
    );
    assert_eq!(lines[1].at.as_deref(), Some("2026-11-25T10:00:01.000Z"));
    assert_eq!(lines[1].short_time(), "10:00:01.000");

    let reqs = f.log_requests.lock().expect("lock").clone();
    assert_eq!(reqs.len(), 2, "one reconnect");
    let header = |i: usize, name: &str| {
        reqs[i]
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    for i in 0..2 {
        assert_eq!(
            header(i, ":uri").as_deref(),
            Some(
                "/api/projects/p/agents/echo/sessions/s1:logstream?api-version=v1&kind=console&tail=50&follow=true"
            )
        );
        assert_eq!(
            header(i, "authorization").as_deref(),
            Some("Bearer canary-logstream-token"),
            "the session's own token"
        );
        assert_eq!(header(i, "accept").as_deref(), Some("text/event-stream"));
    }
    assert_eq!(header(0, "last-event-id"), None);
    assert_eq!(header(1, "last-event-id").as_deref(), Some("2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn log_stream_refusals_say_why_and_end() {
    // 401 twice: a new token is fetched once, then the reader gives up with advice.
    let f = serve_foundry(
        Script::Echo,
        vec![SseReply::Status(
            401,
            r#"{"error":{"code":"Unauthorized"}}"#.into(),
        )],
    )
    .await;
    let plan = Plan::Stream(StreamPlan {
        url: logstream_url(&f.endpoint(), "echo", "s1"),
        ca_cert: None,
    });
    let (lines, result) = collect(&plan, tokens("echo t"), Duration::from_secs(10), 10).await;
    assert!(lines.is_empty());
    let e = result.expect_err("refused");
    assert!(
        matches!(e, MonitorError::StreamRefused { status: 401, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("Unauthorized"), "{e}");
    assert!(e.advice().contains("sign in"), "{}", e.advice());
    assert_eq!(f.log_requests.lock().expect("lock").len(), 2);

    let f = serve_foundry(
        Script::Echo,
        vec![SseReply::Status(
            404,
            r#"{"error":{"code":"NotFound"}}"#.into(),
        )],
    )
    .await;
    let plan = Plan::Stream(StreamPlan {
        url: logstream_url(&f.endpoint(), "nope", "s1"),
        ca_cert: None,
    });
    let (_, result) = collect(&plan, tokens("echo t"), Duration::from_secs(10), 10).await;
    let e = result.expect_err("not found");
    assert!(e.to_string().contains("HTTP 404"), "{e}");
    assert!(
        e.advice().contains("no such agent or session"),
        "{}",
        e.advice()
    );

    // A token source that fails: said before any request goes out.
    let (_, result) = collect(&plan, tokens("false"), Duration::from_secs(10), 10).await;
    assert!(matches!(result, Err(MonitorError::Auth(_))), "{result:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn send_monitor_reads_the_log_stream_when_azd_is_missing() {
    let f = serve_foundry(
        Script::CloseAfterFirst {
            code: 1011,
            reason: "Internal server error".into(),
        },
        vec![SseReply::Hold(vec![log_event(
            1,
            "2026-11-25T10:00:02.000Z",
            "stderr",
            "RuntimeError: boom",
        )])],
    )
    .await;
    let home = tempfile::tempdir().expect("home");
    let empty = home.path().join("bin");
    std::fs::create_dir_all(&empty).expect("dir");
    let mut c = wsdeck(home.path());
    // No azd on PATH: `auto` picks the platform's log stream for a Foundry target.
    c.env("PATH", format!("{}:/usr/bin:/bin", empty.display()))
        .args(["send", "--endpoint", &f.endpoint(), "--agent", "echo"])
        .args(["--session-id", "s1", "--auth", "cmd:echo canary-e2e-token"])
        .args(["--text", "hi", "--monitor", "--monitor-timeout", "2"]);
    let o = run(c).await;
    assert_exit(&o, 5);
    let logs: Vec<serde_json::Value> = json_lines(&o.stdout)
        .into_iter()
        .filter(|l| l["event"] == "log")
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0]["stream"], "stderr");
    assert_eq!(logs[0]["text"], "RuntimeError: boom");
    assert_eq!(logs[0]["at"], "2026-11-25T10:00:02.000Z");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("log stream http://"), "{err}");
    for out in [&o.stdout, &o.stderr] {
        assert!(!String::from_utf8_lossy(out).contains("canary-e2e-token"));
    }
    let reqs = f.log_requests.lock().expect("lock").clone();
    assert!(reqs[0].contains(&("authorization".into(), "Bearer canary-e2e-token".into())));
}

#[tokio::test(flavor = "multi_thread")]
async fn abnormal_close_prints_the_logs_for_the_session_and_leaves_no_child() {
    let server = serve(Script::CloseAfterFirst {
        code: 1011,
        reason: "Internal server error".into(),
    })
    .await;
    let home = tempfile::tempdir().expect("home");
    let bin = home.path().join("bin");
    let pid_file = home.path().join("azd.pid");
    fake_azd(&bin, &pid_file);
    let mut c = wsdeck(home.path());
    c.env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .args([
            "send",
            &server.url(),
            "--session-id",
            "sess-42",
            "--text",
            "x",
            "--monitor",
            "--monitor-timeout",
            "1",
        ]);
    let o = run(c).await;
    assert_exit(&o, 5);
    let logs: Vec<serde_json::Value> = json_lines(&o.stdout)
        .into_iter()
        .filter(|l| l["event"] == "log")
        .collect();
    let texts: Vec<&str> = logs.iter().filter_map(|l| l["text"].as_str()).collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("WebSocket handler raised for session sess-42")),
        "{texts:?}"
    );
    assert!(logs.iter().any(|l| {
        l["stream"] == "stderr"
            && l["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("Streaming session logs"))
    }));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("azd ai agent monitor --session-id sess-42 --follow"),
        "{err}"
    );
    // The follower was stopped, not left running.
    let pid = std::fs::read_to_string(&pid_file)
        .expect("pid")
        .trim()
        .to_string();
    let alive = std::process::Command::new("kill")
        .args(["-0", &pid])
        .status()
        .expect("kill")
        .success();
    assert!(!alive, "azd (pid {pid}) still runs");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_azd_and_a_command_template() {
    let server = serve(Script::CloseAfterFirst {
        code: 1011,
        reason: "Internal server error".into(),
    })
    .await;
    let home = tempfile::tempdir().expect("home");
    let empty = home.path().join("empty");
    std::fs::create_dir_all(&empty).expect("dir");
    let mut c = wsdeck(home.path());
    c.env("PATH", format!("{}:/usr/bin:/bin", empty.display()))
        .args([
            "send",
            &server.url(),
            "--session-id",
            "s",
            "--text",
            "x",
            "--monitor",
        ]);
    let o = run(c).await;
    assert_exit(&o, 5);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("azd is not installed"), "{err}");
    assert!(err.contains("--monitor-source 'cmd:"), "{err}");

    let log = home.path().join("container.log");
    std::fs::write(&log, "line for s\nline for other\n").expect("w");
    let mut c = wsdeck(home.path());
    c.args([
        "send",
        &server.url(),
        "--session-id",
        "s",
        "--text",
        "x",
        "--monitor",
        "--monitor-source",
    ])
    .arg(format!("cmd:grep 'for {{session_id}}$' {}", log.display()));
    let o = run(c).await;
    assert_exit(&o, 5);
    let texts: Vec<String> = json_lines(&o.stdout)
        .into_iter()
        .filter(|l| l["event"] == "log")
        .filter_map(|l| l["text"].as_str().map(str::to_string))
        .collect();
    assert_eq!(texts, ["line for s"]);

    // A clean close reads no logs.
    let echo = serve(Script::Echo).await;
    let mut c = wsdeck(home.path());
    c.args([
        "send",
        &echo.url(),
        "--text",
        "x",
        "--expect",
        "1",
        "--monitor",
    ]);
    let o = run(c).await;
    assert_exit(&o, 0);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("container logs"));
}

/// `replay --monitor`: the capture's frames go out, the agent closes 1011, the logs follow.
#[tokio::test(flavor = "multi_thread")]
async fn replay_monitor_prints_the_logs_after_an_abnormal_close() {
    let server = serve(Script::CloseAfterFirst {
        code: 1011,
        reason: "Internal server error".into(),
    })
    .await;
    let home = tempfile::tempdir().expect("home");
    let capture = home.path().join("c.jsonl");
    std::fs::write(
        &capture,
        "{\"wsdeck_capture\":1}\n{\"seq\":1,\"ms\":0,\"dir\":\"out\",\"op\":\"text\",\"text\":\"{\\\"type\\\":\\\"raise\\\"}\"}\n",
    )
    .expect("capture");
    let mut c = wsdeck(home.path());
    c.arg("replay")
        .arg(&capture)
        .args([&server.url(), "--session-id", "rs-1", "--monitor"])
        .args(["--monitor-source", "cmd:echo traceback for {session_id}"]);
    let o = run(c).await;
    assert_exit(&o, 5);
    let logs: Vec<String> = json_lines(&o.stdout)
        .into_iter()
        .filter(|l| l["event"] == "log")
        .filter_map(|l| l["text"].as_str().map(str::to_string))
        .collect();
    assert_eq!(logs, ["traceback for rs-1"]);
}

//! The built-in demo agent speaks its vocabulary, streams PCM, and closes abnormally on command.

use crate::support::{assert_exit, json_lines, run, wsdeck};

#[tokio::test(flavor = "multi_thread")]
async fn demo_vocabulary_pcm_and_abnormal_closes() {
    let demo = wsdeck::demo::start(0).await.expect("demo");
    let url = format!("{}?quiet=1&agent_session_id=d1", demo.url());
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args(["send", &url, "--json", "{\"type\":\"ping\",\"id\":7}"])
        .args([
            "--json",
            "{\"type\":\"tone\",\"id\":8,\"hz\":1000,\"ms\":100}",
            "--json",
            "{\"type\":\"malformed\"}",
        ])
        .args(["--text", "not json", "--hex", "0102", "--expect", "13"]);
    let o = run(c).await;
    assert_exit(&o, 0);
    let ins: Vec<serde_json::Value> = json_lines(&o.stdout)
        .into_iter()
        .filter(|l| l["dir"] == "in" && l["op"] != "close")
        .collect();
    let ty = |l: &serde_json::Value| -> String {
        l["text"]
            .as_str()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
            .and_then(|v| v["type"].as_str().map(str::to_string))
            .unwrap_or_else(|| l["op"].as_str().unwrap_or("?").to_string())
    };
    let types: Vec<String> = ins.iter().map(ty).collect();
    assert_eq!(types[0], "session.ready");
    let ready: serde_json::Value =
        serde_json::from_str(ins[0]["text"].as_str().expect("t")).expect("json");
    assert_eq!(ready["agent_session_id"], "d1");
    assert_eq!(types[1], "pong");
    assert_eq!(types[2], "audio.start");
    assert_eq!(&types[3..8], ["binary"; 5], "100 ms of 20 ms PCM chunks");
    assert!(ins[3..8].iter().all(|l| l["len"] == 640));
    assert_eq!(types[8], "audio.done");
    // malformed: a text frame that is not JSON, then a binary that is not UTF-8
    assert!(
        serde_json::from_str::<serde_json::Value>(ins[9]["text"].as_str().expect("t")).is_err()
    );
    assert_eq!(types[10], "binary");
    assert_eq!(types[11], "error", "bad JSON is answered with an error");
    assert_eq!(types[12], "audio.received");

    for (cmd, code) in [
        ("{\"type\":\"raise\"}", 1011u64),
        ("{\"type\":\"drop\"}", 1006),
        (
            "{\"type\":\"close\",\"code\":4002,\"reason\":\"bye\"}",
            4002,
        ),
    ] {
        let mut c = wsdeck(home.path());
        c.args(["send", &url, "--json", cmd]);
        let o = run(c).await;
        assert_eq!(o.status.code(), Some(5), "{cmd}");
        let close = json_lines(&o.stdout)
            .into_iter()
            .find(|l| l["event"] == "close")
            .expect("close");
        assert_eq!(close["code"], code, "{cmd}");
    }
}

/// The demo keeps container logs per agent_session_id in azd's format: `raise` leaves a
/// traceback there, and `--monitor` with the demo's own source prints it after the 1011.
#[tokio::test(flavor = "multi_thread")]
async fn demo_container_logs_hold_the_traceback_for_monitor() {
    let logs = tempfile::tempdir().expect("logs");
    let demo = wsdeck::demo::start_with_logs(0, Some(logs.path().to_path_buf()))
        .await
        .expect("demo");
    let source = demo.log_source().expect("a log source");
    assert!(source.starts_with("cmd:tail -n +1 -F "), "{source}");
    let url = format!("{}?quiet=1", demo.url());
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args(["send", &url, "--session-id", "demo-s1"])
        .args(["--json", r#"{"type":"raise"}"#, "--monitor"])
        .args(["--monitor-source", &source, "--monitor-timeout", "1"]);
    let o = run(c).await;
    assert_exit(&o, 5);
    let lines: Vec<(String, String)> = json_lines(&o.stdout)
        .into_iter()
        .filter(|l| l["event"] == "log")
        .map(|l| {
            (
                l["stream"].as_str().unwrap_or_default().to_string(),
                l["text"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        lines.contains(&(
            "stdout".into(),
            "INFO: websocket accepted on /invocations_ws (agent_session_id=demo-s1)".into()
        )),
        "{lines:?}"
    );
    assert!(lines.contains(&("stderr".into(), "Traceback (most recent call last):".into())));
    assert!(lines.contains(&(
        "stderr".into(),
        "  File \"demo_agent.py\", line 88, in handle".into()
    )));
    assert!(lines.contains(&(
        "stderr".into(),
        "RuntimeError: raise requested by the client".into()
    )));
    // Another session's log is its own file.
    assert!(logs.path().join("demo-s1.log").is_file());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_answers_plain_http_like_the_sdk() {
    let demo = wsdeck::demo::start(0).await.expect("demo");
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args(["discover", &demo.url()]);
    let o = run(c).await;
    assert_exit(&o, 0);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("this agent publishes no AsyncAPI document (GET http://127.0.0.1:"),
        "{out}"
    );
    assert!(
        out.contains("/invocations/docs/asyncapi.json: 404)"),
        "{out}"
    );
    // And it still speaks WebSocket on the same port.
    let mut c = wsdeck(home.path());
    c.args(["send", &format!("{}?quiet=1", demo.url())]).args([
        "--json",
        "{\"type\":\"ping\",\"id\":1}",
        "--expect",
        "2",
    ]);
    let o = run(c).await;
    assert_exit(&o, 0);
}

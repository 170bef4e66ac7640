//! The command line as scripts use it: JSON lines, captures, and every exit code of SPEC.md.

use crate::support::{Script, assert_exit, closed_port, json_lines, run, serve, wsdeck};
use std::process::Output;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_echo_then_clean_close_exits_0() {
    let server = serve(Script::Echo).await;
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args(["connect", &server.url(), "--linger", "0.3"])
        .write_stdin("{\"type\":\"ping\"}\n\nsecond\n");
    let o = run(c).await;
    assert_exit(&o, 0);
    let lines = json_lines(&o.stdout);
    let events: Vec<&str> = lines.iter().filter_map(|l| l["event"].as_str()).collect();
    assert_eq!(events, ["connecting", "open", "close"]);
    let ins: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["dir"] == "in" && l["op"] == "text")
        .collect();
    assert_eq!(ins.len(), 2, "blank lines are not sent");
    assert_eq!(ins[0]["text"], "{\"type\":\"ping\"}");
    assert_eq!(ins[0]["len"], 15);
    let close = lines.last().expect("close");
    assert_eq!(close["code"], 1000);
    assert_eq!(close["clean"], true);
    assert_eq!(close["by"], "client");
}

#[tokio::test(flavor = "multi_thread")]
async fn send_in_order_with_expect_and_record_then_inspect() {
    let server = serve(Script::Echo).await;
    let home = tempfile::tempdir().expect("home");
    let cap = home.path().join("cap.jsonl");
    let file = home.path().join("blob.bin");
    std::fs::write(&file, [9u8, 8, 7]).expect("w");
    let mut c = wsdeck(home.path());
    c.args([
        "send",
        &server.url(),
        "--hex",
        "00 ff",
        "--text",
        "t1",
        "--base64",
        "AQID",
    ])
    .arg("--file")
    .arg(&file)
    .args(["--json", "{\"type\":\"x\"}", "--expect", "5", "--record"])
    .arg(&cap);
    let o = run(c).await;
    assert_exit(&o, 0);
    let lines = json_lines(&o.stdout);
    let outs: Vec<String> = lines
        .iter()
        .filter(|l| l["dir"] == "out" && l["op"] != "close")
        .map(|l| {
            format!(
                "{}:{}",
                l["op"].as_str().unwrap_or(""),
                l["b64"].as_str().or(l["text"].as_str()).unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        outs,
        [
            "binary:AP8=",
            "text:t1",
            "binary:AQID",
            "binary:CQgH",
            "text:{\"type\":\"x\"}"
        ]
    );

    // The capture holds the same frames, and inspect reads them back.
    let mut c = wsdeck(home.path());
    c.args(["inspect", "--json"]).arg(&cap);
    let o = run(c).await;
    assert_exit(&o, 0);
    let cap_lines = json_lines(&o.stdout);
    let frames = |ls: &[serde_json::Value]| -> Vec<(String, String, String)> {
        ls.iter()
            .filter(|l| l.get("dir").is_some())
            .map(|l| {
                (
                    l["dir"].to_string(),
                    l["op"].to_string(),
                    format!("{}{}", l["text"], l["b64"]),
                )
            })
            .collect()
    };
    assert_eq!(frames(&cap_lines), frames(&lines));

    let mut c = wsdeck(home.path());
    c.arg("inspect").arg(&cap);
    let o = run(c).await;
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("00000000  00 ff"), "{text}");
    assert!(text.contains("\"type\": \"x\""), "pretty JSON: {text}");
    assert!(text.contains("close 1000 normal closure"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_exits_2() {
    let home = tempfile::tempdir().expect("home");
    let server = serve(Script::Echo).await;
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["send".into(), server.url(), "--hex".into(), "abc".into()],
            "odd number of hex digits",
        ),
        (
            vec!["send".into(), server.url(), "--json".into(), "{nope".into()],
            "not JSON",
        ),
        (
            vec!["connect".into(), "http://example.com/".into()],
            "ws:// or wss://",
        ),
        (
            vec![
                "connect".into(),
                "--endpoint".into(),
                "https://a.services.ai.azure.com/".into(),
                "--agent".into(),
                "x".into(),
            ],
            "/api/projects/{project}",
        ),
        (
            vec![
                "connect".into(),
                "--endpoint".into(),
                "https://a.services.ai.azure.com/api/projects/p".into(),
            ],
            "--agent",
        ),
        (
            vec![
                "inspect".into(),
                home.path().join("missing.jsonl").display().to_string(),
            ],
            "cannot read",
        ),
        (
            vec!["connect".into(), "--session".into(), "nope".into()],
            "no saved session named \"nope\"",
        ),
        (
            vec![
                "connect".into(),
                server.url(),
                "--auth".into(),
                "kerberos".into(),
            ],
            "bad --auth",
        ),
        (vec!["bogus-command".into()], "unrecognized subcommand"),
    ];
    for (args, needle) in cases {
        let mut c = wsdeck(home.path());
        c.args(&args).write_stdin("");
        let o = run(c).await;
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_config_names_file_line_and_column_and_is_left_alone() {
    let home = tempfile::tempdir().expect("home");
    let cfg = home.path().join("config");
    std::fs::create_dir_all(&cfg).expect("dir");
    let broken = "theme = \"dark\"\n[connect]\ntimeout_secs = = 3\n";
    std::fs::write(cfg.join("config.toml"), broken).expect("w");
    let mut c = wsdeck(home.path());
    c.args(["sessions", "list"]);
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("config.toml:3:16"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(cfg.join("config.toml")).expect("r"),
        broken
    );

    std::fs::remove_file(cfg.join("config.toml")).expect("rm");
    let sessions = "[[session]]\nname = \"a\"\nkind = \"url\"\nagent_session_id = \"1\"\nurl = \"ws://x/\"\ncolour = 1\n";
    std::fs::write(cfg.join("sessions.toml"), sessions).expect("w");
    let mut c = wsdeck(home.path());
    c.args(["sessions", "list"]);
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("sessions.toml:6:1") && stderr(&o).contains("unknown field"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(cfg.join("sessions.toml")).expect("r"),
        sessions
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_upgrade_exits_3_with_body_and_advice() {
    let server = serve(Script::Refuse {
        status: 401,
        body: "{\"error\":\"expired token\"}".into(),
    })
    .await;
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args(["connect", &server.url()]).write_stdin("");
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    assert!(err.contains("HTTP 401"), "{err}");
    assert!(err.contains("expired token"), "{err}");
    assert!(
        err.contains("az account get-access-token --resource https://ai.azure.com"),
        "{err}"
    );
    let lines = json_lines(&o.stdout);
    let e = lines
        .iter()
        .find(|l| l["event"] == "error")
        .expect("error line");
    assert_eq!(e["status"], 401);
    assert_eq!(e["kind"], "refused");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_listener_exits_4() {
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args(["connect", "--local", "--port", &closed_port().to_string()])
        .write_stdin("");
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(4));
    assert!(
        stderr(&o).contains("is it running, and on which port?"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn abnormal_closes_exit_5() {
    let home = tempfile::tempdir().expect("home");
    let server = serve(Script::CloseAfterFirst {
        code: 1011,
        reason: "Internal server error".into(),
    })
    .await;
    let mut c = wsdeck(home.path());
    c.args(["send", &server.url(), "--text", "x"]);
    let o = run(c).await;
    assert_exit(&o, 5);
    assert!(
        stderr(&o).contains("closed 1011 internal error by server"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("handler raised"));

    let server = serve(Script::DropMidFrame).await;
    let mut c = wsdeck(home.path());
    c.args(["send", &server.url(), "--text", "x"]);
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(5));
    let lines = json_lines(&o.stdout);
    let close = lines.iter().find(|l| l["event"] == "close").expect("close");
    assert_eq!(close["code"], 1006);
    assert_eq!(close["by"], "transport");
    assert_eq!(close["clean"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn expect_unmet_exits_1() {
    let home = tempfile::tempdir().expect("home");
    let server = serve(Script::Echo).await;
    let mut c = wsdeck(home.path());
    c.args([
        "send",
        &server.url(),
        "--text",
        "one",
        "--expect",
        "3",
        "--timeout",
        "0.5",
    ]);
    let o = run(c).await;
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains("1 of 3 expected frames"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn record_until_peer_closes_and_truncated_capture_still_inspects() {
    let home = tempfile::tempdir().expect("home");
    let server = serve(Script::Flood {
        count: 1000,
        size: 64,
    })
    .await;
    let cap = home.path().join("rec.jsonl");
    let mut c = wsdeck(home.path());
    c.args(["record", &server.url(), "--out"]).arg(&cap);
    let o = run(c).await;
    assert_eq!(
        o.status.code(),
        Some(5),
        "close without a code is 1005: {}",
        stderr(&o)
    );
    let text = std::fs::read_to_string(&cap).expect("capture");
    let n_frames = text
        .lines()
        .filter(|l| l.contains("\"op\":\"binary\""))
        .count();
    assert_eq!(n_frames, 1000);
    assert!(
        text.lines()
            .next()
            .expect("header")
            .contains("\"wsdeck_capture\":1")
    );

    // Cut the file in the middle of a line, as a crash would.
    let cut = &text[..text.len() - text.lines().last().map(|l| l.len() / 2 + 1).unwrap_or(0)];
    std::fs::write(&cap, cut).expect("w");
    let mut c = wsdeck(home.path());
    c.args(["inspect", "--json"]).arg(&cap);
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("cut off mid-line"), "{}", stderr(&o));
    assert!(json_lines(&o.stdout).len() >= 1000);
}

#[tokio::test(flavor = "multi_thread")]
async fn saved_sessions_add_list_use_rm() {
    let home = tempfile::tempdir().expect("home");
    let server = serve(Script::Echo).await;
    let mut c = wsdeck(home.path());
    c.args([
        "sessions",
        "add",
        "echo",
        &server.url(),
        "--session-id",
        "sid-42",
    ]);
    let o = run(c).await;
    assert_exit(&o, 0);

    let mut c = wsdeck(home.path());
    c.args(["sessions", "list", "--json"]);
    let o = run(c).await;
    let l = json_lines(&o.stdout);
    assert_eq!(l[0]["name"], "echo");
    assert_eq!(l[0]["agent_session_id"], "sid-42");

    let mut c = wsdeck(home.path());
    c.args([
        "send",
        "--session",
        "echo",
        "--text",
        "via saved",
        "--expect",
        "1",
    ]);
    let o = run(c).await;
    assert_exit(&o, 0);
    assert!(
        crate::support::header(&server, 0, ":uri")
            .expect("uri")
            .ends_with("agent_session_id=sid-42")
    );

    let mut c = wsdeck(home.path());
    c.args([
        "sessions",
        "add",
        "leak",
        &server.url(),
        "-H",
        "Authorization: Bearer nope",
    ]);
    let o = run(c).await;
    assert_ne!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("carries a credential"),
        "{}",
        stderr(&o)
    );

    let mut c = wsdeck(home.path());
    c.args(["sessions", "rm", "echo"]);
    assert_eq!(run(c).await.status.code(), Some(0));
    let mut c = wsdeck(home.path());
    c.args(["sessions", "rm", "echo"]);
    assert_eq!(run(c).await.status.code(), Some(2));
}

/// `--ping-interval`: keepalive pings and their pongs are in the JSON lines, and they do not
/// keep a session open past `--linger` (only replies count as activity).
#[tokio::test(flavor = "multi_thread")]
async fn ping_interval_pings_and_still_lingers_out() {
    let server = crate::support::serve(crate::support::Script::Echo).await;
    let home = tempfile::tempdir().expect("home");
    let mut c = crate::support::wsdeck(home.path());
    c.args(["send", &server.url(), "--ping-interval", "0.1"])
        .args(["--text", "hi", "--linger", "0.6"])
        // A regression here hangs forever: fail instead.
        .timeout(std::time::Duration::from_secs(30));
    let o = crate::support::run(c).await;
    crate::support::assert_exit(&o, 0);
    let lines = crate::support::json_lines(&o.stdout);
    let ping = lines
        .iter()
        .find(|l| l["op"] == "ping" && l["dir"] == "out")
        .expect("a keepalive ping");
    assert_eq!(
        ping["b64"], "d3NkZWNrLWtlZXBhbGl2ZS0x",
        "wsdeck-keepalive-1"
    );
    assert!(lines.iter().any(|l| l["op"] == "pong" && l["dir"] == "in"));
    let rtt = lines
        .iter()
        .find(|l| l["event"] == "rtt")
        .expect("the pong's round trip");
    assert!(rtt["rtt_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{rtt}");
    let pong_seq = lines
        .iter()
        .find(|l| l["op"] == "pong" && l["dir"] == "in")
        .map(|l| l["seq"].clone());
    assert_eq!(
        Some(rtt["seq"].clone()),
        pong_seq,
        "it names the pong it measured"
    );
    let bad = crate::support::wsdeck(home.path())
        .args([
            "send",
            &server.url(),
            "--ping-interval",
            "-1",
            "--text",
            "x",
        ])
        .output()
        .expect("run");
    crate::support::assert_exit(&bad, 2);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--ping-interval"));
}

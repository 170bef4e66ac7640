//! `wsdeck replay`: timing modes keep order and count; --expect compares, ignores paths, and
//! exits 6 on a difference; a capture replayed against the real SDK agent compares clean.

use crate::support::{Agent, Script, assert_exit, json_lines, run, serve, wsdeck};

#[tokio::test(flavor = "multi_thread")]
async fn replay_timing_modes_keep_order_and_count() {
    let server = serve(Script::Echo).await;
    let home = tempfile::tempdir().expect("home");
    let cap = home.path().join("c.jsonl");
    let mut c = wsdeck(home.path());
    c.args([
        "send",
        &server.url(),
        "--text",
        "a",
        "--json",
        "{\"n\":2}",
        "--hex",
        "0304",
        "--text",
        "d",
        "--expect",
        "4",
        "--record",
    ])
    .arg(&cap);
    assert_eq!(run(c).await.status.code(), Some(0));
    for timing in ["original", "fast", "x2", "x0.5"] {
        let mut c = wsdeck(home.path());
        c.arg("replay").arg(&cap).args([
            &server.url(),
            "--timing",
            timing,
            "--linger",
            "0.3",
            "--expect",
        ]);
        let o = run(c).await;
        assert_eq!(
            o.status.code(),
            Some(0),
            "{timing}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let outs: Vec<String> = json_lines(&o.stdout)
            .iter()
            .filter(|l| l["dir"] == "out" && l["op"] != "close")
            .map(|l| {
                format!(
                    "{}{}",
                    l["text"].as_str().unwrap_or(""),
                    l["b64"].as_str().unwrap_or("")
                )
            })
            .collect();
        assert_eq!(outs, ["a", "{\"n\":2}", "AwQ=", "d"], "{timing}");
    }
    let mut c = wsdeck(home.path());
    c.arg("replay")
        .arg(&cap)
        .args([&server.url(), "--timing", "sideways"]);
    assert_eq!(run(c).await.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_expect_reports_differences_and_ignores_paths() {
    let server = serve(Script::Echo).await;
    let home = tempfile::tempdir().expect("home");
    // A hand-written capture: what the server "used to" answer.
    let cap = home.path().join("old.jsonl");
    std::fs::write(
        &cap,
        concat!(
            "{\"wsdeck_capture\":1}\n",
            "{\"seq\":1,\"ms\":0,\"dir\":\"out\",\"op\":\"text\",\"len\":24,\"text\":\"{\\\"id\\\":1,\\\"v\\\":\\\"new\\\",\\\"x\\\":1}\"}\n",
            "{\"seq\":2,\"ms\":1,\"dir\":\"in\",\"op\":\"text\",\"len\":24,\"text\":\"{\\\"id\\\":9,\\\"v\\\":\\\"old\\\",\\\"x\\\":1}\"}\n",
        ),
    )
    .expect("write");
    let mut c = wsdeck(home.path());
    c.arg("replay").arg(&cap).args([
        &server.url(),
        "--timing",
        "fast",
        "--linger",
        "0.3",
        "--expect",
    ]);
    let o = run(c).await;
    assert_exit(&o, 6);
    let diffs: Vec<serde_json::Value> = json_lines(&o.stdout)
        .into_iter()
        .filter(|l| l["event"] == "difference")
        .collect();
    let paths: Vec<&str> = diffs.iter().filter_map(|d| d["path"].as_str()).collect();
    assert_eq!(paths, [".id", ".v"]);
    assert_eq!(diffs[1]["expected"], "old");
    assert_eq!(diffs[1]["got"], "new");
    let mut c = wsdeck(home.path());
    c.arg("replay").arg(&cap).args([
        &server.url(),
        "--timing",
        "fast",
        "--linger",
        "0.3",
        "--expect",
        "--ignore-path",
        "id",
        "--ignore-path",
        ".v",
    ]);
    let o = run(c).await;
    assert_exit(&o, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_against_the_real_sdk_agent_compares_clean() {
    let agent = tokio::task::spawn_blocking(|| Agent::start("echo_agent.py"))
        .await
        .expect("agent");
    let home = tempfile::tempdir().expect("home");
    let cap = home.path().join("sdk.jsonl");
    let mut c = wsdeck(home.path());
    c.args([
        "send",
        &agent.url(),
        "--json",
        "{\"type\":\"hello\"}",
        "--hex",
        "00ff",
        "--json",
        "{\"type\":\"whoami\"}",
        "--expect",
        "3",
        "--record",
    ])
    .arg(&cap);
    assert_eq!(run(c).await.status.code(), Some(0));
    let mut c = wsdeck(home.path());
    c.arg("replay")
        .arg(&cap)
        .args([&agent.url(), "--expect", "--wait-replies", "0.2"]);
    let o = run(c).await;
    assert_exit(&o, 0);
    assert!(String::from_utf8_lossy(&o.stderr).contains("replies match the capture"));
}

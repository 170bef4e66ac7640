//! HAR in (a Chrome DevTools-shaped export) and out (exported, read back byte for byte).

use crate::support::{Script, assert_exit, json_lines, run, serve, wsdeck};

fn fixture(name: &str) -> std::path::PathBuf {
    crate::support::repo().join("tests/fixtures").join(name)
}

#[tokio::test(flavor = "multi_thread")]
async fn chrome_har_inspects_and_replays() {
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args(["inspect", "--json"])
        .arg(fixture("chrome-devtools.har"));
    let o = run(c).await;
    assert_exit(&o, 0);
    let lines = json_lines(&o.stdout);
    let frames: Vec<(String, String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["dir"].to_string(),
                l["op"].to_string(),
                format!(
                    "{}{}",
                    l["text"].as_str().unwrap_or(""),
                    l["b64"].as_str().unwrap_or("")
                ),
            )
        })
        .collect();
    assert_eq!(frames.len(), 4);
    assert_eq!(frames[0].0, "\"out\"");
    assert_eq!(
        frames[2],
        ("\"out\"".into(), "\"binary\"".into(), "AAEC/w==".into())
    );
    assert!(
        (lines[1]["ms"].as_f64().expect("ms") - 4.444).abs() < 0.01,
        "{}",
        lines[1]
    );

    // The HAR replays like a capture: the echo server answers what the page saw.
    let server = serve(Script::Echo).await;
    let mut c = wsdeck(home.path());
    c.arg("replay").arg(fixture("chrome-devtools.har")).args([
        &server.url(),
        "--expect",
        "--linger",
        "0.3",
    ]);
    let o = run(c).await;
    assert_exit(&o, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn export_har_round_trips_payloads_byte_for_byte() {
    let server = serve(Script::Echo).await;
    let home = tempfile::tempdir().expect("home");
    let cap = home.path().join("c.jsonl");
    let blob: Vec<u8> = (0u8..=255).collect();
    std::fs::write(home.path().join("blob.bin"), &blob).expect("w");
    let mut c = wsdeck(home.path());
    c.args([
        "send",
        &server.url(),
        "--text",
        "héllo \"quoted\"\n",
        "--file",
    ])
    .arg(home.path().join("blob.bin"))
    .args(["--expect", "2", "--record"])
    .arg(&cap);
    assert_eq!(run(c).await.status.code(), Some(0));
    let har = home.path().join("c.har");
    let mut c = wsdeck(home.path());
    c.arg("export").arg(&cap).arg("--har").arg(&har);
    assert_eq!(run(c).await.status.code(), Some(0));
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&har).expect("har")).expect("json");
    assert_eq!(doc["log"]["version"], "1.2");
    assert_eq!(doc["log"]["entries"][0]["_resourceType"], "websocket");
    assert_eq!(doc["log"]["entries"][0]["response"]["status"], 101);

    let read = |p: &std::path::Path| wsdeck::capture::read_capture(p).expect("read");
    let a = read(&cap);
    let b = read(&har);
    let data = |c: &wsdeck::capture::Capture| -> Vec<(wsdeck::engine::Direction, wsdeck::engine::Opcode, Vec<u8>)> {
        c.frames()
            .filter(|f| matches!(f.opcode, wsdeck::engine::Opcode::Text | wsdeck::engine::Opcode::Binary))
            .map(|f| (f.dir, f.opcode, f.payload.to_vec()))
            .collect()
    };
    assert_eq!(data(&a), data(&b));
    assert!(
        data(&b).iter().any(|(_, _, p)| p == &blob),
        "binary payload byte-identical"
    );
    // And the capture itself round-trips: what was sent is what was written.
    assert!(
        data(&a)
            .iter()
            .any(|(_, _, p)| p == "héllo \"quoted\"\n".as_bytes())
    );
}

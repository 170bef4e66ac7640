//! Faults under `wsdeck proxy` (issue 13): the disk fills while it records, and a capture that
//! cannot be created. The real binary between a tokio-tungstenite client and a loopback agent.
//!
//! | scenario | expected | test |
//! |---|---|---|
//! | the disk fills during `proxy --record F` | the error once, naming F and the OS error; every frame still relayed to the client and printed; F holds whole lines only; at Ctrl-C "recorded K … D not in the capture", K + D every frame, exit 7 | `proxy_record_under_a_file_size_limit_*` |
//! | `--record` to a path that cannot be created | exit 2 before anything listens | `proxy_record_to_an_impossible_path_*` |

use crate::proxy::{Proxy, connect, frames_of, of_client};
use crate::support::{Script, assert_exit, run, serve, wsdeck};
use futures_util::StreamExt;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const BURST: usize = 5000;

#[tokio::test(flavor = "multi_thread")]
async fn proxy_record_under_a_file_size_limit_goes_on_and_exits_7() {
    let server = serve(Script::Flood {
        count: BURST,
        size: 64,
    })
    .await;
    let home = tempfile::tempdir().expect("home");
    let cap = home.path().join("proxy.jsonl");
    let cap_arg = cap.to_str().expect("utf-8 path");
    // 128 blocks: 64 KiB in dash (512-byte blocks), 128 KiB in bash; the capture of the burst
    // is about 600 KB.
    let proxy = Proxy::start_under(
        &["sh", "-c", r#"ulimit -f 128 && exec "$@""#, "sh"],
        home.path(),
        &[&server.url(), "--record", cap_arg],
        &[],
    );
    let mut ws = connect(&proxy.url("/")).await;
    let mut got = 0;
    while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(20), ws.next()).await {
        if let Message::Binary(b) = m {
            assert_eq!(b.len(), 64);
            got += 1;
        }
    }
    assert_eq!(got, BURST, "every frame relayed past the failed capture");
    proxy
        .wait_line("close", |l| l["client"] == 1 && l["event"] == "close")
        .await;
    let (code, lines, err) = proxy.interrupt().await;
    assert_eq!(code, 7, "{err}");
    assert_eq!(
        err.matches("File too large (os error 27)").count(),
        1,
        "said once: {err}"
    );
    assert!(
        err.contains(&format!("cannot write the capture {cap_arg}"))
            && err.contains("the proxy goes on without it"),
        "{err}"
    );
    // Stdout had every frame, the capture whole lines of the first ones.
    let printed = frames_of(&lines, 1);
    assert!(printed.len() > BURST, "{} frames printed", printed.len());
    let text = std::fs::read_to_string(&cap).expect("capture");
    assert!(text.ends_with('\n'), "whole lines only");
    let kept = text.lines().filter(|l| l.contains("\"dir\"")).count();
    assert!(kept > 0 && kept < BURST, "{kept} frame lines kept");
    let summary = err
        .lines()
        .find(|l| l.contains("before a write failed"))
        .unwrap_or_else(|| panic!("no summary: {err}"));
    let numbers: Vec<usize> = summary
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(numbers.len(), 2, "{summary}");
    assert_eq!(numbers[0], kept, "{summary}");
    assert_eq!(
        numbers[0] + numbers[1],
        printed.len(),
        "every frame counted: {summary}"
    );
    assert_eq!(of_client(&lines, 1, "close").len(), 1);
    let mut c = wsdeck(home.path());
    c.arg("inspect").arg(&cap);
    let o = run(c).await;
    assert_exit(&o, 0);
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_record_to_an_impossible_path_is_bad_usage_before_listening() {
    let server = serve(Script::Echo).await;
    let home = tempfile::tempdir().expect("home");
    let blocker = home.path().join("a-file");
    std::fs::write(&blocker, "x").expect("file");
    let mut c = wsdeck(home.path());
    c.args([
        "proxy",
        &server.url(),
        "--listen",
        "127.0.0.1:0",
        "--record",
    ])
    .arg(blocker.join("inside.jsonl"));
    let o = run(c).await;
    assert_exit(&o, 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cannot create the capture"), "{err}");
    assert!(
        o.stdout.is_empty(),
        "nothing listened: {}",
        String::from_utf8_lossy(&o.stdout)
    );
}

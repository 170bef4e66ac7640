//! The upgrade answered wrongly, or not at all, and names that lead nowhere: the real binary's
//! exit code and what it says (the table is in `faults_peer.rs`).

use crate::faults_support::*;
use crate::support::{assert_exit, json_lines, run, wsdeck};
use tokio::io::AsyncWriteExt;

/// A peer that reads the request and answers with what `answer` makes of its head, then waits.
async fn answers(answer: fn(&str) -> Vec<u8>) -> RawServer {
    raw_server(move |mut s, _| async move {
        let Some(head) = read_head(&mut s).await else {
            return;
        };
        let _ = s.write_all(&answer(&head)).await;
        let _ = s.flush().await;
        tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    })
    .await
}

/// `wsdeck send URL --text x`, which must exit with `code` saying each of `said`.
async fn refused_with(server: &RawServer, code: i32, said: &[&str]) -> std::process::Output {
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args([
        "send",
        &server.url(),
        "--text",
        "x",
        "--connect-timeout",
        "5",
    ]);
    let o = run(c).await;
    assert_exit(&o, code);
    let err = stderr(&o);
    for s in said {
        assert!(err.contains(s), "{s:?} missing from:\n{err}");
    }
    o
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_instead_of_an_answer_is_a_failed_handshake() {
    let server = answers(|_| b"\x16\x03\x01\x00\xffnot http at all\r\n\r\n".to_vec()).await;
    let o = refused_with(
        &server,
        3,
        &[
            "WebSocket handshake failed",
            "not a valid WebSocket handshake",
        ],
    )
    .await;
    let lines = json_lines(&o.stdout);
    assert!(
        lines
            .iter()
            .any(|l| l["event"] == "error" && l["kind"] == "handshake")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_200_answer_is_a_refusal_with_its_body() {
    let server = answers(|_| {
        b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 11\r\n\r\nhello world"
            .to_vec()
    })
    .await;
    refused_with(
        &server,
        3,
        &[
            "HTTP 200 OK",
            "body: hello world",
            "not a WebSocket endpoint",
        ],
    )
    .await;
}

fn switching(accept: &str, upgrade: bool) -> Vec<u8> {
    let upgrade = if upgrade {
        "upgrade: websocket\r\n"
    } else {
        ""
    };
    format!("HTTP/1.1 101 Switching Protocols\r\n{upgrade}connection: Upgrade\r\n{accept}\r\n")
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_101_that_is_not_a_websocket_answer_is_a_failed_handshake() {
    let no_upgrade = answers(|h| {
        switching(
            &format!("sec-websocket-accept: {}\r\n", accept_for(h)),
            false,
        )
    })
    .await;
    refused_with(&no_upgrade, 3, &["No \"Upgrade: websocket\" header"]).await;
    let no_accept = answers(|_| switching("", true)).await;
    refused_with(
        &no_accept,
        3,
        &["Key mismatch in \"Sec-WebSocket-Accept\" header"],
    )
    .await;
    let wrong =
        answers(|_| switching("sec-websocket-accept: bm90IHRoZSBrZXkgYXQgYWxs\r\n", true)).await;
    refused_with(
        &wrong,
        3,
        &["Key mismatch in \"Sec-WebSocket-Accept\" header"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_is_shown_and_not_followed() {
    let server = answers(|_| {
        b"HTTP/1.1 302 Found\r\nlocation: wss://elsewhere.example/ws\r\ncontent-length: 0\r\n\r\n"
            .to_vec()
    })
    .await;
    let o = refused_with(
        &server,
        3,
        &[
            "HTTP 302 Found",
            "location: wss://elsewhere.example/ws",
            "wsdeck does not follow redirects",
        ],
    )
    .await;
    let lines = json_lines(&o.stdout);
    let e = lines
        .iter()
        .find(|l| l["event"] == "error")
        .expect("error line");
    assert_eq!(e["status"], 302);
    assert!(e["response_headers"].as_array().is_some_and(|h| {
        h.iter()
            .any(|p| p[0] == "location" && p[1] == "wss://elsewhere.example/ws")
    }));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_server_times_out() {
    let server = raw_server(|s, _| async move {
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        drop(s);
    })
    .await;
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args([
        "send",
        &server.url(),
        "--text",
        "x",
        "--connect-timeout",
        "0.5",
    ]);
    let o = run(c).await;
    assert_exit(&o, 4);
    assert!(
        stderr(&o)
            .contains("timed out after 0.5s while waiting for the server to answer the upgrade"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_under_invalid_does_not_resolve() {
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args(["send", "ws://wsdeck-no-such-host.invalid/ws", "--text", "x"]);
    let o = run(c).await;
    assert_exit(&o, 4);
    let err = stderr(&o);
    assert!(
        err.contains("DNS: cannot resolve wsdeck-no-such-host.invalid"),
        "{err}"
    );
    assert!(err.contains("check the host name for typos"), "{err}");
}

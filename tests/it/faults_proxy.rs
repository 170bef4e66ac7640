//! Faults under `wsdeck proxy` (issue 13): the disk fills while it records, and a capture that
//! cannot be created. The real binary between a tokio-tungstenite client and a loopback agent.
//!
//! | scenario | expected | test |
//! |---|---|---|
//! | the disk fills during `proxy --record F` | the error once, naming F and the OS error; every frame still relayed to the client and printed; F holds whole lines only; at Ctrl-C "recorded K … D not in the capture", K + D every frame, exit 7 | `proxy_record_under_a_file_size_limit_*` |
//! | `--record` to a path that cannot be created | exit 2 before anything listens | `proxy_record_to_an_impossible_path_*` |
//! | the agent closes with 999 / 1005 on the wire | the client gets the close the agent sent, byte for byte (not tungstenite's 1002); the close line says 999 / 1005, the frame line holds the wire's bytes, a warning says why | `agent_close_codes_not_allowed_on_the_wire_*` |

use crate::faults_support::{
    RawServer, after_first_frame, close_body, frame, raw_server, read_frame, read_head,
};
use crate::proxy::{Proxy, connect, frames_of, of_client};
use crate::support::{Script, assert_exit, run, serve, wsdeck};
use futures_util::StreamExt;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
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

/// An agent that closes with this payload after the first frame and, as a server does, hangs up
/// once the close is answered.
async fn closes_then_hangs_up(payload: Vec<u8>) -> RawServer {
    raw_server(move |s, _| {
        let payload = payload.clone();
        async move {
            let mut s = after_first_frame(s, frame(0x88, &payload)).await;
            while let Some((b0, _)) = read_frame(&mut s).await {
                if b0 & 0x0f == 0x8 {
                    break;
                }
            }
        }
    })
    .await
}

/// A client that sees the bytes: upgrade by hand, send one masked text frame, then the payload
/// of the first close frame that comes back (a tungstenite client would rewrite it as the proxy
/// once did), answered.
async fn raw_client_close(addr: std::net::SocketAddr) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let req = format!(
        "GET / HTTP/1.1\r\nhost: {addr}\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.expect("upgrade");
    let head = read_head(&mut s).await.expect("a response");
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    // "x", masked with a zero key.
    s.write_all(&[0x81, 0x81, 0, 0, 0, 0, b'x'])
        .await
        .expect("send");
    loop {
        let mut h = [0u8; 2];
        s.read_exact(&mut h).await.expect("a frame from the proxy");
        assert_eq!(h[1] & 0x80, 0, "server frames are not masked");
        let len = usize::from(h[1] & 0x7f);
        assert!(len < 126, "short frames only here");
        let mut payload = vec![0u8; len];
        s.read_exact(&mut payload).await.expect("payload");
        if h[0] & 0x0f == 0x8 {
            // Answer it as a client does (with 1000, masked), then wait for the proxy to hang up.
            let _ = s.write_all(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]).await;
            let mut rest = Vec::new();
            let _ = s.read_to_end(&mut rest).await;
            return payload;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn agent_close_codes_not_allowed_on_the_wire_reach_the_client_as_sent() {
    for (code, reason) in [(999u16, &b"odd"[..]), (1005, b"")] {
        let agent = closes_then_hangs_up(close_body(code, reason)).await;
        let home = tempfile::tempdir().expect("home");
        let proxy = Proxy::start(home.path(), &[&agent.url()], &[]);
        let got = tokio::time::timeout(Duration::from_secs(20), raw_client_close(proxy.addr))
            .await
            .expect("a close within 20s");
        assert_eq!(
            got,
            close_body(code, reason),
            "the client got the agent's bytes"
        );
        let close = proxy
            .wait_line("close", |l| l["client"] == 1 && l["event"] == "close")
            .await;
        assert_eq!(
            close["code"],
            code,
            "{close}\n{:#?}\n{}",
            proxy.lines(),
            proxy.stderr()
        );
        let (_, lines, err) = proxy.interrupt().await;
        let frame_in = lines
            .iter()
            .find(|l| l["client"] == 1 && l["dir"] == "in" && l["op"] == "close")
            .expect("the agent's close frame");
        let wire = base64_simd::STANDARD.encode_to_string(close_body(code, reason));
        assert_eq!(frame_in["b64"].as_str(), Some(wire.as_str()), "{frame_in}");
        let phrase = format!(
            "the agent sent close {code} (invalid on the wire; tungstenite answered the agent with 1002)"
        );
        assert!(err.contains(&phrase), "{err}");
    }
}

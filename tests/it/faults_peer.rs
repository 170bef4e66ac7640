//! A misbehaving peer, on loopback, against the engine, the real binary and the console's loop.
//! Peers are raw TCP servers writing hand-made frames (`faults_support.rs`); the console's view
//! of some of them is in `faults_console.rs`.
//!
//! Every fault scenario of issue 13, what wsdeck does, and where it is tested:
//!
//! | scenario | expected | tested in |
//! |---|---|---|
//! | peer killed mid-frame | 1006 by transport, half frame never a frame; exit 5 | engine::transport_drop_mid_frame_is_1006_by_transport, cli::abnormal_closes_exit_5 |
//! | TCP reset (SO_LINGER 0) | 1006 by transport, "transport error: … reset"; exit 5 | faults_peer::a_tcp_reset_is_1006_from_the_transport |
//! | stops reading while wsdeck sends | queue bounded (1024 frames / 32 MiB), "send queue is full", "the peer is not reading" after 3 s; close written within 2 s or dropped: 1006 by client, "the peer stopped reading"; exit 5, no hang | faults_peer::a_peer_that_stops_reading_stalls_only_its_frames, ::send_gives_up_at_its_timeout_when_the_peer_stops_reading; the console answers keys all along: faults_console::the_console_answers_keys_while_the_peer_stops_reading |
//! | trickles one byte a second, in the upgrade | the connect timeout: exit 4 "timed out … waiting for the server to answer the upgrade" | faults_peer::a_trickled_upgrade_times_out |
//! | trickles one byte a second, a frame | no idle timeout on a slow frame: `--timeout` ends the wait ("0 of 1 expected frames"), clean close; exit 1 | faults_peer::a_trickled_frame_waits_for_the_timeout |
//! | close 999 / 1005 on the wire | the peer's code reported (not tungstenite's 1002), "close 999 (invalid on the wire; tungstenite answered 1002)", raw close frame in the log; exit 5 | faults_peer::close_codes_not_allowed_on_the_wire_are_told_as_sent |
//! | close reason not UTF-8 | the peer's code, reason lossy, not clean, raw bytes in the log, we answer 1007; exit 5 | faults_peer::a_close_reason_that_is_not_utf8 |
//! | text frame not UTF-8 | 1007 by client; the frame's bytes in the log, the capture (`"op":"text","b64"`) and the console's hex view | engine::invalid_utf8_text_is_closed_with_1007_and_explained, faults_peer::invalid_utf8_text_is_kept_in_the_log_and_the_capture, faults_console::the_console_shows_the_invalid_text_in_hex |
//! | fragmented message, pings between fragments | one message; each ping shown and answered (the peer reads the pongs); exit 0 | faults_peer::fragments_with_pings_between_make_one_message |
//! | 64 MiB frame over the limit | 1009 by client, "limit of 64 MiB … --max-message-size"; usable again after a reconnect (the console's R) | engine::oversized_message_is_refused_with_1009, faults_peer::a_frame_over_the_limit_then_a_reconnect, faults_console::the_console_reconnects_after_a_frame_over_the_limit |
//! | reserved opcode, RSV bits | 1002 by client, tungstenite's reason; exit 5 | faults_peer::reserved_opcodes_and_rsv_bits_are_1002 |
//! | handshake: garbage, 200, 101 without Upgrade / Accept, wrong accept, redirect | exit 3 with what the server said (Location shown, not followed) | faults_handshake |
//! | handshake never answered | exit 4, "timed out" | engine::refused_tcp_dns_and_timeout_are_told_apart, faults_handshake::a_silent_server_times_out |
//! | TLS: self-signed, CA-marked, expired, wrong host | refused in plain words (dates, names); self-signed and CA-marked accepted with --ca-cert | engine::tls_failure_then_success_with_ca_cert, faults_tls |
//! | DNS failure, port closed | exit 4 | engine::refused_tcp_dns_and_timeout_are_told_apart, cli::no_listener_exits_4, faults_handshake::a_name_under_invalid_does_not_resolve |

use crate::faults_support::*;
use crate::support::{assert_exit, json_lines, run, wsdeck};
use bytes::Bytes;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use wsdeck::engine::close::Initiator;
use wsdeck::engine::session::{SessionCommand, spawn_session};
use wsdeck::engine::{Direction, Opcode};

fn text(t: &str) -> SessionCommand {
    SessionCommand::Send {
        opcode: Opcode::Text,
        payload: Bytes::copy_from_slice(t.as_bytes()),
    }
}

/// A session against `url` with `spec`'s defaults, open.
async fn open(
    s: wsdeck::engine::ConnectSpec,
) -> (
    wsdeck::engine::SessionHandle,
    mpsc::Receiver<wsdeck::engine::SessionEvent>,
    Seen,
) {
    let (tx, mut rx) = mpsc::channel(256);
    let (h, _join) = spawn_session(s, tx);
    let mut seen = Seen::default();
    seen.until_open(&mut rx).await;
    (h, rx, seen)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tcp_reset_is_1006_from_the_transport() {
    let server = raw_server(|s, _| async move {
        let s = after_first_frame(s, vec![]).await;
        // SO_LINGER 0: the close is a reset, not a FIN.
        let _ = s.set_zero_linger();
        drop(s);
    })
    .await;
    let (h, mut rx, mut seen) = open(spec(&server.url())).await;
    h.send(text("go"));
    seen.until_close(&mut rx).await;
    let c = seen.closed();
    assert_eq!(
        (c.code, c.initiator, c.clean),
        (1006, Initiator::Transport, false)
    );

    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args(["send", &server.url(), "--text", "go"]);
    let o = run(c).await;
    assert_exit(&o, 5);
    assert!(
        stderr(&o).contains("closed 1006 abnormal closure by transport"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_peer_that_stops_reading_stalls_only_its_frames() {
    let server = deaf().await;
    let (h, mut rx, mut seen) = open(spec(&server.url())).await;
    // 96 MiB: more than the kernel's buffers, tungstenite's and the queue's 32 MiB together.
    let mib = Bytes::from(vec![7u8; 1 << 20]);
    for _ in 0..96 {
        h.send(SessionCommand::Send {
            opcode: Opcode::Binary,
            payload: mib.clone(),
        });
    }
    // Commands are still taken while the writes wait: the stall is told, then the close is.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !seen.warned("the peer is not reading") {
        match tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("a stall notice")
        {
            Some(wsdeck::engine::SessionEvent::Warning { message, .. }) => {
                seen.warnings.push(message)
            }
            Some(wsdeck::engine::SessionEvent::Frames(f)) => seen.frames.extend(f),
            other => panic!("{other:?}"),
        }
    }
    h.send(SessionCommand::Close {
        code: 1000,
        reason: String::new(),
    });
    seen.until_close(&mut rx).await;
    assert!(
        seen.warned("not sent: the send queue is full"),
        "{:?}",
        seen.warnings
    );
    assert!(
        seen.warned("the peer stopped reading: our close frame could not be written within 2s"),
        "{:?}",
        seen.warnings
    );
    let c = seen.closed();
    assert_eq!(
        (c.code, c.initiator, c.clean),
        (1006, Initiator::Client, false)
    );
    let sent = seen
        .frames
        .iter()
        .filter(|f| f.dir == Direction::Out && f.opcode == Opcode::Binary)
        .count();
    assert!((1..96).contains(&sent), "{sent} of 96 handed to the socket");
    for w in seen.frames.windows(2) {
        assert_eq!(w[1].seq, w[0].seq + 1, "refused frames take no seq");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn send_gives_up_at_its_timeout_when_the_peer_stops_reading() {
    let server = deaf().await;
    let home = tempfile::tempdir().expect("home");
    let big = home.path().join("big.bin");
    std::fs::write(&big, vec![1u8; 24 << 20]).expect("write");
    let mut c = wsdeck(home.path());
    c.args(["send", &server.url(), "--file"])
        .arg(&big)
        .args(["--expect", "1", "--timeout", "1"]);
    let o = run(c).await;
    assert_exit(&o, 5);
    let err = stderr(&o);
    assert!(
        err.contains("0 of 1 expected frames came within 1s"),
        "{err}"
    );
    assert!(
        err.contains("the peer stopped reading: our close frame could not be written within 2s"),
        "{err}"
    );
    assert!(
        err.contains("closed 1006 abnormal closure by client"),
        "{err}"
    );
    assert!(err.contains("wsdeck dropped the connection"), "{err}");
    let lines = json_lines(&o.stdout);
    let close = lines.iter().find(|l| l["event"] == "close").expect("close");
    assert_eq!(
        (close["code"].as_u64(), close["by"].as_str()),
        (Some(1006), Some("client"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trickled_upgrade_times_out() {
    let server = raw_server(|mut s, _| async move {
        let Some(head) = read_head(&mut s).await else {
            return;
        };
        let resp = format!(
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: {}\r\n\r\n",
            accept_for(&head)
        );
        for b in resp.bytes() {
            if s.write_all(&[b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
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
        "1",
    ]);
    let o = run(c).await;
    assert_exit(&o, 4);
    assert!(
        stderr(&o)
            .contains("timed out after 1s while waiting for the server to answer the upgrade"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trickled_frame_waits_for_the_timeout() {
    let server = raw_server(|s, _| async move {
        let mut s = after_first_frame(s, vec![]).await;
        // A 20-byte text frame, one byte a second; once our close comes, the rest of it at once
        // and the answer.
        let bytes = frame(0x81, b"slow slow slow slow!");
        let (mut rd, mut wr) = s.split();
        let mut sent = 0;
        let mut raw = [0u8; 64];
        loop {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)), if sent < bytes.len() => {
                    if wr.write_all(&bytes[sent..=sent]).await.is_err() {
                        return;
                    }
                    sent += 1;
                }
                _ = tokio::io::AsyncReadExt::read(&mut rd, &mut raw) => break,
            }
        }
        let _ = wr.write_all(&bytes[sent..]).await;
        let _ = wr.write_all(&frame(0x88, &close_body(1000, b""))).await;
    })
    .await;
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args([
        "send",
        &server.url(),
        "--text",
        "x",
        "--expect",
        "1",
        "--timeout",
        "2",
    ]);
    let o = run(c).await;
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains("0 of 1 expected frames came within 2s"),
        "{}",
        stderr(&o)
    );
    // The frame completes while we close, and is kept.
    let lines = json_lines(&o.stdout);
    assert!(
        lines
            .iter()
            .any(|l| l["dir"] == "in" && l["text"] == "slow slow slow slow!"),
        "{lines:?}"
    );
    let close = lines.iter().find(|l| l["event"] == "close").expect("close");
    assert_eq!(close["clean"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn close_codes_not_allowed_on_the_wire_are_told_as_sent() {
    for (code, reason) in [(999u16, &b"nine nine nine"[..]), (1005, b"")] {
        let server = closes_with(close_body(code, reason)).await;
        let (h, mut rx, mut seen) = open(spec(&server.url())).await;
        h.send(text("x"));
        seen.until_close(&mut rx).await;
        let c = seen.closed();
        assert_eq!(
            (c.code, c.initiator, c.clean),
            (code, Initiator::Server, false)
        );
        assert_eq!(c.reason.as_bytes(), reason);
        let phrase = format!("close {code} (invalid on the wire; tungstenite answered 1002)");
        assert!(seen.warned(&phrase), "{:?}", seen.warnings);
        let close_in = seen
            .frames
            .iter()
            .find(|f| f.dir == Direction::In && f.opcode == Opcode::Close)
            .expect("their close");
        assert_eq!(
            close_in.payload.as_ref(),
            close_body(code, reason).as_slice()
        );
        let answer = seen
            .frames
            .iter()
            .find(|f| f.dir == Direction::Out && f.opcode == Opcode::Close)
            .expect("the answer");
        assert_eq!(answer.close_code().map(|c| c.0), Some(1002));
    }

    let server = closes_with(close_body(999, b"odd")).await;
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args(["send", &server.url(), "--text", "x"]);
    let o = run(c).await;
    assert_exit(&o, 5);
    let err = stderr(&o);
    assert!(
        err.contains("closed 999 unknown by server: \"odd\""),
        "{err}"
    );
    assert!(err.contains("tungstenite answered 1002"), "{err}");
    let lines = json_lines(&o.stdout);
    let close = lines.iter().find(|l| l["event"] == "close").expect("close");
    assert_eq!(close["code"], 999);
    let frame_in = lines
        .iter()
        .find(|l| l["dir"] == "in" && l["op"] == "close")
        .expect("close frame line");
    assert_eq!(
        (frame_in["code"].as_u64(), frame_in["b64"].as_str()),
        (Some(999), Some("A+dvZGQ="))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_close_reason_that_is_not_utf8() {
    let server = closes_with(close_body(1000, &[b'b', 0xff, 0xfe])).await;
    let (h, mut rx, mut seen) = open(spec(&server.url())).await;
    h.send(text("x"));
    seen.until_close(&mut rx).await;
    let c = seen.closed();
    assert_eq!(
        (c.code, c.initiator, c.clean),
        (1000, Initiator::Server, false)
    );
    assert_eq!(c.reason, "b\u{fffd}\u{fffd}");
    assert!(
        seen.warned("the peer closed with 1000 and a reason that is not valid UTF-8 (62 ff fe); wsdeck answered 1007"),
        "{:?}",
        seen.warnings
    );
    let ours = seen
        .frames
        .iter()
        .filter(|f| f.opcode == Opcode::Close)
        .map(|f| (f.dir, f.payload.to_vec()))
        .collect::<Vec<_>>();
    assert_eq!(
        ours[0],
        (Direction::In, close_body(1000, &[b'b', 0xff, 0xfe]))
    );
    assert_eq!(ours[1].0, Direction::Out);
    assert_eq!(&ours[1].1[..2], &1007u16.to_be_bytes());

    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args(["send", &server.url(), "--text", "x"]);
    let o = run(c).await;
    assert_exit(&o, 5);
    assert!(
        stderr(&o).contains("not clean: the close handshake did not complete"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_utf8_text_is_kept_in_the_log_and_the_capture() {
    let server = invalid_text_peer(false).await;
    let (h, mut rx, mut seen) = open(spec(&server.url())).await;
    h.send(text("x"));
    seen.until_close(&mut rx).await;
    assert_eq!(seen.closed().code, 1007);
    let bad = seen
        .frames
        .iter()
        .find(|f| f.dir == Direction::In)
        .expect("the bad frame");
    assert_eq!(
        (bad.opcode, bad.payload.as_ref()),
        (Opcode::Text, &[b'a', 0xc3, 0x28][..])
    );
    assert_eq!(bad.text(), None);
    assert!(
        seen.warned("not valid UTF-8 (at byte 1: c3 28)"),
        "{:?}",
        seen.warnings
    );
    assert!(
        !seen.frames.iter().any(|f| f.payload.as_ref() == b"after"),
        "nothing after the bad frame is taken"
    );

    let server = invalid_text_peer(true).await;
    let home = tempfile::tempdir().expect("home");
    let cap = home.path().join("bad.jsonl");
    let mut c = wsdeck(home.path());
    c.args(["record", &server.url(), "--out"]).arg(&cap);
    let o = run(c).await;
    assert_exit(&o, 5);
    let capture = std::fs::read_to_string(&cap).expect("capture");
    let line = capture
        .lines()
        .find(|l| l.contains("\"dir\":\"in\""))
        .expect("the frame line");
    assert!(
        line.contains("\"op\":\"text\",\"len\":3,\"b64\":\"YcMo\""),
        "{line}"
    );
    assert!(capture.contains("\"event\":\"close\""), "{capture}");
    // It reads back as the same bytes.
    let mut c = wsdeck(home.path());
    c.args(["inspect", "--json"]).arg(&cap);
    let o = run(c).await;
    assert_exit(&o, 0);
    let back = json_lines(&o.stdout);
    assert!(
        back.iter().any(|l| l["op"] == "text" && l["b64"] == "YcMo"),
        "{back:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fragments_with_pings_between_make_one_message() {
    let server = raw_server(|s, _| async move {
        let parts = [
            frame(0x01, b"hello "),
            frame(0x89, b"p1"),
            frame(0x00, b"frag"),
            frame(0x89, b"p2"),
            frame(0x80, b"mented"),
        ]
        .concat();
        let mut s = after_first_frame(s, parts).await;
        // Our pongs come back before anything else we send.
        let mut pongs = Vec::new();
        while pongs.len() < 2 {
            match read_frame(&mut s).await {
                Some((b0, p)) if b0 & 0x0f == 0xa => {
                    pongs.push(String::from_utf8_lossy(&p).into_owned())
                }
                Some(_) => {}
                None => return,
            }
        }
        let _ = s
            .write_all(&frame(
                0x81,
                format!("pongs {}", pongs.join(",")).as_bytes(),
            ))
            .await;
        answer_close(&mut s).await;
    })
    .await;
    let (h, mut rx, mut seen) = open(spec(&server.url())).await;
    h.send(text("go"));
    while !seen
        .frames
        .iter()
        .any(|f| f.payload.as_ref() == b"pongs p1,p2")
    {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("frames")
        {
            Some(wsdeck::engine::SessionEvent::Frames(f)) => seen.frames.extend(f),
            Some(wsdeck::engine::SessionEvent::Warning { message, .. }) => panic!("{message}"),
            other => assert!(other.is_some(), "ended"),
        }
    }
    let ins: Vec<(Direction, Opcode, &[u8])> = seen
        .frames
        .iter()
        .map(|f| (f.dir, f.opcode, f.payload.as_ref()))
        .collect();
    assert_eq!(
        ins,
        vec![
            (Direction::Out, Opcode::Text, &b"go"[..]),
            (Direction::In, Opcode::Ping, b"p1"),
            (Direction::Out, Opcode::Pong, b"p1"),
            (Direction::In, Opcode::Ping, b"p2"),
            (Direction::Out, Opcode::Pong, b"p2"),
            (Direction::In, Opcode::Text, b"hello fragmented"),
            (Direction::In, Opcode::Text, b"pongs p1,p2"),
        ]
    );
    h.send(SessionCommand::Close {
        code: 1000,
        reason: String::new(),
    });
    seen.until_close(&mut rx).await;
    assert!(seen.closed().clean);

    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args(["send", &server.url(), "--text", "go", "--expect", "2"]);
    let o = run(c).await;
    assert_exit(&o, 0);
    let lines = json_lines(&o.stdout);
    assert!(lines.iter().any(|l| l["text"] == "hello fragmented"));
    assert_eq!(lines.iter().filter(|l| l["op"] == "ping").count(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_frame_over_the_limit_then_a_reconnect() {
    let server = over_the_limit_then_fine().await;
    let mut s = spec(&server.url());
    s.max_message_size = Some(64 << 20);
    let (h, mut rx, mut seen) = open(s).await;
    seen.until_close(&mut rx).await;
    let c = seen.closed();
    assert_eq!((c.code, c.initiator), (1009, Initiator::Client));
    assert!(
        seen.warned("over wsdeck's limit of 64 MiB (67108864 bytes)"),
        "{:?}",
        seen.warnings
    );
    assert!(seen.warned("raise it with --max-message-size BYTES"));
    h.send(SessionCommand::Reconnect { new_id: false });
    seen.until_open(&mut rx).await;
    h.send(text("still usable"));
    h.send(SessionCommand::Close {
        code: 1000,
        reason: String::new(),
    });
    seen.until_close(&mut rx).await;
    assert!(seen.closed().clean);
    assert!(
        seen.frames
            .iter()
            .any(|f| f.dir == Direction::In && f.payload.as_ref() == b"still usable")
    );

    let server = over_the_limit_then_fine().await;
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.args(["send", &server.url(), "--text", "x"]);
    let o = run(c).await;
    assert_exit(&o, 5);
    let err = stderr(&o);
    assert!(err.contains("limit of 64 MiB"), "{err}");
    assert!(
        err.contains("closed 1009 message too big by client"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reserved_opcodes_and_rsv_bits_are_1002() {
    for (b0, said) in [
        (0x83u8, "Encountered invalid opcode: 3"),
        (0x8b, "Encountered invalid opcode: 11"),
        (0xc1, "Reserved bits are non-zero"),
    ] {
        let server = raw_server(move |s, _| async move {
            let mut s = after_first_frame(s, frame(b0, b"??")).await;
            while read_frame(&mut s).await.is_some() {}
        })
        .await;
        let (h, mut rx, mut seen) = open(spec(&server.url())).await;
        h.send(text("x"));
        seen.until_close(&mut rx).await;
        let c = seen.closed();
        assert_eq!((c.code, c.initiator), (1002, Initiator::Client), "{b0:#x}");
        assert!(seen.warned(said), "{b0:#x}: {:?}", seen.warnings);

        let home = tempfile::tempdir().expect("home");
        let mut c = wsdeck(home.path());
        c.args(["send", &server.url(), "--text", "x"]);
        let o = run(c).await;
        assert_exit(&o, 5);
        assert!(stderr(&o).contains(said), "{}", stderr(&o));
    }
}

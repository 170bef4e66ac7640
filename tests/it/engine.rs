//! The session actor against real servers on loopback: every diagnosis and close class.

use crate::support::{Script, closed_port, header, serve};
use bytes::Bytes;
use std::time::Duration;
use tokio::sync::mpsc;
use wsdeck::engine::close::Initiator;
use wsdeck::engine::diagnose::ConnectError;
use wsdeck::engine::session::{CloseInfo, SessionCommand, SessionEvent, spawn_session};
use wsdeck::engine::target::{ConnectSpec, Target};
use wsdeck::engine::{Direction, Frame, Opcode};

/// Everything one session reported until it closed, failed, or ended.
struct Run {
    frames: Vec<Frame>,
    closed: Option<CloseInfo>,
    failed: Option<ConnectError>,
    warnings: Vec<String>,
    opened: Vec<wsdeck::engine::session::Handshake>,
    connecting_ids: Vec<Option<String>>,
}

async fn collect_until_end(rx: &mut mpsc::Receiver<SessionEvent>, stop_at_close: bool) -> Run {
    let mut run = Run {
        frames: vec![],
        closed: None,
        failed: None,
        warnings: vec![],
        opened: vec![],
        connecting_ids: vec![],
    };
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("no event within 30s");
        match ev {
            None | Some(SessionEvent::Ended) => return run,
            Some(SessionEvent::Frames(f)) => run.frames.extend(f),
            Some(SessionEvent::Closed { info, .. }) => {
                run.closed = Some(info);
                if stop_at_close {
                    return run;
                }
            }
            Some(SessionEvent::Failed { error, .. }) => {
                run.failed = Some(error);
                return run;
            }
            Some(SessionEvent::Warning { message, .. }) => run.warnings.push(message),
            Some(SessionEvent::Opened { handshake, .. }) => run.opened.push(handshake),
            Some(SessionEvent::Connecting { session_id, .. }) => {
                run.connecting_ids.push(session_id)
            }
            Some(SessionEvent::Injected(f)) => panic!("a session actor injected {f:?}"),
        }
    }
}

fn spec(url: &str) -> ConnectSpec {
    ConnectSpec::new(Target::url(url).expect("url"))
}

async fn open_session(
    spec: ConnectSpec,
) -> (wsdeck::engine::SessionHandle, mpsc::Receiver<SessionEvent>) {
    let (tx, mut rx) = mpsc::channel(64);
    let (h, _join) = spawn_session(spec, tx);
    // Wait for open (or the failure, left for the caller to see).
    loop {
        match rx.recv().await.expect("event") {
            SessionEvent::Opened { .. } => return (h, rx),
            SessionEvent::Failed { error, .. } => panic!("connect failed: {error}"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn echo_text_binary_ping_and_a_16_mib_frame() {
    let server = serve(Script::Echo).await;
    let (h, mut rx) = open_session(spec(&server.url())).await;
    let big = Bytes::from(vec![0xa5u8; 16 * 1024 * 1024]);
    h.send(SessionCommand::Send {
        opcode: Opcode::Text,
        payload: Bytes::from_static(b"{\"type\":\"hi\"}"),
    });
    h.send(SessionCommand::Send {
        opcode: Opcode::Binary,
        payload: Bytes::from_static(&[0, 1, 2, 255]),
    });
    h.send(SessionCommand::Send {
        opcode: Opcode::Ping,
        payload: Bytes::from_static(b"p1"),
    });
    h.send(SessionCommand::Send {
        opcode: Opcode::Binary,
        payload: big.clone(),
    });
    h.send(SessionCommand::Send {
        opcode: Opcode::Text,
        payload: Bytes::from_static(b"{\"close\":1000}"),
    });
    let run = collect_until_end(&mut rx, true).await;
    let ins: Vec<&Frame> = run
        .frames
        .iter()
        .filter(|f| f.dir == Direction::In)
        .collect();
    assert_eq!(ins[0].payload, Bytes::from_static(b"{\"type\":\"hi\"}"));
    assert_eq!(ins[0].opcode, Opcode::Text);
    assert_eq!(ins[1].payload.as_ref(), &[0, 1, 2, 255]);
    assert_eq!(ins[1].opcode, Opcode::Binary);
    assert!(
        ins.iter()
            .any(|f| f.opcode == Opcode::Pong && f.payload.as_ref() == b"p1")
    );
    assert!(
        ins.iter()
            .any(|f| f.opcode == Opcode::Binary && f.payload == big),
        "16 MiB echo"
    );
    let closed = run.closed.expect("closed");
    assert_eq!(closed.code, 1000);
    assert_eq!(closed.initiator, Initiator::Server);
    assert!(closed.clean);
    // seq counts both directions without gaps, and time never goes back.
    for w in run.frames.windows(2) {
        assert_eq!(w[1].seq, w[0].seq + 1);
    }
    let mut sorted = run.frames.clone();
    sorted.sort_by_key(|f| f.seq);
    assert!(sorted.windows(2).all(|w| w[0].at <= w[1].at));
}

#[tokio::test]
async fn refused_401_keeps_status_body_and_advice() {
    let server = serve(Script::Refuse {
        status: 401,
        body: r#"{"error":{"code":"PermissionDenied","message":"token expired"}}"#.into(),
    })
    .await;
    let (tx, mut rx) = mpsc::channel(64);
    spawn_session(spec(&server.url()), tx);
    let run = collect_until_end(&mut rx, false).await;
    let err = run.failed.expect("failed");
    let r = err.refusal().expect("refusal");
    assert_eq!(r.status, 401);
    assert!(r.body_text().contains("token expired"));
    assert_eq!(err.exit_code(), wsdeck::exit::HANDSHAKE_REFUSED);
    assert!(
        err.advice()
            .iter()
            .any(|a| a.contains("az account get-access-token"))
    );
}

#[tokio::test]
async fn refused_404_suggests_the_other_route() {
    let server = serve(Script::Refuse {
        status: 404,
        body: "{}".into(),
    })
    .await;
    let (tx, mut rx) = mpsc::channel(64);
    spawn_session(spec(&server.url()), tx);
    let err = collect_until_end(&mut rx, false)
        .await
        .failed
        .expect("failed");
    assert_eq!(err.refusal().map(|r| r.status), Some(404));
    assert!(err.advice().iter().any(|a| a.contains("--route preview")));
}

#[tokio::test]
async fn refused_tcp_dns_and_timeout_are_told_apart() {
    let (tx, mut rx) = mpsc::channel(64);
    spawn_session(spec(&format!("ws://127.0.0.1:{}/x", closed_port())), tx);
    let err = collect_until_end(&mut rx, false)
        .await
        .failed
        .expect("failed");
    assert!(matches!(err, ConnectError::Tcp { .. }), "{err:?}");
    assert_eq!(err.exit_code(), wsdeck::exit::CONNECT_FAILED);

    let (tx, mut rx) = mpsc::channel(64);
    spawn_session(spec("ws://wsdeck-no-such-host.invalid/x"), tx);
    let err = collect_until_end(&mut rx, false)
        .await
        .failed
        .expect("failed");
    assert!(matches!(err, ConnectError::Dns { .. }), "{err:?}");
    assert!(err.to_string().contains("wsdeck-no-such-host.invalid"));

    let server = serve(Script::Silent).await;
    let mut s = spec(&server.url());
    s.connect_timeout = Duration::from_millis(300);
    let (tx, mut rx) = mpsc::channel(64);
    spawn_session(s, tx);
    let err = collect_until_end(&mut rx, false)
        .await
        .failed
        .expect("failed");
    assert!(matches!(err, ConnectError::Timeout { .. }), "{err:?}");
}

#[tokio::test]
async fn transport_drop_mid_frame_is_1006_by_transport() {
    let server = serve(Script::DropMidFrame).await;
    let (h, mut rx) = open_session(spec(&server.url())).await;
    h.send(SessionCommand::Send {
        opcode: Opcode::Text,
        payload: Bytes::from_static(b"go"),
    });
    let run = collect_until_end(&mut rx, true).await;
    let c = run.closed.expect("closed");
    assert_eq!(c.code, 1006);
    assert_eq!(c.initiator, Initiator::Transport);
    assert!(!c.clean);
    // The half frame never became a frame.
    assert!(run.frames.iter().all(|f| f.dir == Direction::Out));
}

#[tokio::test]
async fn close_1011_with_reason_is_kept() {
    let server = serve(Script::CloseAfterFirst {
        code: 1011,
        reason: "boom in handler".into(),
    })
    .await;
    let (h, mut rx) = open_session(spec(&server.url())).await;
    h.send(SessionCommand::Send {
        opcode: Opcode::Text,
        payload: Bytes::from_static(b"x"),
    });
    let run = collect_until_end(&mut rx, true).await;
    let c = run.closed.expect("closed");
    assert_eq!((c.code, c.reason.as_str()), (1011, "boom in handler"));
    assert_eq!(c.initiator, Initiator::Server);
    assert!(!c.clean);
    let close_in = run
        .frames
        .iter()
        .find(|f| f.dir == Direction::In && f.opcode == Opcode::Close)
        .expect("close frame");
    assert_eq!(
        close_in.close_code(),
        Some((1011, "boom in handler".to_string()))
    );
}

#[tokio::test]
async fn invalid_utf8_text_is_closed_with_1007_and_explained() {
    let server = serve(Script::InvalidUtf8).await;
    let (h, mut rx) = open_session(spec(&server.url())).await;
    h.send(SessionCommand::Send {
        opcode: Opcode::Text,
        payload: Bytes::from_static(b"x"),
    });
    let run = collect_until_end(&mut rx, true).await;
    let c = run.closed.expect("closed");
    assert_eq!(c.code, 1007);
    assert_eq!(c.initiator, Initiator::Client);
    assert!(
        run.warnings.iter().any(|w| w.contains("not valid UTF-8")),
        "{:?}",
        run.warnings
    );
}

#[tokio::test]
async fn client_close_and_reconnect_keep_or_renew_the_session_id() {
    let server = serve(Script::Echo).await;
    let mut s = spec(&server.url());
    s.session_id = Some("stable-id-1".into());
    let (h, mut rx) = open_session(s).await;
    h.send(SessionCommand::Close {
        code: 4000,
        reason: "bye".into(),
    });
    let run = collect_until_end(&mut rx, true).await;
    let c = run.closed.expect("closed");
    assert_eq!((c.code, c.initiator), (4000, Initiator::Client));
    assert!(!c.clean, "4000 is not a clean code");

    h.send(SessionCommand::Reconnect { new_id: false });
    let mut opened = 0;
    while opened == 0 {
        if let Some(SessionEvent::Opened { .. }) = rx.recv().await {
            opened += 1;
        }
    }
    h.send(SessionCommand::Reconnect { new_id: true });
    while opened == 1 {
        if let Some(SessionEvent::Opened { .. }) = rx.recv().await {
            opened += 1;
        }
    }
    h.send(SessionCommand::Shutdown);
    let _ = collect_until_end(&mut rx, false).await;
    let uri = |i| header(&server, i, ":uri").expect("uri");
    assert!(
        uri(0).ends_with("agent_session_id=stable-id-1"),
        "{}",
        uri(0)
    );
    assert_eq!(uri(1), uri(0), "reconnect reuses the id");
    assert!(
        !uri(2).contains("stable-id-1"),
        "a new id on purpose: {}",
        uri(2)
    );
    assert!(uri(2).contains("agent_session_id="));
}

#[tokio::test]
async fn oversized_message_is_refused_with_1009() {
    let server = serve(Script::Flood {
        count: 1,
        size: 2048,
    })
    .await;
    let mut s = spec(&server.url());
    s.max_message_size = Some(1024);
    let (_h, mut rx) = open_session(s).await;
    let run = collect_until_end(&mut rx, true).await;
    let c = run.closed.expect("closed");
    assert_eq!(c.code, 1009);
    assert!(
        run.warnings
            .iter()
            .any(|w| w.contains("--max-message-size")),
        "{:?}",
        run.warnings
    );
}

#[tokio::test]
async fn tls_failure_then_success_with_ca_cert() {
    use std::sync::Arc;
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("cert");
    let cert_der = ck.cert.der().clone();
    let key_der =
        rustls::pki_types::PrivateKeyDer::try_from(ck.signing_key.serialize_der()).expect("key");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert_der], key_der)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut ws) = tokio_tungstenite::accept_async(tls).await else {
                    return;
                };
                use futures_util::{SinkExt, StreamExt};
                while let Some(Ok(m)) = ws.next().await {
                    if m.is_text() && ws.send(m).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let url = format!("wss://localhost:{port}/ws");
    let (tx, mut rx) = mpsc::channel(64);
    spawn_session(spec(&url), tx);
    let err = collect_until_end(&mut rx, false)
        .await
        .failed
        .expect("untrusted cert fails");
    assert!(matches!(err, ConnectError::Tls { .. }), "{err:?}");
    assert!(err.advice().iter().any(|a| a.contains("--ca-cert")));

    let dir = tempfile::tempdir().expect("dir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, ck.cert.pem()).expect("write");
    let mut s = spec(&url);
    s.ca_cert = Some(ca);
    let (h, mut rx) = open_session(s).await;
    h.send(SessionCommand::Send {
        opcode: Opcode::Text,
        payload: Bytes::from_static(b"over tls"),
    });
    h.send(SessionCommand::Close {
        code: 1000,
        reason: String::new(),
    });
    let run = collect_until_end(&mut rx, true).await;
    assert!(
        run.frames
            .iter()
            .any(|f| f.dir == Direction::In && f.payload.as_ref() == b"over tls")
    );
    assert!(run.closed.expect("closed").clean);
    server.abort();
}

#[tokio::test]
async fn a_close_sent_as_a_frame_is_our_close_handshake() {
    let server = serve(Script::Echo).await;
    let (h, mut rx) = open_session(spec(&server.url())).await;
    h.send(SessionCommand::Send {
        opcode: Opcode::Close,
        payload: wsdeck::engine::frame::close_payload(4001, "bye"),
    });
    let run = collect_until_end(&mut rx, true).await;
    let c = run.closed.expect("closed");
    assert_eq!((c.code, c.initiator), (4001, Initiator::Client));
    let outs = run
        .frames
        .iter()
        .filter(|f| f.dir == Direction::Out && f.opcode == Opcode::Close)
        .count();
    assert_eq!(
        outs, 1,
        "one close frame from us, no automatic echo of the answer"
    );
}

#[tokio::test]
async fn keepalive_pings_measure_round_trips_and_a_missing_pong_is_reported() {
    let server = serve(Script::Echo).await;
    let mut s = spec(&server.url());
    s.ping_interval = Some(Duration::from_millis(100));
    let (h, mut rx) = open_session(s).await;
    let mut frames: Vec<Frame> = Vec::new();
    while frames
        .iter()
        .filter(|f| f.dir == Direction::In && f.opcode == Opcode::Pong)
        .count()
        < 2
    {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Some(SessionEvent::Frames(fs))) => frames.extend(fs),
            Ok(Some(SessionEvent::Warning { message, .. })) => panic!("{message}"),
            Ok(Some(_)) => {}
            other => panic!("no pongs: {other:?}"),
        }
    }
    let ping = frames
        .iter()
        .find(|f| f.dir == Direction::Out && f.opcode == Opcode::Ping)
        .expect("our ping is in the log");
    assert_eq!(&ping.payload[..], b"wsdeck-keepalive-1");
    let pong = frames
        .iter()
        .find(|f| f.dir == Direction::In && f.opcode == Opcode::Pong)
        .expect("pong");
    assert_eq!(
        pong.payload, ping.payload,
        "the peer echoes the ping's payload"
    );
    // The console matches them for the round trip.
    let mut rtt = wsdeck::engine::rtt::Rtt::default();
    for f in &frames {
        rtt.observe(f);
    }
    assert_eq!(rtt.of_pong(pong), Some(pong.at - ping.at));
    // Stopping: no more pings after the command.
    h.send(SessionCommand::Keepalive(None));
    h.send(SessionCommand::Shutdown);
    let _ = collect_until_end(&mut rx, false).await;

    // A peer that never reads never answers: the next ping reports the missing pong.
    let deaf = serve(Script::Deaf).await;
    let mut s = spec(&deaf.url());
    s.ping_interval = Some(Duration::from_millis(100));
    let (h, mut rx) = open_session(s).await;
    let warning = loop {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Some(SessionEvent::Warning { message, .. })) => break message,
            Ok(Some(_)) => {}
            other => panic!("no warning: {other:?}"),
        }
    };
    assert!(
        warning.starts_with("no pong for keepalive ping \"wsdeck-keepalive-1\""),
        "{warning}"
    );
    h.send(SessionCommand::Shutdown);
}

//! Injecting frames into a relayed conversation through the library's `Injector` (what the
//! console's composer does), between a tokio-tungstenite client and the real SDK echo agent.

use crate::support::Agent;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use wsdeck::engine::session::SessionEvent;
use wsdeck::engine::target::{ConnectSpec, Target};
use wsdeck::engine::{Direction, Frame, Opcode};
use wsdeck::proxy::{InjectError, Injector, ProxyEvent, ProxyOptions};

const WAIT: Duration = Duration::from_secs(10);

/// Everything the proxy reported for client 1, in order, until `until` holds.
async fn collect(
    rx: &mut mpsc::Receiver<ProxyEvent>,
    seen: &mut Vec<ProxyEvent>,
    until: impl Fn(&[ProxyEvent]) -> bool,
) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !until(seen) {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out; frames seen: {:?}", summary(seen)))
            .expect("proxy events ended");
        seen.push(ev);
    }
}

fn frames(seen: &[ProxyEvent]) -> Vec<(&'static str, Frame)> {
    let mut out = Vec::new();
    for ev in seen {
        match ev {
            ProxyEvent::Session {
                event: SessionEvent::Frames(fs),
                ..
            } => out.extend(fs.iter().map(|f| ("relayed", f.clone()))),
            ProxyEvent::Injected { frame, .. } => out.push(("injected", frame.clone())),
            _ => {}
        }
    }
    out
}

fn summary(seen: &[ProxyEvent]) -> Vec<String> {
    frames(seen)
        .iter()
        .map(|(k, f)| {
            format!(
                "{k} {} {} {}",
                f.dir.as_str(),
                f.opcode.as_str(),
                String::from_utf8_lossy(&f.payload)
            )
        })
        .collect()
}

fn has(seen: &[ProxyEvent], kind: &str, dir: Direction, opcode: Opcode, payload: &[u8]) -> bool {
    frames(seen)
        .iter()
        .any(|(k, f)| *k == kind && f.dir == dir && f.opcode == opcode && f.payload == payload)
}

async fn next_data(ws: &mut crate::proxy::Client) -> Message {
    loop {
        let m = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message in time")
            .expect("open")
            .expect("read");
        if !matches!(m, Message::Ping(_) | Message::Pong(_)) {
            return m;
        }
    }
}

#[tokio::test]
async fn frames_injected_toward_either_side_arrive_and_are_reported_as_injected() {
    let agent = Agent::start("echo_agent.py");
    let mut spec = ConnectSpec::new(Target::url(&agent.url()).expect("url"));
    spec.session_id = Some("inject0123456789".into());
    let (tx, mut rx) = mpsc::channel(256);
    let proxy = wsdeck::proxy::start(
        ProxyOptions {
            spec,
            listen: "127.0.0.1:0".parse().expect("addr"),
            allow_origins: vec![],
            allow_remote: false,
        },
        tx,
    )
    .await
    .expect("proxy starts");
    let url = format!("ws://{}/", proxy.local_addr());
    let (mut ws, _) = tokio_tungstenite::connect_async(&url)
        .await
        .expect("client connects");

    let mut seen = Vec::new();
    collect(&mut rx, &mut seen, |s| {
        s.iter().any(|e| matches!(e, ProxyEvent::Attached { .. }))
    })
    .await;
    let injector: Injector = seen
        .iter()
        .find_map(|e| match e {
            ProxyEvent::Attached {
                client: 1,
                injector,
            } => Some(injector.clone()),
            _ => None,
        })
        .expect("client 1 attached");

    // Toward the client: it arrives as if the agent had sent it, and the agent never sees it.
    injector
        .inject(
            Direction::In,
            Opcode::Text,
            Bytes::from_static(b"{\"from\":\"wsdeck\"}"),
        )
        .expect("injected");
    assert_eq!(
        next_data(&mut ws).await,
        Message::text("{\"from\":\"wsdeck\"}")
    );

    // Toward the agent: the echo agent answers it, and the client gets that answer relayed.
    injector
        .inject(
            Direction::Out,
            Opcode::Text,
            Bytes::from_static(b"{\"n\":1}"),
        )
        .expect("injected");
    assert_eq!(next_data(&mut ws).await, Message::text("{\"n\":1}"));

    // The client's own frames still pass both ways alongside.
    ws.send(Message::binary(vec![1u8, 2, 3]))
        .await
        .expect("send");
    assert_eq!(next_data(&mut ws).await, Message::binary(vec![1u8, 2, 3]));

    // A ping injected toward the client: its pong is reported and goes no further.
    injector
        .inject(
            Direction::In,
            Opcode::Ping,
            Bytes::from_static(b"are-you-there"),
        )
        .expect("injected");
    // tungstenite answers a ping as the client reads it, and sends the pong on the next flush.
    let ping = tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("ping in time");
    assert!(matches!(ping, Some(Ok(Message::Ping(p))) if p == "are-you-there".as_bytes()));
    ws.flush().await.expect("pong sent");
    collect(&mut rx, &mut seen, |s| {
        has(s, "relayed", Direction::Out, Opcode::Pong, b"are-you-there")
            && has(s, "relayed", Direction::In, Opcode::Binary, &[1, 2, 3])
    })
    .await;

    assert!(has(
        &seen,
        "injected",
        Direction::In,
        Opcode::Text,
        b"{\"from\":\"wsdeck\"}"
    ));
    assert!(has(
        &seen,
        "injected",
        Direction::Out,
        Opcode::Text,
        b"{\"n\":1}"
    ));
    assert!(has(
        &seen,
        "relayed",
        Direction::In,
        Opcode::Text,
        b"{\"n\":1}"
    ));
    assert!(has(
        &seen,
        "injected",
        Direction::In,
        Opcode::Ping,
        b"are-you-there"
    ));
    assert!(
        !has(
            &seen,
            "relayed",
            Direction::In,
            Opcode::Text,
            b"{\"from\":\"wsdeck\"}"
        ),
        "what went to the client was not sent by the agent"
    );
    // One numbering for relayed and injected frames, in the order they were written.
    let seqs: Vec<u64> = frames(&seen).iter().map(|(_, f)| f.seq).collect();
    let mut sorted = seqs.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), seqs.len(), "seq numbers are unique: {seqs:?}");

    // A close injected ends the conversation on both sides with its code.
    let mut close = 4001u16.to_be_bytes().to_vec();
    close.extend_from_slice(b"from the console");
    injector
        .inject(Direction::Out, Opcode::Close, Bytes::from(close))
        .expect("asked");
    let got = loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("close in time")
        {
            Some(Ok(Message::Close(cf))) => break cf,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    let cf = got.expect("a close frame with a code");
    assert_eq!(u16::from(cf.code), 4001);
    assert_eq!(cf.reason.as_str(), "from the console");
    collect(&mut rx, &mut seen, |s| {
        s.iter().any(|e| {
            matches!(
                e,
                ProxyEvent::Session {
                    event: SessionEvent::Ended,
                    ..
                }
            )
        })
    })
    .await;
    let closed = seen.iter().find_map(|e| match e {
        ProxyEvent::Session {
            event: SessionEvent::Closed { info, .. },
            ..
        } => Some(info.clone()),
        _ => None,
    });
    assert_eq!(closed.expect("closed").code, 4001);
    assert!(has(&seen, "relayed", Direction::Out, Opcode::Close, &{
        let mut p = 4001u16.to_be_bytes().to_vec();
        p.extend_from_slice(b"from the console");
        p
    }));
    // Once the relay ended, the injector says so.
    assert_eq!(
        injector.inject(Direction::Out, Opcode::Text, Bytes::from_static(b"late")),
        Err(InjectError::Ended)
    );
    proxy.shutdown().await;
}

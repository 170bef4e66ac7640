//! Misbehaving peers for the fault scenarios: raw TCP servers that answer (or refuse) the upgrade
//! by hand and write frames byte by byte, so opcodes, RSV bits, lengths, codes and timing are
//! exactly what a broken peer sends; and a collector of what one session reported.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use wsdeck::engine::session::{CloseInfo, SessionEvent};
use wsdeck::engine::{ConnectSpec, Frame, Target};

/// A raw peer on loopback; each connection is handed to the closure with its number (from 0).
pub struct RawServer {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl RawServer {
    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn raw_server<F, Fut>(peer: F) -> RawServer
where
    F: Fn(TcpStream, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let peer = Arc::new(peer);
    let task = tokio::spawn(async move {
        let mut n = 0;
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(peer(stream, n));
            n += 1;
        }
    });
    RawServer { addr, task }
}

/// The request head, up to and without the blank line.
pub async fn read_head(s: &mut TcpStream) -> Option<String> {
    let mut got = Vec::new();
    let mut b = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        if s.read(&mut b).await.ok()? == 0 {
            return None;
        }
        got.push(b[0]);
    }
    Some(String::from_utf8_lossy(&got).into_owned())
}

/// The accept key the request's `Sec-WebSocket-Key` asks for.
pub fn accept_for(head: &str) -> String {
    let key = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("sec-websocket-key")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes())
}

/// Answer the upgrade correctly; false when the client went away first.
pub async fn upgrade(s: &mut TcpStream) -> bool {
    let Some(head) = read_head(s).await else {
        return false;
    };
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: {}\r\n\r\n",
        accept_for(&head)
    );
    s.write_all(resp.as_bytes()).await.is_ok()
}

/// A server frame (unmasked) with this first byte (FIN, RSV, opcode) and payload.
pub fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![b0];
    match payload.len() {
        n if n < 126 => v.push(n as u8),
        n if n <= 0xffff => {
            v.push(126);
            v.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            v.push(127);
            v.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    v.extend_from_slice(payload);
    v
}

/// A close frame's payload: the code, then the reason's bytes (UTF-8 or not).
pub fn close_body(code: u16, reason: &[u8]) -> Vec<u8> {
    [&code.to_be_bytes()[..], reason].concat()
}

/// One frame from the client: its first byte and the unmasked payload.
pub async fn read_frame(s: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut h = [0u8; 2];
    s.read_exact(&mut h).await.ok()?;
    let len = match h[1] & 0x7f {
        126 => {
            let mut b = [0u8; 2];
            s.read_exact(&mut b).await.ok()?;
            u64::from(u16::from_be_bytes(b))
        }
        127 => {
            let mut b = [0u8; 8];
            s.read_exact(&mut b).await.ok()?;
            u64::from_be_bytes(b)
        }
        n => u64::from(n),
    };
    let mut mask = [0u8; 4];
    if h[1] & 0x80 != 0 {
        s.read_exact(&mut mask).await.ok()?;
    }
    let mut payload = vec![0u8; usize::try_from(len).ok()?];
    s.read_exact(&mut payload).await.ok()?;
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
    Some((h[0], payload))
}

/// Read until the client's close frame and answer it with 1000; the connection then ends.
pub async fn answer_close(s: &mut TcpStream) {
    while let Some((b0, _)) = read_frame(s).await {
        if b0 & 0x0f == 0x8 {
            let _ = s.write_all(&frame(0x88, &close_body(1000, b""))).await;
            return;
        }
    }
}

/// Upgrade, wait for the client's first frame, then write `bytes` as they are.
pub async fn after_first_frame(mut s: TcpStream, bytes: Vec<u8>) -> TcpStream {
    if upgrade(&mut s).await {
        let _ = read_frame(&mut s).await;
        let _ = s.write_all(&bytes).await;
    }
    s
}

/// A peer that completes the upgrade and never reads again.
pub async fn deaf() -> RawServer {
    raw_server(|mut s, _| async move {
        if upgrade(&mut s).await {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        drop(s);
    })
    .await
}

/// A peer that closes with this payload after the first frame, then reads until we hang up.
pub async fn closes_with(payload: Vec<u8>) -> RawServer {
    raw_server(move |s, _| {
        let payload = payload.clone();
        async move {
            let mut s = after_first_frame(s, frame(0x88, &payload)).await;
            while read_frame(&mut s).await.is_some() {}
        }
    })
    .await
}

/// After the first frame: a text frame whose bytes are not UTF-8 and, in the same write, a good
/// one (tungstenite has read past the bad one when it complains).
pub async fn invalid_text_peer(on_connect: bool) -> RawServer {
    raw_server(move |mut s, _| async move {
        let bytes = [frame(0x81, &[b'a', 0xc3, 0x28]), frame(0x81, b"after")].concat();
        if on_connect {
            if upgrade(&mut s).await {
                let _ = s.write_all(&bytes).await;
            }
        } else {
            s = after_first_frame(s, bytes).await;
        }
        while read_frame(&mut s).await.is_some() {}
    })
    .await
}

/// Connection 0 announces a frame of 64 MiB and one byte; later ones greet and echo.
pub async fn over_the_limit_then_fine() -> RawServer {
    raw_server(|mut s, n| async move {
        if !upgrade(&mut s).await {
            return;
        }
        if n == 0 {
            let mut head = vec![0x82, 127];
            head.extend_from_slice(&((64u64 << 20) + 1).to_be_bytes());
            head.extend_from_slice(&[0u8; 4096]);
            let _ = s.write_all(&head).await;
            while read_frame(&mut s).await.is_some() {}
            return;
        }
        let _ = s.write_all(&frame(0x81, b"welcome back")).await;
        while let Some((b0, p)) = read_frame(&mut s).await {
            match b0 & 0x0f {
                0x1 => {
                    let _ = s.write_all(&frame(0x81, &p)).await;
                }
                0x8 => {
                    let _ = s.write_all(&frame(0x88, &close_body(1000, b""))).await;
                    return;
                }
                _ => {}
            }
        }
    })
    .await
}

/// Everything one session reported until it closed (or failed, or ended).
#[derive(Default)]
pub struct Seen {
    pub frames: Vec<Frame>,
    pub warnings: Vec<String>,
    pub closed: Option<CloseInfo>,
    pub failed: Option<wsdeck::engine::diagnose::ConnectError>,
    pub opened: usize,
}

impl Seen {
    /// Take events until a close (or a failure, or the end).
    pub async fn until_close(&mut self, rx: &mut mpsc::Receiver<SessionEvent>) {
        loop {
            let ev = tokio::time::timeout(Duration::from_secs(30), rx.recv())
                .await
                .expect("no event within 30s");
            match ev {
                None | Some(SessionEvent::Ended) => return,
                Some(SessionEvent::Frames(f)) => self.frames.extend(f),
                Some(SessionEvent::Warning { message, .. }) => self.warnings.push(message),
                Some(SessionEvent::Opened { .. }) => self.opened += 1,
                Some(SessionEvent::Closed { info, .. }) => {
                    self.closed = Some(info);
                    return;
                }
                Some(SessionEvent::Failed { error, .. }) => {
                    self.failed = Some(error);
                    return;
                }
                Some(_) => {}
            }
        }
    }

    /// Take events until the session is open.
    pub async fn until_open(&mut self, rx: &mut mpsc::Receiver<SessionEvent>) {
        let before = self.opened;
        while self.opened == before {
            let ev = tokio::time::timeout(Duration::from_secs(30), rx.recv())
                .await
                .expect("no event within 30s");
            match ev {
                Some(SessionEvent::Opened { .. }) => self.opened += 1,
                Some(SessionEvent::Frames(f)) => self.frames.extend(f),
                Some(SessionEvent::Warning { message, .. }) => self.warnings.push(message),
                Some(SessionEvent::Failed { error, .. }) => panic!("connect failed: {error}"),
                None => panic!("the session ended before it opened"),
                Some(_) => {}
            }
        }
    }

    pub fn warned(&self, what: &str) -> bool {
        self.warnings.iter().any(|w| w.contains(what))
    }

    pub fn closed(&self) -> &CloseInfo {
        self.closed.as_ref().expect("closed")
    }
}

pub fn spec(url: &str) -> ConnectSpec {
    ConnectSpec::new(Target::url(url).expect("url"))
}

/// stderr as text.
pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

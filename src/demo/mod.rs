//! The built-in demo agent: a small JSON control vocabulary plus binary PCM, on loopback, so a
//! first run has real frames on every screen without Azure.
//!
//! Vocabulary (text frames, one JSON object each; `id` is echoed as `in_reply_to`):
//! - server → client on connect: `session.ready` (with the vocabulary it understands)
//! - `ping` → `pong`
//! - `echo {text}` → `echo.reply {text}`
//! - `count {to}` → `count.tick {n}` × to, then `count.done` (streamed, 50 ms apart)
//! - `tone {hz, ms}` → `audio.start {format, rate, channels}`, binary PCM 16-bit LE mono
//!   16 kHz in 20 ms chunks, then `audio.done`
//! - `malformed` → a text frame that is not JSON and a binary frame that is not UTF-8
//! - `close {code, reason}` → the server closes with that code
//! - `raise` → close 1011 "Internal server error", as the agentserver SDK does
//! - `drop` → the TCP connection is cut with no close frame (1006)
//! - binary from the client → `audio.received {bytes}`
//! - anything else → `error {code, message}`
//!
//! Unless the URL has `?quiet=1`, the server also sends `metrics` every 2 s, and every fifth
//! one comes malformed (cut-off JSON), followed by a non-UTF-8 binary frame.
//!
//! With a log directory, it also keeps "container logs" the way a hosted agent's look through
//! `azd ai agent monitor` (`HH:MM:SS  stream  message`), one file per `agent_session_id`, so
//! the logs pane has something true to show without Azure: `raise` leaves a traceback there.

mod pcm;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

pub use pcm::tone_chunk;

/// The vocabulary the demo announces in `session.ready`.
pub const VOCABULARY: [&str; 8] = [
    "ping",
    "echo",
    "count",
    "tone",
    "malformed",
    "close",
    "raise",
    "drop",
];

/// A running demo agent.
pub struct DemoServer {
    pub addr: SocketAddr,
    /// Where each session's container log goes (`{dir}/{agent_session_id}.log`).
    pub log_dir: Option<PathBuf>,
    task: tokio::task::JoinHandle<()>,
}

impl DemoServer {
    pub fn url(&self) -> String {
        format!("ws://{}/invocations_ws", self.addr)
    }

    /// A log source template (`cmd:…`) that follows a session's container log.
    pub fn log_source(&self) -> Option<String> {
        let dir = self.log_dir.as_ref()?.to_string_lossy().into_owned();
        let file = format!("{dir}/{{session_id}}.log");
        let quoted = shlex::try_quote(&file).ok()?.into_owned();
        Some(format!("cmd:tail -n +1 -F {quoted}"))
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Bind `127.0.0.1:port` (0 = any free port) and serve until dropped.
pub async fn start(port: u16) -> std::io::Result<DemoServer> {
    start_with_logs(port, None).await
}

/// As `start`, keeping each session's container log in `log_dir`.
pub async fn start_with_logs(port: u16, log_dir: Option<PathBuf>) -> std::io::Result<DemoServer> {
    if let Some(d) = &log_dir {
        crate::private::create_dir_all(d)?;
    }
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let dir = log_dir.clone();
    let task = tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    let dir = dir.clone();
                    tokio::spawn(async move {
                        if let Err(e) = serve_one(stream, dir).await {
                            tracing::debug!("demo connection from {peer}: {e}");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!("demo accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    });
    Ok(DemoServer {
        addr,
        log_dir,
        task,
    })
}

/// One session's container log, in `azd ai agent monitor`'s format. Writing is best effort: a
/// demo that cannot log still serves.
struct ContainerLog(Option<std::fs::File>);

impl ContainerLog {
    fn open(dir: Option<&Path>, session_id: Option<&str>) -> Self {
        let name = session_id
            .filter(|s| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            })
            .unwrap_or("no-session");
        ContainerLog(
            dir.and_then(|d| crate::private::append_file(&d.join(format!("{name}.log"))).ok()),
        )
    }

    fn line(&mut self, stream: &str, message: &str) {
        use std::io::Write;
        if let Some(f) = &mut self.0 {
            let t = time::OffsetDateTime::now_utc();
            let _ = writeln!(
                f,
                "{:02}:{:02}:{:02}  {stream}  {message}",
                t.hour(),
                t.minute(),
                t.second()
            );
        }
    }
}

type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

/// The path of a plain HTTP request (no `Upgrade: websocket`), looked at without consuming it.
async fn plain_http_request(stream: &TcpStream) -> Option<String> {
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let n = tokio::time::timeout_at(deadline, stream.peek(&mut buf))
            .await
            .ok()?
            .ok()?;
        let head = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
        if let Some(end) = head.find("\r\n\r\n") {
            let head = &head[..end];
            if head.contains("upgrade: websocket") {
                return None;
            }
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            return Some(path);
        }
        if n == buf.len() || n == 0 {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

async fn answer_plain_http(mut stream: TcpStream, path: &str) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let (status, body) = if path.starts_with("/readiness") {
        ("200 OK", r#"{"status":"healthy"}"#)
    } else if path.starts_with("/invocations/docs/asyncapi") {
        (
            "404 Not Found",
            r#"{"error":{"code":"not_found","message":"No AsyncAPI (JSON) spec registered"}}"#,
        )
    } else {
        (
            "404 Not Found",
            r#"{"error":{"code":"not_found","message":"Not found"}}"#,
        )
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(reply.as_bytes()).await?;
    stream.shutdown().await
}

// tungstenite's accept callback returns its own large error type.
#[allow(clippy::result_large_err)]
async fn serve_one(
    stream: TcpStream,
    log_dir: Option<PathBuf>,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    let _ = stream.set_nodelay(true);
    // Like the SDK's host: plain HTTP gets its routes (readiness, and a 404 for the AsyncAPI
    // document the demo does not publish), so `:discover` and `wsdeck discover` say so plainly.
    if let Some(path) = plain_http_request(&stream).await {
        let _ = answer_plain_http(stream, &path).await;
        return Ok(());
    }
    let mut quiet = false;
    let mut session_id: Option<String> = None;
    let callback = |req: &Request, resp: Response| {
        let query = req.uri().query().unwrap_or_default();
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("quiet", v)) => quiet = v == "1" || v == "true",
                Some(("agent_session_id", v)) => session_id = Some(v.to_string()),
                _ => {}
            }
        }
        Ok(resp)
    };
    let cfg = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(16 << 20))
        .max_frame_size(Some(16 << 20));
    let mut ws =
        tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(cfg)).await?;
    let mut log = ContainerLog::open(log_dir.as_deref(), session_id.as_deref());
    log.line(
        "stdout",
        &format!(
            "INFO: websocket accepted on /invocations_ws (agent_session_id={})",
            session_id.as_deref().unwrap_or("none")
        ),
    );
    let started = Instant::now();
    let mut seq = 0u64;
    let mut next_id = || {
        seq += 1;
        format!("d_{seq}")
    };
    ws.send(text(json!({
        "type": "session.ready",
        "id": next_id(),
        "ts": now(),
        "agent_session_id": session_id,
        "protocol": "wsdeck-demo/1",
        "understands": VOCABULARY,
    })))
    .await?;
    let mut ticker = tokio::time::interval(Duration::from_secs(2));
    ticker.tick().await;
    let mut ticks = 0u64;
    loop {
        tokio::select! {
            _ = ticker.tick(), if !quiet => {
                ticks += 1;
                let body = json!({
                    "type": "metrics",
                    "id": next_id(),
                    "ts": now(),
                    "uptime_ms": started.elapsed().as_millis() as u64,
                    "tick": ticks,
                });
                if ticks.is_multiple_of(5) {
                    // A frame that breaks JSON, then bytes that break UTF-8: what real agents do
                    // on a bad day.
                    let s = body.to_string();
                    ws.send(Message::Text(s[..s.len() / 2].to_string().into())).await?;
                    ws.send(Message::Binary(Bytes::from_static(&[0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80]))).await?;
                } else {
                    ws.send(text(body)).await?;
                }
            }
            msg = ws.next() => {
                let Some(msg) = msg else { return Ok(()) };
                match msg? {
                    Message::Text(t) => {
                        let go_on = handle_text(&mut ws, t.as_str(), &mut next_id, &mut log).await?;
                        if !go_on {
                            return Ok(());
                        }
                    }
                    Message::Binary(b) => {
                        ws.send(text(json!({"type": "audio.received", "id": next_id(), "ts": now(), "bytes": b.len()}))).await?;
                    }
                    Message::Close(_) => {
                        log.line("stdout", "INFO: the client closed the websocket");
                        while let Some(Ok(_)) = ws.next().await {}
                        return Ok(());
                    }
                    _ => {}
                }
            }
        }
    }
}

fn text(v: Value) -> Message {
    Message::Text(v.to_string().into())
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Answer one text frame; false when the connection is over.
async fn handle_text(
    ws: &mut Ws,
    t: &str,
    next_id: &mut impl FnMut() -> String,
    log: &mut ContainerLog,
) -> Result<bool, tokio_tungstenite::tungstenite::Error> {
    let v: Value = match serde_json::from_str(t) {
        Ok(v) => v,
        Err(e) => {
            ws.send(text(json!({
                "type": "error", "id": next_id(), "ts": now(),
                "code": "bad_json", "message": e.to_string(), "line": e.line(), "column": e.column(),
            })))
            .await?;
            return Ok(true);
        }
    };
    let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
    let reply_to = v.get("id").cloned().unwrap_or(Value::Null);
    log.line("stdout", &format!("INFO: handling {kind:?}"));
    match kind {
        "ping" => {
            ws.send(text(
                json!({"type": "pong", "id": next_id(), "ts": now(), "in_reply_to": reply_to}),
            ))
            .await?;
        }
        "echo" => {
            ws.send(text(json!({"type": "echo.reply", "id": next_id(), "ts": now(), "in_reply_to": reply_to, "text": v.get("text").cloned().unwrap_or(Value::Null)})))
                .await?;
        }
        "count" => {
            let to = v.get("to").and_then(Value::as_u64).unwrap_or(5).min(1000);
            for n in 1..=to {
                ws.send(text(json!({"type": "count.tick", "id": next_id(), "ts": now(), "in_reply_to": reply_to, "n": n})))
                    .await?;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            ws.send(text(json!({"type": "count.done", "id": next_id(), "ts": now(), "in_reply_to": reply_to, "count": to})))
                .await?;
        }
        "tone" => {
            let hz = v
                .get("hz")
                .and_then(Value::as_f64)
                .unwrap_or(440.0)
                .clamp(20.0, 8000.0);
            let ms = v
                .get("ms")
                .and_then(Value::as_u64)
                .unwrap_or(400)
                .min(10_000);
            ws.send(text(json!({"type": "audio.start", "id": next_id(), "ts": now(), "in_reply_to": reply_to, "format": "pcm16le", "rate": pcm::RATE, "channels": 1, "hz": hz})))
                .await?;
            let chunks = ms.div_ceil(pcm::CHUNK_MS);
            for i in 0..chunks {
                ws.send(Message::Binary(Bytes::from(tone_chunk(hz, i))))
                    .await?;
            }
            ws.send(text(json!({"type": "audio.done", "id": next_id(), "ts": now(), "in_reply_to": reply_to, "chunks": chunks})))
                .await?;
        }
        "malformed" => {
            ws.send(Message::Text("{\"type\":\"oops\", \"missing\": }".into()))
                .await?;
            ws.send(Message::Binary(Bytes::from_static(&[
                0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1,
            ])))
            .await?;
        }
        "close" | "raise" => {
            if kind == "raise" {
                for l in [
                    "ERROR: WebSocket handler raised; closing with 1011",
                    "Traceback (most recent call last):",
                    "  File \"demo_agent.py\", line 88, in handle",
                    "    raise RuntimeError(\"raise requested by the client\")",
                    "RuntimeError: raise requested by the client",
                ] {
                    log.line("stderr", l);
                }
            }
            let (code, reason) = if kind == "raise" {
                (1011, "Internal server error".to_string())
            } else {
                (
                    v.get("code")
                        .and_then(Value::as_u64)
                        .and_then(|c| u16::try_from(c).ok())
                        .unwrap_or(1000),
                    v.get("reason")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                )
            };
            ws.close(Some(CloseFrame {
                code: CloseCode::from(code),
                reason: reason.into(),
            }))
            .await?;
            while let Some(Ok(_)) = ws.next().await {}
            return Ok(false);
        }
        "drop" => {
            log.line(
                "stderr",
                "FATAL: worker killed (SIGKILL); the socket closes without a close frame",
            );
            return Ok(false);
        }
        other => {
            ws.send(text(json!({
                "type": "error", "id": next_id(), "ts": now(), "in_reply_to": reply_to,
                "code": "unknown_type",
                "message": format!("unknown type {other:?}; this agent understands {}", VOCABULARY.join(", ")),
            })))
            .await?;
        }
    }
    Ok(true)
}

//! The HTTP side of a client's upgrade: reading its request head (bounded in size and time),
//! and the plain answers: 101 with the agent's subprotocol, or a status with a short body.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::handshake::machine::TryParse;
use tokio_tungstenite::tungstenite::handshake::server::Request;

/// The most a request head may take: browsers send well under 4 KiB.
const MAX_HEAD: usize = 16 * 1024;

pub(super) enum Head {
    /// The request, and whatever the client sent after it (frames sent too early).
    Request(Box<Request>, Vec<u8>),
    /// The connection closed before a byte came (a port check).
    Nothing,
}

#[derive(Debug)]
pub(super) enum HeadError {
    /// Over `MAX_HEAD`: 431.
    TooLarge,
    /// Not HTTP, or a request tungstenite cannot take: 400.
    Bad(String),
    /// The connection ended or failed mid-request: nobody to answer.
    Cut,
}

/// Read up to the end of the request head. The caller bounds the time.
pub(super) async fn read_head(tcp: &mut TcpStream) -> Result<Head, HeadError> {
    let mut buf: Vec<u8> = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    loop {
        let n = tcp.read(&mut chunk).await.map_err(|_| HeadError::Cut)?;
        if n == 0 {
            return if buf.is_empty() {
                Ok(Head::Nothing)
            } else {
                Err(HeadError::Cut)
            };
        }
        buf.extend_from_slice(&chunk[..n]);
        match Request::try_parse(&buf) {
            Ok(Some((len, req))) => {
                let rest = buf.split_off(len);
                return Ok(Head::Request(Box::new(req), rest));
            }
            Ok(None) if buf.len() >= MAX_HEAD => return Err(HeadError::TooLarge),
            Ok(None) => {}
            Err(e) => return Err(HeadError::Bad(e.to_string())),
        }
    }
}

/// Whether a tungstenite handshake error means "this is not an upgrade at all" (426) rather
/// than a malformed one (400).
pub(super) fn is_not_an_upgrade(e: &tungstenite::Error) -> bool {
    use tungstenite::error::ProtocolError as P;
    matches!(
        e,
        tungstenite::Error::Protocol(
            P::MissingConnectionUpgradeHeader | P::MissingUpgradeWebSocketHeader
        )
    )
}

/// Every value of header `name`, as text (values that are not text are skipped).
pub(super) fn header_values<'a>(req: &'a Request, name: &str) -> Vec<&'a str> {
    req.headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

/// The subprotocols a client offered, in its order (one header or several, comma-separated).
pub(super) fn offered_subprotocols(req: &Request) -> Vec<String> {
    header_values(req, "sec-websocket-protocol")
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// `agent_session_id` from the request's query string (percent-decoded), when not empty.
pub(super) fn query_session_id(req: &Request) -> Option<String> {
    let query = req.uri().query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "agent_session_id")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

/// Path and query for display, credential-like query values redacted.
pub(super) fn path_for_display(req: &Request) -> String {
    let pq = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let shown = crate::engine::redact::url_for_display(&format!("ws://proxy{pq}"));
    shown
        .strip_prefix("ws://proxy")
        .map(str::to_string)
        .unwrap_or(shown)
}

/// Answer the upgrade with 101: the accept key for the client's, and the agent's subprotocol
/// when it chose one. No extension is ever answered, so frames pass as they are.
pub(super) async fn switch_protocols(
    tcp: &mut TcpStream,
    req: &Request,
    subprotocol: Option<&str>,
) -> Result<(), std::io::Error> {
    let mut resp =
        tungstenite::handshake::server::create_response(req).map_err(std::io::Error::other)?;
    if let Some(p) = subprotocol {
        let v = http::HeaderValue::from_str(p).map_err(std::io::Error::other)?;
        resp.headers_mut()
            .insert(http::header::SEC_WEBSOCKET_PROTOCOL, v);
    }
    let mut head = Vec::with_capacity(256);
    tungstenite::handshake::server::write_response(&mut head, &resp)
        .map_err(std::io::Error::other)?;
    tcp.write_all(&head).await
}

/// Answer with `status` and a short text body, then close the connection.
pub(super) async fn refuse(tcp: &mut TcpStream, status: u16, body: &str) {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let mut extra = "";
    if status == 426 {
        extra = "upgrade: websocket\r\nsec-websocket-version: 13\r\n";
    }
    let resp = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\n{extra}connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tcp.write_all(resp.as_bytes()).await;
    let _ = tcp.shutdown().await;
    // Read what the client still sends until it hangs up (briefly): closing with unread bytes
    // would reset the connection, and a reset can discard the answer before the client reads it.
    let mut sink = [0u8; 1024];
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), async {
        while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

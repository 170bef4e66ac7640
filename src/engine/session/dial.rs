//! Dialing: the request and its headers (the token among them), then DNS, TCP, TLS and the
//! upgrade, each step's failure its own diagnosis.

use super::wire::{CloseWatch, Follow, Tap};
use super::{Handshake, Socket};
use crate::engine::auth::{AuthSource, TokenProvider};
use crate::engine::diagnose::{ConnectError, MAX_REFUSAL_BODY, Refusal};
use crate::engine::redact::{header_value_for_display, url_for_display};
use crate::engine::target::ConnectSpec;
use crate::engine::tls::{self, TlsProblem};
use tokio::net::TcpStream;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Bytes tungstenite gathers before writing to the socket (a flush writes all at once anyway).
/// Four times its default: the proxy relays 64 KiB frames in batches, and at 128 KiB every second
/// frame cost a write of its own (`cargo bench --bench proxy`: 64 KiB floods 1.3–1.5x websocat's
/// bridge against 1.0–1.1x). Reads keep the default: a larger read buffer is prepared on every
/// read and cost the round trip more than it gained.
pub const WRITE_BUFFER: usize = 512 << 10;

/// What a failed dial leaves: the diagnosis, and the request that was tried (redacted), as a
/// session's `SessionEvent::Failed` carries them.
pub(crate) type DialFailure = (ConnectError, Option<(String, Vec<(String, String)>)>);

/// The proxy's way in (`crate::proxy::upstream`): the very dial a session makes (the spec's URL,
/// headers, subprotocols and token, then DNS, TCP, TLS with the user's CA, the upgrade, and each
/// step's diagnosis), handing back the upgraded socket and what the handshake looked like, so
/// the proxy relays frames on it without a session actor in between.
pub(crate) async fn dial(
    spec: &ConnectSpec,
    tokens: &TokenProvider,
) -> Result<(Socket, Handshake, CloseWatch), DialFailure> {
    let url = spec.request_url();
    let mut shown_request = None;
    // A relay passes frames on as they are; it only needs the close the peer really sent.
    let watch = CloseWatch::default();
    open(
        spec,
        tokens,
        &url,
        &mut shown_request,
        Follow::Closes(watch.clone()),
    )
    .await
    .map(|(socket, handshake)| (socket, handshake, watch))
    .map_err(|e| (e, shown_request))
}

/// Resolve, connect, TLS, upgrade: each step's failure is its own diagnosis. The socket's reads
/// are followed frame by frame (`wire.rs`), as `follow_wire` says.
pub(super) async fn open(
    spec: &ConnectSpec,
    tokens: &TokenProvider,
    url: &str,
    shown_request: &mut Option<(String, Vec<(String, String)>)>,
    follow_wire: Follow,
) -> Result<(Socket, Handshake), ConnectError> {
    use crate::engine::target::TargetError;
    let mut request = url.into_client_request().map_err(|e| TargetError::BadUrl {
        url: url_for_display(url),
        why: e.to_string(),
    })?;
    let parsed = url::Url::parse(url).map_err(|e| TargetError::BadUrl {
        url: url_for_display(url),
        why: e.to_string(),
    })?;
    let host = parsed
        .host_str()
        .ok_or_else(|| TargetError::BadUrl {
            url: url_for_display(url),
            why: "it has no host".into(),
        })?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let secure = parsed.scheme() == "wss";
    let port = parsed.port().unwrap_or(if secure { 443 } else { 80 });

    let headers = request.headers_mut();
    let mut extra = spec.target.extra_headers();
    extra.extend(spec.headers.iter().cloned());
    for (name, value) in &extra {
        let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) else {
            return Err(TargetError::BadHeader {
                header: name.clone(),
                why: "not a valid header".into(),
            }
            .into());
        };
        headers.append(n, v);
    }
    if !spec.subprotocols.is_empty() {
        let joined = spec.subprotocols.join(", ");
        let v = http::HeaderValue::from_str(&joined).map_err(|_| TargetError::BadHeader {
            header: "Sec-WebSocket-Protocol".into(),
            why: format!("bad subprotocol list {joined:?}"),
        })?;
        headers.insert(http::header::SEC_WEBSOCKET_PROTOCOL, v);
    }
    let has_auth_header = headers.contains_key(http::header::AUTHORIZATION);
    // Kept (shared, wiped on drop) so a refusal that quotes the token back can be scrubbed.
    let mut sent_token: Option<crate::engine::redact::Secret> = None;
    if !has_auth_header && spec.auth != AuthSource::None {
        let token = tokens.token().await?;
        if let Some(token) = token {
            sent_token = Some(token.clone());
            let mut v = token.bearer_header().map_err(|_| {
                crate::engine::auth::AuthError::CommandFailed {
                    status: "token rejected".into(),
                    stderr: "the token has characters a header cannot carry".into(),
                }
            })?;
            v.set_sensitive(true);
            headers.insert(http::header::AUTHORIZATION, v);
        }
    }
    let request_shown: Vec<(String, String)> = display_headers(request.headers());
    *shown_request = Some((url_for_display(url), request_shown.clone()));

    let timeout = spec.connect_timeout;
    let addrs: Vec<std::net::SocketAddr> =
        match tokio::time::timeout(timeout, tokio::net::lookup_host((host.as_str(), port))).await {
            Err(_) => {
                return Err(ConnectError::Timeout {
                    phase: "resolving the host name",
                    after: timeout,
                });
            }
            Ok(Err(e)) => {
                return Err(ConnectError::Dns {
                    host: host.clone(),
                    message: e.to_string(),
                });
            }
            Ok(Ok(a)) => a.collect(),
        };
    if addrs.is_empty() {
        return Err(ConnectError::Dns {
            host,
            message: "no address".into(),
        });
    }
    let mut tcp = None;
    let mut last_err = String::new();
    for addr in &addrs {
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                tcp = Some(s);
                break;
            }
            Ok(Err(e)) => last_err = format!("{addr}: {e}"),
            Err(_) => {
                return Err(ConnectError::Timeout {
                    phase: "opening the TCP connection",
                    after: timeout,
                });
            }
        }
    }
    let Some(tcp) = tcp else {
        return Err(ConnectError::Tcp {
            addr: format!("{host}:{port}"),
            message: last_err,
        });
    };
    let _ = tcp.set_nodelay(true);

    // TLS is ours rather than tungstenite's, so the tap on reads sits above it (it must see
    // frames, not ciphertext) and a refused certificate comes back as rustls's own error.
    let stream = if secure {
        let config = tls::client_config(spec.ca_cert.as_deref())?;
        let name = rustls::pki_types::ServerName::try_from(host.clone()).map_err(|e| {
            TargetError::BadUrl {
                url: url_for_display(url),
                why: format!("{host} is not a name TLS can check: {e}"),
            }
        })?;
        let connect = tokio_rustls::TlsConnector::from(config).connect(name, tcp);
        match tokio::time::timeout(timeout, connect).await {
            Err(_) => {
                return Err(ConnectError::Timeout {
                    phase: "in the TLS handshake",
                    after: timeout,
                });
            }
            Ok(Err(e)) => {
                return Err(ConnectError::Tls {
                    host,
                    problem: TlsProblem::from_io(&e),
                });
            }
            Ok(Ok(s)) => MaybeTlsStream::Rustls(s),
        }
    } else {
        MaybeTlsStream::Plain(tcp)
    };
    let mut config = WebSocketConfig::default().write_buffer_size(WRITE_BUFFER);
    config = config
        .max_message_size(spec.max_message_size)
        .max_frame_size(spec.max_message_size);
    let upgrade = tokio_tungstenite::client_async_with_config(
        request,
        Tap::new(stream, follow_wire),
        Some(config),
    );
    let (ws, response) = match tokio::time::timeout(timeout, upgrade).await {
        Err(_) => {
            return Err(ConnectError::Timeout {
                phase: "waiting for the server to answer the upgrade",
                after: timeout,
            });
        }
        Ok(Ok(pair)) => pair,
        Ok(Err(e)) => return Err(handshake_error(e, &host, sent_token.as_ref())),
    };
    let response_headers: Vec<(String, String)> = display_headers(response.headers());
    let platform_session_id = response
        .headers()
        .get("x-agent-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let subprotocol = response
        .headers()
        .get(http::header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    Ok((
        ws,
        Handshake {
            url: url_for_display(url),
            request_headers: request_shown,
            status: response.status().as_u16(),
            response_headers,
            platform_session_id,
            subprotocol,
        },
    ))
}

fn handshake_error(
    e: tungstenite::Error,
    host: &str,
    token: Option<&crate::engine::redact::Secret>,
) -> ConnectError {
    use tungstenite::Error as E;
    let secrets: Vec<&crate::engine::redact::Secret> = token.into_iter().collect();
    match e {
        E::Http(resp) => {
            let status = resp.status();
            // A server may quote what it was sent (a 401 echoing the header): never show it.
            let headers: Vec<(String, String)> = display_headers(resp.headers())
                .into_iter()
                .map(|(k, v)| (k, crate::engine::redact::scrub(&v, &secrets)))
                .collect();
            let declared_len = resp
                .headers()
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<usize>().ok());
            // Scrubbed before it is cut, so no token is left half in.
            let mut body = scrub_bytes(resp.body().clone().unwrap_or_default(), &secrets);
            body.truncate(MAX_REFUSAL_BODY);
            ConnectError::Refused {
                refusal: Box::new(Refusal {
                    status: status.as_u16(),
                    reason: status.canonical_reason().unwrap_or("").to_string(),
                    headers,
                    body,
                    declared_len,
                }),
            }
        }
        E::Io(io) => ConnectError::Tcp {
            addr: host.to_string(),
            message: format!("the connection failed during the upgrade: {io}"),
        },
        E::Protocol(p) => ConnectError::Handshake {
            message: p.to_string(),
        },
        other => ConnectError::Handshake {
            message: other.to_string(),
        },
    }
}

/// `body` without any of `secrets` in it (each replaced by `<redacted>`); bytes that are not
/// UTF-8 stay as they are.
fn scrub_bytes(body: Vec<u8>, secrets: &[&crate::engine::redact::Secret]) -> Vec<u8> {
    let mut body = zeroize::Zeroizing::new(body);
    for s in secrets {
        let needle = s.expose().as_bytes();
        if needle.len() < 8 {
            continue;
        }
        while let Some(at) = memchr::memmem::find(&body, needle) {
            let mut out = zeroize::Zeroizing::new(Vec::with_capacity(body.len()));
            out.extend_from_slice(&body[..at]);
            out.extend_from_slice(b"<redacted>");
            out.extend_from_slice(&body[at + needle.len()..]);
            body = out;
        }
    }
    std::mem::take(&mut *body)
}

/// Headers as they may be shown: names lower-cased as sent, credentials redacted.
fn display_headers(h: &http::HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| {
            let value = String::from_utf8_lossy(v.as_bytes());
            (k.to_string(), header_value_for_display(k.as_str(), &value))
        })
        .collect()
}

//! One client, from its request to its close: read the upgrade request, turn away what does not
//! belong, dial the agent, answer the client with the agent's answer, relay.

use super::guard::OriginGuard;
use super::http::{self, Head, HeadError};
use super::relay::{Relay, abnormal};
use super::{ClientRequest, ProxyEvent, upstream};
use crate::engine::auth::TokenProvider;
use crate::engine::redact::url_for_display;
use crate::engine::session::{CloseInfo, SessionEvent};
use crate::engine::target::ConnectSpec;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

/// How long a client may take to send its request head.
const HEAD_WAIT: Duration = Duration::from_secs(10);

/// What every client task shares.
pub(super) struct Shared {
    pub(super) spec: ConnectSpec,
    pub(super) guard: OriginGuard,
    pub(super) tokens: Arc<TokenProvider>,
    pub(super) t0: Instant,
    pub(super) events: mpsc::Sender<ProxyEvent>,
    pub(super) stopped: watch::Receiver<bool>,
    pub(super) next_client: AtomicU64,
}

impl Shared {
    fn at(&self) -> Duration {
        self.t0.elapsed()
    }

    async fn emit(&self, event: ProxyEvent) {
        let _ = self.events.send(event).await;
    }

    async fn session(&self, client: u64, event: SessionEvent) {
        self.emit(ProxyEvent::Session { client, event }).await;
    }

    /// Answer `status` with `body` and report why.
    async fn reject(&self, tcp: &mut TcpStream, client: u64, status: u16, why: String, body: &str) {
        let at = self.at();
        self.emit(ProxyEvent::Rejected {
            client,
            at,
            status,
            why,
        })
        .await;
        http::refuse(tcp, status, body).await;
    }
}

/// Serve one accepted connection to its end.
pub(super) async fn serve(mut tcp: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let _ = tcp.set_nodelay(true);
    let head = tokio::time::timeout(HEAD_WAIT, http::read_head(&mut tcp)).await;
    // A connection that never sends a request (a port check) gets no number.
    let (req, rest) = match head {
        Err(_) | Ok(Ok(Head::Nothing)) | Ok(Err(HeadError::Cut)) => return,
        Ok(Ok(Head::Request(req, rest))) => (req, rest),
        Ok(Err(HeadError::TooLarge)) => {
            let client = number(&shared);
            let why = "the request head is over 16 KiB".to_string();
            let body = format!("wsdeck proxy: {why}\n");
            shared.reject(&mut tcp, client, 431, why, &body).await;
            return;
        }
        Ok(Err(HeadError::Bad(e))) => {
            let client = number(&shared);
            let why = format!("not a WebSocket upgrade request: {e}");
            let body = format!("wsdeck proxy: {why}\n");
            shared.reject(&mut tcp, client, 400, why, &body).await;
            return;
        }
    };
    let client = number(&shared);
    let origins = http::header_values(&req, "origin");
    let request = ClientRequest {
        peer,
        path: http::path_for_display(&req),
        origin: origins.first().map(|o| o.to_string()),
        user_agent: http::header_values(&req, "user-agent")
            .first()
            .map(|u| u.to_string()),
        subprotocols: http::offered_subprotocols(&req),
        agent_session_id: http::query_session_id(&req),
    };
    let at = shared.at();
    shared
        .emit(ProxyEvent::Request {
            client,
            at,
            request: request.clone(),
        })
        .await;

    if let Err(e) = tokio_tungstenite::tungstenite::handshake::server::create_response(&req) {
        let (status, why) = if http::is_not_an_upgrade(&e) {
            (
                426,
                "not a WebSocket upgrade (this is a WebSocket endpoint)".to_string(),
            )
        } else {
            (400, format!("a malformed WebSocket upgrade: {e}"))
        };
        let body = format!("wsdeck proxy: {why}\n");
        shared.reject(&mut tcp, client, status, why, &body).await;
        return;
    }
    if let Err(origin) = shared.guard.check(&origins) {
        let why = format!("Origin {origin} is not allowed");
        let body = format!(
            "wsdeck proxy: Origin {origin} is not allowed. Pages on this machine (http(s)://localhost, 127.0.0.1 or [::1], any port) may connect; to let this one in, start the proxy with --allow-origin {origin}\n"
        );
        shared.reject(&mut tcp, client, 403, why, &body).await;
        return;
    }

    let spec = upstream::client_spec(
        &shared.spec,
        request.agent_session_id.clone(),
        request.subprotocols.clone(),
    );
    let at = shared.at();
    shared
        .session(
            client,
            SessionEvent::Connecting {
                at,
                wall: SystemTime::now(),
                url: url_for_display(&spec.request_url()),
                session_id: spec.session_id.clone(),
            },
        )
        .await;
    let (upstream, handshake, wire) = match upstream::open(&spec, &shared.tokens).await {
        Ok(opened) => opened,
        Err((error, tried)) => {
            let (status, body) = upstream::status_for(&error);
            let at = shared.at();
            shared
                .session(
                    client,
                    SessionEvent::Failed {
                        at,
                        error,
                        request: tried,
                    },
                )
                .await;
            http::refuse(&mut tcp, status, &body).await;
            shared.session(client, SessionEvent::Ended).await;
            return;
        }
    };
    if let Err(e) = http::switch_protocols(&mut tcp, &req, handshake.subprotocol.as_deref()).await {
        // The client left while the agent was being dialed: the agent sees a dropped connection,
        // as it would have.
        let at = shared.at();
        shared
            .session(
                client,
                SessionEvent::Warning {
                    at,
                    message: format!("the client left before its upgrade was answered: {e}"),
                },
            )
            .await;
        finish(&shared, client, abnormal()).await;
        return;
    }
    let (injector, injections) = super::inject::channel();
    shared.emit(ProxyEvent::Attached { client, injector }).await;
    let at = shared.at();
    shared
        .session(client, SessionEvent::Opened { at, handshake })
        .await;
    let config = WebSocketConfig::default()
        .write_buffer_size(crate::engine::session::WRITE_BUFFER)
        .max_message_size(spec.max_message_size)
        .max_frame_size(spec.max_message_size);
    let ws = WebSocketStream::from_partially_read(tcp, rest, Role::Server, Some(config)).await;
    let relay = Relay::new(client, shared.t0, &shared.events).with_wire(wire);
    let info = relay
        .run(ws, upstream, shared.stopped.clone(), injections)
        .await;
    finish(&shared, client, info).await;
}

fn number(shared: &Shared) -> u64 {
    shared.next_client.fetch_add(1, Ordering::Relaxed) + 1
}

async fn finish(shared: &Shared, client: u64, info: CloseInfo) {
    let at = shared.at();
    shared
        .session(client, SessionEvent::Closed { at, info })
        .await;
    shared.session(client, SessionEvent::Ended).await;
}

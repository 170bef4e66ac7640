//! `wsdeck proxy`: a local WebSocket endpoint for the user's own client (a browser page, an app).
//! For each client it dials the target first, with the token added as a session would, then
//! answers the client's upgrade with the agent's answer, and relays every frame unchanged both
//! ways, reporting what passes as the events a session reports, numbered per client.
//!
//! Headless: no terminal code. The CLI prints the events (`cli::proxy`); the console can show each
//! client as a session of its own from the same events.

mod client;
mod guard;
mod http;
mod inject;
mod listener;
mod relay;
mod relay_end;
mod upstream;
mod wire_close;

pub use guard::{OriginGuard, check_listen, is_local_origin};
pub use inject::{InjectError, Injector};

use crate::engine::auth::TokenProvider;
use crate::engine::session::SessionEvent;
use crate::engine::target::ConnectSpec;
use crate::exit;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use thiserror::Error;
use tokio::sync::{mpsc, watch};

/// Where the proxy listens unless `--listen` says otherwise: loopback, next to the agentserver
/// SDK's 8088.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8089);

/// What to proxy and how to listen.
#[derive(Debug, Clone)]
pub struct ProxyOptions {
    /// The target every client is relayed to; its `agent_session_id` is used for clients that
    /// bring none in their query string.
    pub spec: ConnectSpec,
    pub listen: SocketAddr,
    /// `--allow-origin` values: origins let in besides pages on this machine (`null` included).
    pub allow_origins: Vec<String>,
    /// `--allow-remote`: listen on a non-loopback address.
    pub allow_remote: bool,
}

/// What a client's upgrade request asked for (secrets redacted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequest {
    pub peer: SocketAddr,
    /// Path and query as the client sent them, credential-like query values redacted.
    pub path: String,
    pub origin: Option<String>,
    pub user_agent: Option<String>,
    /// The subprotocols the client offered (offered upstream as they are).
    pub subprotocols: Vec<String>,
    /// `agent_session_id` from the client's query string, when it gave one.
    pub agent_session_id: Option<String>,
}

/// What the proxy reports. Times (`at`, frame offsets) are from the proxy's start
/// (`ProxyHandle::started`); `client` numbers connections from 1 in the order their requests
/// arrived.
#[derive(Debug)]
pub enum ProxyEvent {
    /// A client's upgrade request arrived; nothing has been dialed yet.
    Request {
        client: u64,
        at: Duration,
        request: ClientRequest,
    },
    /// The client was answered with `status` before anything was dialed: a foreign `Origin`, or
    /// a request that is not a WebSocket upgrade.
    Rejected {
        client: u64,
        at: Duration,
        status: u16,
        why: String,
    },
    /// What the client's session reports, as a session actor does: `Connecting` (the dial to the
    /// target), `Opened` (the target's handshake; the client has been answered with it),
    /// `Frames` (`Out` = client to agent, `In` = agent to client, `seq` counted per client),
    /// `Failed` (the dial failed; the client got the same HTTP status for a refusal, else 502 or
    /// 504), `Warning`, `Closed`, and `Ended` last.
    Session { client: u64, event: SessionEvent },
    /// The client's relay is about to start (just before its `Opened`): frames can be injected
    /// into its conversation until it ends. Dropping the injector costs the relay nothing.
    Attached { client: u64, injector: Injector },
    /// A frame injected through the client's `Injector`, as written (`Out`: toward the agent),
    /// numbered with the client's relayed frames.
    Injected {
        client: u64,
        frame: crate::engine::Frame,
    },
}

#[derive(Debug, Error)]
pub enum ProxyError {
    #[error("--listen {given:?}: {why}")]
    BadListen { given: String, why: String },
    #[error(
        "--listen {addr} is not a loopback address: the proxy talks to the agent with your token, so anyone who can reach {addr} could too (add --allow-remote if that is what you want)"
    )]
    NotLoopback { addr: SocketAddr },
    #[error("--allow-origin {given:?}: {why}")]
    BadOrigin { given: String, why: String },
    #[error(
        "cannot listen on {addr}: the port is taken (another program listens there; choose another with --listen)"
    )]
    PortTaken { addr: SocketAddr },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

impl ProxyError {
    /// SPEC.md's codes: 2 for a bad address or option, 4 when the listener cannot start.
    pub fn exit_code(&self) -> i32 {
        match self {
            ProxyError::BadListen { .. }
            | ProxyError::NotLoopback { .. }
            | ProxyError::BadOrigin { .. } => exit::USAGE,
            ProxyError::Bind { source, .. }
                if source.kind() == std::io::ErrorKind::AddrNotAvailable =>
            {
                exit::USAGE
            }
            ProxyError::PortTaken { .. } | ProxyError::Bind { .. } => exit::CONNECT_FAILED,
        }
    }
}

/// `--listen`: `IP:PORT` (`[::1]:PORT` for IPv6) or `localhost:PORT`; port 0 takes any free one.
pub fn parse_listen(given: &str) -> Result<SocketAddr, ProxyError> {
    let s = given.trim();
    let bad = |why: &str| ProxyError::BadListen {
        given: given.to_string(),
        why: why.to_string(),
    };
    if let Some(port) = s.strip_prefix("localhost:") {
        let port = port
            .parse::<u16>()
            .map_err(|_| bad("the port is not a number from 0 to 65535"))?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    s.parse::<SocketAddr>()
        .map_err(|_| bad("expected ADDR:PORT, e.g. 127.0.0.1:8089, [::1]:8089 or localhost:8089"))
}

/// A running proxy. Dropping it leaves the proxy running until the runtime ends; `shutdown`
/// closes every client politely.
pub struct ProxyHandle {
    addr: SocketAddr,
    started: SystemTime,
    tokens: Arc<TokenProvider>,
    stop: watch::Sender<bool>,
    join: tokio::task::JoinHandle<()>,
}

impl ProxyHandle {
    /// The address actually listened on (the port chosen when `--listen` gave 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The wall-clock time of offset zero of every event.
    pub fn started(&self) -> SystemTime {
        self.started
    }

    /// The tokens every client's dial uses (for reading container logs with the same token).
    pub fn tokens(&self) -> Arc<TokenProvider> {
        self.tokens.clone()
    }

    /// Stop accepting, close every client on both sides with 1001 and wait for them (each
    /// closing handshake is bounded), then end. The events channel closes once all are done.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.join.await;
    }
}

/// Check the options, bind the listener, and start accepting clients; events go to `events`,
/// whose capacity bounds how far the relays may run ahead of the consumer.
pub async fn start(
    opts: ProxyOptions,
    events: mpsc::Sender<ProxyEvent>,
) -> Result<ProxyHandle, ProxyError> {
    check_listen(opts.listen, opts.allow_remote)?;
    let guard = OriginGuard::new(&opts.allow_origins)?;
    let tcp = listener::bind(opts.listen).await?;
    let addr = tcp.local_addr().map_err(|source| ProxyError::Bind {
        addr: opts.listen,
        source,
    })?;
    let tokens = Arc::new(TokenProvider::new(opts.spec.auth.clone()));
    let (stop, stopped) = watch::channel(false);
    let started = SystemTime::now();
    let shared = Arc::new(client::Shared {
        spec: opts.spec,
        guard,
        tokens: tokens.clone(),
        t0: std::time::Instant::now(),
        events,
        stopped,
        next_client: std::sync::atomic::AtomicU64::new(0),
    });
    let join = tokio::spawn(listener::accept_loop(tcp, shared));
    Ok(ProxyHandle {
        addr,
        started,
        tokens,
        stop,
        join,
    })
}

/// Resolves once a stop is asked for; never, when the handle went away without asking.
async fn stop_requested(stopped: &mut watch::Receiver<bool>) {
    if stopped.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        assert_eq!(
            parse_listen("127.0.0.1:8089").expect("v4"),
            "127.0.0.1:8089".parse::<SocketAddr>().expect("addr")
        );
        assert_eq!(
            parse_listen("localhost:0").expect("localhost").ip(),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        assert!(parse_listen("[::1]:9").is_ok());
        for bad in [
            "nonsense",
            "127.0.0.1",
            "127.0.0.1:99999",
            "localhost:x",
            "",
        ] {
            let e = parse_listen(bad).expect_err(bad);
            assert_eq!(e.exit_code(), exit::USAGE, "{bad}");
        }
    }

    #[test]
    fn exit_codes() {
        let addr = DEFAULT_LISTEN;
        assert_eq!(
            ProxyError::PortTaken { addr }.exit_code(),
            exit::CONNECT_FAILED
        );
        assert_eq!(ProxyError::NotLoopback { addr }.exit_code(), exit::USAGE);
        let e = ProxyError::Bind {
            addr,
            source: std::io::Error::from(std::io::ErrorKind::AddrNotAvailable),
        };
        assert_eq!(e.exit_code(), exit::USAGE);
    }
}

//! Proxy sessions: a session that listens for the user's own clients (a browser page, an app)
//! and relays each to its target with the token added, as `wsdeck proxy` does. Each client that
//! connects becomes a session of its own under the proxy's, live, with every view; the runtime
//! routes the client's events to it once the update has made it (`Effect::AttachProxyClient`).

use crate::app::session::Origin;
use crate::app::{App, ConnState, Effect, Session};
use crate::proxy::{ClientRequest, OriginGuard, ProxyOptions, check_listen, parse_listen};
use crate::store::EventKind;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

/// Where a proxy session listens and whom it lets in (`wsdeck proxy`'s own options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySetup {
    /// `--listen` as given: `127.0.0.1:8089`, `[::1]:8089`, `localhost:0`, …
    pub listen: String,
    /// `--allow-origin` values.
    pub allow_origins: Vec<String>,
    /// `--allow-remote`: a non-loopback address.
    pub allow_remote: bool,
}

impl ProxySetup {
    /// Checked as `wsdeck proxy` checks its options, so what is saved will start.
    pub fn new(
        listen: &str,
        allow_origins: Vec<String>,
        allow_remote: bool,
    ) -> Result<Self, String> {
        let addr = parse_listen(listen).map_err(|e| e.to_string())?;
        check_listen(addr, allow_remote).map_err(|e| e.to_string())?;
        OriginGuard::new(&allow_origins).map_err(|e| e.to_string())?;
        Ok(ProxySetup {
            listen: listen.trim().to_string(),
            allow_origins,
            allow_remote,
        })
    }
}

/// What the runtime's proxy task reports about proxy session `id`.
#[derive(Debug)]
pub enum ProxyNote {
    /// The listener is up; `wall` is the wall-clock time of the proxy's time zero.
    Listening { addr: SocketAddr, wall: SystemTime },
    /// The listener could not start (the port taken, say).
    Failed(String),
    /// A client's upgrade request arrived (before anything is dialed).
    Client {
        client: u64,
        at: Duration,
        request: ClientRequest,
    },
    /// A client was answered with `status` before anything was dialed.
    Rejected {
        client: u64,
        at: Duration,
        status: u16,
        why: String,
    },
    /// The proxy ended: every client is closed.
    Stopped,
}

impl App {
    /// What session `id`'s proxy runs with, when it is a proxy session.
    pub fn proxy_options(&self, id: usize) -> Option<ProxyOptions> {
        let setup = self.by_id(id)?.proxy.clone()?;
        let listen = parse_listen(&setup.listen).ok()?;
        Some(ProxyOptions {
            spec: self.connect_spec(id)?,
            listen,
            allow_origins: setup.allow_origins,
            allow_remote: setup.allow_remote,
        })
    }

    /// Proxy session `parent`'s client sessions: how many, and how many are open.
    pub fn proxy_clients(&self, parent: usize) -> (usize, usize) {
        let mine = self
            .sessions
            .iter()
            .filter(|s| s.proxy_client().is_some_and(|(p, _)| p == parent));
        mine.fold((0, 0), |(n, open), s| {
            (n + 1, open + usize::from(s.state == ConnState::Open))
        })
    }

    /// The session of proxy `parent`'s client `client`, when it has one.
    pub fn proxy_client_session(&self, parent: usize, client: u64) -> Option<usize> {
        self.sessions
            .iter()
            .find(|s| s.proxy_client() == Some((parent, client)))
            .map(|s| s.id)
    }
}

pub fn on_note(app: &mut App, id: usize, note: ProxyNote) -> Vec<Effect> {
    let rows = app.frame_rows();
    let mut effects = Vec::new();
    match note {
        ProxyNote::Listening { addr, wall } => {
            if let Some(s) = app.by_id_mut(id) {
                s.state = ConnState::Listening;
                s.listening_on = Some(addr);
                s.running = true;
                s.started = Some(wall);
                s.failure = None;
                let id_word = s
                    .spec
                    .session_id
                    .as_deref()
                    .map(|i| format!(", else {i}"))
                    .unwrap_or_default();
                let text = format!(
                    "listening on ws://{addr}/ · each client is relayed to {} with the token added · agent_session_id from the client's query{id_word}",
                    s.target
                );
                s.push_note(Duration::ZERO, EventKind::Open, text);
                s.rows_added(rows);
            }
            app.status = Some(format!(
                "proxy listening on ws://{addr}/ — point your client there"
            ));
        }
        ProxyNote::Failed(message) => {
            if let Some(s) = app.by_id_mut(id) {
                s.state = ConnState::Failed(message.clone());
                s.running = false;
                s.push_note(Duration::ZERO, EventKind::Error, message.clone());
                s.rows_added(rows);
                app.status = Some(format!("{}: {message}", s.name));
            }
        }
        ProxyNote::Client {
            client,
            at,
            request,
        } => {
            if let Some(child) = add_client(app, id, client, at, &request) {
                effects.push(Effect::AttachProxyClient {
                    parent: id,
                    client,
                    child,
                });
            }
        }
        ProxyNote::Rejected {
            client,
            at,
            status,
            why,
        } => {
            let child = app.proxy_client_session(id, client);
            if let Some(s) = child.and_then(|c| app.by_id_mut(c)) {
                let message = format!("turned away with HTTP {status}: {why}");
                s.state = ConnState::Failed(message.clone());
                s.running = false;
                s.push_note(at, EventKind::Error, message);
                s.rows_added(rows);
            }
            if let Some(s) = app.by_id_mut(id) {
                s.push_note(
                    at,
                    EventKind::Warning,
                    format!("client {client} turned away with HTTP {status}: {why}"),
                );
                s.rows_added(rows);
            }
        }
        ProxyNote::Stopped => {
            if let Some(s) = app.by_id_mut(id) {
                if s.state == ConnState::Listening {
                    s.state = ConnState::Idle;
                }
                s.listening_on = None;
                s.running = false;
                let at = s.counters.last_activity.unwrap_or_default();
                s.push_note(at, EventKind::Warning, "stopped listening".into());
                s.rows_added(rows);
            }
        }
    }
    effects
}

/// Make client `client`'s session right under its proxy's (after the clients it has), without
/// moving the selection: a client connecting must not pull the user away from what they read.
fn add_client(
    app: &mut App,
    parent: usize,
    client: u64,
    at: Duration,
    request: &ClientRequest,
) -> Option<usize> {
    let p = app.by_id(parent)?;
    let mut spec = p.spec.clone();
    if request.agent_session_id.is_some() {
        spec.session_id = request.agent_session_id.clone();
    }
    let base = format!("{}#{client}", p.name);
    let mut name = base.clone();
    let mut n = 2;
    while app.sessions.iter().any(|s| s.name == name) {
        name = format!("{base}·{n}");
        n += 1;
    }
    let mut s =
        Session::new(name.clone(), spec).with_origin(Origin::ProxyClient { parent, client });
    s.target = format!("client {client} of {} → {}", p.name, p.target);
    s.state = ConnState::Connecting;
    s.running = true;
    s.started = p.started;
    s.clock_base = p.clock_base;
    s.vars = p.vars.clone();
    s.pcm = p.pcm;
    s.proto = p.proto.clone();
    s.container_logs_source = p.container_logs_source.clone();
    let origin = request
        .origin
        .as_deref()
        .map(|o| format!(" · Origin {o}"))
        .unwrap_or_default();
    let agent = request
        .user_agent
        .as_deref()
        .map(|u| format!(" · {u}"))
        .unwrap_or_default();
    s.push_note(
        at,
        EventKind::Connecting,
        format!(
            "client {client} from {} asked for {}{origin}{agent}",
            request.peer, request.path
        ),
    );
    let last = app
        .sessions
        .iter()
        .rposition(|x| x.id == parent || x.proxy_client().is_some_and(|(p, _)| p == parent))?;
    let selected = app.selected;
    app.add_session(s, Some(last + 1));
    let child = app.sessions.get(last + 1).map(|s| s.id)?;
    app.selected = if selected > last {
        selected + 1
    } else {
        selected
    };
    let rows = app.frame_rows();
    if let Some(p) = app.by_id_mut(parent) {
        p.push_note(
            at,
            EventKind::Connecting,
            format!(
                "client {client} from {} asked for {}{origin} → session {name}",
                request.peer, request.path
            ),
        );
        p.rows_added(rows);
    }
    app.status = Some(format!(
        "client {client} connected to the proxy: session {name}"
    ));
    Some(child)
}

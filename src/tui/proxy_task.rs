//! A proxy session's runtime side: the proxy itself, and the routing of each client's events to
//! the client's own session. The update makes a client's session when its request arrives
//! (`ProxyNote::Client`) and the runtime attaches it (`ProxyCtl::Attach`); what the client's
//! relay reports before that waits here, so nothing is lost in between.

use crate::app::Event;
use crate::app::proxy::ProxyNote;
use crate::engine::session::SessionEvent;
use crate::proxy::{Injector, ProxyEvent, ProxyOptions};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// The injectors of a proxy's live clients, by client number: the runtime sends a composed
/// frame through one without a round trip through this task, so an error is said at once.
pub type Injectors = Arc<Mutex<HashMap<u64, Injector>>>;

pub enum ProxyCtl {
    /// Client `client`'s session is made: its events go to `events` from now on.
    Attach {
        client: u64,
        events: mpsc::Sender<SessionEvent>,
    },
    /// Stop listening and close every client (1001).
    Stop,
}

/// How the runtime reaches a proxy session's task.
#[derive(Clone)]
pub struct ProxyLink {
    pub ctl: mpsc::UnboundedSender<ProxyCtl>,
    pub injectors: Injectors,
}

/// Run proxy session `id` until it is stopped (or the console ends).
pub async fn run_proxy(
    id: usize,
    opts: ProxyOptions,
    to_loop: mpsc::Sender<Event>,
    mut ctl: mpsc::UnboundedReceiver<ProxyCtl>,
    injectors: Injectors,
) {
    let note = |note| Event::Proxy { id, note };
    let (tx, mut events) = mpsc::channel::<ProxyEvent>(1024);
    let handle = match crate::proxy::start(opts, tx).await {
        Ok(h) => h,
        Err(e) => {
            let _ = to_loop.send(note(ProxyNote::Failed(e.to_string()))).await;
            return;
        }
    };
    let listening = ProxyNote::Listening {
        addr: handle.local_addr(),
        wall: handle.started(),
    };
    let _ = to_loop.send(note(listening)).await;
    let mut handle = Some(handle);
    let mut routes: HashMap<u64, mpsc::Sender<SessionEvent>> = HashMap::new();
    let mut waiting: HashMap<u64, Vec<SessionEvent>> = HashMap::new();
    let mut ctl_open = true;
    loop {
        tokio::select! {
            ev = events.recv() => {
                // The events end once the proxy has stopped and every client is done.
                let Some(ev) = ev else { break };
                match ev {
                    ProxyEvent::Request { client, at, request } => {
                        waiting.insert(client, Vec::new());
                        let _ = to_loop.send(note(ProxyNote::Client { client, at, request })).await;
                    }
                    ProxyEvent::Rejected { client, at, status, why } => {
                        waiting.remove(&client);
                        let _ = to_loop
                            .send(note(ProxyNote::Rejected { client, at, status, why }))
                            .await;
                    }
                    ProxyEvent::Attached { client, injector } => {
                        if let Ok(mut m) = injectors.lock() {
                            m.insert(client, injector);
                        }
                    }
                    ProxyEvent::Session { client, event } => {
                        route(client, event, &mut routes, &mut waiting, &injectors).await;
                    }
                    ProxyEvent::Injected { client, frame } => {
                        let event = SessionEvent::Injected(frame);
                        route(client, event, &mut routes, &mut waiting, &injectors).await;
                    }
                }
            }
            c = ctl.recv(), if ctl_open => match c {
                Some(ProxyCtl::Attach { client, events }) => {
                    let mut ended = false;
                    for ev in waiting.remove(&client).unwrap_or_default() {
                        ended |= matches!(ev, SessionEvent::Ended);
                        let _ = events.send(ev).await;
                    }
                    if !ended {
                        routes.insert(client, events);
                    }
                }
                Some(ProxyCtl::Stop) | None => {
                    ctl_open = c.is_some();
                    // Closing the clients reports through `events`, so it runs beside this loop.
                    if let Some(h) = handle.take() {
                        tokio::spawn(h.shutdown());
                    }
                }
            }
        }
    }
    let _ = to_loop.send(note(ProxyNote::Stopped)).await;
}

/// Hand one client's event to its session, or keep it until the session is attached.
async fn route(
    client: u64,
    event: SessionEvent,
    routes: &mut HashMap<u64, mpsc::Sender<SessionEvent>>,
    waiting: &mut HashMap<u64, Vec<SessionEvent>>,
    injectors: &Injectors,
) {
    let ended = matches!(event, SessionEvent::Ended);
    if ended && let Ok(mut m) = injectors.lock() {
        m.remove(&client);
    }
    if let Some(tx) = routes.get(&client) {
        // A session deleted meanwhile has no forwarder left: its events go nowhere.
        let _ = tx.send(event).await;
        if ended {
            routes.remove(&client);
        }
    } else if let Some(kept) = waiting.get_mut(&client) {
        kept.push(event);
    }
}

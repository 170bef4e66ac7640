//! The listening socket and the accept loop: one task per client, all told to stop together.

use super::ProxyError;
use super::client::{self, Shared};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// How long `shutdown` waits for the clients' closing handshakes before dropping what is left.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(3);

pub(super) async fn bind(addr: SocketAddr) -> Result<TcpListener, ProxyError> {
    TcpListener::bind(addr).await.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            ProxyError::PortTaken { addr }
        } else {
            ProxyError::Bind { addr, source }
        }
    })
}

/// Accept until told to stop; then let every client close (bounded) and return.
pub(super) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut clients = JoinSet::new();
    let mut stopped = shared.stopped.clone();
    loop {
        tokio::select! {
            _ = super::stop_requested(&mut stopped) => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    clients.spawn(client::serve(tcp, peer, shared.clone()));
                }
                Err(e) => {
                    // Out of file descriptors, say: the next accept may work, so wait a little
                    // rather than spin.
                    tracing::warn!("proxy accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            // Reap finished clients so the set does not grow with every connection.
            Some(_) = clients.join_next(), if !clients.is_empty() => {}
        }
    }
    drop(listener);
    let all_done = async { while clients.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_WAIT, all_done).await.is_err() {
        clients.shutdown().await;
    }
}

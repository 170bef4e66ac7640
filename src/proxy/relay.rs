//! One client relayed to its own upstream: two pumps (client to agent, agent to client) polled
//! side by side in one task, so neither direction waits for the other and no frame crosses a
//! thread. tungstenite's `Message` passes through as it came (its payload is shared, not copied,
//! with the frames reported); what was relayed is reported in batches, after the batch has been
//! written on, so the output never holds up the relay.
//!
//! Frames are reported as the agent's side of the wire saw them. tungstenite answers every ping
//! itself, so a ping is answered at once by the side that received it and forwarded too; the
//! far side's pong to the forwarded ping is then not forwarded again (the pinging side has its
//! answer). So the agent's pong to the client's ping is reported but not delivered twice, and the
//! client's pong to an agent's ping is neither delivered nor reported, while the pong
//! tungstenite sent the agent is.

use super::ProxyEvent;
use super::inject::Injections;
pub(super) use super::relay_end::abnormal;
use super::relay_end::{End, classify_write, close_parts, read_error};
use super::wire_close;
use crate::engine::close::{self, Initiator};
use crate::engine::frame::{Direction, Frame, Opcode, close_payload};
use crate::engine::session::{CloseInfo, CloseWatch, SessionEvent};
use bytes::Bytes;
use futures_util::{FutureExt, Sink, SinkExt, Stream, StreamExt};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Most frames taken from one side before the other is written to and the batch reported.
const MAX_BATCH: usize = 256;
/// How long a side has to answer a close frame, or to hang up after its own.
const CLOSE_WAIT: Duration = Duration::from_secs(3);
/// Pings awaiting the far side's pong, per side; older ones are forgotten.
const MAX_PENDING_PINGS: usize = 32;

/// The one relay of one client.
pub(super) struct Relay<'a> {
    pub(super) client: u64,
    pub(super) t0: Instant,
    pub(super) events: &'a mpsc::Sender<ProxyEvent>,
    /// Frames of this client, both directions, from 1.
    seq: AtomicU64,
    /// Pings forwarded to the agent (the client already has tungstenite's pong).
    awaiting_agent: Mutex<VecDeque<Bytes>>,
    /// Pings forwarded to the client (the agent already has tungstenite's pong).
    awaiting_client: Mutex<VecDeque<Bytes>>,
    /// Pings the console injected: their pongs are reported and go no further.
    injected_pings: Mutex<VecDeque<Bytes>>,
    /// The agent's first close as it was on the wire (`wire_close.rs`).
    wire: Option<CloseWatch>,
    /// The side whose close frame was taken first: the one that closed, whichever pump ends
    /// first (each reads on to its side's hang-up).
    first_close: OnceLock<Direction>,
}

impl<'a> Relay<'a> {
    pub(super) fn new(client: u64, t0: Instant, events: &'a mpsc::Sender<ProxyEvent>) -> Self {
        Relay {
            client,
            t0,
            events,
            seq: AtomicU64::new(0),
            awaiting_agent: Mutex::new(VecDeque::new()),
            awaiting_client: Mutex::new(VecDeque::new()),
            injected_pings: Mutex::new(VecDeque::new()),
            wire: None,
            first_close: OnceLock::new(),
        }
    }

    /// Read the agent's closes as the tap under its socket saw them.
    pub(super) fn with_wire(mut self, watch: CloseWatch) -> Self {
        self.wire = Some(watch);
        self
    }

    fn at(&self) -> Duration {
        self.t0.elapsed()
    }

    fn frame(&self, dir: Direction, opcode: Opcode, payload: Bytes) -> Frame {
        Frame {
            seq: self.seq.fetch_add(1, Ordering::Relaxed) + 1,
            at: self.at(),
            dir,
            opcode,
            payload,
        }
    }

    pub(super) async fn emit(&self, event: SessionEvent) {
        // A consumer that went away (stdout closed) must not stop the relay.
        let _ = self
            .events
            .send(ProxyEvent::Session {
                client: self.client,
                event,
            })
            .await;
    }

    async fn warn(&self, message: String) {
        let at = self.at();
        self.emit(SessionEvent::Warning { at, message }).await;
    }

    /// Relay until one side ends, then end the other as that side would have seen it: a close
    /// forwarded and answered (bounded by `CLOSE_WAIT`), or dropped when a side dropped. When
    /// `stopped` turns true, both sides are closed with 1001; when an injected close asks, with
    /// its code. Injected frames are written between the relayed ones.
    pub(super) async fn run<C, U>(
        &self,
        client: C,
        upstream: U,
        mut stopped: watch::Receiver<bool>,
        injections: Injections,
    ) -> CloseInfo
    where
        C: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin,
        U: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin,
    {
        let (mut c_tx, mut c_rx) = client.split();
        let (mut u_tx, mut u_rx) = upstream.split();
        let Injections {
            to_agent,
            to_client,
            mut close,
        } = injections;
        // Set when the console asked for a close (rather than the proxy stopping).
        let mut asked: Option<(u16, String)> = None;
        let outcome: (u16, String) = {
            let out = self.pump(&mut c_rx, &mut u_tx, Direction::Out, Some(to_agent));
            let inn = self.pump(&mut u_rx, &mut c_tx, Direction::In, Some(to_client));
            tokio::pin!(out, inn);
            let first = tokio::select! {
                e = &mut out => Some((Direction::Out, e)),
                e = &mut inn => Some((Direction::In, e)),
                _ = super::stop_requested(&mut stopped) => None,
                // A dropped injector (the command line has none) disables this branch.
                Some(a) = close.recv() => {
                    asked = Some(a);
                    None
                }
            };
            match first {
                Some((dir, End::Closed { code, reason })) => {
                    // The other side answers the forwarded close on its own pump.
                    let answer = match dir {
                        Direction::Out => tokio::time::timeout(CLOSE_WAIT, &mut inn).await,
                        Direction::In => tokio::time::timeout(CLOSE_WAIT, &mut out).await,
                    };
                    let (dir, code, reason, answered) = match (self.first_close.get(), answer) {
                        // This side's pump ended first, but it was answering.
                        (Some(&first), Ok(End::Closed { code: c, reason: r })) if first != dir => {
                            (first, c, r, true)
                        }
                        (_, answer) => {
                            (dir, code, reason, matches!(answer, Ok(End::Closed { .. })))
                        }
                    };
                    if !answered {
                        let side = side_name(dir.flip());
                        self.warn(format!(
                            "the {side} did not answer the close frame within {}s",
                            CLOSE_WAIT.as_secs()
                        ))
                        .await;
                    }
                    let initiator = match dir {
                        Direction::Out => Initiator::Client,
                        Direction::In => Initiator::Server,
                    };
                    return CloseInfo {
                        clean: answered && close::is_clean_code(code),
                        code,
                        reason,
                        initiator,
                    };
                }
                Some((dir, End::Dropped(why))) => {
                    let side = side_name(dir);
                    let other = side_name(dir.flip());
                    self.warn(format!(
                        "the {side}'s connection ended without a close frame ({why}); the {other}'s was dropped too"
                    ))
                    .await;
                    return abnormal();
                }
                Some((dir, End::PeerGone(why))) => {
                    let side = side_name(dir.flip());
                    let other = side_name(dir);
                    self.warn(format!(
                        "the {side}'s connection failed ({why}); the {other}'s was dropped too"
                    ))
                    .await;
                    return abnormal();
                }
                Some((
                    dir,
                    End::Broken {
                        code,
                        reason,
                        message,
                    },
                )) => {
                    let side = side_name(dir);
                    self.warn(format!(
                        "the {side} sent {message}; both sides are closed with {code}"
                    ))
                    .await;
                    (code, reason.to_string())
                }
                None => match asked.take() {
                    Some((code, reason)) => {
                        self.warn(format!(
                            "closed from the console with {code}; both sides are closed"
                        ))
                        .await;
                        (code, reason)
                    }
                    None => (1001, "wsdeck proxy stopped".to_string()),
                },
            }
        };
        let (code, reason) = outcome;
        self.close_both(c_tx, c_rx, u_tx, u_rx, code, reason).await
    }

    /// The pumps are gone: close both sides ourselves and wait a moment for the answers.
    async fn close_both<CT, CR, UT, UR>(
        &self,
        mut c_tx: CT,
        mut c_rx: CR,
        mut u_tx: UT,
        mut u_rx: UR,
        code: u16,
        reason: String,
    ) -> CloseInfo
    where
        CT: Sink<Message, Error = WsError> + Unpin,
        UT: Sink<Message, Error = WsError> + Unpin,
        CR: Stream<Item = Result<Message, WsError>> + Unpin,
        UR: Stream<Item = Result<Message, WsError>> + Unpin,
    {
        let close = || {
            Message::Close(Some(CloseFrame {
                code: CloseCode::from(code),
                reason: reason.as_str().into(),
            }))
        };
        let to_agent = u_tx.send(close()).await.is_ok();
        if to_agent {
            let f = self.frame(Direction::Out, Opcode::Close, close_payload(code, &reason));
            self.emit(SessionEvent::Frames(vec![f])).await;
        }
        let _ = c_tx.send(close()).await;
        let (answered, _) = tokio::join!(
            tokio::time::timeout(CLOSE_WAIT, self.await_close(&mut u_rx)),
            tokio::time::timeout(CLOSE_WAIT, async { while c_rx.next().await.is_some() {} }),
        );
        CloseInfo {
            code,
            reason,
            initiator: Initiator::Client,
            clean: to_agent && matches!(answered, Ok(true)) && close::is_clean_code(code),
        }
    }

    /// Read the agent's side until it ends, reporting its close frame; whether one came.
    async fn await_close<S>(&self, from: &mut S) -> bool
    where
        S: Stream<Item = Result<Message, WsError>> + Unpin,
    {
        let mut got = false;
        while let Some(Ok(msg)) = from.next().await {
            if let Message::Close(cf) = msg {
                let (code, reason) = close_parts(cf.as_ref());
                let f = self.frame(Direction::In, Opcode::Close, close_payload(code, &reason));
                self.emit(SessionEvent::Frames(vec![f])).await;
                got = true;
            }
        }
        got
    }

    /// Move messages from one side to the other until the sending side ends. What is already
    /// buffered is taken without waiting and written on in one flush.
    async fn pump<S, K>(
        &self,
        from: &mut S,
        to: &mut K,
        dir: Direction,
        mut injected: Option<mpsc::Receiver<Message>>,
    ) -> End
    where
        S: Stream<Item = Result<Message, WsError>> + Unpin,
        K: Sink<Message, Error = WsError> + Unpin,
    {
        // False once the receiving side is closing: what still comes is reported, not sent.
        let mut to_open = true;
        loop {
            let mut item = tokio::select! {
                item = from.next() => item,
                msg = next_injected(&mut injected) => {
                    if let Some(end) = self.inject(msg, dir, to, to_open).await {
                        return end;
                    }
                    continue;
                }
            };
            let mut batch: Vec<Frame> = Vec::new();
            let mut taken = 0usize;
            let mut end = loop {
                let end = match item {
                    Some(Ok(msg)) => self.take(msg, dir, &mut batch, to, &mut to_open).await,
                    Some(Err(e)) => Some(read_error(e)),
                    None => Some(End::Dropped("the stream ended".into())),
                };
                taken += 1;
                if end.is_some() || taken >= MAX_BATCH {
                    break end;
                }
                match from.next().now_or_never() {
                    Some(next) => item = next,
                    None => break None,
                }
            };
            if to_open
                && !matches!(end, Some(End::Closed { .. }))
                && let Err(e) = to.flush().await
            {
                match classify_write(e) {
                    Some(e) if end.is_none() => end = Some(e),
                    Some(_) => {}
                    None => to_open = false,
                }
            }
            if !batch.is_empty() {
                self.emit(SessionEvent::Frames(batch)).await;
            }
            if let Some(e) = end {
                if matches!(e, End::Closed { .. }) {
                    // Read on until this side hangs up: that also sends tungstenite's answer to
                    // its close.
                    let _ = tokio::time::timeout(CLOSE_WAIT, async {
                        while let Some(Ok(_)) = from.next().await {}
                    })
                    .await;
                }
                return e;
            }
        }
    }

    /// Write one injected message toward `dir`'s receiving side and report it as injected.
    async fn inject<K>(
        &self,
        msg: Message,
        dir: Direction,
        to: &mut K,
        to_open: bool,
    ) -> Option<End>
    where
        K: Sink<Message, Error = WsError> + Unpin,
    {
        let side = side_name(dir.flip());
        if !to_open {
            self.warn(format!("not injected: the {side} is closing"))
                .await;
            return None;
        }
        let frame = match &msg {
            Message::Text(t) => self.frame(dir, Opcode::Text, Bytes::from(t.clone())),
            Message::Binary(b) => self.frame(dir, Opcode::Binary, b.clone()),
            Message::Ping(p) => {
                remember(&self.injected_pings, p.clone());
                self.frame(dir, Opcode::Ping, p.clone())
            }
            Message::Pong(p) => self.frame(dir, Opcode::Pong, p.clone()),
            // Closes go through `run` (both sides at once); `Injector` sends no others.
            Message::Close(_) | Message::Frame(_) => return None,
        };
        if let Err(e) = to.send(msg).await {
            return match classify_write(e) {
                Some(end) => Some(end),
                None => {
                    self.warn(format!("not injected: the {side} is closing"))
                        .await;
                    None
                }
            };
        }
        let _ = self
            .events
            .send(ProxyEvent::Injected {
                client: self.client,
                frame,
            })
            .await;
        None
    }

    /// One message: reported (as the agent's side of the wire saw it) and fed to the other side.
    async fn take<K>(
        &self,
        msg: Message,
        dir: Direction,
        batch: &mut Vec<Frame>,
        to: &mut K,
        to_open: &mut bool,
    ) -> Option<End>
    where
        K: Sink<Message, Error = WsError> + Unpin,
    {
        let (answered_here, awaited_there) = match dir {
            Direction::Out => (&self.awaiting_client, &self.awaiting_agent),
            Direction::In => (&self.awaiting_agent, &self.awaiting_client),
        };
        match &msg {
            Message::Text(t) => batch.push(self.frame(dir, Opcode::Text, Bytes::from(t.clone()))),
            Message::Binary(b) => batch.push(self.frame(dir, Opcode::Binary, b.clone())),
            Message::Ping(p) => {
                batch.push(self.frame(dir, Opcode::Ping, p.clone()));
                if dir == Direction::In {
                    // tungstenite's own pong to the agent is on the agent's wire.
                    batch.push(self.frame(Direction::Out, Opcode::Pong, p.clone()));
                }
                remember(awaited_there, p.clone());
            }
            Message::Pong(p) if forget(&self.injected_pings, p) => {
                // The answer to an injected ping: shown, and the far side never asked for it.
                batch.push(self.frame(dir, Opcode::Pong, p.clone()));
                return None;
            }
            Message::Pong(p) => {
                let already_answered = forget(answered_here, p);
                if dir == Direction::In || !already_answered {
                    batch.push(self.frame(dir, Opcode::Pong, p.clone()));
                }
                if already_answered {
                    return None;
                }
            }
            Message::Close(cf) => {
                let _ = self.first_close.set(dir);
                let (code, reason) = close_parts(cf.as_ref());
                let wire = self.wire.as_ref().filter(|_| dir == Direction::In);
                let close = wire_close::as_sent(code, reason, wire);
                batch.push(self.frame(dir, Opcode::Close, close.payload));
                if let Some(w) = close.warning {
                    self.warn(w).await;
                }
                let msg = close.forward.unwrap_or(msg);
                if *to_open && let Err(e) = to.send(msg).await {
                    tracing::debug!("proxy: forwarding a close: {e}");
                }
                let (code, reason) = (close.code, close.reason);
                return Some(End::Closed { code, reason });
            }
            Message::Frame(_) => return None,
        }
        if !*to_open {
            return None;
        }
        match to.feed(msg).await {
            Ok(()) => None,
            Err(e) => match classify_write(e) {
                Some(end) => Some(end),
                None => {
                    *to_open = false;
                    None
                }
            },
        }
    }
}

/// The next injected message; never, once there is no injector (or it went away).
async fn next_injected(injected: &mut Option<mpsc::Receiver<Message>>) -> Message {
    loop {
        match injected {
            Some(rx) => match rx.recv().await {
                Some(msg) => return msg,
                None => *injected = None,
            },
            None => std::future::pending::<()>().await,
        }
    }
}

/// The side that sends in direction `dir` (`Out`: the client).
fn side_name(dir: Direction) -> &'static str {
    match dir {
        Direction::Out => "client",
        Direction::In => "agent",
    }
}

trait Flip {
    fn flip(self) -> Self;
}

impl Flip for Direction {
    fn flip(self) -> Self {
        match self {
            Direction::Out => Direction::In,
            Direction::In => Direction::Out,
        }
    }
}

fn remember(q: &Mutex<VecDeque<Bytes>>, p: Bytes) {
    if let Ok(mut q) = q.lock() {
        if q.len() >= MAX_PENDING_PINGS {
            q.pop_front();
        }
        q.push_back(p);
    }
}

/// Whether `p` answers a ping that was forwarded (and so was answered already); forgets it.
fn forget(q: &Mutex<VecDeque<Bytes>>, p: &Bytes) -> bool {
    let Ok(mut q) = q.lock() else { return false };
    match q.iter().position(|x| x == p) {
        Some(i) => {
            q.remove(i);
            true
        }
        None => false,
    }
}

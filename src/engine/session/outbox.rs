//! Frames on their way out: a bounded queue in front of tungstenite's write buffer, driven in the
//! same poll as reading. A peer that stops reading then stalls only our frames: commands are still
//! taken, incoming frames still read, a stall is reported, and a close gets a bounded wait instead
//! of waiting forever behind a send the peer never takes.

use super::Socket;
use crate::engine::frame::Opcode;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::collections::VecDeque;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{self, Message};

/// Most frames waiting to be handed to the socket...
pub const QUEUE_FRAMES: usize = 1024;
/// ...and most payload bytes (a frame bigger than this is taken when the queue is empty).
pub const QUEUE_BYTES: usize = 32 << 20;
/// Writes that made no progress this long are reported, once a stall.
pub(super) const STALL_NOTICE: Duration = Duration::from_secs(3);

/// What one poll of the socket gave.
pub(super) enum Io {
    /// Frames handed to the socket, to be reported as sent (and numbered then, so `seq` follows
    /// the order frames really went out and came in).
    Wrote(Vec<(Opcode, Bytes)>),
    WriteFailed(tungstenite::Error),
    Read(Option<Result<Message, tungstenite::Error>>),
}

/// The queue was full: the frame was not taken. `first`: the first refusal since it filled.
pub(super) struct Full {
    pub first: bool,
}

pub(super) struct Outbox {
    queue: VecDeque<(Message, Opcode, Bytes)>,
    /// Payload bytes in `queue`.
    bytes: usize,
    /// Handed to tungstenite and not yet flushed to the socket.
    unflushed: bool,
    /// Wire bytes handed over, and what the socket had written when we started counting.
    handed: u64,
    written_base: u64,
    /// The socket's written count last seen, and when it last moved (or the queue filled).
    seen_written: u64,
    progress_at: Instant,
    stall_told: bool,
    refused: u64,
}

impl Outbox {
    pub(super) fn new(ws: &Socket) -> Self {
        let w = ws.get_ref().written();
        Outbox {
            queue: VecDeque::new(),
            bytes: 0,
            unflushed: false,
            handed: 0,
            written_base: w,
            seen_written: w,
            progress_at: Instant::now(),
            stall_told: false,
            refused: 0,
        }
    }

    /// Whether a frame of `len` payload bytes may be queued.
    pub(super) fn room(&mut self, len: usize) -> Result<(), Full> {
        if !self.queue.is_empty()
            && (self.queue.len() >= QUEUE_FRAMES || self.bytes + len > QUEUE_BYTES)
        {
            self.refused += 1;
            return Err(Full {
                first: self.refused == 1,
            });
        }
        Ok(())
    }

    /// Queue a frame (after `room`; our close frame without asking: it goes behind what is
    /// queued, so the peer gets our frames first, and is never refused).
    pub(super) fn push(&mut self, msg: Message, opcode: Opcode, payload: Bytes) {
        if self.is_idle() {
            self.progress_at = Instant::now();
            self.stall_told = false;
        }
        self.bytes += payload.len();
        self.queue.push_back((msg, opcode, payload));
    }

    /// Everything handed over and flushed.
    pub(super) fn is_idle(&self) -> bool {
        self.queue.is_empty() && !self.unflushed
    }

    /// Since when our writes have made no progress (`None`: nothing waits).
    pub(super) fn stalled_since(&self) -> Option<Instant> {
        (!self.is_idle()).then_some(self.progress_at)
    }

    /// When a stall is to be reported (`None`: no stall, or told already).
    pub(super) fn notice_at(&self) -> Option<Instant> {
        self.stalled_since()
            .filter(|_| !self.stall_told)
            .map(|t| t + STALL_NOTICE)
    }

    /// The stall, in words, once.
    pub(super) fn tell_stall(&mut self, ws: &Socket) -> String {
        self.stall_told = true;
        format!(
            "the peer is not reading: {} after {}s without progress; the send queue takes at \
             most {QUEUE_FRAMES} frames or {} MiB and refuses more until it drains",
            self.waiting(ws),
            STALL_NOTICE.as_secs(),
            QUEUE_BYTES >> 20,
        )
    }

    /// What is still waiting, in words ("3.1 MiB not yet written, 2 frames of it queued").
    pub(super) fn waiting(&self, ws: &Socket) -> String {
        let written = ws.get_ref().written() - self.written_base;
        let stuck = size(self.handed.saturating_sub(written) + self.bytes as u64);
        match self.queue.len() {
            0 => format!("{stuck} not yet written"),
            n => format!("{stuck} not yet written, {n} frames of it still queued"),
        }
    }

    /// Frames refused while the queue was full, once it has drained (then counted anew).
    pub(super) fn refused_report(&mut self) -> Option<u64> {
        if self.is_idle() && self.refused > 0 {
            return Some(std::mem::take(&mut self.refused));
        }
        None
    }

    /// Hand queued frames to the socket and flush them, as far as the socket takes them; then
    /// read. Frames handed over come back first, to be reported as sent.
    pub(super) fn poll(&mut self, ws: &mut Socket, cx: &mut Context<'_>) -> Poll<Io> {
        let mut wrote = Vec::new();
        while !self.queue.is_empty() {
            match ws.poll_ready_unpin(cx) {
                Poll::Ready(Ok(())) => {
                    let Some((msg, opcode, payload)) = self.queue.pop_front() else {
                        break;
                    };
                    self.bytes -= payload.len();
                    self.handed += wire_len(payload.len());
                    if let Err(e) = ws.start_send_unpin(msg) {
                        return Poll::Ready(Io::WriteFailed(e));
                    }
                    self.unflushed = true;
                    wrote.push((opcode, payload));
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Io::WriteFailed(e)),
                Poll::Pending => break,
            }
        }
        if self.unflushed {
            match ws.poll_flush_unpin(cx) {
                Poll::Ready(Ok(())) => self.unflushed = false,
                Poll::Ready(Err(e)) => return Poll::Ready(Io::WriteFailed(e)),
                Poll::Pending => {}
            }
        }
        let written = ws.get_ref().written();
        if written != self.seen_written || !wrote.is_empty() {
            self.seen_written = written;
            self.progress_at = Instant::now();
        }
        if !wrote.is_empty() {
            return Poll::Ready(Io::Wrote(wrote));
        }
        ws.poll_next_unpin(cx).map(Io::Read)
    }
}

/// A client frame's bytes on the wire: header (with the mask) and payload.
fn wire_len(payload: usize) -> u64 {
    let ext = match payload {
        0..=125 => 0,
        126..=0xffff => 2,
        _ => 8,
    };
    (2 + ext + 4 + payload) as u64
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

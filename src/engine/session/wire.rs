//! A tap on the bytes read from the peer: the frames they make are followed header by header, so
//! that what tungstenite rewrites (a close code not allowed on the wire) or refuses without
//! handing it over (a text frame that is not UTF-8, a close reason that is not) can still be told
//! as the peer sent it.
//!
//! Why a tap: tungstenite hands back `Message::Close` with 1002 "Protocol violation" in place of
//! a code it does not allow, and `Error::Utf8(String)` once the offending frame's bytes are gone;
//! nothing in its API gives them back.
//!
//! What it costs: headers are parsed as they pass (a few bytes a frame); payload bytes are copied
//! only for close frames (at most 125 bytes) and for text messages (at most `TEXT_KEEP` of each,
//! `TEXT_BUDGET` in all). The recent text is kept rather than only the last message because
//! tungstenite reads ahead of the frame it parses: the frame it complains about may be followed
//! by others already read.

use bytes::Bytes;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Most bytes kept of one text message (the rest is counted, not kept).
pub(crate) const TEXT_KEEP: usize = 64 * 1024;
/// Recent text messages are kept until their bytes pass this.
const TEXT_BUDGET: usize = 256 * 1024;
/// And at most this many of them.
const TEXT_ENTRIES: usize = 4096;
/// Control frames carry at most 125 bytes.
const CONTROL_MAX: usize = 125;

/// A close frame as the peer sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawClose {
    /// Position among the frames read, from 1.
    pub frame_no: u64,
    pub payload: Bytes,
}

impl RawClose {
    /// The code on the wire (`None` for an empty payload, or a single byte).
    pub(crate) fn code(&self) -> Option<u16> {
        (self.payload.len() >= 2).then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }

    /// The reason's bytes, valid UTF-8 or not.
    pub(crate) fn reason(&self) -> &[u8] {
        self.payload.get(2..).unwrap_or_default()
    }
}

/// A text message whose bytes are not UTF-8, as far as they were kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadText {
    pub frame_no: u64,
    /// The message's first bytes (all of it unless `cut`).
    pub bytes: Bytes,
    /// The message's length as far as it was read.
    pub len: u64,
    pub cut: bool,
    /// Where the first invalid sequence starts (`None`: past what was kept).
    pub bad_at: Option<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Binary,
}

/// What the current frame's payload goes to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    Nothing,
    Close,
    Text,
}

enum State {
    /// In the HTTP response head: how much of `\r\n\r\n` was just seen.
    Http {
        matched: u8,
    },
    Header,
    Payload {
        left: u64,
    },
}

/// The frames the peer's bytes made, followed as they are read.
pub(crate) struct WireLog {
    state: State,
    head: [u8; 14],
    have: usize,
    frames: u64,
    fin: bool,
    mask: Option<[u8; 4]>,
    /// Payload bytes of the current frame seen so far (for unmasking).
    pos: u64,
    keep: Keep,
    /// Whether the current frame is a data frame (text, binary, continuation).
    data: bool,
    /// The data message still waiting for its last fragment.
    open: Option<Kind>,
    close_buf: Vec<u8>,
    first_close: Option<RawClose>,
    /// Whether text messages are kept (a relay only asks for closes).
    keep_texts: bool,
    texts: Texts,
}

impl WireLog {
    /// A log that starts in the HTTP response to the upgrade.
    pub(crate) fn new() -> Self {
        WireLog {
            state: State::Http { matched: 0 },
            head: [0; 14],
            have: 0,
            frames: 0,
            fin: false,
            mask: None,
            pos: 0,
            keep: Keep::Nothing,
            data: false,
            open: None,
            close_buf: Vec::new(),
            first_close: None,
            keep_texts: true,
            texts: Texts::default(),
        }
    }

    /// A log that keeps the first close and no text: what a relay needs, at the cost of a
    /// header parse a frame.
    pub(crate) fn closes_only() -> Self {
        WireLog {
            keep_texts: false,
            ..WireLog::new()
        }
    }

    /// The first close frame the peer sent.
    pub(crate) fn first_close(&self) -> Option<&RawClose> {
        self.first_close.as_ref()
    }

    /// The first text message kept whose bytes are not UTF-8; else the newest one cut short
    /// (its invalid bytes may lie past what was kept).
    pub(crate) fn bad_text(&self) -> Option<BadText> {
        self.texts.bad()
    }

    /// Follow the next bytes read.
    pub(crate) fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            match self.state {
                State::Http { matched } => {
                    let (m, used) = scan_head(matched, data);
                    data = &data[used..];
                    self.state = if m == 4 {
                        State::Header
                    } else {
                        State::Http { matched: m }
                    };
                }
                State::Header => {
                    if self.have == 0 {
                        data = self.skip_whole(data);
                    }
                    if self.have == 0 && data.len() >= 2 {
                        let need = header_len(data[1]);
                        if data.len() >= need {
                            let (h, rest) = data.split_at(need);
                            self.start_frame(h);
                            data = rest;
                            continue;
                        }
                    }
                    let want = if self.have < 2 {
                        2
                    } else {
                        header_len(self.head[1])
                    };
                    let take = (want - self.have).min(data.len());
                    self.head[self.have..self.have + take].copy_from_slice(&data[..take]);
                    self.have += take;
                    data = &data[take..];
                    if self.have >= 2 && self.have == header_len(self.head[1]) {
                        let h = self.head;
                        let n = self.have;
                        self.have = 0;
                        self.start_frame(&h[..n]);
                    }
                }
                State::Payload { left } => {
                    let take = left.min(data.len() as u64) as usize;
                    let (chunk, rest) = data.split_at(take);
                    self.take_payload(chunk);
                    data = rest;
                    let left = left - take as u64;
                    if left == 0 {
                        self.end_frame();
                    } else {
                        self.state = State::Payload { left };
                    }
                }
            }
        }
    }

    /// Step over whole frames that keep nothing (binary data, pings, pongs) without going through
    /// the states: most frames of a binary flood, a few nanoseconds each. Returns the rest.
    fn skip_whole<'a>(&mut self, mut data: &'a [u8]) -> &'a [u8] {
        while data.len() >= 2 {
            let (b0, b1) = (data[0], data[1]);
            let op = b0 & 0x0f;
            let binary = op == 0x2 || (op == 0x0 && self.open == Some(Kind::Binary));
            if !(binary || op == 0x9 || op == 0xa) {
                break;
            }
            let need = header_len(b1);
            if data.len() < need {
                break;
            }
            let len = match b1 & 0x7f {
                126 => u64::from(u16::from_be_bytes([data[2], data[3]])),
                127 => {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&data[2..10]);
                    u64::from_be_bytes(b)
                }
                n => u64::from(n),
            };
            let Some(total) = len.checked_add(need as u64) else {
                break;
            };
            if (data.len() as u64) < total {
                break;
            }
            self.frames += 1;
            if binary {
                self.open = if b0 & 0x80 != 0 {
                    None
                } else {
                    Some(Kind::Binary)
                };
            }
            data = &data[total as usize..];
        }
        data
    }

    fn start_frame(&mut self, h: &[u8]) {
        self.frames += 1;
        self.fin = h[0] & 0x80 != 0;
        let opcode = h[0] & 0x0f;
        let (len, at) = match h[1] & 0x7f {
            126 => (u64::from(u16::from_be_bytes([h[2], h[3]])), 4),
            127 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&h[2..10]);
                (u64::from_be_bytes(b), 10)
            }
            n => (u64::from(n), 2),
        };
        self.mask = (h[1] & 0x80 != 0).then(|| [h[at], h[at + 1], h[at + 2], h[at + 3]]);
        self.pos = 0;
        self.data = opcode <= 0x2;
        self.keep = match opcode {
            0x8 if self.first_close.is_none() => {
                self.close_buf.clear();
                Keep::Close
            }
            0x1 if self.keep_texts => {
                self.open = Some(Kind::Text);
                self.texts.begin(self.frames);
                Keep::Text
            }
            0x1 => {
                self.open = Some(Kind::Text);
                Keep::Nothing
            }
            0x2 => {
                self.open = Some(Kind::Binary);
                Keep::Nothing
            }
            0x0 if self.open == Some(Kind::Text) && self.keep_texts => Keep::Text,
            _ => Keep::Nothing,
        };
        if len == 0 {
            self.end_frame();
        } else {
            self.state = State::Payload { left: len };
        }
    }

    fn take_payload(&mut self, chunk: &[u8]) {
        match self.keep {
            Keep::Nothing => {}
            Keep::Close => {
                let room = CONTROL_MAX.saturating_sub(self.close_buf.len());
                let part = &chunk[..room.min(chunk.len())];
                let from = self.close_buf.len();
                self.close_buf.extend_from_slice(part);
                if let Some(mask) = self.mask {
                    unmask(&mut self.close_buf[from..], mask, self.pos);
                }
            }
            Keep::Text => self.texts.extend(chunk, self.mask, self.pos),
        }
        self.pos += chunk.len() as u64;
    }

    fn end_frame(&mut self) {
        self.state = State::Header;
        match self.keep {
            Keep::Close => {
                self.first_close = Some(RawClose {
                    frame_no: self.frames,
                    payload: Bytes::copy_from_slice(&self.close_buf),
                });
            }
            Keep::Text if self.fin => self.texts.finish(),
            _ => {}
        }
        // A data frame's FIN ends its message; control frames may come between fragments.
        if self.data && self.fin {
            self.open = None;
        }
        self.keep = Keep::Nothing;
    }
}

/// Where `\r\n\r\n` ends, continuing from `matched` bytes of it: (matched now, bytes used).
fn scan_head(mut matched: u8, data: &[u8]) -> (u8, usize) {
    for (i, &b) in data.iter().enumerate() {
        matched = match (matched, b) {
            (0 | 2, b'\r') | (1 | 3, b'\n') => matched + 1,
            (_, b'\r') => 1,
            _ => 0,
        };
        if matched == 4 {
            return (4, i + 1);
        }
    }
    (matched, data.len())
}

/// A frame header's length from its second byte.
fn header_len(b1: u8) -> usize {
    let ext = match b1 & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    2 + ext + if b1 & 0x80 != 0 { 4 } else { 0 }
}

fn unmask(bytes: &mut [u8], mask: [u8; 4], pos: u64) {
    for (i, b) in bytes.iter_mut().enumerate() {
        *b ^= mask[((pos + i as u64) % 4) as usize];
    }
}

/// Recent text messages, their first bytes in one buffer.
#[derive(Default)]
struct Texts {
    bytes: Vec<u8>,
    /// The absolute position of `bytes[0]`.
    base: u64,
    entries: VecDeque<Entry>,
}

struct Entry {
    frame_no: u64,
    start: u64,
    kept: usize,
    len: u64,
    complete: bool,
}

impl Texts {
    fn begin(&mut self, frame_no: u64) {
        let end = self.base + self.bytes.len() as u64;
        while self.entries.len() >= TEXT_ENTRIES
            || self
                .entries
                .front()
                .is_some_and(|e| end - e.start > TEXT_BUDGET as u64)
        {
            self.entries.pop_front();
        }
        // The bytes of entries let go are dropped in one move once there are enough of them.
        let front = self.entries.front().map_or(end, |e| e.start);
        let dead = (front - self.base) as usize;
        if self.entries.is_empty() || dead >= 2 * TEXT_BUDGET {
            self.bytes.drain(..dead);
            self.base = front;
        }
        self.entries.push_back(Entry {
            frame_no,
            start: self.base + self.bytes.len() as u64,
            kept: 0,
            len: 0,
            complete: false,
        });
    }

    fn extend(&mut self, chunk: &[u8], mask: Option<[u8; 4]>, pos: u64) {
        let Some(e) = self.entries.back_mut() else {
            return;
        };
        e.len += chunk.len() as u64;
        let take = (TEXT_KEEP - e.kept).min(chunk.len());
        let from = self.bytes.len();
        self.bytes.extend_from_slice(&chunk[..take]);
        e.kept += take;
        if let Some(mask) = mask {
            unmask(&mut self.bytes[from..], mask, pos);
        }
    }

    fn finish(&mut self) {
        if let Some(e) = self.entries.back_mut() {
            e.complete = true;
        }
    }

    fn bad(&self) -> Option<BadText> {
        let kept = |e: &Entry| {
            let from = (e.start - self.base) as usize;
            &self.bytes[from..from + e.kept]
        };
        let whole = |e: &Entry| e.kept as u64 == e.len;
        let found = self.entries.iter().find_map(|e| {
            let err = std::str::from_utf8(kept(e)).err()?;
            // A sequence cut at the end is invalid only when nothing more of it can follow.
            (err.error_len().is_some() || (e.complete && whole(e)))
                .then_some((e, Some(err.valid_up_to())))
        });
        let (e, bad_at) = found.or_else(|| {
            self.entries
                .iter()
                .rev()
                .find(|e| !whole(e))
                .map(|e| (e, None))
        })?;
        Some(BadText {
            frame_no: e.frame_no,
            bytes: Bytes::copy_from_slice(kept(e)),
            len: e.len,
            cut: !whole(e),
            bad_at,
        })
    }
}

/// What a tap follows of the peer's frames.
#[derive(Clone)]
pub(crate) enum Follow {
    /// Everything `WireLog` keeps, read with `Tap::log` (a session).
    All,
    /// Only the first close, handed to this watch (a relay: it reads through the socket's split
    /// halves, which have no `get_ref`).
    Closes(CloseWatch),
}

/// The first close frame the peer sent, as it was on the wire, shared with whoever reads the
/// socket.
#[derive(Clone, Default)]
pub(crate) struct CloseWatch(Arc<Mutex<Option<RawClose>>>);

impl CloseWatch {
    pub(crate) fn first_close(&self) -> Option<RawClose> {
        self.0.lock().ok().and_then(|c| c.clone())
    }

    fn publish(&self, close: &RawClose) {
        if let Ok(mut c) = self.0.lock() {
            *c = Some(close.clone());
        }
    }
}

/// The socket's stream with a `WireLog` on its reads, and a count of the bytes its writes took
/// (how a stalled peer is told from a slow one).
pub(crate) struct Tap<S> {
    inner: S,
    log: Box<WireLog>,
    /// Where the first close goes once seen (`None` after, or for a session).
    watch: Option<CloseWatch>,
    written: u64,
}

impl<S> Tap<S> {
    pub(crate) fn new(inner: S, follow: Follow) -> Self {
        let (log, watch) = match follow {
            Follow::All => (WireLog::new(), None),
            Follow::Closes(w) => (WireLog::closes_only(), Some(w)),
        };
        Tap {
            inner,
            log: Box::new(log),
            watch,
            written: 0,
        }
    }

    pub(crate) fn log(&self) -> &WireLog {
        &self.log
    }

    /// Bytes written to the stream so far (above TLS: what the WebSocket layer wrote).
    pub(crate) fn written(&self) -> u64 {
        self.written
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tap<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &r {
            this.log.feed(&buf.filled()[before..]);
            if let Some(close) = this.log.first_close()
                && let Some(watch) = this.watch.take()
            {
                watch.publish(close);
            }
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tap<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            this.written += *n as u64;
        }
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = &r {
            this.written += *n as u64;
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;

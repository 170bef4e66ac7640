//! Spans of a capture read ahead on worker threads, so `inspect --json` uses every core: a
//! capture of small binary frames is mostly base64 and decoder guesses, each frame's on its
//! own, and one core printed it at under 1 GB/s.
//!
//! The file past the reader's position is cut into spans of [`Plan::span`] bytes. A worker
//! takes the next span, reads it with `pread` on a file of its own, and prints every frame
//! line in the writer's shape as the reading in order would (`canonical_json`, the same
//! times); a span starts at the first line that starts in it and ends with the last. Blank
//! lines it counts; any other line (an event, a header, a line cut off, a frame in another
//! shape) it leaves, noting where, for the reading in order, which alone knows line numbers,
//! warnings held and the seq of frames that have none. Output is taken only when the reading
//! in order stands exactly where the span starts, so a span it has already passed (a line that
//! ran across the span's start) is dropped, and the output is the same bytes as on one core.

use super::Reading;
use super::stream::canonical_json;
use crate::capture::index::canonical::{self, Carried};
use crate::capture::index::times::Restamp;
use crate::capture::reader::trim_line;
use crate::engine::frame::Opcode;
use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};
use std::thread::Scope;
use std::time::SystemTime;

/// A span's size: large enough that handing it over costs nothing beside reading it, small
/// enough that a few per worker stay in memory.
const SPAN: u64 = 1 << 20;
/// Read past a span's end at first, for its last line.
const READ_PAST: usize = 64 << 10;
/// How far past its span a worker reads on for a long last line before it leaves the line
/// to the reading in order.
const OVERRUN: usize = 16 << 20;
const MAX_WORKERS: usize = 8;
/// Spans done (or being done) ahead of the reading in order, per worker.
const AHEAD_PER_WORKER: usize = 3;

#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    pub span: u64,
    /// No worker: everything is read in order.
    pub workers: usize,
    /// How far past a span's end a worker reads for its last line.
    pub overrun: usize,
}

impl Plan {
    pub fn for_this_machine() -> Plan {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Plan {
            span: SPAN,
            // On one core workers would only take turns with the reading in order.
            workers: if cores > 1 { cores.min(MAX_WORKERS) } else { 0 },
            overrun: OVERRUN,
        }
    }
}

/// A span as a worker read it.
pub(super) struct Span {
    /// Where its first line starts (`None`: the worker found none, or could not read).
    pub start: Option<u64>,
    pub out: Vec<u8>,
    pub segs: Vec<Seg>,
}

/// Lines the worker printed, up to a line it left or the span's end.
pub(super) struct Seg {
    /// The output for them ends here in [`Span::out`].
    pub out_end: usize,
    /// Lines, frame lines among them, and the last frame line's seq.
    pub lines: u64,
    pub records: u64,
    pub last_seq: Option<u64>,
    /// The file offset just past them.
    pub end: u64,
    pub then: Then,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Then {
    /// The line at `end` is the reading in order's; the next piece starts at `next`.
    Line { next: u64 },
    /// The worker stopped: from `end` on is the reading in order's, up to the next span.
    Stop,
}

/// Whose turn it is: the next span to hand out and how far the reading in order has taken.
#[derive(Default)]
pub(super) struct Turns {
    state: Mutex<TurnState>,
    changed: Condvar,
}

#[derive(Default)]
struct TurnState {
    next: usize,
    count: usize,
    /// Spans before this one are taken or dropped by the reading in order.
    taken: usize,
    window: usize,
    stopped: bool,
    spare: Vec<Vec<u8>>,
    /// What a new output buffer holds before it grows: about what a span prints.
    out_capacity: usize,
}

impl Turns {
    /// The next span to read and a buffer for its output; `None` once stopped or past the last.
    fn next(&self) -> Option<(usize, Vec<u8>)> {
        let mut s = self.state.lock().ok()?;
        loop {
            if s.stopped || s.next >= s.count {
                return None;
            }
            if s.next < s.taken + s.window {
                let j = s.next;
                s.next += 1;
                let out = s
                    .spare
                    .pop()
                    .unwrap_or_else(|| Vec::with_capacity(s.out_capacity));
                return Some((j, out));
            }
            s = self.changed.wait(s).ok()?;
        }
    }

    fn update(&self, f: impl FnOnce(&mut TurnState)) {
        if let Ok(mut s) = self.state.lock() {
            f(&mut s);
        }
        self.changed.notify_all();
    }
}

/// What every worker reads by.
#[derive(Clone, Copy)]
struct Job<'a> {
    /// Span `j` is nominally `base + j·span ..` one span on, the last ending at `total`.
    base: u64,
    span: u64,
    total: u64,
    started: SystemTime,
    reading: &'a Reading,
    decode_binary: bool,
    overrun: usize,
}

/// The reading in order's side: spans as workers finish them, taken in order.
pub(super) struct Ahead<'a> {
    turns: &'a Turns,
    done: mpsc::Receiver<(usize, Span)>,
    got: BTreeMap<usize, Span>,
    /// The next span the reading in order may take.
    j: usize,
    count: usize,
    base: u64,
    span: u64,
    /// Spans handed to the reading in order.
    pub used: usize,
}

impl<'env> Ahead<'env> {
    /// Workers for the file from `at` (where the reading in order stands) to `total`; `None`
    /// when the plan has none, the rest is under two spans, or no worker could start.
    pub fn start<'scope>(
        scope: &'scope Scope<'scope, 'env>,
        turns: &'env Turns,
        plan: Plan,
        file: impl Fn() -> std::io::Result<File>,
        (at, total): (u64, u64),
        started: SystemTime,
        reading: &'env Reading,
    ) -> Option<Ahead<'env>> {
        let span = plan.span.max(1);
        let count = usize::try_from(total.checked_sub(at)?.div_ceil(span)).ok()?;
        if plan.workers == 0 || count < 2 {
            return None;
        }
        let job = Job {
            base: at,
            span,
            total,
            started,
            reading,
            decode_binary: reading.kind != crate::decode::DecoderKind::Hex,
            overrun: plan.overrun,
        };
        let window = AHEAD_PER_WORKER * plan.workers;
        turns.update(|s| {
            *s = TurnState {
                count,
                window,
                out_capacity: usize::try_from(span + span / 4).unwrap_or(0).min(64 << 20),
                ..TurnState::default()
            }
        });
        let (tx, done) = mpsc::channel();
        let mut spawned = 0;
        for n in 0..plan.workers {
            // A worker that cannot start leaves its share to the others (or to the reading in
            // order, when none did). Each reads the file the reading in order has open (by
            // `pread`, so the shared offset is not moved), not the path, which may by now
            // name another file.
            let Ok(file) = file() else { break };
            let tx = tx.clone();
            let started = std::thread::Builder::new()
                .name(format!("inspect-{n}"))
                .spawn_scoped(scope, move || work(turns, tx, file, job));
            if started.is_err() {
                break;
            }
            spawned += 1;
        }
        if spawned == 0 {
            turns.update(|s| s.stopped = true);
            return None;
        }
        Some(Ahead {
            turns,
            done,
            got: BTreeMap::new(),
            j: 0,
            count,
            base: at,
            span,
            used: 0,
        })
    }

    /// The span that starts exactly at `pos`, if the reading in order has come to one; spans it
    /// has gone past are dropped on the way.
    pub fn starting_at(&mut self, pos: u64) -> Option<Span> {
        loop {
            if self.j >= self.count || pos < self.base + self.j as u64 * self.span {
                return None;
            }
            let start = self.wait()?;
            if start.is_some_and(|s| s > pos) {
                return None;
            }
            let span = self.got.remove(&self.j)?;
            self.j += 1;
            let j = self.j;
            self.turns.update(|s| s.taken = j);
            if start == Some(pos) {
                self.used += 1;
                return Some(span);
            }
            self.recycle(span.out);
        }
    }

    /// Where span `j` starts, once its worker is done with it (`None` for the outer option:
    /// the workers are gone, and the rest is read in order).
    fn wait(&mut self) -> Option<Option<u64>> {
        while !self.got.contains_key(&self.j) {
            match self.done.recv() {
                Ok((k, span)) => {
                    self.got.insert(k, span);
                }
                Err(_) => {
                    self.count = self.j;
                    return None;
                }
            }
        }
        self.got.get(&self.j).map(|s| s.start)
    }

    /// A span's output buffer, for a later span; one that a long line made large is freed.
    pub fn recycle(&self, mut out: Vec<u8>) {
        out.clear();
        self.turns.update(|s| {
            if s.spare.len() < s.window && out.capacity() <= 2 * s.out_capacity {
                s.spare.push(out);
            }
        });
    }
}

/// No more spans: workers finish the one in hand and end (the scope waits for them). On every
/// way out, a panic's too, or the scope would wait for workers asleep on a full window.
impl Drop for Ahead<'_> {
    fn drop(&mut self) {
        self.turns.update(|s| s.stopped = true);
    }
}

fn work(turns: &Turns, done: mpsc::Sender<(usize, Span)>, file: File, job: Job<'_>) {
    let mut w = Worker {
        file,
        enc: Restamp::new(job.started),
        input: Vec::new(),
        payload: Vec::new(),
        scratch: Vec::new(),
    };
    while let Some((j, out)) = turns.next() {
        // A bug here must not leave the reading in order waiting for this span: it gets an
        // empty one instead, and reads that part itself.
        let span = std::panic::catch_unwind(AssertUnwindSafe(|| w.read_span(&job, j, out)))
            .unwrap_or_else(|_| Span {
                start: None,
                out: Vec::new(),
                segs: Vec::new(),
            });
        if done.send((j, span)).is_err() {
            return;
        }
    }
}

struct Worker {
    file: File,
    enc: Restamp,
    input: Vec<u8>,
    payload: Vec<u8>,
    scratch: Vec<u8>,
}

/// Lines counted since the last piece was closed.
#[derive(Default)]
struct Counts {
    lines: u64,
    records: u64,
    last_seq: Option<u64>,
}

impl Counts {
    fn close(&mut self, out_end: usize, end: u64, then: Then) -> Seg {
        let c = std::mem::take(self);
        Seg {
            out_end,
            lines: c.lines,
            records: c.records,
            last_seq: c.last_seq,
            end,
            then,
        }
    }
}

impl Worker {
    fn read_span(&mut self, job: &Job<'_>, j: usize, mut out: Vec<u8>) -> Span {
        let nominal = job.base + j as u64 * job.span;
        let limit = (nominal + job.span).min(job.total);
        // From the byte before, to see whether a line starts right at the span's start.
        let from = if j == 0 { nominal } else { nominal - 1 };
        let span_len = (limit - from) as usize;
        let none = |out| Span {
            start: None,
            out,
            segs: Vec::new(),
        };
        // Past the span's end, for its last line: as much again for small spans (tests use
        // spans of a few bytes), at most READ_PAST.
        let past = span_len.clamp(4096, READ_PAST);
        let Ok(mut filled) = self.fill(from, 0, span_len + past) else {
            return none(out);
        };
        let mut i = if j == 0 {
            0
        } else {
            match memchr::memchr(b'\n', &self.input[..filled]) {
                Some(k) => k + 1,
                None => return none(out),
            }
        };
        let start = from + i as u64;
        let mut segs = Vec::new();
        let mut counts = Counts::default();
        while from + (i as u64) < limit {
            let rest = &self.input[i..filled];
            let payload = job.decode_binary.then_some(&mut self.payload);
            if let Some((c, len)) = canonical::parse_line_start(rest, payload) {
                // As `Records::next` hands the line and its payload out.
                let line = trim_line(&rest[..len]);
                let decoded =
                    job.decode_binary && c.opcode == Opcode::Binary && c.carried == Carried::B64;
                let payload = decoded.then_some(&self.payload[..]);
                canonical_json(
                    &mut out,
                    &mut self.enc,
                    &c,
                    line,
                    payload,
                    job.reading,
                    &mut self.scratch,
                );
                i += len + 1;
                counts.lines += 1;
                counts.records += 1;
                counts.last_seq = Some(c.seq);
                continue;
            }
            match memchr::memchr(b'\n', rest) {
                Some(k) if trim_line(&rest[..k]).is_empty() => {
                    i += k + 1;
                    counts.lines += 1;
                }
                Some(k) => {
                    let at = from + i as u64;
                    let next = at + k as u64 + 1;
                    segs.push(counts.close(out.len(), at, Then::Line { next }));
                    i += k + 1;
                }
                None => {
                    // The line runs past what was read: read on for it, up to a bound.
                    let want = filled.saturating_mul(2).min(span_len + job.overrun);
                    let at_end = filled < self.input.len();
                    if at_end || want <= filled {
                        break;
                    }
                    match self.fill(from, filled, want) {
                        Ok(n) if n > filled => filled = n,
                        _ => break,
                    }
                }
            }
        }
        segs.push(counts.close(out.len(), from + i as u64, Then::Stop));
        if self.input.capacity() > 2 * (span_len + READ_PAST) {
            // A long line's room, not kept for the spans after it.
            self.input = Vec::new();
        }
        Span {
            start: Some(start),
            out,
            segs,
        }
    }

    /// Read the file from `from + have` into `input[have..want]`, as far as it goes: the bytes
    /// now held (fewer than `want` at the file's end; `input` is then `want` long).
    fn fill(&mut self, from: u64, have: usize, want: usize) -> std::io::Result<usize> {
        if self.input.len() != want {
            self.input.resize(want, 0);
        }
        let mut got = have;
        while got < want {
            match self
                .file
                .read_at(&mut self.input[got..want], from + got as u64)
            {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(got)
    }
}

//! The frame log of one session: append-only rows (frames and lifecycle events), indexed by
//! position, in bounded memory. Per row a few fixed-width fields in column chunks (33 bytes);
//! payloads in large shared blocks (small ones) or as they came (big ones); past the console's
//! memory budget the oldest blocks go to the session's spill file, and a capture opened from a
//! file leaves its payloads in the file (`PayloadSource`). Rows are handed out by value, their
//! payload shared with the block, so drawing costs what is visible, not what is stored.

mod budget;
mod columns;
mod payloads;
mod spill;

pub use budget::Budget;
pub use spill::remove_stale as remove_stale_spill_files;

use crate::engine::{Direction, Frame, Opcode};
use bytes::Bytes;
use columns::{Columns, Fields, Meta};
use payloads::Payloads;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum RowKind {
    Frame(Frame),
    /// A lifecycle event read in place: open, close, error, warning.
    Event {
        kind: EventKind,
        text: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Connecting,
    Open,
    Close { code: u16, clean: bool },
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub at: Duration,
    pub kind: RowKind,
}

/// Where the payloads of rows pushed with `push_from_source` live (an opened capture), read
/// back on demand.
pub trait PayloadSource: Send + Sync {
    /// The payload of the frame stored with this `loc` and `extra`.
    fn read(&self, loc: u64, extra: u32) -> Result<Bytes, String>;
}

/// A frame's fixed fields, without its payload (cheap: no read, no copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    pub seq: u64,
    pub at: Duration,
    pub dir: Direction,
    pub opcode: Opcode,
    pub len: usize,
}

/// What a log holds, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryUse {
    /// The rows' fields and the events' texts.
    pub index: usize,
    /// Payload blocks in memory.
    pub payloads: usize,
    /// Payload bytes written to the spill file.
    pub spilled: u64,
}

pub struct FrameLog {
    rows: Columns,
    events: Vec<(EventKind, String)>,
    event_text_bytes: usize,
    payloads: Payloads,
    source: Option<Arc<dyn PayloadSource>>,
}

impl Default for FrameLog {
    fn default() -> Self {
        FrameLog::new(Budget::default())
    }
}

impl std::fmt::Debug for FrameLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameLog")
            .field("rows", &self.rows.len())
            .field("memory", &self.memory())
            .finish()
    }
}

fn opcode_bits(o: Opcode) -> u8 {
    match o {
        Opcode::Text => 0,
        Opcode::Binary => 1,
        Opcode::Ping => 2,
        Opcode::Pong => 3,
        Opcode::Close => 4,
    }
}

fn opcode_of(bits: u8) -> Opcode {
    match bits {
        0 => Opcode::Text,
        1 => Opcode::Binary,
        2 => Opcode::Ping,
        3 => Opcode::Pong,
        _ => Opcode::Close,
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl FrameLog {
    /// An empty log holding its payloads within `budget` (shared with the console's other logs).
    pub fn new(budget: Budget) -> Self {
        FrameLog {
            rows: Columns::default(),
            events: Vec::new(),
            event_text_bytes: 0,
            payloads: Payloads::new(budget),
            source: None,
        }
    }

    /// An empty log whose `push_from_source` rows read their payloads from `source`.
    pub fn with_source(budget: Budget, source: Arc<dyn PayloadSource>) -> Self {
        let mut log = FrameLog::new(budget);
        log.source = Some(source);
        log
    }

    pub fn push(&mut self, row: Row) {
        match row.kind {
            RowKind::Frame(f) => self.push_frame(f),
            RowKind::Event { kind, text } => self.push_event(row.at, kind, text),
        }
    }

    pub fn push_frame(&mut self, f: Frame) {
        let len = u32::try_from(f.payload.len()).unwrap_or(u32::MAX);
        let loc = self.payloads.push(f.payload);
        self.rows.push(Fields {
            at_nanos: nanos(f.at),
            seq: f.seq,
            loc,
            len,
            extra: 0,
            meta: Meta::frame(f.dir == Direction::In, opcode_bits(f.opcode), false),
        });
    }

    pub fn push_event(&mut self, at: Duration, kind: EventKind, text: String) {
        self.event_text_bytes += text.len();
        let i = u64::try_from(self.events.len()).unwrap_or(u64::MAX);
        self.events.push((kind, text));
        self.rows.push(Fields {
            at_nanos: nanos(at),
            seq: 0,
            loc: i,
            len: 0,
            extra: 0,
            meta: Meta::event(),
        });
    }

    /// A frame whose payload stays in the log's source (`loc` and `extra` say where).
    pub fn push_from_source(&mut self, info: FrameInfo, loc: u64, extra: u32) {
        self.rows.push(Fields {
            at_nanos: nanos(info.at),
            seq: info.seq,
            loc,
            len: u32::try_from(info.len).unwrap_or(u32::MAX),
            extra,
            meta: Meta::frame(info.dir == Direction::In, opcode_bits(info.opcode), true),
        });
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether rows may read their payloads from a source (an opened capture).
    pub fn has_source(&self) -> bool {
        self.source.is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.len() == 0
    }

    /// Row `i`, its payload shared with the log's block, or read back from the spill file or
    /// the source. A payload that cannot be read back becomes a warning row in its place,
    /// saying which frame and why: never a panic, never a silently empty frame.
    pub fn get(&self, i: usize) -> Option<Row> {
        let f = self.rows.get(i)?;
        let at = Duration::from_nanos(f.at_nanos);
        if f.meta.is_event() {
            let (kind, text) = self.events.get(usize::try_from(f.loc).ok()?)?;
            return Some(Row {
                at,
                kind: RowKind::Event {
                    kind: *kind,
                    text: text.clone(),
                },
            });
        }
        let payload = if f.meta.in_source() {
            match &self.source {
                Some(s) => s.read(f.loc, f.extra),
                None => Err("the capture it came from is not open".into()),
            }
        } else {
            self.payloads.get(f.loc, f.len as usize)
        };
        let kind = match payload {
            Ok(payload) => RowKind::Frame(Frame {
                seq: f.seq,
                at,
                dir: if f.meta.dir_in() {
                    Direction::In
                } else {
                    Direction::Out
                },
                opcode: opcode_of(f.meta.opcode()),
                payload,
            }),
            Err(e) => RowKind::Event {
                kind: EventKind::Warning,
                text: format!("frame #{}: its payload cannot be read back: {e}", f.seq),
            },
        };
        Some(Row { at, kind })
    }

    /// Rows `start..start+count` (clamped).
    pub fn window(&self, start: usize, count: usize) -> Vec<Row> {
        let end = start.saturating_add(count).min(self.len());
        (start.min(end)..end).filter_map(|i| self.get(i)).collect()
    }

    /// Row `i`'s fixed fields when it is a frame, without reading its payload.
    pub fn frame_info(&self, i: usize) -> Option<FrameInfo> {
        let f = self.rows.get(i)?;
        (!f.meta.is_event()).then(|| FrameInfo {
            seq: f.seq,
            at: Duration::from_nanos(f.at_nanos),
            dir: if f.meta.dir_in() {
                Direction::In
            } else {
                Direction::Out
            },
            opcode: opcode_of(f.meta.opcode()),
            len: f.len as usize,
        })
    }

    pub fn memory(&self) -> MemoryUse {
        MemoryUse {
            index: self.rows.bytes()
                + self.events.capacity() * std::mem::size_of::<(EventKind, String)>()
                + self.event_text_bytes,
            payloads: self.payloads.held(),
            spilled: self.payloads.spilled_bytes(),
        }
    }

    /// A failure to spill, said once (the frames stay in memory, so none is lost).
    pub fn take_problem(&mut self) -> Option<String> {
        self.payloads.take_problem()
    }

    /// The spill file, once the log has written one.
    pub fn spill_path(&self) -> Option<&std::path::Path> {
        self.payloads.spill_path()
    }
}

#[cfg(test)]
mod tests;

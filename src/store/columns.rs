//! The per-row fields of a frame log, column by column in fixed-size chunks: a row costs its
//! fields (33 bytes) and nothing else, and growing never copies what is stored (a chunk is
//! allocated once, full size, and never moved).

/// Rows per chunk: 64 Ki rows, about 2 MiB a chunk.
const CHUNK: usize = 1 << 16;

/// What a row is and where its payload lives, packed in one byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Meta(u8);

impl Meta {
    const EVENT: u8 = 0x80;
    const DIR_IN: u8 = 0x40;
    /// The payload is in the frame's source (a capture's line), not in the log's own blocks.
    const IN_SOURCE: u8 = 0x20;
    const OPCODE: u8 = 0x07;

    pub(super) fn frame(dir_in: bool, opcode: u8, in_source: bool) -> Meta {
        let mut m = opcode & Self::OPCODE;
        if dir_in {
            m |= Self::DIR_IN;
        }
        if in_source {
            m |= Self::IN_SOURCE;
        }
        Meta(m)
    }

    pub(super) fn event() -> Meta {
        Meta(Self::EVENT)
    }

    pub(super) fn is_event(self) -> bool {
        self.0 & Self::EVENT != 0
    }

    pub(super) fn dir_in(self) -> bool {
        self.0 & Self::DIR_IN != 0
    }

    pub(super) fn in_source(self) -> bool {
        self.0 & Self::IN_SOURCE != 0
    }

    pub(super) fn opcode(self) -> u8 {
        self.0 & Self::OPCODE
    }
}

/// One row's fields. `loc` and `extra` mean: for a frame in the log's blocks, the payload's
/// offset in the log's byte stream (and nothing); for a frame in its source, the line's offset
/// and length; for an event, its index in the events list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fields {
    pub(super) at_nanos: u64,
    pub(super) seq: u64,
    pub(super) loc: u64,
    pub(super) len: u32,
    pub(super) extra: u32,
    pub(super) meta: Meta,
}

struct Chunk {
    at_nanos: Vec<u64>,
    seq: Vec<u64>,
    loc: Vec<u64>,
    len: Vec<u32>,
    extra: Vec<u32>,
    meta: Vec<Meta>,
}

impl Chunk {
    fn new() -> Self {
        Chunk {
            at_nanos: Vec::with_capacity(CHUNK),
            seq: Vec::with_capacity(CHUNK),
            loc: Vec::with_capacity(CHUNK),
            len: Vec::with_capacity(CHUNK),
            extra: Vec::with_capacity(CHUNK),
            meta: Vec::with_capacity(CHUNK),
        }
    }

    fn len(&self) -> usize {
        self.meta.len()
    }
}

#[derive(Default)]
pub(super) struct Columns {
    chunks: Vec<Chunk>,
    len: usize,
}

impl Columns {
    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn push(&mut self, f: Fields) {
        if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
            self.chunks.push(Chunk::new());
        }
        if let Some(c) = self.chunks.last_mut() {
            c.at_nanos.push(f.at_nanos);
            c.seq.push(f.seq);
            c.loc.push(f.loc);
            c.len.push(f.len);
            c.extra.push(f.extra);
            c.meta.push(f.meta);
            self.len += 1;
        }
    }

    pub(super) fn get(&self, i: usize) -> Option<Fields> {
        let c = self.chunks.get(i / CHUNK)?;
        let j = i % CHUNK;
        Some(Fields {
            at_nanos: *c.at_nanos.get(j)?,
            seq: *c.seq.get(j)?,
            loc: *c.loc.get(j)?,
            len: *c.len.get(j)?,
            extra: *c.extra.get(j)?,
            meta: *c.meta.get(j)?,
        })
    }

    /// Bytes held for the rows (whole chunks, as allocated).
    pub(super) fn bytes(&self) -> usize {
        self.chunks.len() * CHUNK * (8 + 8 + 8 + 4 + 4 + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_across_chunks_read_back() {
        let mut c = Columns::default();
        let n = CHUNK * 2 + 7;
        for i in 0..n as u64 {
            c.push(Fields {
                at_nanos: i * 3,
                seq: i + 1,
                loc: i * 10,
                len: (i % 1000) as u32,
                extra: 0,
                meta: Meta::frame(i % 2 == 0, (i % 6) as u8, false),
            });
        }
        assert_eq!(c.len(), n);
        for i in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, n - 1] {
            let f = c.get(i).expect("row");
            assert_eq!(f.seq, i as u64 + 1);
            assert_eq!(f.at_nanos, i as u64 * 3);
            assert_eq!(f.meta.dir_in(), i % 2 == 0);
            assert_eq!(f.meta.opcode(), (i % 6) as u8);
        }
        assert!(c.get(n).is_none());
        assert!(Meta::event().is_event() && !Meta::frame(true, 1, true).is_event());
        assert!(Meta::frame(false, 1, true).in_source());
    }
}

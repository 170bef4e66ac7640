//! Payload bytes of a frame log: small payloads copied into large shared blocks (no allocation
//! per frame), big ones kept as the network handed them over (no copy), and, past the memory
//! budget, the oldest blocks written to the session's spill file and read back on demand.

use super::budget::Budget;
use super::spill::SpillFile;
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;

/// Payloads at least this big are kept as they came: copying them saves no allocation.
pub(super) const BIG: usize = 64 << 10;
/// Marks a `loc` that names a big payload's own block rather than an offset in the stream.
const BIG_LOC: u64 = 1 << 63;

enum Slot {
    Mem(Bytes),
    Spilled { file_off: u64, len: usize },
}

#[derive(Clone, Copy)]
enum Which {
    Small(usize),
    Big(usize),
}

pub(super) struct Payloads {
    budget: Budget,
    /// Size of a small block: an eighth of the budget, between 4 KiB and 512 KiB.
    block: usize,
    small: Vec<Slot>,
    open: BytesMut,
    big: Vec<Slot>,
    /// Blocks in memory, oldest first: the order they are spilled in.
    in_memory: VecDeque<Which>,
    spill: SpillFile,
    /// Bytes this log holds in memory (counted in the shared budget too).
    held: usize,
    /// The first failure to spill (said once; the payloads stay in memory).
    problem: Option<String>,
    problem_said: bool,
}

impl Payloads {
    pub(super) fn new(budget: Budget) -> Self {
        // Not above 512 KiB: mimalloc keeps bigger objects in pages of their own that cost a
        // 64 KiB slice more each (1 MiB blocks held 1 KiB frames at 119 B a frame beyond the
        // payload, 512 KiB blocks at 54; `cargo bench --bench suite -- 1 memory`).
        let block = (budget.limit() / 8).clamp(4 << 10, 512 << 10);
        let spill = SpillFile::new(budget.spill_dir());
        Payloads {
            budget,
            block,
            small: Vec::new(),
            open: BytesMut::new(),
            big: Vec::new(),
            in_memory: VecDeque::new(),
            spill,
            held: 0,
            problem: None,
            problem_said: false,
        }
    }

    /// Keep `payload`; the `loc` to read it back with.
    pub(super) fn push(&mut self, payload: Bytes) -> u64 {
        let loc = if payload.len() >= BIG.min(self.block) {
            let i = self.big.len();
            self.hold(payload.len());
            self.big.push(Slot::Mem(payload));
            self.in_memory.push_back(Which::Big(i));
            BIG_LOC | i as u64
        } else {
            // Offsets are counted in blocks of `self.block`, whatever the allocator gave.
            if self.open.capacity() == 0 || self.block - self.open.len() < payload.len() {
                self.seal();
                self.open = BytesMut::with_capacity(self.block);
                self.hold(self.block);
            }
            let loc = (self.small.len() * self.block + self.open.len()) as u64;
            self.open.extend_from_slice(&payload);
            loc
        };
        self.enforce();
        loc
    }

    /// The payload at `loc`: shared with the block when it is in memory, read from the spill
    /// file when it was written out (an error says why it could not be).
    pub(super) fn get(&self, loc: u64, len: usize) -> Result<Bytes, String> {
        if loc & BIG_LOC != 0 {
            let i = (loc & !BIG_LOC) as usize;
            return match self.big.get(i) {
                Some(Slot::Mem(b)) => Ok(b.clone()),
                Some(Slot::Spilled { file_off, len }) => self.spill.read(*file_off, *len),
                None => Err("no such payload".into()),
            };
        }
        let (i, off) = ((loc as usize) / self.block, (loc as usize) % self.block);
        let end = off + len;
        if i == self.small.len() {
            // The block still filling: a copy (a few rows a frame drawn).
            return self
                .open
                .get(off..end)
                .map(Bytes::copy_from_slice)
                .ok_or_else(|| "no such payload".into());
        }
        match self.small.get(i) {
            Some(Slot::Mem(b)) if end <= b.len() => Ok(b.slice(off..end)),
            Some(Slot::Spilled { file_off, len: n }) if end <= *n => {
                self.spill.read(file_off + off as u64, len)
            }
            _ => Err("no such payload".into()),
        }
    }

    fn seal(&mut self) {
        if self.open.capacity() == 0 {
            return;
        }
        let block = std::mem::take(&mut self.open).freeze();
        let i = self.small.len();
        self.small.push(Slot::Mem(block));
        self.in_memory.push_back(Which::Small(i));
    }

    fn hold(&mut self, n: usize) {
        self.held += n;
        self.budget.add(n);
    }

    /// Past the budget, write the oldest sealed blocks out until under it (or nothing is left
    /// to write: the block still filling stays, whatever the budget).
    fn enforce(&mut self) {
        while self.budget.over() && self.problem.is_none() {
            let Some(which) = self.in_memory.pop_front() else {
                return;
            };
            let slot = match which {
                Which::Small(i) => self.small.get_mut(i),
                Which::Big(i) => self.big.get_mut(i),
            };
            let Some(slot) = slot else { continue };
            let Slot::Mem(bytes) = slot else { continue };
            let size = match which {
                Which::Small(_) => self.block,
                Which::Big(_) => bytes.len(),
            };
            match self.spill.append(bytes) {
                Ok(file_off) => {
                    *slot = Slot::Spilled {
                        file_off,
                        len: bytes.len(),
                    };
                    self.held -= size;
                    self.budget.sub(size);
                }
                Err(e) => {
                    self.in_memory.push_front(which);
                    self.problem = Some(format!(
                        "the memory budget is used up and frames cannot be written to disk ({e}); they stay in memory"
                    ));
                }
            }
        }
    }

    /// A spill failure not yet said.
    pub(super) fn take_problem(&mut self) -> Option<String> {
        if self.problem_said {
            return None;
        }
        let p = self.problem.clone()?;
        self.problem_said = true;
        Some(p)
    }

    pub(super) fn held(&self) -> usize {
        self.held
    }

    pub(super) fn spilled_bytes(&self) -> u64 {
        self.spill.written()
    }

    pub(super) fn spill_path(&self) -> Option<&std::path::Path> {
        self.spill.path()
    }
}

impl Drop for Payloads {
    fn drop(&mut self) {
        self.budget.sub(self.held);
    }
}

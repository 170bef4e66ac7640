//! The memory budget every frame log of the console shares (`[store] memory_mb`): what the logs
//! hold in memory together, and where a log spills past it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Clone)]
pub struct Budget {
    limit: usize,
    used: Arc<AtomicUsize>,
    spill_dir: Option<PathBuf>,
}

impl Default for Budget {
    /// No limit and nowhere to spill (tests, and the command line, which stores nothing).
    fn default() -> Self {
        Budget::new(usize::MAX, None)
    }
}

impl Budget {
    /// `limit` bytes of payload in memory across every log sharing this budget; past it, logs
    /// spill to files in `spill_dir` (kept in memory when there is none).
    pub fn new(limit: usize, spill_dir: Option<PathBuf>) -> Self {
        Budget {
            limit,
            used: Arc::new(AtomicUsize::new(0)),
            spill_dir,
        }
    }

    /// `[store] memory_mb`.
    pub fn from_mb(mb: u64, spill_dir: Option<PathBuf>) -> Self {
        let limit = usize::try_from(mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
        Budget::new(limit, spill_dir)
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Payload bytes held in memory now, by every log sharing the budget.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    pub fn spill_dir(&self) -> Option<&Path> {
        self.spill_dir.as_deref()
    }

    pub(super) fn add(&self, n: usize) {
        self.used.fetch_add(n, Ordering::Relaxed);
    }

    pub(super) fn sub(&self, n: usize) {
        // Never below zero, whatever the order of drops.
        let _ = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                Some(u.saturating_sub(n))
            });
    }

    pub(super) fn over(&self) -> bool {
        self.used() > self.limit
    }
}

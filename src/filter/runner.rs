//! A jq program run on a thread of its own, a batch of payloads at a time. jaq has no bound on
//! evaluation, and a program that never ends on some frame (`if .x then (def f: f; f) else
//! true end`) would hold the console's loop for good: here it holds this thread instead. The
//! loop waits for a batch only while frames keep being finished, and gives the program up once
//! one frame has taken `limit`; the thread cannot be stopped, so it is left to run (and counted
//! in [`RUNAWAYS`] until it ends, if it ever does).

use super::{Jq, JqBatch, compile_jq, run_jq};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// Programs given up on whose threads still run.
pub(super) static RUNAWAYS: AtomicUsize = AtomicUsize::new(0);

/// What went wrong with a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Failed {
    /// The batch's payload at this index took `limit` without finishing.
    Stuck { at: usize },
    /// The thread is gone (it could not compile the program, or jaq panicked).
    Gone,
}

/// The jq thread's stack.
const STACK: usize = 64 << 20;

/// Takes a given-up thread out of [`RUNAWAYS`] as it ends.
struct Uncount(Arc<Shared>);

impl Drop for Uncount {
    fn drop(&mut self) {
        if self.0.abandoned.load(Ordering::SeqCst) {
            RUNAWAYS.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

#[derive(Default)]
struct Shared {
    /// Payloads finished, over every batch.
    done: AtomicUsize,
    /// Set when the loop gave the program up: the thread then uncounts itself as it ends.
    abandoned: AtomicBool,
}

pub(super) struct Runner {
    batches: mpsc::Sender<JqBatch>,
    /// In a mutex only so that a `Filter` is `Sync` (a receiver is not); `run` has `&mut`.
    verdicts: Mutex<mpsc::Receiver<Vec<bool>>>,
    shared: Arc<Shared>,
    /// Payloads sent before the batch in hand.
    sent: usize,
    limit: Duration,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Runner({} sent)", self.sent)
    }
}

impl Runner {
    /// A thread for `program` (compiled there: a compiled program does not cross threads);
    /// `None` when no thread could be started.
    pub fn start(program: &str, limit: Duration) -> Option<Runner> {
        let (batches, batch_rx) = mpsc::channel::<JqBatch>();
        let (verdict_tx, verdicts) = mpsc::channel();
        let shared = Arc::new(Shared::default());
        let theirs = shared.clone();
        let program = program.to_string();
        std::thread::Builder::new()
            .name("wsdeck-jq".into())
            // jaq recurses on the native stack: at least the console thread's 8 MiB, so a
            // program that ran there runs here (the pages are only taken when touched).
            .stack_size(STACK)
            .spawn(move || {
                // Uncounted however the thread ends, a panic in jaq included.
                let _uncount = Uncount(theirs.clone());
                if let Ok(jq) = compile_jq(&program) {
                    serve(&jq, &batch_rx, &verdict_tx, &theirs);
                }
            })
            .ok()?;
        Some(Runner {
            batches,
            verdicts: Mutex::new(verdicts),
            shared,
            sent: 0,
            limit,
        })
    }

    /// Each payload's verdict, in order; given up once one payload has taken `limit`, or
    /// (with `total`) once the batch has. A failure leaves the runner of no further use.
    pub fn run(&mut self, batch: JqBatch, total: Option<Duration>) -> Result<Vec<bool>, Failed> {
        let n = batch.len();
        if n == 0 {
            return Ok(Vec::new());
        }
        let first = self.sent;
        self.sent += n;
        self.batches.send(batch).map_err(|_| Failed::Gone)?;
        let bound = total.map_or(self.limit, |t| t.min(self.limit));
        let step = (bound / 5).max(Duration::from_millis(1));
        let began = Instant::now();
        let (mut seen, mut since) = (self.shared.done.load(Ordering::SeqCst), began);
        let verdicts = match self.verdicts.get_mut() {
            Ok(v) => v,
            Err(poisoned) => poisoned.into_inner(),
        };
        loop {
            match verdicts.recv_timeout(step) {
                Ok(v) => return Ok(v),
                Err(mpsc::RecvTimeoutError::Disconnected) => return Err(Failed::Gone),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            let done = self.shared.done.load(Ordering::SeqCst);
            if done != seen {
                (seen, since) = (done, Instant::now());
            }
            if since.elapsed() >= self.limit || total.is_some_and(|t| began.elapsed() >= t) {
                // Counted before the thread can see itself abandoned (it ends only after this
                // runner is dropped and its channels close).
                self.shared.abandoned.store(true, Ordering::SeqCst);
                RUNAWAYS.fetch_add(1, Ordering::SeqCst);
                return Err(Failed::Stuck {
                    at: done.saturating_sub(first).min(n - 1),
                });
            }
        }
    }
}

fn serve(
    jq: &Jq,
    batches: &mpsc::Receiver<JqBatch>,
    verdicts: &mpsc::Sender<Vec<bool>>,
    shared: &Shared,
) {
    while let Ok(batch) = batches.recv() {
        let mut v = Vec::with_capacity(batch.len());
        for p in batch.iter() {
            v.push(run_jq(jq, p));
            shared.done.fetch_add(1, Ordering::SeqCst);
        }
        if verdicts.send(v).is_err() {
            return;
        }
    }
}

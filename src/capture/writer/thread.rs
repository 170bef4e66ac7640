//! A capture written on a thread of its own: encoding and the kernel's copy into the file run
//! beside the socket's reader instead of taking turns with it on a runtime worker (measured in
//! benches/ingest: a record whose consumer task shared a worker with the session actor ran at
//! half speed in about half the runs).

use super::{CaptureWriteError, CaptureWriter, event_line};
use crate::capture::line::EventLine;
use crate::engine::frame::Frame;
use crate::engine::session::SessionEvent;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// What the capture thread is handed.
enum ToWriter {
    Frames(Vec<Frame>),
    Event(Duration, &'static str, EventLine),
}

/// How a capture written on its thread ended.
#[derive(Debug)]
pub struct CaptureEnd {
    /// Frames in the file.
    pub frames: u64,
    /// Frames that came after a write failed (or were lost in it), not in the file.
    pub dropped: u64,
    /// The failure, unless [`CaptureThread::failure`] already handed it out.
    pub error: Option<CaptureWriteError>,
    /// Whether a write failed at all (said now or earlier).
    pub failed: bool,
}

struct Written {
    frames: u64,
    dropped: u64,
    failed: bool,
}

pub struct CaptureThread {
    tx: mpsc::Sender<ToWriter>,
    join: std::thread::JoinHandle<Written>,
    path: PathBuf,
    /// The first failed write, sent by the thread as it happens; taken once.
    failure: Option<oneshot::Receiver<CaptureWriteError>>,
}

impl CaptureThread {
    pub fn spawn(mut w: CaptureWriter) -> io::Result<Self> {
        let (tx, mut rx) = mpsc::channel::<ToWriter>(256);
        let (fail_tx, fail_rx) = oneshot::channel();
        let path = w.path.clone();
        let join = std::thread::Builder::new()
            .name("wsdeck-capture".into())
            .spawn(move || {
                let mut fail_tx = Some(fail_tx);
                let mut report = |r: Result<(), CaptureWriteError>| {
                    if let Err(e) = r
                        && let Some(tx) = fail_tx.take()
                    {
                        let _ = tx.send(e);
                    }
                };
                // After a failure the writer takes the rest without writing it: the channel is
                // drained to the end, so the session never waits on a dead writer.
                while let Some(msg) = rx.blocking_recv() {
                    report(match msg {
                        ToWriter::Frames(frames) => w.frames(&frames),
                        ToWriter::Event(at, kind, fields) => w.event(at, kind, fields),
                    });
                    // Written out whenever nothing more is queued: a crash loses little.
                    if rx.is_empty() {
                        report(w.flush());
                    }
                }
                report(w.flush());
                Written {
                    frames: w.frames_written(),
                    dropped: w.frames_dropped(),
                    failed: w.has_failed(),
                }
            })?;
        Ok(CaptureThread {
            tx,
            join,
            path,
            failure: Some(fail_rx),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The write failure, once, as soon as the thread has met it (`None` before, and after it
    /// was handed out).
    pub fn failure(&mut self) -> Option<CaptureWriteError> {
        let e = self.failure.as_mut()?.try_recv().ok()?;
        self.failure = None;
        Some(e)
    }

    /// Hand over whatever a session reported; waits only when the writer is far behind.
    pub async fn session_event(&self, ev: &SessionEvent) -> io::Result<()> {
        let msg = match ev {
            SessionEvent::Frames(frames) => ToWriter::Frames(frames.clone()),
            other => match event_line(other) {
                Some((at, kind, fields)) => ToWriter::Event(at, kind, fields),
                None => return Ok(()),
            },
        };
        self.send(msg).await
    }

    /// Hand over a batch of frames.
    pub async fn frames(&self, frames: Vec<Frame>) -> io::Result<()> {
        self.send(ToWriter::Frames(frames)).await
    }

    /// Fails only if the thread is gone (it panicked): `finish` says so.
    async fn send(&self, msg: ToWriter) -> io::Result<()> {
        self.tx
            .send(msg)
            .await
            .map_err(|_| io::Error::other("the capture writer stopped"))
    }

    /// Write out the rest and wait for the thread.
    pub async fn finish(mut self) -> CaptureEnd {
        drop(self.tx);
        let join = self.join;
        let written = tokio::task::spawn_blocking(move || join.join()).await;
        let error = self.failure.as_mut().and_then(|f| f.try_recv().ok());
        match written {
            Ok(Ok(w)) => CaptureEnd {
                frames: w.frames,
                dropped: w.dropped,
                failed: w.failed,
                error,
            },
            // The thread panicked: what it wrote is unknown, so the capture counts as cut.
            _ => CaptureEnd {
                frames: 0,
                dropped: 0,
                failed: true,
                error: error.or(Some(CaptureWriteError {
                    path: self.path,
                    error: io::Error::other("the capture writer stopped unexpectedly"),
                    frames_kept: 0,
                })),
            },
        }
    }
}

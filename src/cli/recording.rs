//! The capture of a live command (`record --out FILE`, `connect`/`send --record FILE`): checked
//! before anything connects, written on its own thread, and its failure said once.
//!
//! A path that cannot be created is bad usage (exit 2), found before the socket exists. A write
//! that fails later (the disk fills, a file-size limit) does not end the session: it is said on
//! stderr once, the session goes on to its proper close, and the exit code says the capture is
//! incomplete (`exit::CAPTURE_INCOMPLETE`).

use crate::capture::writer::{CaptureMeta, CaptureThread, CaptureWriteError, CaptureWriter};
use crate::engine::frame::Frame;
use crate::engine::session::SessionEvent;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub struct Recording {
    path: PathBuf,
    state: State,
}

enum State {
    /// The file can be created; the header goes in when the session starts connecting.
    Ready,
    On(CaptureThread),
    /// A write failed and was said: what the file holds, and the frames that are not in it.
    Failed {
        kept: u64,
        dropped: u64,
    },
}

impl Recording {
    /// Check that `path` can be created (making its directory), before anything connects.
    pub fn prepare(path: &Path) -> Result<Recording> {
        check_path(path)?;
        Ok(Recording {
            path: path.to_path_buf(),
            state: State::Ready,
        })
    }

    /// The session started connecting at `wall`: write the header and start the writer.
    pub fn start(&mut self, meta: &CaptureMeta, wall: SystemTime) {
        if !matches!(self.state, State::Ready) {
            return;
        }
        let started = CaptureWriter::create(&self.path, meta, wall)
            .and_then(CaptureThread::spawn)
            .map_err(|error| CaptureWriteError {
                path: self.path.clone(),
                error,
                frames_kept: 0,
            });
        self.state = match started {
            Ok(t) => State::On(t),
            Err(e) => {
                say(&e);
                State::Failed {
                    kept: 0,
                    dropped: 0,
                }
            }
        };
    }

    /// Whether frames still go to the file.
    pub fn is_on(&self) -> bool {
        matches!(self.state, State::On(_))
    }

    /// Record a session event other than frames.
    pub async fn event(&mut self, ev: &SessionEvent) {
        if let State::On(t) = &self.state {
            let sent = t.session_event(ev).await.is_ok();
            self.check(sent).await;
        }
    }

    /// Record a batch of frames.
    pub async fn frames(&mut self, frames: Vec<Frame>) {
        match &mut self.state {
            State::On(t) => {
                let sent = t.frames(frames).await.is_ok();
                self.check(sent).await;
            }
            State::Failed { dropped, .. } => *dropped += frames.len() as u64,
            State::Ready => {}
        }
    }

    /// Say a failure the writer met (or its end) as soon as it is known, and stop feeding it.
    async fn check(&mut self, sent: bool) {
        let State::On(t) = &mut self.state else {
            return;
        };
        let failure = t.failure();
        if sent && failure.is_none() {
            return;
        }
        let State::On(t) = std::mem::replace(&mut self.state, State::Ready) else {
            return;
        };
        // Past a failure the thread writes nothing more: it ends as soon as it is told to.
        let end = t.finish().await;
        if let Some(e) = failure.as_ref().or(end.error.as_ref()) {
            say(e);
        }
        self.state = State::Failed {
            kept: end.frames,
            dropped: end.dropped,
        };
    }

    /// Write out the rest; says what the file holds. True when the capture is whole.
    pub async fn finish(self) -> bool {
        let path = self.path.display();
        let (kept, dropped) = match self.state {
            State::Ready => return true,
            State::On(t) => {
                let end = t.finish().await;
                if let Some(e) = &end.error {
                    say(e);
                }
                if !end.failed {
                    eprintln!("wsdeck: recorded {} frames to {path}", end.frames);
                    return true;
                }
                (end.frames, end.dropped)
            }
            State::Failed { kept, dropped } => (kept, dropped),
        };
        eprintln!(
            "wsdeck: recorded {kept} frames to {path} before a write failed; {dropped} frames after it are not in the capture"
        );
        false
    }
}

/// Create `path` (and its directory), empty, or say why it cannot be: bad usage, to be found
/// before anything connects or listens.
pub fn check_path(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        crate::private::create_dir_all(dir)
            .with_context(|| format!("cannot create the capture's directory {}", dir.display()))?;
    }
    crate::private::create_file(path)
        .with_context(|| format!("cannot create the capture {}", path.display()))?;
    Ok(())
}

/// The one line a failed capture gets: the file and what the OS said.
fn say(e: &CaptureWriteError) {
    eprintln!("wsdeck: the capture is incomplete: {e}; the session goes on without it");
}

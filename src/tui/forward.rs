//! One session's events on their way to the loop, teed into a capture while recording: the
//! capture is written here, off the UI's path.

use crate::app::Event;
use crate::capture::writer::{CaptureMeta, CaptureWriter};
use crate::engine::session::SessionEvent;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// When a session last received a frame, shared by its forwarder (which writes) and a replay
/// waiting for replies to go quiet (which reads).
#[derive(Clone)]
pub struct Activity(Arc<Mutex<Option<Instant>>>);

impl Default for Activity {
    fn default() -> Self {
        Activity(Arc::new(Mutex::new(None)))
    }
}

impl Activity {
    fn touch(&self) {
        if let Ok(mut t) = self.0.lock() {
            *t = Some(Instant::now());
        }
    }

    pub fn last(&self) -> Option<Instant> {
        self.0.lock().ok().and_then(|t| *t)
    }
}

/// Tells a session's forwarder to start or stop recording.
pub enum RecordCmd {
    Start(PathBuf, CaptureMeta),
    Stop,
}

pub async fn forward(
    id: usize,
    mut events: mpsc::Receiver<SessionEvent>,
    mut control: mpsc::UnboundedReceiver<RecordCmd>,
    to_loop: mpsc::Sender<Event>,
    seen: Activity,
) {
    let mut writer: Option<CaptureWriter> = None;
    let mut started: Option<std::time::SystemTime> = None;
    let mut control_open = true;
    loop {
        tokio::select! {
            ev = events.recv() => {
                let Some(event) = ev else { break };
                if let SessionEvent::Connecting { wall, .. } = &event {
                    started.get_or_insert(*wall);
                }
                if let SessionEvent::Frames(fs) = &event
                    && fs.iter().any(|f| f.dir == crate::engine::Direction::In)
                {
                    seen.touch();
                }
                if let Some(w) = writer.as_mut() {
                    let written = w
                        .session_event(&event)
                        .and_then(|_| if events.is_empty() { w.flush() } else { Ok(()) });
                    // Said once; the writer is dropped, the frames still go to the log below.
                    if let Err(e) = written {
                        writer = None;
                        let error = format!("{e} · the file holds the first {} frames", e.frames_kept);
                        let failed = Event::Recording { id, path: None, error: Some(error) };
                        let _ = to_loop.send(failed).await;
                    }
                }
                if to_loop.send(Event::Session { id, event }).await.is_err() {
                    break;
                }
            }
            cmd = control.recv(), if control_open => match cmd {
                Some(RecordCmd::Start(path, meta)) => {
                    let wall = started.unwrap_or_else(std::time::SystemTime::now);
                    let reply = match CaptureWriter::create(&path, &meta, wall) {
                        Ok(w) => {
                            writer = Some(w);
                            Event::Recording { id, path: Some(path), error: None }
                        }
                        Err(e) => Event::Recording {
                            id,
                            path: None,
                            error: Some(format!("{}: {e}", path.display())),
                        },
                    };
                    let _ = to_loop.send(reply).await;
                }
                Some(RecordCmd::Stop) => {
                    writer = None;
                    let _ = to_loop.send(Event::Recording { id, path: None, error: None }).await;
                }
                None => control_open = false,
            }
        }
    }
}

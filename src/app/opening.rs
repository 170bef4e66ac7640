//! A capture opened in the background: the runtime indexes the file (never loading its
//! payloads) and hands the records over in batches; the session appears with the first one,
//! fills while the user reads, scrolls and filters it, says how far it has come in the title,
//! and `Esc` stops the reading (what was read stays).

use crate::app::session::{ConnState, Origin, Session, captured_event};
use crate::app::{App, Effect, Pane};
use crate::capture::index::{IndexSummary, Indexed, Progress};
use crate::engine::{ConnectSpec, Target};
use crate::store::{FrameInfo, FrameLog, PayloadSource};
use std::sync::Arc;

/// How far a capture being opened has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opening {
    /// Names this opening between the runtime and the update.
    pub ticket: u64,
    pub bytes_read: u64,
    pub total_bytes: u64,
    pub records: u64,
    /// `Esc` asked the reading to stop.
    pub stopping: bool,
}

impl Opening {
    pub fn percent(&self) -> u64 {
        (self.bytes_read.saturating_mul(100))
            .checked_div(self.total_bytes)
            .unwrap_or(100)
            .min(100)
    }
}

/// What the runtime's indexing says, in order: started, batches, done.
pub enum IndexStep {
    /// The file is open and being read; payloads are read back from `source`.
    Started {
        source: Arc<dyn PayloadSource>,
        total_bytes: u64,
    },
    Batch {
        records: Vec<Indexed>,
        progress: Progress,
    },
    /// The end (or the stop): the header, the warnings, or why it failed part way.
    Done(Result<IndexSummary, String>),
}

impl std::fmt::Debug for IndexStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IndexStep::Started { total_bytes, .. } => write!(f, "Started({total_bytes} B)"),
            IndexStep::Batch { records, progress } => {
                write!(f, "Batch({} records, {progress:?})", records.len())
            }
            IndexStep::Done(r) => write!(f, "Done({:?})", r.as_ref().map(|s| s.records)),
        }
    }
}

fn opening_session(app: &mut App, ticket: u64) -> Option<&mut Session> {
    app.sessions
        .iter_mut()
        .find(|s| s.opening.is_some_and(|o| o.ticket == ticket))
}

pub fn on_step(app: &mut App, ticket: u64, name: String, step: IndexStep) -> Vec<Effect> {
    let rows = app.frame_rows();
    match step {
        IndexStep::Started {
            source,
            total_bytes,
        } => {
            let spec = ConnectSpec::new(Target::Url {
                url: "ws://capture/".into(),
            });
            let mut s = Session::new(name.clone(), spec).with_origin(Origin::Capture);
            s.log = FrameLog::with_source(app.config.store.clone(), source);
            s.state = ConnState::File;
            s.target = format!("capture {name}");
            s.opening = Some(Opening {
                ticket,
                bytes_read: 0,
                total_bytes,
                records: 0,
                stopping: false,
            });
            app.add_session(s, None);
            app.focus = Pane::Frames;
            app.status = Some(format!("opening {name}… (Esc stops)"));
        }
        IndexStep::Batch { records, progress } => {
            let Some(s) = opening_session(app, ticket) else {
                return vec![];
            };
            for r in records {
                match r {
                    Indexed::Frame {
                        seq,
                        at,
                        dir,
                        opcode,
                        len,
                        injected,
                        line,
                    } => {
                        let info = FrameInfo {
                            seq,
                            at,
                            dir,
                            opcode,
                            len: len as usize,
                        };
                        s.ingest_indexed(info, line.offset, line.len, injected);
                    }
                    Indexed::Event { at, kind, fields } => {
                        let (kind, text) = captured_event(&kind, &fields);
                        s.push_note(at, kind, text);
                    }
                }
            }
            if let Some(o) = s.opening.as_mut() {
                o.bytes_read = progress.bytes_read;
                o.total_bytes = progress.total_bytes;
                o.records = progress.records;
            }
            s.rows_added(rows);
        }
        IndexStep::Done(Err(e))
            if opening_session(app, ticket).is_some_and(|s| s.log.is_empty()) =>
        {
            // Nothing came of it (not a capture after all): no empty session is left behind.
            if let Some(i) = app
                .sessions
                .iter()
                .position(|s| s.opening.is_some_and(|o| o.ticket == ticket))
            {
                app.sessions.remove(i);
                app.selected = app.selected.min(app.sessions.len().saturating_sub(1));
            }
            app.status = Some(e);
        }
        IndexStep::Done(result) => {
            let Some(s) = opening_session(app, ticket) else {
                return vec![];
            };
            let opening = s.opening.take();
            // Counted as frames, but not alive: no "last 3s ago" from a file.
            s.counters.last_activity = None;
            s.keep_cursor_visible(rows);
            let stopped = opening.filter(|o| o.stopping);
            let word = match result {
                Ok(summary) => {
                    if let Some(url) = summary
                        .header
                        .as_ref()
                        .and_then(|h| h.get("target"))
                        .and_then(|t| t.get("url"))
                        .and_then(|u| u.as_str())
                        .and_then(|u| Target::url(u).ok())
                    {
                        s.spec = ConnectSpec::new(url);
                    }
                    match (stopped, summary.warnings.first()) {
                        (Some(o), _) => format!(
                            "stopped reading {name} at {}%: the first {} records are shown (d deletes it)",
                            o.percent(),
                            o.records
                        ),
                        (None, None) => format!("opened {name} (read-only)"),
                        (None, Some(first)) => format!(
                            "opened {name} with {} warning(s): {first}",
                            summary.warnings.len()
                        ),
                    }
                }
                Err(e) => format!("{name}: reading stopped: {e}; what was read is shown"),
            };
            app.status = Some(word);
        }
    }
    vec![]
}

/// `Esc` on a capture still being read: stop reading it.
pub fn stop(app: &mut App) -> Option<Vec<Effect>> {
    let s = app.current_mut()?;
    let o = s.opening.as_mut()?;
    o.stopping = true;
    let ticket = o.ticket;
    app.status = Some("stopping…".into());
    Some(vec![Effect::StopOpening { ticket }])
}

//! A capture replayed into a session, as the console follows it: progress, and once the replies
//! went quiet, the comparison with what the capture holds.

use crate::app::event::ReplayEvent;
use crate::app::{App, Overlay};
use crate::capture::compare::{Difference, IgnorePaths, compare};
use crate::engine::{Direction, Frame, Opcode};
use crate::store::RowKind;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ReplayState {
    pub file: String,
    pub total: usize,
    pub sent: usize,
    pub paused: bool,
    pub step: bool,
    pub finished: bool,
    /// Log length when the replay started: replies are the incoming data rows after it.
    pub start_row: usize,
    /// The capture's incoming data frames, in order.
    pub expected: Vec<Frame>,
    pub ignore: Vec<String>,
    pub diffs: Option<Vec<Difference>>,
    /// The console clock when it started (for the elapsed time).
    pub started_at: Duration,
}

/// Controls for a running replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayCtl {
    Pause,
    Resume,
    Stop,
    Step,
}

pub fn on_event(app: &mut App, id: usize, event: ReplayEvent) {
    match event {
        ReplayEvent::Started {
            file,
            total,
            expected,
            step,
        } => {
            let mut ignore = vec!["id".to_string(), "ts".to_string()];
            ignore.append(&mut app.pending_ignore);
            let started_at = app.now;
            if let Some(s) = app.by_id_mut(id) {
                s.replay = Some(ReplayState {
                    file: file.clone(),
                    total,
                    sent: 0,
                    paused: false,
                    step,
                    finished: false,
                    start_row: s.log.len(),
                    expected,
                    ignore,
                    diffs: None,
                    started_at,
                });
            }
            let step = if step {
                " (step: ] sends the next)"
            } else {
                ""
            };
            app.status = Some(format!("replaying {file}: {total} frames{step}"));
        }
        ReplayEvent::Progress { sent } => {
            if let Some(r) = app.by_id_mut(id).and_then(|s| s.replay.as_mut()) {
                r.sent = sent;
            }
        }
        ReplayEvent::Failed { error } => app.status = Some(format!("replay: {error}")),
        ReplayEvent::Finished => finished(app, id),
    }
}

/// All sent (or stopped) and the replies went quiet: compare them with the capture's.
fn finished(app: &mut App, id: usize) {
    if let Some(s) = app.by_id_mut(id) {
        let from = s.replay.as_ref().map(|r| r.start_row).unwrap_or(0);
        let got: Vec<Frame> = (from..s.log.len())
            .filter_map(|i| match &s.log.get(i)?.kind {
                RowKind::Frame(f)
                    if f.dir == Direction::In
                        && matches!(f.opcode, Opcode::Text | Opcode::Binary) =>
                {
                    Some(f.clone())
                }
                _ => None,
            })
            .collect();
        if let Some(r) = s.replay.as_mut() {
            let exp: Vec<&Frame> = r.expected.iter().collect();
            let g: Vec<&Frame> = got.iter().collect();
            let diffs = compare(&exp, &g, &IgnorePaths::new(&r.ignore));
            let n = diffs.len();
            r.diffs = Some(diffs);
            r.finished = true;
            app.status = Some(if n == 0 {
                format!("replay of {} done: the replies match the capture", r.file)
            } else {
                format!("replay of {} done: {n} difference(s)", r.file)
            });
        }
    }
    if app.current().is_some_and(|s| s.id == id) {
        // Not over an editor the user is typing in: the comparison would take the keys.
        let l = &app.layers;
        if l.composing || l.prompt.is_some() || l.form.is_some() || l.picker.is_some() {
            if let Some(st) = app.status.as_mut() {
                st.push_str(" (:compare shows it)");
            }
        } else {
            app.layers.overlay = Some(Overlay::Compare);
        }
    }
}

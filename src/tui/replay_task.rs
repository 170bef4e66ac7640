//! Sends a capture's outgoing frames into a running session on the shared replay schedule,
//! reporting progress to the loop; pause, resume, stop and step come on `ctl`. When done (or
//! stopped) it waits a second for the replies to settle and says so, and the update compares.

use crate::app::{Event, ReplayCtl, ReplayEvent};
use crate::capture::replay::{Pace, Schedule, expected_replies, outgoing};
use crate::engine::session::{SessionCommand, SessionHandle};
use crate::tui::forward::Activity;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

pub async fn replay(
    id: usize,
    path: PathBuf,
    pace: Pace,
    seen: Activity,
    handle: SessionHandle,
    mut ctl: mpsc::UnboundedReceiver<ReplayCtl>,
    to_loop: mpsc::Sender<Event>,
) {
    let tell = |event| Event::Replay { id, event };
    let read = tokio::task::spawn_blocking({
        let path = path.clone();
        move || crate::capture::read_capture(&path)
    })
    .await;
    let cap = match read {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            let error = e.to_string();
            let _ = to_loop.send(tell(ReplayEvent::Failed { error })).await;
            return;
        }
        Err(e) => {
            let error = e.to_string();
            let _ = to_loop.send(tell(ReplayEvent::Failed { error })).await;
            return;
        }
    };
    let mut schedule = Schedule::new(outgoing(&cap), pace);
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let started = ReplayEvent::Started {
        file,
        total: schedule.total(),
        expected: expected_replies(&cap),
        step: pace.step,
    };
    let _ = to_loop.send(tell(started)).await;
    // Only replies to what we send count for "went quiet".
    let since = Instant::now();
    let last_reply = || seen.last().filter(|t| *t >= since).map(Instant::into_std);
    schedule.begin(Instant::now().into_std());
    let far = Duration::from_secs(86400);
    while !schedule.done() {
        let due = schedule
            .due(last_reply())
            .map(Instant::from_std)
            .unwrap_or_else(|| Instant::now() + far);
        let frame = tokio::select! {
            _ = tokio::time::sleep_until(due) => {
                // Replies may have come while we slept: the schedule looks again.
                schedule.poll(Instant::now().into_std(), last_reply())
            }
            c = ctl.recv() => match c {
                None | Some(ReplayCtl::Stop) => break,
                Some(ReplayCtl::Pause) => {
                    schedule.pause(Instant::now().into_std());
                    None
                }
                Some(ReplayCtl::Resume) => {
                    schedule.resume(Instant::now().into_std());
                    None
                }
                Some(ReplayCtl::Step) => schedule.step(Instant::now().into_std()),
            }
        };
        if let Some((opcode, payload)) = frame {
            if !handle.send(SessionCommand::Send { opcode, payload }) {
                break;
            }
            let sent = schedule.sent();
            let _ = to_loop.send(tell(ReplayEvent::Progress { sent })).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = to_loop.send(tell(ReplayEvent::Finished)).await;
}

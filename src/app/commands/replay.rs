//! `:record`, `:replay` and `:compare`: captures made from and played into a session.

use super::{OnOff, Pacing};
use crate::app::{App, ConnState, Effect, Overlay, ReplayCtl};
use crate::capture::replay::Timing;
use std::time::Duration;

/// How long the replies must stay quiet before `:replay FILE wait` sends the next frame.
const WAIT_QUIET: Duration = Duration::from_millis(500);

pub fn record(app: &mut App, state: Option<OnOff>) -> Vec<Effect> {
    let Some(s) = app.current() else {
        return vec![];
    };
    if s.read_only() {
        app.status = Some("a capture opened from a file is already a recording".into());
        return vec![];
    }
    let on = match state {
        Some(OnOff::On) => true,
        Some(OnOff::Off) => false,
        None => s.recording.is_none(),
    };
    vec![Effect::Record { id: s.id, on }]
}

pub fn replay(
    app: &mut App,
    what: &str,
    pacing: Option<Pacing>,
    ignore: Vec<String>,
) -> Vec<Effect> {
    let Some(s) = app.current() else {
        return vec![];
    };
    let id = s.id;
    let ctl = match what {
        "pause" => Some(ReplayCtl::Pause),
        "resume" => Some(ReplayCtl::Resume),
        "stop" => Some(ReplayCtl::Stop),
        "step" => Some(ReplayCtl::Step),
        _ => None,
    };
    if let Some(ctl) = ctl {
        return vec![Effect::ReplayControl { id, ctl }];
    }
    if !matches!(s.state, ConnState::Open) {
        app.status = Some(format!(
            "{} is not open: connect first, then :replay FILE",
            s.name
        ));
        return vec![];
    }
    // One at a time: a second would take over the first one's controls and comparison.
    if s.replay.as_ref().is_some_and(|r| !r.finished) {
        app.status = Some("a replay is running here: :replay stop first".into());
        return vec![];
    }
    let (timing, step, wait_replies) = match pacing {
        None => (Timing::Original, false, None),
        Some(Pacing::Step) => (Timing::Original, true, None),
        Some(Pacing::Wait) => (Timing::Fast, false, Some(WAIT_QUIET)),
        Some(Pacing::Timed(t)) => (t, false, None),
    };
    // Applied when the replay starts; kept for the comparison.
    app.pending_ignore = ignore;
    vec![Effect::StartReplay {
        id,
        path: what.into(),
        timing,
        step,
        wait_replies,
    }]
}

pub fn compare(app: &mut App) -> Vec<Effect> {
    if app.current().and_then(|s| s.replay.as_ref()).is_some() {
        app.layers.overlay = Some(Overlay::Compare);
    } else {
        app.status = Some("no replay in this session yet: :replay FILE".into());
    }
    vec![]
}

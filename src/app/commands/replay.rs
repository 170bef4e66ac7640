//! `:record`, `:replay`, `:compare`, `:pcm` and `:wav`: captures made from and played into a
//! session, and its audio.

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

pub fn pcm(app: &mut App, rate: u32, channels: u16, big_endian: bool) -> Vec<Effect> {
    if !(1_000..=384_000).contains(&rate) || !(1..=8).contains(&channels) {
        app.status = Some(":pcm RATE [CHANNELS] [le|be]: 1000-384000 Hz, 1-8 channels".into());
        return vec![];
    }
    let Some(s) = app.current_mut() else {
        return vec![];
    };
    s.pcm = crate::decode::pcm::PcmFormat {
        rate,
        channels,
        big_endian,
    };
    app.status = Some(format!("audio read as {}", s.pcm.describe()));
    vec![]
}

/// The frames of the marked range (mark to cursor), else of the whole view, that hold audio in
/// the session's format: binary frames of whole sample frames, or base64 audio in JSON.
pub fn wav(app: &mut App, path: String) -> Vec<Effect> {
    use crate::decode::pcm;
    use crate::store::RowKind;
    let Some(s) = app.current() else {
        return vec![];
    };
    let (from, to) = match (s.mark, s.selected_row_index()) {
        (Some(m), Some(c)) => (m.min(c), m.max(c)),
        _ => (0, s.log.len().saturating_sub(1)),
    };
    let mut chunks = Vec::new();
    for i in from..=to.min(s.log.len().saturating_sub(1)) {
        if s.view.filter.is_some() && s.view.visible.binary_search(&i).is_err() {
            continue;
        }
        let Some(RowKind::Frame(f)) = s.log.get(i).map(|r| r.kind) else {
            continue;
        };
        match f.opcode {
            crate::engine::Opcode::Binary if pcm::fits_format(&f.payload, s.pcm) => {
                chunks.push(f.payload.clone());
            }
            crate::engine::Opcode::Text => {
                if let Some(b) = serde_json::from_slice(&f.payload)
                    .ok()
                    .and_then(|v| pcm::base64_audio(&v))
                    .filter(|b| pcm::fits_format(b, s.pcm))
                {
                    chunks.push(bytes::Bytes::from(b));
                }
            }
            _ => {}
        }
    }
    if chunks.is_empty() {
        app.status = Some(format!(
            "no audio in {} as {} (m marks a range; :pcm sets the format)",
            if s.mark.is_some() {
                "the marked range"
            } else {
                "the frames in view"
            },
            s.pcm.describe()
        ));
        return vec![];
    }
    vec![Effect::ExportWav {
        path: path.into(),
        format: s.pcm,
        chunks,
    }]
}

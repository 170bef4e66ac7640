//! `wsdeck replay CAPTURE TARGET`: play a capture's outgoing frames into a live session (original
//! timing, scaled, as fast as possible, or waiting for replies), and with `--expect` compare what
//! came back with what the capture holds.

use crate::capture::compare::{Difference, IgnorePaths, compare};
use crate::capture::line::{LineEncoder, fields};
use crate::capture::reader::Entry;
pub use crate::capture::replay::Timing;
use crate::capture::replay::{Pace, Schedule, expected_replies, outgoing};
use crate::capture::writer::event_line;
use crate::cli::live::report_failure;
use crate::cli::target::Resolved;
use crate::engine::session::{SessionCommand, SessionEvent, spawn_session};
use crate::engine::{Direction, Frame, Opcode};
use crate::exit;
use anyhow::Result;

use serde_json::json;
use std::io::Write;
use std::path::Path;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

pub struct ReplayOptions {
    pub timing: Timing,
    pub expect: bool,
    pub ignore: Vec<String>,
    /// Send each frame only after the replies to the previous one went quiet for this long.
    pub wait_replies: Option<Duration>,
    pub linger: Duration,
    /// After an abnormal close, read the container logs (`--monitor`).
    pub monitor: Option<(crate::monitor::MonitorSource, Duration)>,
}

pub async fn run(capture: &Path, resolved: Resolved, opts: ReplayOptions) -> Result<i32> {
    let Some(cap) = crate::cli::read_capture_or_say(capture) else {
        return Ok(exit::USAGE);
    };
    let is_data = |f: &Frame| matches!(f.opcode, Opcode::Text | Opcode::Binary);
    let expected = expected_replies(&cap);
    let expected_in: Vec<&Frame> = expected.iter().collect();
    let mut schedule = Schedule::new(
        outgoing(&cap),
        Pace {
            timing: opts.timing,
            wait_replies: opts.wait_replies,
            step: false,
        },
    );
    let expected_close = cap.entries.iter().rev().find_map(|e| match e {
        Entry::Event { kind, fields, .. } if kind == "close" => {
            fields.get("code").and_then(|c| c.as_u64())
        }
        _ => None,
    });
    if schedule.total() == 0 {
        eprintln!(
            "wsdeck: {} holds no outgoing text or binary frame to replay",
            capture.display()
        );
        return Ok(exit::USAGE);
    }

    let mut log_req = crate::monitor::MonitorRequest::for_spec(&resolved.spec, None);
    let (ev_tx, mut ev_rx) = mpsc::channel::<SessionEvent>(1024);
    let (handle, join) = spawn_session(resolved.spec, ev_tx);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut line = Vec::new();
    let mut enc: Option<LineEncoder> = None;
    let mut got: Vec<Frame> = Vec::new();
    let mut last_in: Option<Instant> = None;
    let mut close_sent = false;
    let mut closed_code: Option<u16> = None;
    let mut exit_code: Option<i32> = None;
    let far = Duration::from_secs(86400);
    let std_last_in = |l: Option<Instant>| l.map(Instant::into_std);

    loop {
        let now = Instant::now();
        let due = if close_sent {
            None
        } else if schedule.done() {
            // All sent: close once the replies went quiet for --linger.
            let active = match (last_in, schedule.last_sent().map(Instant::from_std)) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            active.map(|a| a + opts.linger)
        } else {
            schedule.due(std_last_in(last_in)).map(Instant::from_std)
        };
        let due = due.unwrap_or(now + far);
        tokio::select! {
            ev = ev_rx.recv() => {
                let Some(ev) = ev else { break };
                if let SessionEvent::Connecting { wall, .. } = &ev && enc.is_none() {
                    enc = Some(LineEncoder::new(*wall));
                }
                if let Some(e) = enc.as_mut() {
                    match &ev {
                        SessionEvent::Frames(fs) => fs.iter().for_each(|f| e.frame(&mut line, f)),
                        other => if let Some((at, kind, f)) = event_line(other) { e.event(&mut line, at, kind, f) },
                    }
                    let _ = out.write_all(&line);
                    line.clear();
                }
                match ev {
                    SessionEvent::Opened { handshake, .. } => {
                        if let Some(p) = handshake.platform_session_id {
                            log_req.session_id = p;
                        }
                        schedule.begin(Instant::now().into_std());
                    }
                    SessionEvent::Frames(fs) => {
                        for f in fs {
                            if f.dir == Direction::In && is_data(&f) {
                                last_in = Some(Instant::now());
                                got.push(f);
                            }
                        }
                    }
                    SessionEvent::Closed { info, .. } => {
                        closed_code = Some(info.code);
                        exit_code = Some(if info.clean { exit::OK } else { exit::ABNORMAL_CLOSE });
                        handle.send(SessionCommand::Shutdown);
                    }
                    SessionEvent::Failed { error, request, .. } => {
                        report_failure(&error, request.as_ref());
                        let _ = out.flush();
                        join.abort();
                        return Ok(error.exit_code());
                    }
                    SessionEvent::Warning { message, .. } => eprintln!("wsdeck: {message}"),
                    SessionEvent::Ended => break,
                    // Only a proxy client's session injects; a session actor never does.
                    SessionEvent::Connecting { .. } | SessionEvent::Injected(_) => {}
                }
            }
            _ = tokio::time::sleep_until(due) => {
                if !schedule.done() {
                    if let Some((opcode, payload)) = schedule.poll(Instant::now().into_std(), std_last_in(last_in)) {
                        handle.send(SessionCommand::Send { opcode, payload });
                    }
                } else if !close_sent {
                    close_sent = handle.send(SessionCommand::Close { code: 1000, reason: String::new() });
                }
            }
        }
    }
    join.abort();
    eprintln!(
        "wsdeck: replayed {} of {} frames; {} replies (the capture has {})",
        schedule.sent(),
        schedule.total(),
        got.len(),
        expected_in.len()
    );
    let code = exit_code.unwrap_or(exit::CONNECT_FAILED);
    if code == exit::ABNORMAL_CLOSE
        && let Some((source, timeout)) = &opts.monitor
    {
        let _ = out.flush();
        let logs = crate::cli::live::LogsRequest {
            source,
            req: &log_req,
            tokens: Some(handle.tokens()),
            timeout: *timeout,
        };
        let mut log_enc = enc.take();
        crate::cli::live::print_logs(logs, true, log_enc.as_mut(), &mut out).await;
    }
    if !opts.expect {
        let _ = out.flush();
        return Ok(code);
    }
    let got_refs: Vec<&Frame> = got.iter().collect();
    let mut diffs = compare(&expected_in, &got_refs, &IgnorePaths::new(&opts.ignore));
    if let (Some(e), Some(g)) = (expected_close, closed_code)
        && e != g as u64
    {
        diffs.push(Difference {
            index: got.len(),
            path: "close".into(),
            expected: json!(e),
            got: json!(g),
        });
    }
    let mut enc = LineEncoder::new(std::time::SystemTime::now());
    for d in &diffs {
        enc.event(
            &mut line,
            Duration::ZERO,
            "difference",
            fields(json!({"index": d.index, "path": d.path, "expected": d.expected, "got": d.got})),
        );
        eprintln!(
            "wsdeck: reply #{} {}: expected {} got {}",
            d.index, d.path, d.expected, d.got
        );
    }
    let _ = out.write_all(&line);
    let _ = out.flush();
    if diffs.is_empty() {
        eprintln!("wsdeck: replies match the capture");
        Ok(code)
    } else {
        eprintln!("wsdeck: {} difference(s)", diffs.len());
        Ok(exit::REPLAY_DIFFERENCES)
    }
}

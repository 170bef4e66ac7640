//! The driver behind `connect`, `send` and `record`: one session, its events to stdout as JSON
//! lines and to an optional capture, input from stdin or from arguments, and the exit code.

use crate::capture::line::LineEncoder;
use crate::capture::writer::{CaptureMeta, event_line};
use crate::cli::recording::Recording;
use crate::cli::target::Resolved;
use crate::engine::close::explain;
use crate::engine::diagnose::ConnectError;
use crate::engine::frame::{Direction, Opcode};
use crate::engine::redact::url_for_display;
use crate::engine::session::{SessionCommand, SessionEvent, spawn_session};
use crate::exit;
use anyhow::Result;
use bytes::Bytes;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Encoded lines are handed to stdout once they reach this many bytes.
const LINE_OUT: usize = 256 * 1024;

pub enum Input {
    /// Each stdin line is a text frame.
    Stdin,
    /// These frames, in order, once the socket is open.
    Frames(Vec<(Opcode, Bytes)>),
    /// Nothing: listen until the peer closes or Ctrl-C.
    Nothing,
}

pub struct LiveOptions {
    pub linger: Duration,
    pub expect: Option<usize>,
    pub expect_timeout: Duration,
    pub record: Option<PathBuf>,
    /// Print frames and events to stdout (false for `record`).
    pub print: bool,
    /// After an abnormal close, read the container logs (source, time bound).
    pub monitor: Option<(crate::monitor::MonitorSource, Duration)>,
}

pub async fn run_live(resolved: Resolved, input: Input, opts: LiveOptions) -> Result<i32> {
    let Resolved { spec, session_name } = resolved;
    let mut log_req = crate::monitor::MonitorRequest::for_spec(&spec, None);
    let meta = CaptureMeta {
        session_name: session_name.clone(),
        target_kind: spec.target.kind().into(),
        target: spec.target.describe(),
        url: url_for_display(&spec.request_url()),
        agent_session_id: spec.session_id.clone(),
    };
    // A capture that cannot be created is bad usage, said before anything connects.
    let mut recording = opts.record.as_deref().map(Recording::prepare).transpose()?;
    let (ev_tx, mut ev_rx) = mpsc::channel::<SessionEvent>(1024);
    let (handle, join) = spawn_session(spec, ev_tx);

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let mut line = Vec::with_capacity(64 * 1024);
    let mut enc: Option<LineEncoder> = None;
    let mut rtt = crate::engine::rtt::Rtt::default();

    let (stdin_tx, mut stdin_rx) = mpsc::channel::<String>(64);
    // Moved into the reader, so the channel closes at end of input.
    let mut stdin_tx = Some(stdin_tx);
    let mut reading_stdin = false;
    let mut open = false;
    let mut input_done_at: Option<Instant> = None;
    let mut last_in = Instant::now();
    let mut incoming_data = 0usize;
    let mut close_sent = false;
    let mut exit_code: Option<i32> = None;
    let mut expect_deadline: Option<Instant> = None;
    let mut expect_unmet = false;
    let mut interrupted = false;
    let (mut frames_in, mut frames_out, mut bytes_in, mut batches) = (0u64, 0u64, 0u64, 0u64);
    let far = Duration::from_secs(86400 * 365);

    loop {
        let linger_at = match (open && !close_sent && opts.expect.is_none(), input_done_at) {
            (true, Some(done)) => done.max(last_in) + opts.linger,
            _ => Instant::now() + far,
        };
        let expect_at = match (open && !close_sent, expect_deadline) {
            (true, Some(d)) => d,
            _ => Instant::now() + far,
        };
        tokio::select! {
            ev = ev_rx.recv() => {
                let Some(mut ev) = ev else { break };
                if let SessionEvent::Connecting { wall, .. } = &ev {
                    if enc.is_none() {
                        enc = Some(LineEncoder::new(*wall));
                    }
                    if let Some(r) = recording.as_mut() {
                        r.start(&meta, *wall);
                    }
                }
                // Frames go to the capture below, moved rather than copied. A failed write is
                // said there once; the session goes on.
                if !matches!(ev, SessionEvent::Frames(_)) && let Some(r) = recording.as_mut() {
                    r.event(&ev).await;
                }
                if let SessionEvent::Frames(frames) = &ev {
                    batches += 1;
                    for f in frames {
                        match f.dir {
                            Direction::In => {
                                frames_in += 1;
                                bytes_in += f.payload.len() as u64;
                                // Only replies count for --linger: keepalive pongs (or an
                                // agent's pings) would keep a quiet session open forever.
                                if matches!(f.opcode, Opcode::Text | Opcode::Binary) {
                                    incoming_data += 1;
                                    last_in = Instant::now();
                                }
                            }
                            Direction::Out => frames_out += 1,
                        }
                    }
                }
                if opts.print && let Some(e) = enc.as_mut() {
                    let mut stdout_ok = true;
                    let keep = recording.as_ref().is_some_and(Recording::is_on);
                    match &mut ev {
                        SessionEvent::Frames(frames) => {
                            for f in frames.iter_mut() {
                                e.frame(&mut line, f);
                                // Out in pieces that stay in the cache: a batch of 64 KiB
                                // frames encodes to megabytes.
                                if line.len() >= LINE_OUT {
                                    stdout_ok &= out.write_all(&line).is_ok();
                                    line.clear();
                                }
                                // A pong that answers one of our pings: its round trip, for
                                // scripts that watch an agent's latency.
                                if matches!(f.opcode, Opcode::Ping | Opcode::Pong) {
                                    rtt.observe(f);
                                    if let Some(d) = rtt.of_pong(f) {
                                        e.event(&mut line, f.at, "rtt", crate::capture::line::fields(serde_json::json!({
                                            "seq": f.seq,
                                            "rtt_ms": (d.as_secs_f64() * 1e6).round() / 1e3,
                                        })));
                                    }
                                }
                                // Printed and not recorded: its memory goes back now, while
                                // the socket side can still reuse it warm.
                                if !keep {
                                    f.payload = Bytes::new();
                                }
                            }
                        }
                        other => if let Some((at, kind, fields)) = event_line(other) {
                            e.event(&mut line, at, kind, fields);
                        }
                    }
                    if !stdout_ok || out.write_all(&line).is_err() {
                        // stdout closed (a pipe to `head`, say): stop quietly.
                        handle.send(SessionCommand::Shutdown);
                        reading_stdin = false;
                    }
                    line.clear();
                }
                match ev {
                    SessionEvent::Opened { handshake, .. } => {
                        // The platform's id, when it returns one, is the one its logs know.
                        if let Some(p) = &handshake.platform_session_id {
                            log_req.session_id = p.clone();
                        }
                        open = true;
                        last_in = Instant::now();
                        match &input {
                            Input::Stdin => {
                                if let Some(tx) = stdin_tx.take() {
                                    reading_stdin = true;
                                    spawn_stdin_reader(tx);
                                }
                            }
                            Input::Frames(frames) => {
                                for (opcode, payload) in frames {
                                    handle.send(SessionCommand::Send { opcode: *opcode, payload: payload.clone() });
                                }
                                input_done_at = Some(Instant::now());
                                if opts.expect.is_some() {
                                    expect_deadline = Some(Instant::now() + opts.expect_timeout);
                                }
                            }
                            Input::Nothing => {}
                        }
                    }
                    SessionEvent::Frames(frames) => {
                        if let Some(n) = opts.expect && incoming_data >= n && !close_sent && open {
                            close_sent = handle.send(SessionCommand::Close { code: 1000, reason: String::new() });
                        }
                        if let Some(r) = recording.as_mut() {
                            r.frames(frames).await;
                        }
                    }
                    SessionEvent::Closed { info, .. } => {
                        open = false;
                        reading_stdin = false;
                        if !info.clean {
                            report_close(&info);
                        }
                        exit_code = Some(if info.clean { exit::OK } else { exit::ABNORMAL_CLOSE });
                        handle.send(SessionCommand::Shutdown);
                    }
                    SessionEvent::Failed { error, request, .. } => {
                        report_failure(&error, request.as_ref());
                        exit_code = Some(error.exit_code());
                        handle.send(SessionCommand::Shutdown);
                    }
                    SessionEvent::Warning { message, .. } => {
                        eprintln!("wsdeck: {message}");
                    }
                    SessionEvent::Ended => break,
                    // Only a proxy client's session injects; a session actor never does.
                    SessionEvent::Connecting { .. } | SessionEvent::Injected(_) => {}
                }
                if ev_rx.is_empty() {
                    let _ = out.flush();
                }
            }
            l = stdin_rx.recv(), if reading_stdin => {
                match l {
                    Some(text) => { handle.send(SessionCommand::Send { opcode: Opcode::Text, payload: Bytes::from(text) }); }
                    None => { reading_stdin = false; input_done_at = Some(Instant::now()); }
                }
            }
            _ = tokio::time::sleep_until(linger_at) => {
                if let Some(done) = input_done_at && Instant::now() >= done.max(last_in) + opts.linger && !close_sent {
                    close_sent = handle.send(SessionCommand::Close { code: 1000, reason: String::new() });
                }
            }
            _ = tokio::time::sleep_until(expect_at) => {
                if !close_sent {
                    expect_unmet = true;
                    eprintln!("wsdeck: {} of {} expected frames came within {}s", incoming_data, opts.expect.unwrap_or(0), opts.expect_timeout.as_secs_f32());
                    close_sent = handle.send(SessionCommand::Close { code: 1000, reason: String::new() });
                }
            }
            _ = tokio::signal::ctrl_c() => {
                if interrupted || !open {
                    // Second Ctrl-C, or nothing to close: leave now.
                    eprintln!("wsdeck: interrupted");
                    handle.send(SessionCommand::Shutdown);
                    exit_code = exit_code.or(Some(130));
                    break;
                }
                interrupted = true;
                reading_stdin = false;
                close_sent = handle.send(SessionCommand::Close { code: 1000, reason: String::new() });
            }
        }
    }
    let _ = out.flush();
    let capture_whole = match recording.take() {
        Some(r) => r.finish().await,
        None => true,
    };
    if !opts.print {
        eprintln!(
            "wsdeck: {frames_in} frames in ({bytes_in} bytes), {frames_out} out, in {batches} batches"
        );
    }
    join.abort();
    let code = exit_code.unwrap_or(exit::CONNECT_FAILED);
    if code == exit::ABNORMAL_CLOSE
        && let Some((source, timeout)) = &opts.monitor
    {
        let logs = LogsRequest {
            source,
            req: &log_req,
            tokens: Some(handle.tokens()),
            timeout: *timeout,
        };
        print_logs(logs, opts.print, enc.as_mut(), &mut out).await;
    }
    let code = if expect_unmet && code == exit::OK {
        exit::EXPECT_UNMET
    } else {
        code
    };
    // An incomplete capture wins over how the connection ended, which stderr still says.
    let session = match code {
        exit::OK => "a clean end",
        exit::EXPECT_UNMET => "fewer frames than --expect",
        exit::ABNORMAL_CLOSE => "an abnormal close",
        _ => return Ok(code),
    };
    if capture_whole {
        return Ok(code);
    }
    eprintln!(
        "wsdeck: exit {}: the capture is incomplete; the session itself ended with {code} ({session})",
        exit::CAPTURE_INCOMPLETE
    );
    Ok(exit::CAPTURE_INCOMPLETE)
}

/// An unclean close, for people: the code in words, and what usually causes it.
fn report_close(info: &crate::engine::session::CloseInfo) {
    use crate::engine::close::{ABNORMAL, Initiator, is_clean_code};
    let ex = explain(info.code);
    let reason = if info.reason.is_empty() {
        "(no reason)".to_string()
    } else {
        format!("{:?}", info.reason)
    };
    eprintln!(
        "wsdeck: closed {} {} by {}: {reason}",
        info.code,
        ex.name,
        info.initiator.as_str()
    );
    if info.code == ABNORMAL && info.initiator == Initiator::Client {
        // The one 1006 that is ours: the peer stopped reading and the close could not go out.
        eprintln!("  meaning: no close handshake: wsdeck dropped the connection");
        eprintln!("  likely:  the peer stopped reading (a wedged handler, a full pipe), see above");
        return;
    }
    eprintln!("  meaning: {}", ex.meaning);
    if is_clean_code(info.code) {
        eprintln!(
            "  not clean: the close handshake did not complete as the protocol asks (see above)"
        );
    } else {
        eprintln!("  likely:  {}", ex.likely_cause);
    }
}

fn spawn_stdin_reader(tx: mpsc::Sender<String>) {
    tokio::spawn(async move {
        let mut reader = tokio::io::BufReader::new(tokio::io::stdin());
        let mut buf = Vec::new();
        let mut n = 0usize;
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            n += 1;
            while matches!(buf.last(), Some(b'\n' | b'\r')) {
                buf.pop();
            }
            if buf.is_empty() {
                continue;
            }
            match String::from_utf8(std::mem::take(&mut buf)) {
                Ok(s) => {
                    if tx.send(s).await.is_err() {
                        break;
                    }
                }
                Err(_) => eprintln!(
                    "wsdeck: stdin line {n} is not valid UTF-8 and cannot be a text frame: not sent (use send --hex or --file for binary)"
                ),
            }
        }
    });
}

/// A failed connection, for people: what happened, what the server said, what to do.
pub fn report_failure(error: &ConnectError, request: Option<&(String, Vec<(String, String)>)>) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "wsdeck: {error}");
    if let Some((url, headers)) = request
        && error.refusal().is_some()
    {
        let _ = writeln!(err, "  request: GET {url}");
        for (k, v) in headers {
            let _ = writeln!(err, "    {k}: {v}");
        }
    }
    if let Some(r) = error.refusal() {
        let _ = writeln!(err, "  response: HTTP {} {}", r.status, r.reason);
        for (k, v) in &r.headers {
            let _ = writeln!(err, "    {k}: {v}");
        }
        if !r.body.is_empty() {
            let _ = writeln!(err, "  body: {}", r.body_text().trim());
        }
    }
    let advice = error.advice();
    if !advice.is_empty() {
        let _ = writeln!(err, "  what to do:");
        for a in advice {
            let _ = writeln!(err, "  - {a}");
        }
    }
}

/// What `--monitor` reads after an abnormal close.
pub struct LogsRequest<'a> {
    pub source: &'a crate::monitor::MonitorSource,
    pub req: &'a crate::monitor::MonitorRequest,
    /// The session's tokens (the log stream sends the session's own token).
    pub tokens: Option<std::sync::Arc<crate::engine::auth::TokenProvider>>,
    pub timeout: Duration,
}

/// The container logs after an abnormal close: JSON lines on stdout (`{"event":"log",…}`), and
/// readable on stderr.
pub async fn print_logs(
    logs: LogsRequest<'_>,
    print: bool,
    enc: Option<&mut LineEncoder>,
    out: &mut impl Write,
) {
    use crate::capture::line::fields;
    use serde_json::json;
    let LogsRequest {
        source,
        req,
        tokens,
        timeout,
    } = logs;
    if req.session_id.is_empty() {
        eprintln!("wsdeck: no agent_session_id to read the logs for (give --session-id)");
        return;
    }
    let mut buf = Vec::new();
    let mut encoder = enc;
    fn report(e: &crate::monitor::MonitorError, enc: Option<&mut LineEncoder>, buf: &mut Vec<u8>) {
        eprintln!("wsdeck: logs: {e}");
        eprintln!("  {}", e.advice());
        if let Some(en) = enc {
            en.event(
                buf,
                Duration::ZERO,
                "error",
                crate::capture::line::fields(serde_json::json!({"kind": "monitor", "message": e.to_string(), "advice": [e.advice()]})),
            );
        }
    }
    if !print {
        encoder = None;
    }
    let plan = match crate::monitor::plan(source, req) {
        Ok(p) => p,
        Err(e) => {
            report(&e, encoder, &mut buf);
            let _ = out.write_all(&buf);
            return;
        }
    };
    eprintln!(
        "wsdeck: container logs ({}, at most {}s):",
        plan.describe(),
        timeout.as_secs_f32()
    );
    let (lines, result) = crate::monitor::collect(&plan, tokens, timeout, 10_000).await;
    if lines.is_empty() && result.is_ok() {
        eprintln!("  (the log source printed nothing)");
    }
    for l in &lines {
        eprintln!("  {:<12} {} {}", l.short_time(), l.stream.as_str(), l.text);
    }
    if let Some(e) = encoder.as_deref_mut() {
        for l in &lines {
            e.event(
                &mut buf,
                Duration::ZERO,
                "log",
                fields(json!({"stream": l.stream.as_str(), "at": l.at, "text": l.text})),
            );
        }
    }
    match result {
        Ok(Some(s)) if s != 0 => eprintln!("  (the command exited with status {s})"),
        Ok(_) => {}
        Err(e) => report(&e, encoder, &mut buf),
    }
    let _ = out.write_all(&buf);
    let _ = out.flush();
}

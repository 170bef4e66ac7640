//! `wsdeck proxy`: the proxy's events as `connect`'s JSON lines, each with `"client": N`, on
//! stdout and in an optional capture, written by a thread of their own so the relays never wait
//! on a terminal or a disk; diagnoses on stderr as `connect` gives them; Ctrl-C ends it (0).

use super::proxy_capture::ProxyCapture;
use crate::capture::line::{EventLine, LineEncoder, fields};
use crate::capture::writer::{CaptureMeta, event_line};
use crate::cli::live::{LogsRequest, print_logs, report_failure};
use crate::cli::target::Resolved;
use crate::engine::close::explain;
use crate::engine::redact::url_for_display;
use crate::engine::session::SessionEvent;
use crate::exit;
use crate::monitor::{MonitorRequest, MonitorSource};
use crate::proxy::{self, ClientRequest, ProxyEvent, ProxyOptions};
use anyhow::{Context, Result};
use futures_util::FutureExt;
use serde_json::json;
use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use tokio::sync::{mpsc, oneshot};

/// What the command line asked for besides TARGET.
pub struct ProxyArgs {
    pub listen: Option<String>,
    pub allow_origins: Vec<String>,
    pub allow_remote: bool,
    pub record: Option<PathBuf>,
    /// After a client's abnormal close, read the container logs (source, time bound).
    pub monitor: Option<(MonitorSource, Duration)>,
}

/// Batches of frames in flight from the relays to the writer; bounds memory when stdout is slow.
const EVENTS: usize = 1024;

pub async fn run(resolved: Resolved, args: ProxyArgs) -> Result<i32> {
    let Resolved { spec, session_name } = resolved;
    if !spec.subprotocols.is_empty() {
        eprintln!(
            "wsdeck: --subprotocol has no meaning for proxy: the agent is offered what each client offers"
        );
        return Ok(exit::USAGE);
    }
    let listen = match args.listen.as_deref().map(proxy::parse_listen) {
        None => proxy::DEFAULT_LISTEN,
        Some(Ok(a)) => a,
        Some(Err(e)) => {
            eprintln!("wsdeck: {e}");
            return Ok(e.exit_code());
        }
    };
    let meta = CaptureMeta {
        session_name,
        target_kind: spec.target.kind().into(),
        target: spec.target.describe(),
        url: url_for_display(&spec.request_url()),
        agent_session_id: spec.session_id.clone(),
    };
    // A capture that cannot be created is bad usage, found before anything listens.
    if let Some(path) = &args.record {
        crate::cli::recording::check_path(path)?;
    }
    let base_spec = spec.clone();
    let (tx, rx) = mpsc::channel::<ProxyEvent>(EVENTS);
    let opts = ProxyOptions {
        spec,
        listen,
        allow_origins: args.allow_origins,
        allow_remote: args.allow_remote,
    };
    let handle = match proxy::start(opts, tx).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("wsdeck: {e}");
            return Ok(e.exit_code());
        }
    };
    let addr = handle.local_addr();
    if !addr.ip().to_canonical().is_loopback() {
        eprintln!(
            "wsdeck: listening on {addr} (--allow-remote): anyone who can reach it talks to the agent with your token"
        );
    }
    eprintln!(
        "wsdeck proxy on ws://{addr}/ -> {} (Ctrl-C stops it)",
        meta.target
    );
    let capture = args
        .record
        .as_deref()
        .map(|path| ProxyCapture::open(path, &meta, handle.started()));

    // Polled once now, so Ctrl-C is caught from before the "listening" line is printed.
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let _ = (&mut ctrl_c).now_or_never();

    let (jobs_tx, mut jobs_rx) = mpsc::unbounded_channel::<MonitorJob>();
    let (stdout_gone_tx, mut stdout_gone) = oneshot::channel::<()>();
    let writer = Writer {
        enc: LineEncoder::new(handle.started()),
        out: Some(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stdout(),
        )),
        capture,
        line: Vec::with_capacity(64 * 1024),
        clients: HashMap::new(),
        jobs: args.monitor.is_some().then_some(jobs_tx),
        base_spec,
        stdout_gone: Some(stdout_gone_tx),
    };
    let thread = std::thread::Builder::new()
        .name("wsdeck-proxy-out".into())
        .spawn(move || writer.run(addr, rx))
        .context("starting the output writer")?;

    let mut monitors = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut ctrl_c => break,
            // stdout closed (a pipe to `head`, say): stop quietly.
            _ = &mut stdout_gone => break,
            Some(job) = jobs_rx.recv() => {
                if let Some((source, timeout)) = &args.monitor {
                    monitors.spawn(read_logs(job, source.clone(), *timeout, handle.tokens(), handle.started()));
                }
            }
        }
    }
    handle.shutdown().await;
    monitors.abort_all();
    let capture = tokio::task::spawn_blocking(move || thread.join())
        .await
        .context("waiting for the output writer")?
        .map_err(|_| anyhow::anyhow!("the output writer panicked"))?;
    match capture.map(ProxyCapture::finish) {
        Some(false) => Ok(exit::CAPTURE_INCOMPLETE),
        _ => Ok(exit::OK),
    }
}

/// Container logs to read for a client that closed abnormally.
struct MonitorJob {
    client: u64,
    req: MonitorRequest,
}

async fn read_logs(
    job: MonitorJob,
    source: MonitorSource,
    timeout: Duration,
    tokens: std::sync::Arc<crate::engine::auth::TokenProvider>,
    started: SystemTime,
) {
    eprintln!(
        "wsdeck: client {} closed abnormally; its agent's logs follow",
        job.client
    );
    let mut enc = LineEncoder::new(started);
    let mut buf = Vec::new();
    let logs = LogsRequest {
        source: &source,
        req: &job.req,
        tokens: Some(tokens),
        timeout,
    };
    print_logs(logs, true, Some(&mut enc), &mut buf).await;
    let mut lines = Vec::with_capacity(buf.len() + 64);
    for l in buf.split_inclusive(|b| *b == b'\n') {
        lines.extend_from_slice(l);
        tag_client(&mut lines, job.client);
    }
    // Whole lines in one write, so they never interleave with the writer thread's.
    let _ = std::io::stdout().write_all(&lines);
}

/// What the writer knows of each client (for --monitor).
#[derive(Default)]
struct ClientState {
    session_id: Option<String>,
    platform_id: Option<String>,
}

struct Writer {
    enc: LineEncoder,
    out: Option<std::io::BufWriter<std::io::Stdout>>,
    capture: Option<ProxyCapture>,
    /// Lines encoded since the last write.
    line: Vec<u8>,
    clients: HashMap<u64, ClientState>,
    jobs: Option<mpsc::UnboundedSender<MonitorJob>>,
    base_spec: crate::engine::target::ConnectSpec,
    stdout_gone: Option<oneshot::Sender<()>>,
}

impl Writer {
    /// Until every relay has ended: events to lines, lines to stdout and the capture, written out
    /// whenever nothing more is queued. The capture, given back at the end, says how it went.
    fn run(mut self, addr: SocketAddr, mut rx: mpsc::Receiver<ProxyEvent>) -> Option<ProxyCapture> {
        self.enc.event(
            &mut self.line,
            Duration::ZERO,
            "listening",
            fields(json!({"addr": addr.to_string(), "url": format!("ws://{addr}/")})),
        );
        self.write_out();
        self.flush();
        while let Some(ev) = rx.blocking_recv() {
            self.event(ev);
            if rx.is_empty() || self.line.len() >= 64 * 1024 {
                self.write_out();
            }
            if rx.is_empty() {
                self.flush();
            }
        }
        self.write_out();
        self.flush();
        self.capture
    }

    fn write_out(&mut self) {
        if let Some(o) = self.out.as_mut()
            && o.write_all(&self.line).is_err()
        {
            self.stdout_closed();
        }
        if let Some(c) = self.capture.as_mut() {
            c.write(&self.line);
        }
        self.line.clear();
    }

    /// Stdout only: the capture is written unbuffered, in the batches `write_out` gives it.
    fn flush(&mut self) {
        if let Some(o) = self.out.as_mut()
            && o.flush().is_err()
        {
            self.stdout_closed();
        }
    }

    fn stdout_closed(&mut self) {
        self.out = None;
        if let Some(tx) = self.stdout_gone.take() {
            let _ = tx.send(());
        }
    }

    fn event(&mut self, ev: ProxyEvent) {
        match ev {
            ProxyEvent::Request {
                client,
                at,
                request,
            } => {
                self.clients.insert(client, ClientState::default());
                let f = request_fields(&request);
                self.line_for(client, at, "request", f);
            }
            ProxyEvent::Rejected {
                client,
                at,
                status,
                why,
            } => {
                self.clients.remove(&client);
                eprintln!("wsdeck: client {client} turned away with HTTP {status}: {why}");
                if status == 403 {
                    eprintln!("  --allow-origin ORIGIN lets a page from ORIGIN in");
                }
                self.line_for(
                    client,
                    at,
                    "rejected",
                    fields(json!({"status": status, "why": why})),
                );
            }
            ProxyEvent::Session { client, event } => self.session(client, event),
            // The command line injects nothing: dropping the injector here switches it off.
            ProxyEvent::Attached { .. } | ProxyEvent::Injected { .. } => {}
        }
    }

    fn session(&mut self, client: u64, ev: SessionEvent) {
        if let SessionEvent::Frames(frames) = &ev {
            for f in frames {
                self.enc.frame(&mut self.line, f);
                tag_client(&mut self.line, client);
                if let Some(c) = self.capture.as_mut() {
                    c.frame_ends_at(self.line.len());
                }
            }
            return;
        }
        if let Some((at, kind, f)) = event_line(&ev) {
            self.line_for(client, at, kind, f);
        }
        match ev {
            SessionEvent::Connecting { session_id, .. } => {
                self.clients.entry(client).or_default().session_id = session_id;
            }
            SessionEvent::Opened { handshake, .. } => {
                self.clients.entry(client).or_default().platform_id = handshake.platform_session_id;
            }
            SessionEvent::Failed { error, request, .. } => {
                eprintln!("wsdeck: client {client}: the agent could not be reached");
                report_failure(&error, request.as_ref());
            }
            SessionEvent::Warning { message, .. } => {
                eprintln!("wsdeck: client {client}: {message}");
            }
            SessionEvent::Closed { info, .. } if !info.clean => {
                let ex = explain(info.code);
                let reason = if info.reason.is_empty() {
                    "(no reason)".to_string()
                } else {
                    format!("{:?}", info.reason)
                };
                eprintln!(
                    "wsdeck: client {client}: closed {} {} by {}: {reason}",
                    info.code,
                    ex.name,
                    info.initiator.as_str()
                );
                eprintln!("  meaning: {}", ex.meaning);
                eprintln!("  likely:  {}", ex.likely_cause);
                if let Some(jobs) = &self.jobs {
                    let state = self.clients.remove(&client).unwrap_or_default();
                    let mut spec = self.base_spec.clone();
                    spec.session_id = state.session_id.or(spec.session_id);
                    let req = MonitorRequest::for_spec(&spec, state.platform_id);
                    let _ = jobs.send(MonitorJob { client, req });
                }
            }
            SessionEvent::Ended => {
                self.clients.remove(&client);
            }
            _ => {}
        }
    }

    /// An event line with `client` first among its fields.
    fn line_for(&mut self, client: u64, at: Duration, kind: &str, f: EventLine) {
        let mut with = EventLine::new();
        with.insert("client".into(), json!(client));
        with.extend(f);
        self.enc.event(&mut self.line, at, kind, with);
    }
}

fn request_fields(r: &ClientRequest) -> EventLine {
    fields(json!({
        "peer": r.peer.to_string(),
        "path": r.path,
        "origin": r.origin,
        "user_agent": r.user_agent,
        "subprotocols": r.subprotocols,
        "agent_session_id": r.agent_session_id,
    }))
}

/// Add `"client":N` to the JSON line that `buf` ends with (`…}\n`).
fn tag_client(buf: &mut Vec<u8>, client: u64) {
    crate::capture::line::add_field(buf, "client", &client.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_is_added_to_a_line() {
        let mut b = b"{\"a\":1}\n{\"seq\":2}\n".to_vec();
        tag_client(&mut b, 7);
        assert_eq!(b, b"{\"a\":1}\n{\"seq\":2,\"client\":7}\n");
        let v: serde_json::Value = serde_json::from_slice(&b[8..]).expect("json");
        assert_eq!(v["client"], 7);
    }
}

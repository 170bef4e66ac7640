//! Appending a capture file as frames arrive.
//!
//! Lines gather in a buffer that goes to the file when it passes 64 KiB and whenever the caller
//! has nothing more queued (`flush`), so a crash loses at most the batch in flight, and a line cut
//! in half by one is skipped by the reader with a warning.

use crate::capture::FORMAT_VERSION;
use crate::capture::line::{EventLine, LineEncoder, fields, header_pairs};
use crate::engine::diagnose::ConnectError;
use crate::engine::frame::Frame;
use crate::engine::session::SessionEvent;
use serde_json::{Value, json};
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const SPILL: usize = 64 * 1024;

/// What the header line says about the session (never a secret).
#[derive(Debug, Clone, Default)]
pub struct CaptureMeta {
    pub session_name: Option<String>,
    pub target_kind: String,
    pub target: String,
    pub url: String,
    pub agent_session_id: Option<String>,
}

pub struct CaptureWriter {
    path: PathBuf,
    file: File,
    enc: LineEncoder,
    buf: Vec<u8>,
    frames: u64,
}

impl CaptureWriter {
    /// Create (or truncate) `path` and write the header line.
    pub fn create(path: &Path, meta: &CaptureMeta, started: SystemTime) -> io::Result<Self> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        let file = File::create(path)?;
        let mut w = CaptureWriter {
            path: path.to_path_buf(),
            file,
            enc: LineEncoder::new(started),
            buf: Vec::with_capacity(SPILL * 2),
            frames: 0,
        };
        let started_text = time::OffsetDateTime::from(started)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let header = json!({
            "wsdeck_capture": FORMAT_VERSION,
            "wsdeck_version": env!("CARGO_PKG_VERSION"),
            "started": started_text,
            "session": meta.session_name,
            "target": {"kind": meta.target_kind, "describe": meta.target, "url": meta.url},
            "agent_session_id": meta.agent_session_id,
        });
        let _ = serde_json::to_writer(&mut w.buf, &header);
        w.buf.push(b'\n');
        w.flush()?;
        Ok(w)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn frames_written(&self) -> u64 {
        self.frames
    }

    pub fn frames(&mut self, frames: &[Frame]) -> io::Result<()> {
        for f in frames {
            self.enc.frame(&mut self.buf, f);
        }
        self.frames += frames.len() as u64;
        self.spill()
    }

    pub fn frame(&mut self, f: &Frame) -> io::Result<()> {
        self.enc.frame(&mut self.buf, f);
        self.frames += 1;
        self.spill()
    }

    /// A frame put into a proxied conversation from the console: its line says `"injected":true`.
    pub fn injected_frame(&mut self, f: &Frame) -> io::Result<()> {
        self.enc.frame(&mut self.buf, f);
        crate::capture::line::add_field(&mut self.buf, "injected", "true");
        self.frames += 1;
        self.spill()
    }

    pub fn event(&mut self, at: Duration, kind: &str, fields: EventLine) -> io::Result<()> {
        self.enc.event(&mut self.buf, at, kind, fields);
        self.spill()
    }

    /// Record whatever a session reported.
    pub fn session_event(&mut self, ev: &SessionEvent) -> io::Result<()> {
        match ev {
            SessionEvent::Frames(frames) => self.frames(frames),
            SessionEvent::Injected(f) => self.injected_frame(f),
            other => match event_line(other) {
                Some((at, kind, fields)) => self.event(at, kind, fields),
                None => Ok(()),
            },
        }
    }

    fn spill(&mut self) -> io::Result<()> {
        if self.buf.len() >= SPILL {
            self.flush()?;
        }
        Ok(())
    }

    /// Write everything buffered to the file.
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.file.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}

impl Drop for CaptureWriter {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// A session event other than frames as (time, kind, fields); the CLI's stdout uses the same.
pub fn event_line(ev: &SessionEvent) -> Option<(Duration, &'static str, EventLine)> {
    Some(match ev {
        SessionEvent::Connecting {
            at,
            url,
            session_id,
            ..
        } => (
            *at,
            "connecting",
            fields(json!({"url": url, "agent_session_id": session_id})),
        ),
        SessionEvent::Opened { at, handshake } => (
            *at,
            "open",
            fields(json!({
                "url": handshake.url,
                "status": handshake.status,
                "request_headers": header_pairs(&handshake.request_headers),
                "response_headers": header_pairs(&handshake.response_headers),
                "platform_session_id": handshake.platform_session_id,
                "subprotocol": handshake.subprotocol,
            })),
        ),
        SessionEvent::Closed { at, info } => {
            let ex = crate::engine::close::explain(info.code);
            (
                *at,
                "close",
                fields(json!({
                    "code": info.code,
                    "reason": info.reason,
                    "clean": info.clean,
                    "by": info.initiator.as_str(),
                    "name": ex.name,
                    "meaning": ex.meaning,
                    "likely_cause": ex.likely_cause,
                })),
            )
        }
        SessionEvent::Failed { at, error, request } => (*at, "error", error_fields(error, request)),
        SessionEvent::Warning { at, message } => {
            (*at, "warning", fields(json!({ "message": message })))
        }
        SessionEvent::Frames(_) | SessionEvent::Injected(_) | SessionEvent::Ended => return None,
    })
}

fn error_fields(
    error: &ConnectError,
    request: &Option<(String, Vec<(String, String)>)>,
) -> EventLine {
    let mut m = fields(json!({
        "kind": error.kind(),
        "message": error.to_string(),
        "advice": error.advice(),
    }));
    if let Some(r) = error.refusal() {
        m.insert("status".into(), json!(r.status));
        m.insert("response_headers".into(), header_pairs(&r.headers));
        m.insert("body".into(), Value::String(r.body_text()));
        if r.body_is_truncated() {
            m.insert("body_declared_len".into(), json!(r.declared_len));
        }
    }
    if let Some((url, headers)) = request {
        m.insert("url".into(), json!(url));
        m.insert("request_headers".into(), header_pairs(headers));
    }
    m
}

/// What the capture thread is handed.
enum ToWriter {
    Frames(Vec<Frame>),
    Event(Duration, &'static str, EventLine),
}

/// A capture written on a thread of its own: encoding and the kernel's copy into the file run
/// beside the socket's reader instead of taking turns with it on a runtime worker (measured in
/// benches/ingest: a record whose consumer task shared a worker with the session actor ran at
/// half speed in about half the runs).
pub struct CaptureThread {
    tx: tokio::sync::mpsc::Sender<ToWriter>,
    join: std::thread::JoinHandle<io::Result<u64>>,
    path: PathBuf,
}

impl CaptureThread {
    pub fn spawn(mut w: CaptureWriter) -> io::Result<Self> {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<ToWriter>(256);
        let path = w.path.clone();
        let join = std::thread::Builder::new()
            .name("wsdeck-capture".into())
            .spawn(move || {
                while let Some(msg) = rx.blocking_recv() {
                    match msg {
                        ToWriter::Frames(frames) => w.frames(&frames)?,
                        ToWriter::Event(at, kind, fields) => w.event(at, kind, fields)?,
                    }
                    // Written out whenever nothing more is queued: a crash loses little.
                    if rx.is_empty() {
                        w.flush()?;
                    }
                }
                w.flush()?;
                Ok(w.frames)
            })?;
        Ok(CaptureThread { tx, join, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Hand over whatever a session reported; waits only when the writer is far behind.
    pub async fn session_event(&self, ev: &SessionEvent) -> io::Result<()> {
        let msg = match ev {
            SessionEvent::Frames(frames) => ToWriter::Frames(frames.clone()),
            other => match event_line(other) {
                Some((at, kind, fields)) => ToWriter::Event(at, kind, fields),
                None => return Ok(()),
            },
        };
        self.tx
            .send(msg)
            .await
            .map_err(|_| io::Error::other("the capture writer stopped"))
    }

    /// Hand over a batch of frames.
    pub async fn frames(&self, frames: Vec<Frame>) -> io::Result<()> {
        self.tx
            .send(ToWriter::Frames(frames))
            .await
            .map_err(|_| io::Error::other("the capture writer stopped"))
    }

    /// Write out the rest and wait for the thread; the number of frames written, or the error
    /// that stopped it.
    pub async fn finish(self) -> io::Result<u64> {
        drop(self.tx);
        let join = self.join;
        tokio::task::spawn_blocking(move || join.join())
            .await
            .map_err(io::Error::other)?
            .map_err(|_| io::Error::other("the capture writer panicked"))?
    }
}

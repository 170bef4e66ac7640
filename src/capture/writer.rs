//! Appending a capture file as frames arrive.
//!
//! Lines gather in a buffer that goes to the file when it passes 64 KiB and whenever the caller
//! has nothing more queued (`flush`), so a crash loses at most the batch in flight, and a line cut
//! in half by one is skipped by the reader with a warning.
//!
//! A write that fails (a full disk, a file-size limit, an I/O error) is returned once, as a
//! [`CaptureWriteError`] naming the file; the file is cut back to its last whole line, and the
//! writer then takes the rest of the session without writing it (counted in `frames_dropped`).
//! It does not try again later: a capture with a hole in the middle would pass for a whole one.

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
use thiserror::Error;

mod thread;
pub use thread::{CaptureEnd, CaptureThread};

const SPILL: usize = 64 * 1024;

/// A capture write that failed: the file, what the OS said, and how much of the session the file
/// holds (every line in it whole). Returned once; the session it records goes on.
#[derive(Debug, Error)]
#[error("cannot write the capture {}: {error}", path.display())]
pub struct CaptureWriteError {
    pub path: PathBuf,
    pub error: io::Error,
    /// Frames whose lines are in the file.
    pub frames_kept: u64,
}

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
    /// Frames encoded and not lost to a failed write.
    frames: u64,
    /// Bytes of the file written, all of them whole lines.
    in_file: u64,
    failed: bool,
    /// Frames handed over after (or lost in) the failed write.
    dropped: u64,
}

impl CaptureWriter {
    /// Create (or truncate) `path` and write the header line.
    pub fn create(path: &Path, meta: &CaptureMeta, started: SystemTime) -> io::Result<Self> {
        ignore_file_size_signal();
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            crate::private::create_dir_all(dir)?;
        }
        let file = crate::private::create_file(path)?;
        let mut w = CaptureWriter {
            path: path.to_path_buf(),
            file,
            enc: LineEncoder::new(started),
            buf: Vec::with_capacity(SPILL * 2),
            frames: 0,
            in_file: 0,
            failed: false,
            dropped: 0,
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
        w.flush().map_err(|e| e.error)?;
        Ok(w)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Frames in the file or buffered for it.
    pub fn frames_written(&self) -> u64 {
        self.frames
    }

    /// Frames not recorded because a write failed.
    pub fn frames_dropped(&self) -> u64 {
        self.dropped
    }

    /// Whether a write failed (the error was returned then; nothing is written since).
    pub fn has_failed(&self) -> bool {
        self.failed
    }

    pub fn frames(&mut self, frames: &[Frame]) -> Result<(), CaptureWriteError> {
        if self.failed {
            self.dropped += frames.len() as u64;
            return Ok(());
        }
        for f in frames {
            self.enc.frame(&mut self.buf, f);
        }
        self.frames += frames.len() as u64;
        self.spill()
    }

    pub fn frame(&mut self, f: &Frame) -> Result<(), CaptureWriteError> {
        self.frames(std::slice::from_ref(f))
    }

    /// A frame put into a proxied conversation from the console: its line says `"injected":true`.
    pub fn injected_frame(&mut self, f: &Frame) -> Result<(), CaptureWriteError> {
        if self.failed {
            self.dropped += 1;
            return Ok(());
        }
        self.enc.frame(&mut self.buf, f);
        crate::capture::line::add_field(&mut self.buf, "injected", "true");
        self.frames += 1;
        self.spill()
    }

    pub fn event(
        &mut self,
        at: Duration,
        kind: &str,
        fields: EventLine,
    ) -> Result<(), CaptureWriteError> {
        if self.failed {
            return Ok(());
        }
        self.enc.event(&mut self.buf, at, kind, fields);
        self.spill()
    }

    /// Record whatever a session reported.
    pub fn session_event(&mut self, ev: &SessionEvent) -> Result<(), CaptureWriteError> {
        match ev {
            SessionEvent::Frames(frames) => self.frames(frames),
            SessionEvent::Injected(f) => self.injected_frame(f),
            other => match event_line(other) {
                Some((at, kind, fields)) => self.event(at, kind, fields),
                None => Ok(()),
            },
        }
    }

    fn spill(&mut self) -> Result<(), CaptureWriteError> {
        if self.buf.len() >= SPILL {
            self.flush()?;
        }
        Ok(())
    }

    /// Write everything buffered to the file.
    pub fn flush(&mut self) -> Result<(), CaptureWriteError> {
        if self.failed || self.buf.is_empty() {
            self.buf.clear();
            return Ok(());
        }
        // By hand rather than write_all: how far a failed write got says which lines are whole.
        let mut done = 0;
        while done < self.buf.len() {
            match self.file.write(&self.buf[done..]) {
                Ok(0) => return Err(self.fail(done, io::ErrorKind::WriteZero.into())),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.fail(done, e)),
            }
        }
        self.in_file += done as u64;
        self.buf.clear();
        Ok(())
    }

    /// The write failed after `done` bytes of the buffer: keep the whole lines among them, cut
    /// the half line after them off the file, and stop writing.
    fn fail(&mut self, done: usize, error: io::Error) -> CaptureWriteError {
        let whole = memchr::memrchr(b'\n', &self.buf[..done]).map_or(0, |i| i + 1);
        let lost = frame_lines(&self.buf[whole..]);
        self.in_file += whole as u64;
        if done > whole {
            // If this fails too, the reader still skips the cut line with a warning.
            let _ = self.file.set_len(self.in_file);
        }
        self.frames -= lost;
        self.dropped += lost;
        self.failed = true;
        self.buf = Vec::new();
        CaptureWriteError {
            path: self.path.clone(),
            error,
            frames_kept: self.frames,
        }
    }
}

/// How many of these whole lines (the last one possibly cut) are frames: a frame's line starts
/// with `{"seq":`, an event's with `{"t":`.
fn frame_lines(lines: &[u8]) -> u64 {
    let starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', lines).map(|i| i + 1));
    starts
        .filter(|&i| lines[i..].starts_with(b"{\"seq\":"))
        .count() as u64
}

/// A write past a file-size limit (`ulimit -f`) raises SIGXFSZ, whose default action kills the
/// process on the spot (the terminal left raw, the socket dropped, no word said); ignored, the
/// write fails with EFBIG and is handled as any other write failure.
fn ignore_file_size_signal() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: setting a signal's disposition to SIG_IGN installs no handler and touches no
        // memory; it is process-wide, which is the point.
        unsafe {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        }
    });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_lines_counts_frames_not_events_and_a_cut_frame_counts() {
        let lines = b"{\"wsdeck_capture\":1}\n{\"t\":\"x\",\"event\":\"open\"}\n{\"seq\":1}\n{\"seq\":2}\n{\"se";
        assert_eq!(frame_lines(lines), 2);
        assert_eq!(frame_lines(b"{\"seq\":3,\"t\":"), 1);
        assert_eq!(frame_lines(b""), 0);
    }
}

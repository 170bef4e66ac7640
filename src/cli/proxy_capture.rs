//! `proxy --record FILE`: the proxy's lines, each tagged with its client, written by the output
//! thread. A write that fails (the disk fills, a file-size limit) is said once and does not stop
//! the proxy: it goes on relaying and printing, and its exit says the capture is incomplete
//! (`exit::CAPTURE_INCOMPLETE`), as `record` does (cli/recording.rs).

use crate::capture::writer::{CaptureMeta, CaptureWriteError, CaptureWriter};
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub(super) struct ProxyCapture {
    path: PathBuf,
    /// `None` once a write failed.
    file: Option<File>,
    /// Bytes of whole lines in the file: where a failed write is cut back to.
    len: u64,
    /// Frames whose lines are in the file.
    kept: u64,
    /// Where each frame's line ends in the lines the next `write` gets.
    pending: Vec<usize>,
    /// Frames not in the file because a write failed.
    dropped: u64,
}

impl ProxyCapture {
    /// The header as the capture writer writes it, then the file opened for the lines after it.
    /// A failure here is said, and the proxy goes on without a capture.
    pub(super) fn open(path: &Path, meta: &CaptureMeta, started: SystemTime) -> ProxyCapture {
        let mut c = ProxyCapture {
            path: path.to_path_buf(),
            file: None,
            len: 0,
            kept: 0,
            pending: Vec::new(),
            dropped: 0,
        };
        let opened = CaptureWriter::create(path, meta, started)
            .map(drop)
            .and_then(|()| std::fs::OpenOptions::new().append(true).open(path))
            .and_then(|f| Ok((f.metadata()?.len(), f)));
        match opened {
            Ok((len, f)) => {
                c.len = len;
                c.file = Some(f);
            }
            Err(e) => c.fail(e),
        }
        c
    }

    /// A frame's line ends at `end` of the lines the next `write` gets.
    pub(super) fn frame_ends_at(&mut self, end: usize) {
        if self.file.is_some() {
            self.pending.push(end);
        } else {
            self.dropped += 1;
        }
    }

    /// Whole lines. On a failure the file is cut back to the last whole line that went in, so
    /// it only ever holds whole lines; the frames after it are counted as not in it.
    pub(super) fn write(&mut self, lines: &[u8]) {
        let Some(f) = self.file.as_mut() else {
            return;
        };
        let mut done = 0;
        let failed = loop {
            if done == lines.len() {
                break None;
            }
            match f.write(&lines[done..]) {
                Ok(0) => break Some(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Some(e),
            }
        };
        let whole = match failed {
            None => lines.len(),
            Some(_) => lines[..done]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1),
        };
        let in_file = self.pending.iter().take_while(|&&end| end <= whole).count();
        self.kept += in_file as u64;
        self.dropped += (self.pending.len() - in_file) as u64;
        self.pending.clear();
        self.len += whole as u64;
        if let Some(e) = failed {
            if whole < done {
                let _ = f.set_len(self.len);
            }
            self.fail(e);
        }
    }

    fn fail(&mut self, error: io::Error) {
        self.file = None;
        self.dropped += self.pending.len() as u64;
        self.pending.clear();
        let e = CaptureWriteError {
            path: self.path.clone(),
            error,
            frames_kept: self.kept,
        };
        eprintln!("wsdeck: the capture is incomplete: {e}; the proxy goes on without it");
    }

    /// Says what the file holds. True when the capture is whole.
    pub(super) fn finish(self) -> bool {
        let path = self.path.display();
        if self.file.is_some() {
            eprintln!("wsdeck: recorded {} frames to {path}", self.kept);
            return true;
        }
        eprintln!(
            "wsdeck: recorded {} frames to {path} before a write failed; {} frames after it are not in the capture",
            self.kept, self.dropped
        );
        false
    }
}

//! An opened capture as the store's payload source: the frame log keeps each frame's line
//! (offset and length) and reads the payload back from the file when the frame is shown,
//! searched or replayed, so a capture bigger than memory opens in its index's size.

use crate::capture::index::{LineLoc, read_payload};
use bytes::Bytes;
use std::fs::File;
use std::path::{Path, PathBuf};

pub struct CaptureSource {
    file: File,
    path: PathBuf,
}

impl CaptureSource {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        Ok(CaptureSource {
            file: File::open(path)?,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl crate::store::PayloadSource for CaptureSource {
    /// `loc` is the line's offset and `extra` its length, as the index gave them.
    fn read(&self, loc: u64, extra: u32) -> Result<Bytes, String> {
        read_payload(
            &self.file,
            LineLoc {
                offset: loc,
                len: extra,
            },
        )
        .map_err(|e| format!("{}: {e}", self.path.display()))
    }
}

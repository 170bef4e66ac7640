//! A frame log's spill file: payload blocks written out past the memory budget, read back by
//! offset. Created on the first spill, in the data directory, named after the process so a
//! console that died leaves files the next one can recognise and remove; removed when the log
//! is dropped (its session deleted, or the console quitting).

use bytes::Bytes;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Spill files are `spill-<pid>-<n>.bin` in the spill directory.
const PREFIX: &str = "spill-";

static NEXT: AtomicU64 = AtomicU64::new(1);

pub(super) struct SpillFile {
    dir: Option<PathBuf>,
    open: Option<(PathBuf, File)>,
    written: u64,
}

impl SpillFile {
    pub(super) fn new(dir: Option<&Path>) -> Self {
        SpillFile {
            dir: dir.map(Path::to_path_buf),
            open: None,
            written: 0,
        }
    }

    /// Append `bytes`; the offset they start at.
    pub(super) fn append(&mut self, bytes: &[u8]) -> Result<u64, String> {
        if self.open.is_none() {
            let Some(dir) = &self.dir else {
                return Err("no data directory to spill to".into());
            };
            crate::private::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!("{PREFIX}{}-{n}.bin", std::process::id()));
            let file = crate::private::create_new_file(&path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            self.open = Some((path, file));
        }
        let Some((path, file)) = self.open.as_mut() else {
            return Err("the spill file is not open".into());
        };
        let at = self.written;
        file.write_all(bytes)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        self.written += bytes.len() as u64;
        Ok(at)
    }

    /// `len` bytes from `off`.
    pub(super) fn read(&self, off: u64, len: usize) -> Result<Bytes, String> {
        let Some((path, file)) = self.open.as_ref() else {
            return Err("the spill file is gone".into());
        };
        let mut buf = vec![0u8; len];
        read_exact_at(file, &mut buf, off).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Bytes::from(buf))
    }

    pub(super) fn written(&self) -> u64 {
        self.written
    }

    pub(super) fn path(&self) -> Option<&Path> {
        self.open.as_ref().map(|(p, _)| p.as_path())
    }
}

impl Drop for SpillFile {
    fn drop(&mut self) {
        if let Some((path, file)) = self.open.take() {
            drop(file);
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], off: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, off)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut off: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, off)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                off += n as u64;
            }
        }
    }
    Ok(())
}

/// Remove spill files left by consoles that are no longer running (a crash, a `kill -9`); the
/// number removed.
pub fn remove_stale(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|n| n.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !alive(pid) && std::fs::remove_file(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        // Without /proc, keep it: a stale file costs disk, removing a live one loses frames.
        true
    }
}

//! Settings files replaced whole or not at all: the new text goes to a temporary file beside the
//! target (`NAME.tmp-PID-N`), is flushed to the disk, and is renamed over the target, and the
//! directory is flushed so the rename itself survives a power cut. A reader sees the old file or
//! the new one, never a mix; a write that fails (disk full, a crash) leaves the old file whole
//! and no temporary file behind.

use super::ConfigError;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Temporary names are unique within a process (the counter) and across processes (the pid),
/// so two writers never share one, and one left by a crash names the process that left it.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A new file's mode. Settings files name endpoints, header values, `cmd:` token commands and
/// saved payloads: nothing for other users of the machine to read, though no token is ever
/// written there. An existing file keeps the mode its owner gave it.
#[cfg(unix)]
pub const NEW_FILE_MODE: u32 = 0o600;

/// Replace `path` with `bytes` atomically; the error names `path`. A symbolic link (a dotfiles
/// manager's) is followed, so the file it points at is replaced and the link stays a link.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ConfigError> {
    let err = |source| ConfigError::Write {
        path: path.to_path_buf(),
        source,
    };
    let target = resolve_link(path).map_err(err)?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(err)?;
    let tmp = temp_name(&target);
    let result = write_temp(&tmp, &target, bytes).and_then(|()| fs::rename(&tmp, &target));
    if let Err(e) = result {
        // Best effort: when even this fails, the name says which process left it.
        let _ = fs::remove_file(&tmp);
        return Err(err(e));
    }
    // The rename is done and the new text is on the disk; a directory that cannot be flushed
    // (some network file systems refuse) costs only durability of the rename across a power cut.
    if let Err(e) = sync_dir(&dir) {
        tracing::warn!(
            "{}: directory not flushed after a write: {e}",
            dir.display()
        );
    }
    Ok(())
}

/// The temporary file `write_atomic` uses for `target` next: same directory, same name plus
/// `.tmp-PID-N`.
fn temp_name(target: &Path) -> PathBuf {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}-{n}", std::process::id()));
    target.with_file_name(name)
}

/// `path`, or the file a symbolic link at `path` points to (relative links resolve against the
/// link's directory).
fn resolve_link(path: &Path) -> std::io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    // A loop of links is an error, not a hang.
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) => dir.join(to),
                    None => to,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

fn write_temp(tmp: &Path, target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Created private, so the text is never readable by others even for a moment; the old
        // file's mode is applied below.
        opts.mode(NEW_FILE_MODE);
    }
    let mut file = opts.open(tmp)?;
    if let Ok(old) = fs::metadata(target) {
        file.set_permissions(old.permissions())?;
    }
    file.write_all(bytes)?;
    file.sync_all()
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        // Windows cannot open a directory as a file; its rename is flushed with the file.
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp-"))
            .collect()
    }

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("sub").join("sessions.toml");
        write_atomic(&p, b"one").expect("first");
        write_atomic(&p, b"two").expect("second");
        assert_eq!(fs::read(&p).expect("read"), b"two");
        assert!(leftovers(p.parent().expect("parent")).is_empty());
    }

    #[test]
    fn a_failed_rename_keeps_the_old_content_and_removes_the_temporary() {
        // Root ignores a read-only directory, so the failure is one no permission lifts: the
        // target is a directory, which a file cannot be renamed over.
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("snippets.toml");
        fs::create_dir(&p).expect("mkdir");
        fs::write(p.join("old"), b"kept").expect("old");
        let e = write_atomic(&p, b"new").expect_err("cannot replace a directory");
        assert!(e.to_string().contains("snippets.toml"), "{e}");
        assert_eq!(fs::read(p.join("old")).expect("old"), b"kept");
        assert!(
            leftovers(dir.path()).is_empty(),
            "{:?}",
            leftovers(dir.path())
        );
    }

    #[test]
    fn a_parent_that_is_a_file_is_an_error_naming_the_path() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("config");
        fs::write(&file, b"old").expect("w");
        let p = file.join("sessions.toml");
        let e = write_atomic(&p, b"new").expect_err("parent is a file");
        assert!(e.to_string().contains(&*p.to_string_lossy()), "{e}");
        assert_eq!(fs::read(&file).expect("read"), b"old");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn new_files_are_private_and_existing_ones_keep_their_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("sessions.toml");
        write_atomic(&p, b"a").expect("new");
        let mode = |p: &Path| fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&p), 0o600);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).expect("chmod");
        write_atomic(&p, b"b").expect("again");
        assert_eq!(mode(&p), 0o640);
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_stays_a_link_to_the_new_content() {
        let dir = tempfile::tempdir().expect("dir");
        let real = dir.path().join("dotfiles");
        fs::create_dir(&real).expect("mkdir");
        fs::write(real.join("sessions.toml"), b"old").expect("w");
        let link = dir.path().join("sessions.toml");
        std::os::unix::fs::symlink("dotfiles/sessions.toml", &link).expect("link");
        write_atomic(&link, b"new").expect("write");
        assert!(
            fs::symlink_metadata(&link)
                .expect("meta")
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(real.join("sessions.toml")).expect("read"), b"new");
    }

    /// A reader running while the file is replaced over and over sees one whole version or the
    /// other, never a torn one: each version is one byte repeated, so a mix or a short read shows.
    /// After each write the writer waits for a read that began after it, so every version is
    /// read at least once and reads overlap the next write.
    #[test]
    fn a_concurrent_reader_never_sees_a_partial_file() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, AtomicUsize};
        const LEN: usize = 1 << 20;
        const WRITES: usize = 52;
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("big.toml");
        write_atomic(&p, &vec![b'a'; LEN]).expect("first");
        let done = Arc::new(AtomicBool::new(false));
        let reads = Arc::new(AtomicUsize::new(0));
        let reader = {
            let (p, done, reads) = (p.clone(), done.clone(), reads.clone());
            std::thread::spawn(move || {
                let mut versions = std::collections::BTreeSet::new();
                while !done.load(Ordering::Acquire) {
                    let bytes = fs::read(&p).expect("the file is always there");
                    assert_eq!(bytes.len(), LEN, "a short file");
                    let first = bytes[0];
                    assert!(bytes.iter().all(|b| *b == first), "a torn file");
                    versions.insert(first);
                    reads.fetch_add(1, Ordering::AcqRel);
                }
                versions
            })
        };
        for i in 0..WRITES {
            let byte = b'a' + (i % 26) as u8;
            write_atomic(&p, &vec![byte; LEN]).expect("write");
            // The second read to end after this point began after the write.
            let after = reads.load(Ordering::Acquire);
            while reads.load(Ordering::Acquire) < after + 2 && !reader.is_finished() {
                std::thread::yield_now();
            }
        }
        done.store(true, Ordering::Release);
        let versions = reader.join().expect("the reader saw only whole files");
        assert_eq!(versions.len(), 26, "every version was read");
        assert!(leftovers(dir.path()).is_empty());
    }
}

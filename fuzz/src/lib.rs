//! What the fuzz targets share: a scratch file for the loaders that only read from a path.
//!
//! The config, sessions, snippets and capture readers take a path (they read the file the
//! user has), so a target writes its input to one file per process and hands the loader that
//! path: the same `read_to_string`/`BufReader` code the binary runs, UTF-8 check included.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A directory of this process's own (`$WSDECK_FUZZ_SCRATCH`, which `run-all.sh` makes and
/// removes, else one under /dev/shm or the temp dir): tmpfs when there is one, as every
/// execution writes a file.
fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(dir) = std::env::var_os("WSDECK_FUZZ_SCRATCH") {
            let dir = PathBuf::from(dir);
            std::fs::create_dir_all(&dir).expect("scratch dir");
            return dir;
        }
        let base = Path::new("/dev/shm");
        let base = if base.is_dir() {
            base.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("wsdeck-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    })
}

/// `data` written to `name` in the scratch directory; its path.
pub fn scratch_file(name: &str, data: &[u8]) -> PathBuf {
    let path = scratch_dir().join(name);
    std::fs::write(&path, data).expect("write scratch file");
    path
}

/// A path in the scratch directory that a target may write to (a WAV, say).
pub fn scratch_path(name: &str) -> PathBuf {
    scratch_dir().join(name)
}

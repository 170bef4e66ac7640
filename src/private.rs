//! Files and directories made for the owner only. Captures and spill files hold frame payloads
//! (whatever the agent and the user said), and logs name endpoints: nothing for other users of a
//! shared machine to read, whatever the umask. Only what wsdeck creates is made private; a file
//! or directory that already exists keeps the mode its owner gave it.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Mode of a file wsdeck creates.
pub const FILE_MODE: u32 = 0o600;
/// Mode of a directory wsdeck creates.
pub const DIR_MODE: u32 = 0o700;

/// Create `path` for writing, or truncate it when it exists (as `File::create`), new files `0600`.
pub fn create_file(path: &Path) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    owner_only(&mut opts);
    opts.open(path)
}

/// Open `path` to append to it, creating it `0600` when it does not exist.
pub fn append_file(path: &Path) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.create(true).append(true);
    owner_only(&mut opts);
    opts.open(path)
}

/// Create `path`, which must not exist yet, for reading and writing, `0600`.
pub fn create_new_file(path: &Path) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.read(true).write(true).create_new(true);
    owner_only(&mut opts);
    opts.open(path)
}

/// `create_dir_all`, the directories it makes `0700`.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(DIR_MODE);
    }
    builder.create(dir)
}

fn owner_only(opts: &mut OpenOptions) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(FILE_MODE);
    }
    #[cfg(not(unix))]
    let _ = opts;
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).expect("meta").permissions().mode() & 0o777
    }

    #[test]
    fn new_files_and_dirs_are_the_owners_only_and_old_ones_keep_their_mode() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("a/b");
        create_dir_all(&dir).expect("dirs");
        assert_eq!(mode(&dir), DIR_MODE);
        assert_eq!(mode(&tmp.path().join("a")), DIR_MODE);

        let f = dir.join("capture.jsonl");
        create_file(&f).expect("create");
        assert_eq!(mode(&f), FILE_MODE);
        let l = dir.join("demo.log");
        append_file(&l).expect("append");
        assert_eq!(mode(&l), FILE_MODE);
        let g = dir.join("spill.bin");
        create_new_file(&g).expect("create new");
        assert_eq!(mode(&g), FILE_MODE);
        assert!(
            create_new_file(&g).is_err(),
            "create_new refuses an existing file"
        );

        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        std::fs::write(&f, b"old").expect("w");
        create_file(&f).expect("truncate");
        assert_eq!(mode(&f), 0o640, "an existing file keeps its mode");
        assert_eq!(
            std::fs::metadata(&f).expect("m").len(),
            0,
            "and is truncated"
        );
    }
}

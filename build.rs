//! Names the commit a binary was built from, for `wsdeck --version`: `WSDECK_COMMIT` (12 hex
//! digits, `-dirty` when tracked files differ from it, `unknown` without a repository) and
//! `WSDECK_COMMIT_DATE` (the commit's own date, so a rebuild says the same; empty when unknown)
//! and `WSDECK_VERSION_NOTE` (`commit …, DATE`).
//! No build-dependencies: this runs on every fresh build, and compile time is the budget.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    println!("cargo:rerun-if-changed=build.rs");
    let (commit, date) = from_git(&dir)
        .or_else(|| from_vcs_info(&dir))
        .unwrap_or_else(|| ("unknown".to_string(), None));
    let note = match &date {
        Some(d) => format!("commit {commit}, {d}"),
        None => format!("commit {commit}"),
    };
    println!("cargo:rustc-env=WSDECK_COMMIT={commit}");
    println!(
        "cargo:rustc-env=WSDECK_COMMIT_DATE={}",
        date.as_deref().unwrap_or("")
    );
    println!("cargo:rustc-env=WSDECK_VERSION_NOTE={note}");
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_string())
}

/// The commit of the checkout this package is the top of. A tree that is not its own repository
/// (a crates tarball unpacked inside someone's dotfiles repo) must not borrow that repo's commit.
fn from_git(dir: &Path) -> Option<(String, Option<String>)> {
    let paths = git(
        dir,
        &[
            "rev-parse",
            "--show-toplevel",
            "--git-path",
            "HEAD",
            "--git-path",
            "index",
            "--git-path",
            "packed-refs",
        ],
    )?;
    let mut lines = paths.lines().map(|l| dir.join(l));
    let top = lines.next()?;
    if top.canonicalize().ok()? != dir.canonicalize().ok()? {
        return None;
    }
    let (head, index, packed) = (lines.next()?, lines.next()?, lines.next()?);
    // Rerun when HEAD moves (a commit updates the branch's ref file, or packed-refs), when the
    // index changes (git add), and when the sources change, so `-dirty` follows edits too.
    let mut watch = vec![head, index, dir.join("src"), dir.join("Cargo.toml")];
    if let Some(reference) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        if let Some(file) = git(dir, &["rev-parse", "--git-path", &reference]) {
            watch.push(dir.join(file));
        }
        watch.push(packed);
    }
    for path in watch.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    let hash = git(dir, &["rev-parse", "--short=12", "HEAD"])?;
    // Untracked files do not count, as with `git describe --dirty`: a stray scratch file is not
    // a change to what was built.
    let dirty =
        git(dir, &["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    let date = git(dir, &["log", "-1", "--format=%cs", "HEAD"]).filter(|d| !d.is_empty());
    let commit = if dirty { format!("{hash}-dirty") } else { hash };
    Some((commit, date))
}

/// `cargo package` records the commit in `.cargo_vcs_info.json` (`"sha1": "…"`); a tree
/// unpacked from the crate has no `.git` but still knows where it came from.
fn from_vcs_info(dir: &Path) -> Option<(String, Option<String>)> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let after = text.split_once("\"sha1\"")?.1;
    let hex: String = after
        .chars()
        .skip_while(|c| !c.is_ascii_hexdigit())
        .take_while(char::is_ascii_hexdigit)
        .take(12)
        .collect();
    let dirty = text.contains("\"dirty\": true") || text.contains("\"dirty\":true");
    (hex.len() == 12).then(|| (if dirty { hex + "-dirty" } else { hex }, None))
}

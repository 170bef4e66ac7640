//! Debian's `chromium` for the browser test: found on PATH or installed with apt-get (as root),
//! run headless on one page, and ended with every process it started.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Debian's `chromium`, installed with apt-get when missing. One install at a time: the
/// OnceLock for the tests in this process, a file lock for other processes (another worktree's
/// tests, say), which then find it on PATH.
fn chromium() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = on_path("chromium") {
            return p;
        }
        let lock_path = std::env::temp_dir().join("wsdeck-chromium-install.lock");
        let lock = std::fs::File::create(&lock_path).expect("the install lock file");
        lock.lock().expect("the install lock");
        if let Some(p) = on_path("chromium") {
            return p;
        }
        install_chromium();
        on_path("chromium").unwrap_or_else(|| {
            panic!(
                "apt-get installed chromium, but `chromium` is not on PATH ({:?})",
                std::env::var("PATH")
            )
        })
    })
    .clone()
}

const NEEDS: &str = "the browser test (tests/it/proxy_browser.rs) needs Debian's `chromium` on PATH: install it with `apt-get install -y --no-install-recommends chromium` as root, or run the tests as root so the test installs it itself";

fn install_chromium() {
    // The effective uid, from /proc rather than `id`, which a narrowed PATH may not hold.
    let euid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("Uid:"))?.to_string();
            line.split_whitespace().nth(2)?.parse::<u32>().ok()
        });
    assert!(euid == Some(0), "{NEEDS} (this is not root: uid {euid:?})");
    let apt = |args: &[&str]| -> Result<(), String> {
        let o = Command::new("apt-get")
            .args(["-o", "DPkg::Lock::Timeout=300"])
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run apt-get: {e}"))?;
        if o.status.success() {
            return Ok(());
        }
        let err = String::from_utf8_lossy(&o.stderr);
        let tail: Vec<&str> = err.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        Err(format!(
            "apt-get {} failed ({}):\n{}",
            args.join(" "),
            o.status,
            tail.join("\n")
        ))
    };
    let install = ["install", "-y", "--no-install-recommends", "chromium"];
    eprintln!("chromium is not on PATH: installing it with apt-get");
    let t0 = Instant::now();
    // Package lists too old for the mirror make the download fail; refresh them once then.
    let done = apt(&install).or_else(|first| {
        apt(&["update"]).map_err(|e| format!("{first}\n{e}"))?;
        apt(&install).map_err(|e| format!("{first}\n{e}"))
    });
    if let Err(e) = done {
        panic!("{NEEDS}. Installing it failed:\n{e}");
    }
    eprintln!(
        "installed chromium with apt-get in {:.1}s",
        t0.elapsed().as_secs_f64()
    );
}

/// A headless Chromium showing one page, in its own process group so that dropping it ends the
/// browser and every process it started.
pub(super) struct Browser {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Browser {
    /// Whether Chromium has exited already, and how.
    pub(super) fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    pub(super) fn open(url: &str) -> Browser {
        let bin = chromium();
        let dir = tempfile::tempdir().expect("profile dir");
        let log = dir.path().join("chromium.log");
        let out = std::fs::File::create(&log).expect("log file");
        let child = Command::new(&bin)
            .args([
                "--headless",
                // Root (as in CI containers) cannot use the sandbox.
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                // An http_proxy in the environment must not stand between the page and loopback.
                "--no-proxy-server",
            ])
            .arg(format!(
                "--user-data-dir={}",
                dir.path().join("profile").display()
            ))
            .arg(url)
            .env("HOME", dir.path())
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log file"))
            .stderr(out)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        Browser {
            child,
            log,
            _dir: dir,
        }
    }

    /// The end of Chromium's own output, for a failure message.
    pub(super) fn log(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let signal = |sig: &str| {
            Command::new("kill")
                .args([sig, "--", &group])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        signal("-KILL");
        let _ = self.child.wait();
        // Renderers and helpers die a moment after the browser; wait for the group to be empty
        // so none outlives the test (or its profile directory).
        let deadline = Instant::now() + Duration::from_secs(5);
        while signal("-0") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

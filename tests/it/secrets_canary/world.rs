//! The canary's world: a token made for one test, private directories for everything a run may
//! write, and the searches that prove the token is in none of them.

use crate::support::header;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A fresh canary and the part of it that must appear nowhere.
pub struct Canary {
    pub token: String,
    /// The first 16 hex digits: unique to this test, and kept by any cut of the token.
    pub needle: String,
}

pub fn canary() -> Canary {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    Canary {
        token: format!("wsdeck-canary-{hex}"),
        needle: hex[..16].to_string(),
    }
}

/// One test's world: every directory a run may write to lives under `root`. `bin` (the fake
/// tools) and `secrets` (the token files the token command reads) hold the canary on purpose
/// and are not searched.
pub struct World {
    pub root: tempfile::TempDir,
}

impl World {
    pub fn new() -> World {
        let root = tempfile::tempdir().expect("root");
        for d in [
            "bin",
            "secrets",
            "home",
            "xdg/config",
            "xdg/data",
            "xdg/cache",
            "xdg/state",
        ] {
            std::fs::create_dir_all(root.path().join(d)).expect("dir");
        }
        std::fs::create_dir_all(root.path().join("tmp")).expect("tmp");
        World { root }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    pub fn bin(&self) -> PathBuf {
        self.path("bin")
    }

    /// The environment of a run: private dirs for everything, the fakes first on PATH.
    pub fn env(&self) -> Vec<(String, String)> {
        let p = |rel: &str| self.path(rel).display().to_string();
        vec![
            ("WSDECK_CONFIG_DIR".into(), p("config")),
            ("WSDECK_DATA_DIR".into(), p("data")),
            ("HOME".into(), p("home")),
            ("XDG_CONFIG_HOME".into(), p("xdg/config")),
            ("XDG_DATA_HOME".into(), p("xdg/data")),
            ("XDG_CACHE_HOME".into(), p("xdg/cache")),
            ("XDG_STATE_HOME".into(), p("xdg/state")),
            ("TMPDIR".into(), p("tmp")),
            ("PATH".into(), format!("{}:/usr/bin:/bin", p("bin"))),
        ]
    }

    /// `wsdeck -vv ARGS…` in this world.
    pub fn wsdeck(&self) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::cargo_bin("wsdeck").expect("binary");
        c.env_remove("FOUNDRY_PROJECT_ENDPOINT")
            .env_remove("WSDECK_LOG")
            .env_remove("AZURE_FEDERATED_TOKEN_FILE")
            .env_remove("IDENTITY_ENDPOINT")
            .env_remove("MSI_ENDPOINT")
            .timeout(std::time::Duration::from_secs(60))
            .arg("-vv");
        for (k, v) in self.env() {
            c.env(k, v);
        }
        c
    }

    /// A file under `secrets/` holding the token; the command that prints it.
    pub fn token_command(&self, c: &Canary) -> String {
        let f = self.path("secrets/token");
        std::fs::write(&f, &c.token).expect("token file");
        format!("cmd:cat {}", f.display())
    }

    /// An executable `name` in `bin/`.
    pub fn tool(&self, name: &str, body: &str) {
        use std::os::unix::fs::PermissionsExt;
        let p = self.bin().join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    /// A fake `az` printing what `az account get-access-token -o json` prints; its arguments
    /// go to `az-args` (outside the searched dirs).
    pub fn fake_az(&self, c: &Canary) {
        let args = self.path("bin/az-args");
        self.tool(
            "az",
            &format!(
                "echo \"$@\" >> {args}\ncat <<'JSON'\n{{\"accessToken\":\"{t}\",\"expiresOn\":\"2030-01-02 03:04:05.000000\",\"expires_on\":1893553445,\"subscription\":\"s\",\"tenant\":\"t\",\"tokenType\":\"Bearer\"}}\nJSON",
                args = args.display(),
                t = c.token
            ),
        );
    }

    /// Every file the run could have written, bar the fakes and the token files.
    pub fn written_files(&self) -> Vec<PathBuf> {
        let mut out = vec![];
        walk(self.root.path(), &mut out);
        out.retain(|f| !f.starts_with(self.bin()) && !f.starts_with(self.path("secrets")));
        out
    }

    /// The canary in no file written; and a log file was written (so `-vv` logging ran).
    pub fn assert_no_file_holds(&self, c: &Canary) {
        let files = self.written_files();
        for f in &files {
            let bytes = std::fs::read(f).expect("read");
            assert!(
                memchr::memmem::find(&bytes, c.needle.as_bytes()).is_none(),
                "{} holds the token",
                f.display()
            );
        }
        assert!(
            files.iter().any(|f| f.starts_with(self.path("data/logs"))
                && f.to_string_lossy().contains("wsdeck.log")),
            "no log file was written: {files:?}"
        );
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// The canary nowhere in what a run printed.
#[track_caller]
pub fn assert_output_clean(o: &Output, c: &Canary) {
    for (name, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        assert!(
            memchr::memmem::find(bytes, c.needle.as_bytes()).is_none(),
            "{name} leaks the token: {}",
            String::from_utf8_lossy(bytes)
        );
    }
}

/// `-vv` did log to stderr (so the checks above looked at a log, not at silence).
#[track_caller]
pub fn assert_logged(o: &Output) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("INFO"), "-vv logged nothing: {err}");
}

#[track_caller]
pub fn assert_sent(server: &crate::support::Server, i: usize, c: &Canary) {
    assert_eq!(
        header(server, i, "authorization"),
        Some(format!("Bearer {}", c.token)),
        "upgrade {i} did not carry the canary"
    );
}

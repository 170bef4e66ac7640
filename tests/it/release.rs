//! Release quality (issue 13): `--version` names the commit, completions and the man page come
//! from the clap definition, settings files are replaced whole or not at all, and
//! docs/troubleshooting.md covers every failure kind, exit code and close code the code knows.

use crate::support::{assert_exit, repo, wsdeck};
use clap::CommandFactory;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use wsdeck::cli::args::Cli;
use wsdeck::engine::close::explain;
use wsdeck::engine::diagnose::ConnectError;

/// Every command as (the bash function of its parent, its name, the page name), nested ones too
/// (`sessions add`), without clap's implicit `help`.
fn commands() -> Vec<(String, String, String)> {
    fn walk(cmd: &clap::Command, func: &str, page: &str, out: &mut Vec<(String, String, String)>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let name = sub.get_name().to_string();
            let sub_page = format!("{page}-{name}");
            out.push((func.to_string(), name.clone(), sub_page.clone()));
            walk(sub, &format!("{func}__subcmd__{name}"), &sub_page, out);
        }
    }
    let mut out = Vec::new();
    walk(&Cli::command(), "wsdeck", "wsdeck", &mut out);
    assert!(out.len() > 15, "{out:?}");
    out
}

fn stdout_of(home: &Path, args: &[&str]) -> String {
    let o = wsdeck(home).args(args).output().expect("run");
    assert_exit(&o, 0);
    String::from_utf8(o.stdout).expect("utf-8")
}

/// A check that could not run here, said where it shows: straight to stderr, past the test
/// harness's capture, so a skipped check is never a silent pass.
fn note(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "NOTE (release): {text}");
}

/// Run `tool -n FILE` (a syntax check) when the shell is installed; say so when it is not.
fn syntax_check(tool: &str, flag: &str, script: &str, dir: &Path) {
    let file = dir.join(format!("completion.{tool}"));
    std::fs::write(&file, script).expect("write");
    match Command::new(tool).arg(flag).arg(&file).output() {
        Ok(o) => assert!(
            o.status.success(),
            "{tool} {flag}: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => note(&format!(
            "{tool} is not installed: its completion script was not parsed by {tool}"
        )),
        Err(e) => panic!("{tool}: {e}"),
    }
}

#[test]
fn version_names_the_commit_of_this_checkout() {
    let home = tempfile::tempdir().expect("home");
    let out = stdout_of(home.path(), &["--version"]);
    assert_eq!(out, format!("wsdeck {}\n", wsdeck::cli::args::VERSION));
    assert!(
        out.starts_with(&format!("wsdeck {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(repo())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let checkout = git(&["rev-parse", "--show-toplevel"])
        .is_some_and(|top| Path::new(&top).canonicalize().ok() == repo().canonicalize().ok());
    if !checkout {
        note("not a git checkout (or no git): the commit must read unknown");
        assert!(out.contains("(commit unknown"), "{out}");
        return;
    }
    let head = git(&["rev-parse", "--short=12", "HEAD"]).expect("HEAD");
    // Only the hash: `-dirty` says how the tree was when build.rs last ran, which edits to files
    // outside the build (tests, docs) do not rerun.
    assert!(
        out.contains(&format!("(commit {head}")),
        "{out} vs HEAD {head}"
    );
    assert!(wsdeck::cli::args::COMMIT.starts_with(&head));
}

#[test]
fn completions_name_every_command_and_parse() {
    let home = tempfile::tempdir().expect("home");
    let bash = stdout_of(home.path(), &["completions", "bash"]);
    for (func, name, _) in commands() {
        // The case label bash completes NAME's options under.
        assert!(
            bash.contains(&format!("{func},{name})")),
            "bash: no {func},{name})"
        );
    }
    syntax_check("bash", "-n", &bash, home.path());

    let fish = stdout_of(home.path(), &["completions", "fish"]);
    for line in fish.lines().filter(|l| l.starts_with("complete")) {
        assert!(line.starts_with("complete -c wsdeck "), "fish: {line}");
    }
    for (_, name, _) in commands() {
        assert!(fish.contains(&format!("-a \"{name}\"")), "fish: no {name}");
    }
    syntax_check("fish", "--no-execute", &fish, home.path());

    let zsh = stdout_of(home.path(), &["completions", "zsh"]);
    assert!(
        zsh.starts_with("#compdef wsdeck"),
        "{}",
        &zsh[..40.min(zsh.len())]
    );
    for (_, name, _) in commands() {
        assert!(zsh.contains(&format!("'{name}:")), "zsh: no {name}");
    }
    syntax_check("zsh", "-n", &zsh, home.path());

    for shell in ["elvish", "powershell"] {
        let s = stdout_of(home.path(), &["completions", shell]);
        for (_, name, _) in commands() {
            assert!(s.contains(&format!("'{name}'")) || s.contains(&format!("cand {name} ")));
        }
    }
}

#[test]
fn completions_and_man_work_with_a_broken_config() {
    let home = tempfile::tempdir().expect("home");
    let config = home.path().join("config");
    std::fs::create_dir_all(&config).expect("mkdir");
    std::fs::write(config.join("config.toml"), "theme = \n").expect("w");
    // A command that reads the config says so…
    let o = wsdeck(home.path())
        .args(["inspect", "/nonexistent"])
        .output()
        .expect("run");
    assert_exit(&o, 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("config.toml:1:"));
    // …but a shell startup file sourcing the completions keeps working.
    assert!(stdout_of(home.path(), &["completions", "bash"]).contains("_wsdeck()"));
    assert!(stdout_of(home.path(), &["man"]).contains(".TH WSDECK"));
}

/// The roff preamble (`.ie`/`.el`, the quote string) comes first, then the title.
fn assert_title(page: &str, title: &str) {
    let mut lines = page
        .lines()
        .skip_while(|l| l.starts_with(".ie ") || l.starts_with(".el "));
    let th = lines.next().unwrap_or_default();
    assert!(th.starts_with(&format!(".TH {title} 1 ")), "{th}");
}

#[test]
fn the_man_page_names_every_command() {
    let home = tempfile::tempdir().expect("home");
    let page = stdout_of(home.path(), &["man"]);
    assert_title(&page, "WSDECK");
    assert!(page.contains(&format!("(commit {}", wsdeck::cli::args::COMMIT)));
    for (func, name, _) in commands().into_iter().filter(|(f, ..)| f == "wsdeck") {
        // roff escapes every minus: wsdeck\-config\-template(1).
        let entry = format!("wsdeck\\-{}(1)", name.replace('-', "\\-"));
        assert!(page.contains(&entry), "{func}: no {entry}");
    }
    // Every command's own page, nested ones too.
    let dir = home.path().join("man1");
    let o = wsdeck(home.path())
        .args(["man", "--dir"])
        .arg(&dir)
        .output()
        .expect("run");
    assert_exit(&o, 0);
    let mut want: BTreeSet<String> = commands()
        .into_iter()
        .map(|(_, _, page)| format!("{page}.1"))
        .collect();
    want.insert("wsdeck.1".into());
    let got: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(got, want);
    let add = std::fs::read_to_string(dir.join("wsdeck-sessions-add.1")).expect("page");
    assert_title(&add, "WSDECK-SESSIONS-ADD");
    assert!(
        add.contains("\\-\\-endpoint"),
        "the page lists the command's options"
    );
}

fn troubleshooting() -> String {
    std::fs::read_to_string(repo().join("docs/troubleshooting.md"))
        .expect("docs/troubleshooting.md")
}

/// The part of the document under `## title`, up to the next `## `.
fn section(doc: &str, title: &str) -> String {
    let start = doc
        .find(&format!("\n## {title}\n"))
        .unwrap_or_else(|| panic!("no section {title}"));
    let rest = &doc[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3);
    rest[..end].to_string()
}

#[test]
fn troubleshooting_covers_every_failure_kind() {
    // ALL_KINDS is what kind() returns: read off the function itself, so a new variant's kind
    // cannot be left out of the list (and so out of the document).
    let source = std::fs::read_to_string(repo().join("src/engine/diagnose.rs")).expect("source");
    let body_start = source.find("pub fn kind(&self)").expect("fn kind");
    let body = &source[body_start..];
    let body = &body[..body.find("\n    }\n").expect("end of kind")];
    let returned: BTreeSet<&str> = body.split('"').skip(1).step_by(2).collect();
    let listed: BTreeSet<&str> = ConnectError::ALL_KINDS.iter().copied().collect();
    assert_eq!(
        returned, listed,
        "ConnectError::ALL_KINDS and kind() differ"
    );

    let doc = section(&troubleshooting(), "A connection that could not be made");
    for kind in ConnectError::ALL_KINDS {
        assert!(
            doc.contains(&format!("\n| `{kind}` | ")),
            "no row for kind {kind}"
        );
    }
}

#[test]
fn troubleshooting_covers_every_exit_code() {
    // Every `pub const NAME: i32 = N;` of src/exit.rs, read off the file so a new code cannot be
    // left out, and 130 (a second Ctrl-C, cli/live.rs).
    let source = std::fs::read_to_string(repo().join("src/exit.rs")).expect("src/exit.rs");
    let mut codes: Vec<i32> = source
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub const ")?.split_once(": i32 = "))
        .map(|(_, v)| v.trim_end_matches(';').parse().expect("an exit code"))
        .collect();
    assert!(
        codes.contains(&wsdeck::exit::REPLAY_DIFFERENCES),
        "{codes:?}"
    );
    codes.push(130);
    let doc = section(&troubleshooting(), "Exit codes");
    for code in codes {
        assert!(
            doc.contains(&format!("\n| {code} | ")),
            "no row for exit {code}"
        );
    }
}

#[test]
fn troubleshooting_explains_every_close_code_wsdeck_explains() {
    let doc = section(&troubleshooting(), "Close codes");
    // Group every code by its explanation; each group's contiguous runs are the rows.
    let mut groups: Vec<(wsdeck::engine::close::CloseExplanation, Vec<(u16, u16)>)> = Vec::new();
    for code in 0..=u16::MAX {
        let e = explain(code);
        let key = |x: &wsdeck::engine::close::CloseExplanation| (x.name, x.meaning, x.likely_cause);
        match groups.iter_mut().find(|(g, _)| key(g) == key(&e)) {
            Some((_, runs)) => match runs.last_mut() {
                Some((_, end)) if *end + 1 == code => *end = code,
                _ => runs.push((code, code)),
            },
            None => groups.push((e, vec![(code, code)])),
        }
    }
    let mut rows = 0;
    for (e, runs) in &groups {
        if e.name == "unknown" {
            // Everything the standard leaves undefined: one row.
            assert!(doc.contains(&format!("| any other | unknown | {} |", e.meaning)));
            continue;
        }
        for (a, b) in runs {
            let codes = if a == b {
                a.to_string()
            } else {
                format!("{a}–{b}")
            };
            let row = format!("\n| {codes} | {} | {} | ", e.name, e.meaning);
            assert!(doc.contains(&row), "no row {row:?}");
            rows += 1;
        }
    }
    assert!(rows >= 17, "{rows} rows");
}

#[cfg(unix)]
#[test]
fn a_new_sessions_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().expect("home");
    let o = wsdeck(home.path())
        .args(["sessions", "add", "dev", "--local", "--port", "8099"])
        .output()
        .expect("run");
    assert_exit(&o, 0);
    let file = home.path().join("config/sessions.toml");
    let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// A write that fails halfway (the file-size limit stands in for a full disk: it works for root,
/// which a read-only directory does not stop) leaves the old sessions.toml whole and no
/// temporary file beside it.
#[cfg(unix)]
#[test]
fn a_sessions_write_that_fails_midway_keeps_the_old_file() {
    let home = tempfile::tempdir().expect("home");
    let config = home.path().join("config");
    std::fs::create_dir_all(&config).expect("mkdir");
    let file = config.join("sessions.toml");
    let mut old = String::from("# written by the test\n");
    for i in 0..400 {
        old.push_str(&format!(
            "[[session]]\nname = \"s{i}\"\nkind = \"local\"\nagent_session_id = \"id{i}\"\nport = 8088\n\n"
        ));
    }
    assert!(old.len() > 16 * 1024);
    std::fs::write(&file, &old).expect("old");
    // 16 blocks of 512 bytes in dash (POSIX sh); SIGXFSZ ignored so the write returns EFBIG.
    let o = Command::new("/bin/sh")
        .arg("-c")
        .arg(r#"ulimit -f 16 && trap '' XFSZ && exec "$@""#)
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_wsdeck"))
        .args(["sessions", "add", "new", "--local"])
        .env("WSDECK_CONFIG_DIR", &config)
        .env("WSDECK_DATA_DIR", home.path().join("data"))
        .output()
        .expect("sh");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains(&format!("cannot write {}", file.display())),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), old);
    let left: Vec<String> = std::fs::read_dir(&config)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != "sessions.toml")
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    // The same command without the limit succeeds: the failure was the write's.
    let o = wsdeck(home.path())
        .env("WSDECK_CONFIG_DIR", &config)
        .args(["sessions", "add", "new", "--local"])
        .output()
        .expect("run");
    assert_exit(&o, 0);
    assert!(
        std::fs::read_to_string(&file)
            .expect("read")
            .contains("name = \"new\"")
    );
}

/// Captures hold frame payloads and logs name endpoints: what wsdeck creates is the owner's only
/// even under a permissive umask (022, set here so an ambient 077 cannot make this pass).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn captures_and_logs_are_private_and_packaging_leaves_no_log() {
    use crate::support::{Script, serve};
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    let home = tempfile::tempdir().expect("home");
    let server = serve(Script::Flood { count: 3, size: 8 }).await;
    let cap = home.path().join("caps/new/rec.jsonl");
    let bin = env!("CARGO_BIN_EXE_wsdeck");
    let mut c = tokio::process::Command::new("/bin/sh");
    c.arg("-c")
        .arg(r#"umask 022 && exec "$@""#)
        .arg("sh")
        .arg(bin)
        .args(["record", &server.url(), "--out"])
        .arg(&cap)
        .env("WSDECK_CONFIG_DIR", home.path().join("config"))
        .env("WSDECK_DATA_DIR", home.path().join("data"));
    let o = c.output().await.expect("record");
    assert_eq!(
        o.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        std::fs::read_to_string(&cap)
            .expect("capture")
            .lines()
            .count()
            >= 4
    );
    assert_eq!(mode(&cap), 0o600, "the capture");
    assert_eq!(
        mode(&home.path().join("caps/new")),
        0o700,
        "a directory it made"
    );
    assert_eq!(mode(&home.path().join("caps")), 0o700);
    let logs = home.path().join("data/logs");
    assert_eq!(mode(&logs), 0o700, "the log directory");
    assert!(
        std::fs::read_dir(&logs).expect("logs").count() > 0,
        "a log was written"
    );
    // An export holds the same payloads.
    let har = home.path().join("rec.har");
    let o = wsdeck(home.path())
        .args(["export"])
        .arg(&cap)
        .arg("--har")
        .arg(&har)
        .output()
        .expect("export");
    assert_exit(&o, 0);
    assert_eq!(mode(&har), 0o600, "the HAR export");

    // Completions and the man page, run from shell start-up files and installers, write no log.
    let quiet = tempfile::tempdir().expect("quiet");
    stdout_of(quiet.path(), &["completions", "zsh"]);
    stdout_of(quiet.path(), &["man"]);
    assert!(
        !quiet.path().join("data").exists(),
        "packaging commands left {:?}",
        std::fs::read_dir(quiet.path().join("data")).map(|d| d.count())
    );
}

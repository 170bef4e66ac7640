//! `--monitor`: after an abnormal close, the container logs for the session, from a fake `azd`
//! on PATH (what the real one prints) or a command template; bounded, no child left behind.

use crate::support::{Script, assert_exit, json_lines, run, serve, wsdeck};
use std::path::Path;

fn fake_azd(dir: &Path, pid_file: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).expect("dir");
    let p = dir.join("azd");
    // As `azd ai agent monitor … --session-id ID --follow` does: a banner on stderr, then one
    // line per event on stdout, then it follows forever.
    let script = format!(
        "#!/bin/sh\necho $$ > {pid}\nsid=''\nwhile [ $# -gt 0 ]; do [ \"$1\" = --session-id ] && sid=$2; shift; done\necho \"Streaming session logs for agent (session: $sid)...\" >&2\necho \"09:41:07  stderr  WebSocket handler raised for session $sid: boom\"\necho \"09:41:07  stderr  RuntimeError: boom\"\nexec sleep 30\n",
        pid = pid_file.display()
    );
    std::fs::write(&p, script).expect("write");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[tokio::test(flavor = "multi_thread")]
async fn abnormal_close_prints_the_logs_for_the_session_and_leaves_no_child() {
    let server = serve(Script::CloseAfterFirst {
        code: 1011,
        reason: "Internal server error".into(),
    })
    .await;
    let home = tempfile::tempdir().expect("home");
    let bin = home.path().join("bin");
    let pid_file = home.path().join("azd.pid");
    fake_azd(&bin, &pid_file);
    let mut c = wsdeck(home.path());
    c.env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .args([
            "send",
            &server.url(),
            "--session-id",
            "sess-42",
            "--text",
            "x",
            "--monitor",
            "--monitor-timeout",
            "1",
        ]);
    let o = run(c).await;
    assert_exit(&o, 5);
    let logs: Vec<serde_json::Value> = json_lines(&o.stdout)
        .into_iter()
        .filter(|l| l["event"] == "log")
        .collect();
    let texts: Vec<&str> = logs.iter().filter_map(|l| l["text"].as_str()).collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("WebSocket handler raised for session sess-42")),
        "{texts:?}"
    );
    assert!(logs.iter().any(|l| {
        l["stream"] == "stderr"
            && l["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("Streaming session logs"))
    }));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("azd ai agent monitor --session-id sess-42 --follow"),
        "{err}"
    );
    // The follower was stopped, not left running.
    let pid = std::fs::read_to_string(&pid_file)
        .expect("pid")
        .trim()
        .to_string();
    let alive = std::process::Command::new("kill")
        .args(["-0", &pid])
        .status()
        .expect("kill")
        .success();
    assert!(!alive, "azd (pid {pid}) still runs");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_azd_and_a_command_template() {
    let server = serve(Script::CloseAfterFirst {
        code: 1011,
        reason: "Internal server error".into(),
    })
    .await;
    let home = tempfile::tempdir().expect("home");
    let empty = home.path().join("empty");
    std::fs::create_dir_all(&empty).expect("dir");
    let mut c = wsdeck(home.path());
    c.env("PATH", format!("{}:/usr/bin:/bin", empty.display()))
        .args([
            "send",
            &server.url(),
            "--session-id",
            "s",
            "--text",
            "x",
            "--monitor",
        ]);
    let o = run(c).await;
    assert_exit(&o, 5);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("azd is not installed"), "{err}");
    assert!(err.contains("--monitor-source 'cmd:"), "{err}");

    let log = home.path().join("container.log");
    std::fs::write(&log, "line for s\nline for other\n").expect("w");
    let mut c = wsdeck(home.path());
    c.args([
        "send",
        &server.url(),
        "--session-id",
        "s",
        "--text",
        "x",
        "--monitor",
        "--monitor-source",
    ])
    .arg(format!("cmd:grep 'for {{session_id}}$' {}", log.display()));
    let o = run(c).await;
    assert_exit(&o, 5);
    let texts: Vec<String> = json_lines(&o.stdout)
        .into_iter()
        .filter(|l| l["event"] == "log")
        .filter_map(|l| l["text"].as_str().map(str::to_string))
        .collect();
    assert_eq!(texts, ["line for s"]);

    // A clean close reads no logs.
    let echo = serve(Script::Echo).await;
    let mut c = wsdeck(home.path());
    c.args([
        "send",
        &echo.url(),
        "--text",
        "x",
        "--expect",
        "1",
        "--monitor",
    ]);
    let o = run(c).await;
    assert_exit(&o, 0);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("container logs"));
}

//! Auth through azure_identity's real code path: a fake `az` (and `azd`) on PATH that prints
//! what the real ones print. And the canary: the token reaches the wire and nothing else.

use crate::support::{Script, assert_exit, json_lines, run, serve, wsdeck};
use std::path::Path;

const CANARY: &str = "eyJ0eXAiOiJKV1QifQ.CANARY-7f3a9c.wsdeck-secret-sig";

/// A directory holding executable `name` with `body`.
fn fake_tool(dir: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).expect("dir");
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).expect("write");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// `az account get-access-token -o json --scope …` as Azure CLI 2.6x prints it.
fn fake_az(dir: &Path, log: &Path) {
    fake_tool(
        dir,
        "az",
        &format!(
            "echo \"$@\" >> {log}\ncat <<'JSON'\n{{\"accessToken\":\"{CANARY}\",\"expiresOn\":\"2030-01-02 03:04:05.000000\",\"expires_on\":1893553445,\"subscription\":\"s\",\"tenant\":\"t\",\"tokenType\":\"Bearer\"}}\nJSON",
            log = log.display()
        ),
    );
}

/// PATH with `dir` first and the system directories for /bin/sh's own needs, but no real
/// az/azd (a developer machine may have them).
fn path_with(dir: &Path) -> String {
    format!("{}:/usr/bin:/bin", dir.display())
}

fn all_files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(all_files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn az_token_goes_on_the_upgrade_and_nowhere_else() {
    let server = serve(Script::Echo).await;
    let home = tempfile::tempdir().expect("home");
    let bin = home.path().join("bin");
    let az_log = home.path().join("az-args.log");
    fake_az(&bin, &az_log);
    let cap = home.path().join("data/cap.jsonl");
    // A Foundry target on a local stand-in: GA route, auth auto (the developer tools chain).
    let endpoint = format!("http://{}/api/projects/proj", server.addr);
    let mut c = wsdeck(home.path());
    c.env("PATH", path_with(&bin))
        .args([
            "-vv",
            "connect",
            "--endpoint",
            &endpoint,
            "--agent",
            "echo-agent",
            "--session-id",
            "s-1",
            "--linger",
            "0.2",
            "--record",
        ])
        .arg(&cap)
        .write_stdin("{\"type\":\"hello\"}\n");
    let o = run(c).await;
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{stderr}");

    // The token reached the wire, on the exact GA route.
    assert_eq!(
        crate::support::header(&server, 0, "authorization").as_deref(),
        Some(format!("Bearer {CANARY}").as_str())
    );
    assert_eq!(
        crate::support::header(&server, 0, ":uri").as_deref(),
        Some(
            "/api/projects/proj/agents/echo-agent/endpoint/protocols/invocations_ws?api-version=v1&agent_session_id=s-1"
        )
    );
    let az_args = std::fs::read_to_string(&az_log).expect("az was run");
    assert!(az_args.contains("account get-access-token"), "{az_args}");
    assert!(
        az_args.contains("--scope https://ai.azure.com/.default"),
        "{az_args}"
    );

    // The open event shows the header, redacted.
    let lines = json_lines(&o.stdout);
    let open = lines.iter().find(|l| l["event"] == "open").expect("open");
    let auth = open["request_headers"]
        .as_array()
        .expect("headers")
        .iter()
        .find(|h| h[0] == "authorization")
        .expect("authorization shown");
    assert!(
        auth[1]
            .as_str()
            .expect("value")
            .starts_with("Bearer <redacted"),
        "{auth}"
    );

    // Nowhere else: stdout, stderr (with -vv logging), the capture, logs, config.
    assert!(!stdout.contains("CANARY"), "stdout leaks the token");
    assert!(!stderr.contains("CANARY"), "stderr leaks the token");
    let files = all_files_under(home.path());
    assert!(files.iter().any(|f| f.ends_with("cap.jsonl")));
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().contains("wsdeck.log")),
        "{files:?}"
    );
    for f in files.iter().filter(|f| !f.starts_with(&bin)) {
        let bytes = std::fs::read(f).expect("read");
        assert!(
            !String::from_utf8_lossy(&bytes).contains("CANARY"),
            "{} holds the token",
            f.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_token_is_not_echoed_in_the_diagnosis() {
    let server = serve(Script::Refuse {
        status: 401,
        body: "{\"error\":\"bad token\"}".into(),
    })
    .await;
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.env("WSDECK_TEST_TOKEN", CANARY)
        .args(["connect", &server.url(), "--auth", "env:WSDECK_TEST_TOKEN"])
        .write_stdin("");
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(3));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        all.contains("authorization: Bearer <redacted"),
        "the request is shown: {all}"
    );
    assert!(!all.contains("CANARY"), "{all}");
    assert_eq!(
        crate::support::header(&server, 0, "authorization").as_deref(),
        Some(format!("Bearer {CANARY}").as_str())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_or_signed_out_cli_is_explained_and_exits_4() {
    let server = serve(Script::Echo).await;
    let home = tempfile::tempdir().expect("home");
    let empty = home.path().join("empty-bin");
    std::fs::create_dir_all(&empty).expect("dir");

    let mut c = wsdeck(home.path());
    c.env("PATH", path_with(&empty))
        .args(["connect", &server.url(), "--auth", "az"])
        .write_stdin("");
    let o = run(c).await;
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("az is not installed"), "{err}");
    assert!(err.contains("--auth env:VAR"), "{err}");

    let mut c = wsdeck(home.path());
    c.env("PATH", path_with(&empty))
        .args(["connect", &server.url(), "--auth", "azd"])
        .write_stdin("");
    let o = run(c).await;
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("azd is not installed"), "{err}");

    let signed_out = home.path().join("signed-out");
    fake_tool(
        &signed_out,
        "az",
        "echo \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1",
    );
    let mut c = wsdeck(home.path());
    c.env("PATH", path_with(&signed_out))
        .args(["connect", &server.url(), "--auth", "az"])
        .write_stdin("");
    let o = run(c).await;
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("az is not signed in"), "{err}");
    assert!(err.contains("run: az login"), "{err}");
    assert!(
        server.requests.lock().expect("lock").is_empty(),
        "no upgrade without a token"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn azd_token_and_command_token() {
    let server = serve(Script::Echo).await;
    let home = tempfile::tempdir().expect("home");
    let bin = home.path().join("bin");
    fake_tool(
        &bin,
        "azd",
        &format!(
            "cat <<'JSON'\n{{\"token\":\"{CANARY}-azd\",\"expiresOn\":\"2030-01-02T03:04:05Z\"}}\nJSON"
        ),
    );
    let mut c = wsdeck(home.path());
    c.env("PATH", path_with(&bin)).args([
        "send",
        &server.url(),
        "--auth",
        "azd",
        "--text",
        "x",
        "--expect",
        "1",
    ]);
    let o = run(c).await;
    assert_exit(&o, 0);
    assert_eq!(
        crate::support::header(&server, 0, "authorization"),
        Some(format!("Bearer {CANARY}-azd"))
    );

    let mut c = wsdeck(home.path());
    c.args([
        "send",
        &server.url(),
        "--auth",
        &format!("cmd:echo {CANARY}-cmd"),
        "--text",
        "x",
        "--expect",
        "1",
    ]);
    let o = run(c).await;
    assert_exit(&o, 0);
    assert_eq!(
        crate::support::header(&server, 1, "authorization"),
        Some(format!("Bearer {CANARY}-cmd"))
    );
}

/// A reconnect fetches a new token when the cached one is near expiry (within 5 minutes), and
/// reuses it otherwise: the token source runs once per fetch, numbering what it hands out.
#[tokio::test(flavor = "multi_thread")]
async fn reconnect_fetches_a_new_token_only_near_expiry() {
    use wsdeck::engine::auth::AuthSource;
    use wsdeck::engine::session::{SessionCommand, SessionEvent, spawn_session};
    use wsdeck::engine::target::{ConnectSpec, Target};
    for (lifetime_secs, expect_new) in [(240, true), (3600, false)] {
        let server = crate::support::serve(crate::support::Script::Echo).await;
        let dir = tempfile::tempdir().expect("dir");
        let counter = dir.path().join("n");
        let cmd = format!(
            "n=$(( $(cat {c} 2>/dev/null || echo 0) + 1 )); echo $n > {c}; echo \"{{\\\"accessToken\\\":\\\"tok-$n\\\",\\\"expires_on\\\":$(( $(date +%s) + {lifetime_secs} ))}}\"",
            c = counter.display()
        );
        let mut spec = ConnectSpec::new(Target::url(&server.url()).expect("url"));
        spec.auth = AuthSource::Command(cmd);
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let (h, _j) = spawn_session(spec, tx);
        let mut opened = 0;
        while opened < 2 {
            match tokio::time::timeout(std::time::Duration::from_secs(20), rx.recv())
                .await
                .expect("event in time")
                .expect("event")
            {
                SessionEvent::Opened { .. } => {
                    opened += 1;
                    if opened == 1 {
                        h.send(SessionCommand::Reconnect { new_id: false });
                    }
                }
                SessionEvent::Failed { error, .. } => panic!("{error}"),
                _ => {}
            }
        }
        h.send(SessionCommand::Shutdown);
        let auth = |i| crate::support::header(&server, i, "authorization").expect("authorization");
        assert_eq!(auth(0), "Bearer tok-1");
        if expect_new {
            assert_eq!(
                auth(1),
                "Bearer tok-2",
                "near expiry: a new token for the reconnect"
            );
        } else {
            assert_eq!(
                auth(1),
                "Bearer tok-1",
                "an hour left: the cached token is reused"
            );
        }
    }
}

//! Hostile and broken files (`tests/hostile/`, and a few made here because they are big) through
//! the real binary: each gives its exit code and a message naming the file and what is wrong,
//! never a panic, in bounded memory (every run is under `prlimit --as=512 MiB` where prlimit
//! exists; assert_cmd's timeout bounds the time).
//!
//! | file | command(s) | expected | exit |
//! |---|---|---|---|
//! | `empty.jsonl` | inspect, inspect --json, vocab, export --har, replay | "is not a wsdeck capture: the file is empty" | 2 |
//! | `garbage.bin` (4 KiB of random bytes) | same | "the first line is not JSON (expected value …)" | 2 |
//! | `wrong-shape.jsonl` (valid JSON lines, none a record) | same | "none of its 4 lines is a capture record (4 could not be read; line 1: not a JSON object)" | 2 |
//! | a 50 MB single line, cut off (made here) | inspect, inspect --json, vocab, replay | "none of its 1 lines is a capture record (1 could not be read; line 1: cut off mid-line …" | 2 |
//! | 100 000 `[` (made here) | inspect, inspect --json, vocab, export --har, replay | "the first line is not JSON (recursion limit exceeded …)" | 2 |
//! | `har-no-websocket.har` | inspect, inspect --json, vocab, export --har, replay | "the HAR has no WebSocket entry (_webSocketMessages)" | 2 |
//! | `har-missing-fields.har` (no type, bad base64, opcode 99, time 1e300) | same | "none of the WebSocket entry's 4 messages could be read (message 0: no \"type\" (send/receive))" | 2 |
//! | `newer-version.jsonl` (`"wsdeck_capture":7`) | inspect, vocab; replay | warning "line 1: format version 7 is newer than this wsdeck reads (1); reading what it can", the frames read | 0; replay goes on to connect (4) |
//! | `truncated.jsonl` (last line cut) | inspect, vocab; replay | warning "line 3: cut off mid-line (the capture ended while it was written); the 2 lines before it loaded" | 0; replay 4 |
//! | `invalid-utf8.jsonl` (bytes 0xff 0xfe in a text line) | inspect, vocab; replay | warning "line 3: not JSON (invalid unicode code point …); skipped" | 0; replay 4 |
//! | a capture whose frames nest 100 000 deep: JSON text, CBOR arrays (made here) | inspect, inspect --json, --decode cbor, vocab, export --har | read and shown; the decoders stop at their depth bound | 0 |
//! | `config-wrong-type.toml` as config.toml | inspect, keys, sessions list | "config.toml:4:16: invalid type: string \"soon\", expected u64" | 2 |
//! | `config-unknown-key.toml` as config.toml | same | "config.toml:5:1: unknown field `memroy_mb`, expected `memory_mb`" | 2 |
//! | `keymap-broken.toml` as keymap.toml | keys | "keymap.toml:3:8: help: \"ctrl-\" is not a key (…)" | 2 |
//! | `sessions-broken.toml` as sessions.toml | sessions list, connect --session prod | "sessions.toml: session \"prod\": bad WebSocket URL \"http//no-scheme\"" | 2 |
//! | `asyncapi-not-one.json` served as the agent's document | discover | "the document at http://…/asyncapi.json does not parse: not an AsyncAPI document: it has no \"asyncapi\" version field" | 2 |
//! | 100 000 `[` served as the agent's document (made here) | discover | "does not parse: not JSON: recursion limit exceeded" | 2 |
//!
//! Replay is pointed at a closed port: a file it cannot read must stop it with 2 before any
//! connection (4 would mean it tried).

use crate::support::{closed_port, repo};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::time::Duration;

/// The address space every run gets: a 50 MB line needs about three times its size.
const MEMORY_LIMIT: u64 = 512 << 20;

fn hostile(name: &str) -> PathBuf {
    repo().join("tests/hostile").join(name)
}

fn have_prlimit() -> bool {
    static HAVE: OnceLock<bool> = OnceLock::new();
    *HAVE.get_or_init(|| {
        std::process::Command::new("prlimit")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// The real binary with `args`, its config and data dirs under `home`, in bounded memory.
fn wsdeck(home: &Path, args: &[&str]) -> Output {
    let bin = env!("CARGO_BIN_EXE_wsdeck");
    let mut c = if have_prlimit() {
        let mut c = assert_cmd::Command::new("prlimit");
        c.arg(format!("--as={MEMORY_LIMIT}")).arg("--").arg(bin);
        c
    } else {
        assert_cmd::Command::new(bin)
    };
    c.args(args)
        .env("WSDECK_CONFIG_DIR", home.join("config"))
        .env("WSDECK_DATA_DIR", home.join("data"))
        .env_remove("FOUNDRY_PROJECT_ENDPOINT")
        .timeout(Duration::from_secs(120));
    c.output().expect("run wsdeck")
}

/// Exit `code`, no panic, and `want` in stderr.
#[track_caller]
fn says(o: &Output, code: i32, want: &str, what: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{what}: a panic: {err}");
    assert_eq!(o.status.code(), Some(code), "{what}: stderr: {err}");
    assert!(err.contains(want), "{what}: wanted {want:?} in: {err}");
}

/// Every command that reads a capture, each stopped with exit 2 and `why` after the path.
#[track_caller]
fn refused_by_every_reader(home: &Path, path: &Path, why: &str) {
    let p = path.to_str().expect("utf-8 path");
    let har = home.join("out.har");
    let replay_to = format!("ws://127.0.0.1:{}/ws", closed_port());
    let want = format!("{p} is not a wsdeck capture: {why}");
    for args in [
        vec!["inspect", p],
        vec!["inspect", "--json", p],
        vec!["vocab", p],
        vec!["export", p, "--har", har.to_str().expect("utf-8")],
        vec!["replay", p, &replay_to],
    ] {
        let o = wsdeck(home, &args);
        says(&o, 2, &want, &args.join(" "));
        assert!(
            o.stdout.is_empty(),
            "{args:?} printed {} bytes",
            o.stdout.len()
        );
    }
    assert!(
        !har.exists(),
        "no HAR is written from a file that is no capture"
    );
}

#[test]
fn broken_captures_and_hars_exit_2_naming_the_file_and_the_fault() {
    let home = tempfile::tempdir().expect("home");
    for (file, why) in [
        ("empty.jsonl", "the file is empty"),
        (
            "garbage.bin",
            "the first line is not JSON (expected value at line 1 column 1)",
        ),
        (
            "wrong-shape.jsonl",
            "none of its 4 lines is a capture record (4 could not be read; line 1: not a JSON object)",
        ),
        (
            "har-no-websocket.har",
            "the HAR has no WebSocket entry (_webSocketMessages)",
        ),
        (
            "har-missing-fields.har",
            "none of the WebSocket entry's 4 messages could be read (message 0: no \"type\" (send/receive))",
        ),
    ] {
        refused_by_every_reader(home.path(), &hostile(file), why);
    }
}

#[test]
fn a_50_mb_line_and_100_000_brackets_exit_2_in_bounded_memory() {
    let home = tempfile::tempdir().expect("home");
    // A frame line of 50 MB whose end never came.
    let big = home.path().join("big-line.jsonl");
    let mut f = std::fs::File::create(&big).expect("create");
    f.write_all(br#"{"seq":1,"dir":"in","op":"text","text":""#)
        .expect("write");
    f.write_all(&vec![b'a'; 50 << 20]).expect("write");
    drop(f);
    let p = big.to_str().expect("utf-8");
    let want = format!(
        "{p} is not a wsdeck capture: none of its 1 lines is a capture record (1 could not be read; line 1: cut off mid-line"
    );
    let replay_to = format!("ws://127.0.0.1:{}/ws", closed_port());
    for args in [
        vec!["inspect", p],
        vec!["inspect", "--json", p],
        vec!["vocab", p],
        vec!["replay", p, &replay_to],
    ] {
        says(&wsdeck(home.path(), &args), 2, &want, &args.join(" "));
    }

    let deep = home.path().join("deep.jsonl");
    std::fs::write(&deep, format!("{}\n", "[".repeat(100_000))).expect("write");
    refused_by_every_reader(
        home.path(),
        &deep,
        "the first line is not JSON (recursion limit exceeded at line 1 column 128)",
    );
}

#[test]
fn a_newer_version_a_cut_last_line_and_invalid_utf8_warn_and_read_the_rest() {
    let home = tempfile::tempdir().expect("home");
    let replay_to = format!("ws://127.0.0.1:{}/ws", closed_port());
    for (file, warning, frames) in [
        (
            "newer-version.jsonl",
            "line 1: format version 7 is newer than this wsdeck reads (1); reading what it can",
            2,
        ),
        (
            "truncated.jsonl",
            "line 3: cut off mid-line (the capture ended while it was written); the 2 lines before it loaded",
            1,
        ),
        (
            "invalid-utf8.jsonl",
            "line 3: not JSON (invalid unicode code point at line 1 column 94); skipped",
            1,
        ),
    ] {
        let path = hostile(file);
        let p = path.to_str().expect("utf-8");
        let want = format!("{p}: {warning}");
        let o = wsdeck(home.path(), &["inspect", "--json", p]);
        says(&o, 0, &want, &format!("inspect --json {file}"));
        let lines = String::from_utf8_lossy(&o.stdout).lines().count();
        assert_eq!(lines, frames, "{file}: the readable frames are printed");
        says(
            &wsdeck(home.path(), &["inspect", p]),
            0,
            &want,
            &format!("inspect {file}"),
        );
        says(
            &wsdeck(home.path(), &["vocab", p]),
            0,
            &want,
            &format!("vocab {file}"),
        );
        // Replay reads on, then fails to connect to the closed port: 4, not 2.
        says(
            &wsdeck(home.path(), &["replay", p, &replay_to]),
            4,
            &want,
            &format!("replay {file}"),
        );
    }
}

#[test]
fn frames_nested_100_000_deep_are_shown_within_the_decoders_bounds() {
    let home = tempfile::tempdir().expect("home");
    let path = home.path().join("deep-frames.jsonl");
    let text =
        serde_json::json!({"seq": 1, "dir": "in", "op": "text", "text": "[".repeat(100_000)});
    let mut cbor = vec![0x81u8; 100_000];
    cbor.push(0x00);
    let b64 = base64_simd::STANDARD.encode_to_string(&cbor);
    let binary =
        serde_json::json!({"seq": 2, "dir": "in", "op": "binary", "len": cbor.len(), "b64": b64});
    std::fs::write(
        &path,
        format!("{{\"wsdeck_capture\":1}}\n{text}\n{binary}\n"),
    )
    .expect("write");
    let p = path.to_str().expect("utf-8");
    let har = home.path().join("deep.har");
    for args in [
        vec!["inspect", p],
        vec!["inspect", "--json", p],
        vec!["inspect", "--decode", "cbor", p],
        vec!["inspect", "--json", "--decode", "cbor", p],
        vec!["vocab", p],
        vec!["export", p, "--har", har.to_str().expect("utf-8")],
    ] {
        let o = wsdeck(home.path(), &args);
        says(&o, 0, "", &args.join(" "));
        assert!(!o.stdout.is_empty() || args[0] == "export", "{args:?}");
    }
    // The CBOR decoder does not claim what nests past its bound; the frame is shown as hex.
    let o = wsdeck(home.path(), &["inspect", "--json", "--decode", "cbor", p]);
    let out = String::from_utf8_lossy(&o.stdout);
    let second = out.lines().nth(1).expect("two frames");
    let head: String = second.chars().take(200).collect();
    assert!(!second.contains("\"decoder\""), "{head}");
    assert!(har.exists());
}

/// `file` from tests/hostile copied into the config dir as `name`; its path there.
fn config_file(home: &Path, file: &str, name: &str) -> String {
    let dir = home.join("config");
    std::fs::create_dir_all(&dir).expect("config dir");
    let to = dir.join(name);
    std::fs::copy(hostile(file), &to).expect("copy");
    to.to_str().expect("utf-8").to_string()
}

#[test]
fn broken_config_keymap_and_sessions_exit_2_with_file_line_and_column() {
    let capture = hostile("newer-version.jsonl");
    let capture = capture.to_str().expect("utf-8");
    for (file, want) in [
        (
            "config-wrong-type.toml",
            ":4:16: invalid type: string \"soon\", expected u64",
        ),
        (
            "config-unknown-key.toml",
            ":5:1: unknown field `memroy_mb`, expected `memory_mb`",
        ),
    ] {
        let home = tempfile::tempdir().expect("home");
        let path = config_file(home.path(), file, "config.toml");
        let want = format!("{path}{want}");
        for args in [
            vec!["inspect", capture],
            vec!["keys"],
            vec!["sessions", "list"],
        ] {
            says(
                &wsdeck(home.path(), &args),
                2,
                &want,
                &format!("{file}: {args:?}"),
            );
        }
    }

    let home = tempfile::tempdir().expect("home");
    let path = config_file(home.path(), "keymap-broken.toml", "keymap.toml");
    says(
        &wsdeck(home.path(), &["keys"]),
        2,
        &format!("{path}:3:8: help: \"ctrl-\" is not a key (a character, ctrl-X"),
        "keys",
    );

    let home = tempfile::tempdir().expect("home");
    let path = config_file(home.path(), "sessions-broken.toml", "sessions.toml");
    let want = format!(
        "{path}: session \"prod\": bad WebSocket URL \"http//no-scheme\": relative URL without a base"
    );
    for args in [
        vec!["sessions", "list"],
        vec!["connect", "--session", "prod"],
    ] {
        says(&wsdeck(home.path(), &args), 2, &want, &format!("{args:?}"));
    }
}

/// An HTTP server on loopback answering every request with `body` as JSON; its port.
fn serve(body: Vec<u8>) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    port
}

#[test]
fn an_asyncapi_document_that_is_not_one_exits_2_naming_where_it_came_from() {
    let home = tempfile::tempdir().expect("home");
    let not_one = std::fs::read(hostile("asyncapi-not-one.json")).expect("read");
    for (body, why) in [
        (
            not_one,
            "not an AsyncAPI document: it has no \"asyncapi\" version field",
        ),
        (
            "[".repeat(100_000).into_bytes(),
            "not JSON: recursion limit exceeded",
        ),
    ] {
        let port = serve(body);
        let url = format!("ws://127.0.0.1:{port}/invocations_ws");
        let want = format!(
            "the document at http://127.0.0.1:{port}/invocations/docs/asyncapi.json does not parse: {why}"
        );
        says(
            &wsdeck(home.path(), &["discover", &url]),
            2,
            &want,
            "discover",
        );
    }
}

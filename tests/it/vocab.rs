//! `wsdeck vocab`: on a hand-written capture, and on a real session with the SDK's Voice host
//! (`VoiceAgentServerHost`) recorded by `wsdeck connect`.

use crate::support::{Agent, assert_exit, json_lines, wsdeck};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn frame_line(seq: u64, ms: f64, dir: &str, text: &str) -> String {
    json!({"seq": seq, "ms": ms, "dir": dir, "op": "text", "len": text.len(), "text": text})
        .to_string()
}

const HAND_WRITTEN: [(f64, &str, &str); 7] = [
    (
        0.0,
        "out",
        r#"{"type":"hello","id":"req-0001","token":"tok-canary-123","client":{"name":"t","version":2}}"#,
    ),
    (
        2.5,
        "in",
        r#"{"type":"welcome","reply_to":"req-0001","session_id":"s-9f"}"#,
    ),
    (3.0, "in", r#"{"type":"tick","n":1}"#),
    (10.0, "out", r#"{"type":"query","id":"req-0002","q":"a"}"#),
    (
        14.0,
        "in",
        r#"{"type":"result","reply_to":"req-0002","rows":[{"k":"a","v":1.5}]}"#,
    ),
    (15.0, "in", r#"{"type":"tick","n":2}"#),
    (
        16.0,
        "in",
        r#"{"type":"result","session_id":"s-9f","rows":[]}"#,
    ),
];

fn write_hand_written(path: &Path) {
    let mut lines =
        vec![r#"{"wsdeck_capture":1,"started":"2026-11-25T10:45:25.642Z"}"#.to_string()];
    for (i, (ms, dir, text)) in HAND_WRITTEN.iter().enumerate() {
        lines.push(frame_line(i as u64 + 1, *ms, dir, text));
    }
    lines.push(r#"{"seq":8,"ms":17.0,"dir":"in","op":"binary","len":6,"b64":"UklGRgAB"}"#.into());
    lines.push(r#"{"seq":9,"ms":18.0,"dir":"in","op":"ping","len":0,"b64":""}"#.into());
    std::fs::write(path, lines.join("\n") + "\n").expect("write capture");
}

fn run_ok(home: &Path, args: &[&str], capture: &Path) -> std::process::Output {
    let mut c = wsdeck(home);
    c.arg("vocab").arg(capture).args(args);
    let o = c.output().expect("run wsdeck");
    assert_exit(&o, 0);
    o
}

fn find<'a>(lines: &'a [Value], kind: &str, pred: impl Fn(&Value) -> bool) -> Option<&'a Value> {
    lines.iter().find(|l| l["kind"] == kind && pred(l))
}

fn type_line<'a>(lines: &'a [Value], dir: &str, name: &str) -> &'a Value {
    find(lines, "type", |l| {
        l["direction"] == dir && l["type"] == name
    })
    .unwrap_or_else(|| panic!("no type {dir}:{name} in {lines:#?}"))
}

fn field<'a>(t: &'a Value, path: &str) -> &'a Value {
    t["fields"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["path"] == path))
        .unwrap_or_else(|| panic!("no field {path} in {t:#}"))
}

#[test]
fn vocab_of_a_hand_written_capture_plain_json_and_schemas() {
    let home = tempfile::tempdir().expect("home");
    let cap = home.path().join("hand.jsonl");
    write_hand_written(&cap);

    let o = run_ok(home.path(), &["--json"], &cap);
    let lines = json_lines(&o.stdout);
    let hello = type_line(&lines, "out", "hello");
    assert_eq!(hello["count"], 1);
    assert_eq!(field(hello, "client.version")["types"], json!(["integer"]));
    assert_eq!(field(hello, "client.version")["example"], 2);
    assert_eq!(field(hello, "token")["example"], "<redacted>");
    let result = type_line(&lines, "in", "result");
    assert_eq!(result["count"], 2);
    assert_eq!(field(result, "rows")["required"], true);
    assert_eq!(field(result, "reply_to")["required"], false);
    assert_eq!(field(result, "rows[].v")["types"], json!(["number"]));
    assert_eq!(type_line(&lines, "in", "tick")["count"], 2);
    assert_eq!(type_line(&lines, "in", "(binary)")["count"], 1);
    // Types come out first, then the rest; out before in.
    let kinds: Vec<&str> = lines.iter().filter_map(|l| l["kind"].as_str()).collect();
    let last_type = kinds.iter().rposition(|k| *k == "type").expect("types");
    assert!(kinds[..=last_type].iter().all(|k| *k == "type"));
    assert_eq!(lines[0]["direction"], "out");
    let binary = find(&lines, "binary", |_| true).expect("binary line");
    assert_eq!(
        (binary["magic"].as_str(), binary["count"].as_u64()),
        (Some("52494646"), Some(1))
    );
    assert!(
        find(&lines, "transition", |l| l["from"] == "out:hello"
            && l["to"] == "in:welcome"
            && l["count"] == 1)
        .is_some()
    );
    assert!(
        find(&lines, "transition", |l| l["from"] == "in:result"
            && l["to"] == "in:tick")
        .is_some()
    );
    let q = find(&lines, "latency", |l| l["request_type"] == "query").expect("query latency");
    assert_eq!(
        (q["n"].as_u64(), q["p50_ms"].as_f64(), q["max_ms"].as_f64()),
        (Some(1), Some(4.0), Some(4.0))
    );
    let h = find(&lines, "latency", |l| l["request_type"] == "hello").expect("hello latency");
    assert_eq!(h["p95_ms"], 2.5);
    let summary = find(&lines, "summary", |_| true).expect("summary");
    assert_eq!(
        (
            summary["frames"].as_u64(),
            summary["discriminator"].as_str()
        ),
        (Some(8), Some("type"))
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(!stdout.contains("tok-canary"), "a secret printed: {stdout}");

    let o = run_ok(home.path(), &[], &cap);
    let text = String::from_utf8_lossy(&o.stdout);
    for want in [
        "discriminator \"type\"",
        "out (sent to the agent): 2 types, 2 frames",
        "in (received): 4 types, 6 frames",
        "  hello  ×1",
        "client.version",
        "required",
        "optional",
        "\"req-0001\"",
        "<redacted>",
        "magic 52494646",
        "transitions",
        "out hello → in welcome",
        "reply latency (time from a request to its first reply, in milliseconds)",
        "p50_ms",
        "reply_to",
    ] {
        assert!(text.contains(want), "no {want:?} in:\n{text}");
    }
    assert!(!text.contains("tok-canary"), "a secret printed: {text}");

    let dir = home.path().join("schemas");
    let o = run_ok(
        home.path(),
        &["--schema", dir.to_str().expect("utf-8")],
        &cap,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    // hello, query, welcome, tick, result: the binary type has none.
    assert!(err.contains("wrote 5 JSON Schemas"), "{err}");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "in.result.json",
            "in.tick.json",
            "in.welcome.json",
            "out.hello.json",
            "out.query.json"
        ]
    );
    for (_, dir_name, text) in HAND_WRITTEN {
        let instance: Value = serde_json::from_str(text).expect("json");
        let file = dir.join(format!(
            "{dir_name}.{}.json",
            instance["type"].as_str().expect("type")
        ));
        let schema: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("schema")).expect("json");
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        let v = jsonschema::validator_for(&schema).expect("valid schema");
        assert!(v.is_valid(&instance), "{text} vs {schema:#}");
    }
}

#[test]
fn vocab_of_a_file_that_is_no_capture_exits_2() {
    let home = tempfile::tempdir().expect("home");
    let bad = home.path().join("garbage.bin");
    std::fs::write(&bad, [0u8, 159, 146, 150, 0xff, b'\n', b'{', b'x']).expect("write");
    let mut c = wsdeck(home.path());
    c.arg("vocab").arg(&bad);
    let o = c.output().expect("run");
    assert_exit(&o, 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("garbage.bin"));
    let mut c = wsdeck(home.path());
    c.arg("vocab").arg(home.path().join("missing.jsonl"));
    assert_exit(&c.output().expect("run"), 2);
}

/// Now in RFC 3339 with milliseconds and `Z`, as the Voice host wants `ts`.
fn now_ts() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// `wsdeck connect` with stdin fed one frame at a time: each next frame only once the agent
/// answered the one before, so the wire shows `session.start → session.ready` (`send` would put
/// every frame on the wire before any reply).
struct Connect {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    lines: mpsc::Receiver<Value>,
    seen: Vec<Value>,
}

impl Connect {
    fn start(home: &Path, url: &str, record: &Path) -> Connect {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wsdeck"))
            .env("WSDECK_CONFIG_DIR", home.join("config"))
            .env("WSDECK_DATA_DIR", home.join("data"))
            .env_remove("FOUNDRY_PROJECT_ENDPOINT")
            .args(["connect", url, "--linger", "0.5", "--record"])
            .arg(record)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start wsdeck connect");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && tx.send(v).is_err()
                {
                    return;
                }
            }
        });
        Connect {
            stdin: child.stdin.take(),
            child,
            lines,
            seen: Vec::new(),
        }
    }

    fn send(&mut self, frame: &Value) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{frame}").expect("write stdin");
        stdin.flush().expect("flush");
    }

    /// Wait for a line that satisfies `pred`.
    fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            match self.lines.recv_timeout(Duration::from_millis(200)) {
                Ok(v) => {
                    let hit = pred(&v);
                    self.seen.push(v);
                    if hit {
                        return;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        panic!("no {what} from wsdeck connect; saw {:#?}", self.seen);
    }

    fn finish(mut self) -> i32 {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "wsdeck connect did not end");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn incoming_type(v: &Value) -> Option<String> {
    if v["dir"] != "in" {
        return None;
    }
    let inner: Value = serde_json::from_str(v["text"].as_str()?).ok()?;
    inner["type"].as_str().map(str::to_string)
}

#[test]
fn vocab_of_a_real_voice_host_session() {
    let agent = Agent::start("voice_agent.py");
    let home = tempfile::tempdir().expect("home");
    let cap = home.path().join("voice.jsonl");
    let mut c = Connect::start(home.path(), &agent.url(), &cap);
    c.wait_for("open", |v| v["event"] == "open");
    c.send(&json!({
        "type": "session.start", "id": "m_1", "ts": now_ts(), "protocol_version": "1.0",
        "reconnect": false,
        "response_timeouts": {"first_output_ms": 5000, "idle_ms": 3000, "max_duration_ms": 60000},
    }));
    c.wait_for("session.ready", |v| {
        incoming_type(v).as_deref() == Some("session.ready")
    });
    c.send(&json!({
        "type": "user.message", "id": "m_2", "ts": now_ts(), "item_id": "in_0001",
        "content": [{"type": "input_text", "text": "hello"}],
    }));
    c.wait_for("response.done", |v| {
        incoming_type(v).as_deref() == Some("response.done")
    });
    c.send(&json!({"type": "session.end", "id": "m_3", "ts": now_ts(), "reason": "hangup"}));
    c.wait_for("close", |v| v["event"] == "close");
    let closed = c
        .seen
        .iter()
        .find(|v| v["event"] == "close")
        .cloned()
        .expect("close");
    assert_eq!(closed["code"], 1000, "{closed:#} {}", agent.stderr());
    assert_eq!(c.finish(), 0);

    let o = run_ok(home.path(), &["--json"], &cap);
    let lines = json_lines(&o.stdout);
    let fields_of = |dir: &str, name: &str| -> Vec<(String, bool)> {
        type_line(&lines, dir, name)["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().expect("path").to_string(),
                    f["required"] == true,
                )
            })
            .collect()
    };
    let has_all = |dir: &str, name: &str, paths: &[&str]| {
        let fs = fields_of(dir, name);
        for p in paths {
            assert!(
                fs.iter().any(|(q, req)| q == p && *req),
                "{dir}:{name} has no required {p}: {fs:?}"
            );
        }
    };
    let common = ["type", "id", "ts"];
    has_all("out", "session.start", &common);
    has_all(
        "out",
        "session.start",
        &[
            "protocol_version",
            "reconnect",
            "response_timeouts",
            "response_timeouts.first_output_ms",
            "response_timeouts.idle_ms",
            "response_timeouts.max_duration_ms",
        ],
    );
    let start = type_line(&lines, "out", "session.start");
    assert_eq!(
        field(start, "response_timeouts.idle_ms")["types"],
        json!(["integer"])
    );
    assert_eq!(field(start, "response_timeouts.idle_ms")["example"], 3000);
    assert_eq!(field(start, "reconnect")["types"], json!(["boolean"]));
    has_all("out", "user.message", &common);
    has_all(
        "out",
        "user.message",
        &[
            "item_id",
            "content",
            "content[]",
            "content[].type",
            "content[].text",
        ],
    );
    has_all("out", "session.end", &["reason"]);
    has_all("in", "session.ready", &common);
    has_all("in", "response.created", &common);
    has_all(
        "in",
        "response.created",
        &["response_id", "in_reply_to", "in_reply_to[]"],
    );
    assert_eq!(
        field(type_line(&lines, "in", "response.created"), "in_reply_to[]")["example"],
        "in_0001"
    );
    has_all("in", "response.output_text.delta", &common);
    has_all(
        "in",
        "response.output_text.delta",
        &["response_id", "item_id", "delta"],
    );
    has_all(
        "in",
        "response.output_text.done",
        &["response_id", "item_id", "text"],
    );
    has_all("in", "response.done", &["response_id"]);
    // "you said: hello": one delta per word.
    assert_eq!(
        type_line(&lines, "in", "response.output_text.delta")["count"],
        3
    );
    assert_eq!(type_line(&lines, "out", "session.start")["count"], 1);

    let transition = |from: &str, to: &str| {
        find(&lines, "transition", |l| l["from"] == from && l["to"] == to)
            .unwrap_or_else(|| panic!("no transition {from} → {to} in {lines:#?}"))
            .clone()
    };
    assert_eq!(
        transition("out:session.start", "in:session.ready")["count"],
        1
    );
    transition("in:session.ready", "out:user.message");
    transition("out:user.message", "in:response.created");
    transition("in:response.created", "in:response.output_text.delta");
    assert_eq!(
        transition(
            "in:response.output_text.delta",
            "in:response.output_text.delta"
        )["count"],
        2
    );
    transition(
        "in:response.output_text.delta",
        "in:response.output_text.done",
    );
    transition("in:response.output_text.done", "in:response.done");
    transition("in:response.done", "out:session.end");

    let lat = find(&lines, "latency", |l| l["request_type"] == "user.message")
        .expect("user.message latency");
    assert!(lat["n"].as_u64() >= Some(1), "{lat}");
    let (p50, max) = (
        lat["p50_ms"].as_f64().expect("p50"),
        lat["max_ms"].as_f64().expect("max"),
    );
    assert!(p50 > 0.0 && p50 <= max && max < 10_000.0, "{lat}");
    let summary = find(&lines, "summary", |_| true).expect("summary");
    assert_eq!(summary["discriminator"], "type");
    assert!(
        summary["links"]
            .as_array()
            .expect("links")
            .contains(&json!("item_id → in_reply_to")),
        "{summary}"
    );

    let o = run_ok(home.path(), &[], &cap);
    let text = String::from_utf8_lossy(&o.stdout);
    // What docs/learning-a-vocabulary.md shows (run with --nocapture to see it).
    eprintln!("{text}");
    for want in [
        "discriminator \"type\" (learned from the data)",
        "out (sent to the agent): 3 types, 3 frames",
        "in (received): 5 types, 7 frames",
        "  session.start  ×1",
        "response_timeouts.idle_ms",
        "  response.output_text.delta  ×3",
        "transitions (which type followed which on the wire)",
        "out session.start → in session.ready",
        "reply latency (time from a request to its first reply, in milliseconds)",
        "p50_ms",
        "user.message",
        "correlated by: ",
    ] {
        assert!(text.contains(want), "no {want:?} in:\n{text}");
    }

    // Every frame of the real session validates against the schema of its type.
    let dir = home.path().join("schemas");
    run_ok(
        home.path(),
        &["--schema", dir.to_str().expect("utf-8")],
        &cap,
    );
    let recorded: Vec<Value> = std::fs::read_to_string(&cap)
        .expect("capture")
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["op"] == "text")
        .collect();
    assert_eq!(recorded.len(), 10);
    for l in recorded {
        let instance: Value =
            serde_json::from_str(l["text"].as_str().expect("text")).expect("json");
        let file = dir.join(format!(
            "{}.{}.json",
            l["dir"].as_str().expect("dir"),
            instance["type"].as_str().expect("type")
        ));
        let schema: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("schema file"))
                .expect("json");
        let v = jsonschema::validator_for(&schema).expect("valid schema");
        assert!(v.is_valid(&instance), "{instance} vs {schema:#}");
    }
}

//! The terminal after a panic: the real binary in a pseudo-terminal (python3's pty module, the
//! slave kept open by the driver so its modes can be read after wsdeck exits), connected with
//! a canary token to a loopback server, then made to panic by F12 (`WSDECK_TEST_PANIC`, read
//! only by debug builds) in the UI loop, in a spawned task, and in the input reader. After each:
//! the alternate screen left, the cursor shown, mouse capture off, `stty -a` of the pty back to
//! `icanon echo` (and raw while it ran, so the check means something), the message naming the
//! log's place, exit 101, and the canary nowhere: not in the bytes written to the terminal, not
//! in the log, not in any file.

use crate::secrets_canary::{Canary, World, canary};
use crate::support::{Script, header, serve};

/// Runs a command in a new pty, follows `steps`, prints one JSON object: the exit code, every
/// byte written to the terminal (base64), `stty -a` at each "stty" step, and an error if a step
/// failed (the last screen text helps then).
const DRIVER: &str = r#"
import base64, fcntl, json, os, re, select, struct, subprocess, sys, termios, time
cfg = json.loads(sys.argv[1])
master, slave = os.openpty()
fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", cfg["rows"], cfg["cols"], 0, 0))
def ctty():
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
child = subprocess.Popen(cfg["argv"], stdin=slave, stdout=slave, stderr=slave, env=cfg["env"],
                         start_new_session=True, preexec_fn=ctty, close_fds=True)
out = bytearray()
result = {"stty": [], "error": None}
ESC = re.compile(rb"\x1b\[[0-9;?<=>]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\x1b[=>78]")
def pump(secs):
    end = time.time() + secs
    while time.time() < end:
        r, _, _ = select.select([master], [], [], 0.05)
        if r:
            try:
                out.extend(os.read(master, 65536))
            except OSError:
                return
        elif child.poll() is not None:
            return
def text():
    return ESC.sub(b"", bytes(out)).decode("utf-8", "replace")
deadline = time.time() + cfg["timeout"]
try:
    for step in cfg["steps"]:
        if step[0] == "wait":
            while step[1] not in text():
                if time.time() > deadline or child.poll() is not None:
                    raise RuntimeError("never saw %r" % step[1])
                pump(0.05)
        elif step[0] == "send":
            os.write(master, step[1].encode())
            pump(0.05)
        elif step[0] == "stty":
            pump(0.1)
            result["stty"].append(subprocess.run(["stty", "-a"], stdin=slave,
                                                 capture_output=True, text=True).stdout)
        elif step[0] == "exit":
            while child.poll() is None:
                if time.time() > deadline:
                    raise RuntimeError("still running")
                pump(0.05)
            pump(0.3)
except Exception as e:
    result["error"] = str(e)
if child.poll() is None:
    child.kill()
    child.wait()
result["code"] = child.returncode
result["output"] = base64.b64encode(bytes(out)).decode()
result["text"] = text()[-3000:]
print(json.dumps(result))
"#;

const F12: &str = "\u{1b}[24~";
const SHIFT_TAB: &str = "\u{1b}[Z";

struct Run {
    code: Option<i64>,
    out: Vec<u8>,
    stty: Vec<String>,
}

impl Run {
    fn find_last(&self, seq: &str) -> Option<usize> {
        memchr::memmem::rfind(&self.out, seq.as_bytes())
    }

    fn find_first(&self, seq: &str) -> Option<usize> {
        memchr::memmem::find(&self.out, seq.as_bytes())
    }

    fn text_after(&self, at: usize) -> String {
        String::from_utf8_lossy(&self.out[at..]).into_owned()
    }
}

/// A terminal mode as `stty -a` prints it: `icanon` on, `-icanon` off.
fn mode(stty: &str, name: &str) -> bool {
    stty.split_whitespace()
        .map(|w| w.trim_end_matches(';'))
        .any(|w| w == name)
}

/// Save a session connecting with the canary, open the console in a pty, connect, F12, and
/// whatever `then` adds; the server saw the canary.
async fn panic_in(mode_name: &str, then: &[(&str, &str)]) -> (Run, World, Canary) {
    let c = canary();
    let w = World::new();
    let server = serve(Script::Echo).await;
    let mut add = w.wsdeck();
    add.args([
        "sessions",
        "add",
        "canary",
        &server.url(),
        "--auth",
        "env:WSDECK_CANARY",
    ]);
    let o = crate::support::run(add).await;
    crate::support::assert_exit(&o, 0);

    let mut env: serde_json::Map<String, serde_json::Value> =
        w.env().into_iter().map(|(k, v)| (k, v.into())).collect();
    env.insert("TERM".into(), "xterm-256color".into());
    env.insert("WSDECK_CANARY".into(), c.token.clone().into());
    env.insert("WSDECK_TEST_PANIC".into(), mode_name.into());
    let mut steps = vec![
        serde_json::json!(["wait", "canary"]),
        serde_json::json!(["send", SHIFT_TAB]),
        serde_json::json!(["send", "\r"]),
        serde_json::json!(["wait", "HTTP 101"]),
        serde_json::json!(["stty"]),
        serde_json::json!(["send", F12]),
    ];
    for (kind, arg) in then {
        steps.push(if arg.is_empty() {
            serde_json::json!([kind])
        } else {
            serde_json::json!([kind, arg])
        });
    }
    steps.push(serde_json::json!(["exit"]));
    steps.push(serde_json::json!(["stty"]));
    let cfg = serde_json::json!({
        "argv": [env!("CARGO_BIN_EXE_wsdeck")],
        "env": env,
        "rows": 32,
        "cols": 120,
        "timeout": 30,
        "steps": steps,
    });
    let o = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .args(["-c", DRIVER, &cfg.to_string()])
            .output()
            .expect("python3")
    })
    .await
    .expect("join");
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "driver said ({e}): {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    assert!(
        r["error"].is_null(),
        "{}\nlast text:\n{}",
        r["error"],
        r["text"]
    );
    assert_eq!(
        header(&server, 0, "authorization"),
        Some(format!("Bearer {}", c.token)),
        "the console connected with the canary"
    );
    let run = Run {
        code: r["code"].as_i64(),
        out: base64_simd::STANDARD
            .decode_to_vec(r["output"].as_str().expect("output"))
            .expect("base64"),
        stty: r["stty"]
            .as_array()
            .expect("stty")
            .iter()
            .map(|s| s.as_str().unwrap_or_default().to_string())
            .collect(),
    };
    (run, w, c)
}

/// What every panic must leave behind.
fn assert_restored(run: &Run, w: &World, c: &Canary, message: &str) {
    let during = &run.stty[0];
    assert!(
        mode(during, "-icanon") && mode(during, "-echo"),
        "raw while it ran: {during}"
    );
    let after = run.stty.last().expect("stty after");
    assert!(
        mode(after, "icanon") && mode(after, "echo"),
        "cooked after: {after}"
    );
    assert_eq!(run.code, Some(101), "exit status");

    let entered = run
        .find_last("\u{1b}[?1049h")
        .expect("entered the alternate screen");
    // The first leave: the hook restores, and the guard again as the stack unwinds.
    let left = run
        .find_first("\u{1b}[?1049l")
        .expect("left the alternate screen");
    assert!(left > entered);
    let hidden = run.find_last("\u{1b}[?25l").expect("the cursor was hidden");
    assert!(
        run.find_last("\u{1b}[?25h")
            .is_some_and(|shown| shown > hidden),
        "cursor shown"
    );
    let mouse = run
        .find_last("\u{1b}[?1000h")
        .expect("mouse capture was on");
    for off in [
        "\u{1b}[?1000l",
        "\u{1b}[?1002l",
        "\u{1b}[?1003l",
        "\u{1b}[?1006l",
    ] {
        assert!(
            run.find_last(off).is_some_and(|at| at > mouse),
            "{off:?} after capture"
        );
    }
    // Said on the restored screen: what panicked, and where the log is.
    let after_text = run.text_after(left);
    assert!(after_text.contains(message), "{after_text}");
    let log_dir = w.path("data/logs");
    assert!(
        after_text.contains(&format!("the log is in {}", log_dir.display())),
        "{after_text}"
    );
    // The log has the panic; the canary is nowhere.
    let log: String = std::fs::read_dir(&log_dir)
        .expect("log dir")
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    assert!(log.contains(message), "the log has the panic: {log}");
    assert!(
        memchr::memmem::find(&run.out, c.needle.as_bytes()).is_none(),
        "the terminal was shown the token"
    );
    w.assert_no_file_holds(c);
}

fn debug_build() -> bool {
    // The trigger exists only in debug builds (as `cargo test` builds the binary).
    cfg!(debug_assertions)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_in_the_ui_loop_restores_the_terminal() {
    if !debug_build() {
        return;
    }
    let (run, w, c) = panic_in("ui", &[]).await;
    assert_restored(
        &run,
        &w,
        &c,
        "WSDECK_TEST_PANIC=ui: a forced panic in the UI loop",
    );
    let left = run.find_first("\u{1b}[?1049l").expect("left");
    assert!(
        run.text_after(left)
            .contains("panicked at src/tui/event_loop.rs")
    );
}

/// A spawned task's panic: the console goes on, saying so, with the terminal still its own
/// (nothing restored yet, nothing printed over the screen); quitting then restores it and
/// says it again.
#[tokio::test(flavor = "multi_thread")]
async fn a_panic_in_a_task_is_said_and_the_console_goes_on_until_quit() {
    if !debug_build() {
        return;
    }
    let (run, w, c) = panic_in(
        "task",
        &[
            ("wait", "a background task crashed"),
            ("stty", ""),
            ("send", "q"),
            ("wait", "Quit?"),
            ("send", "y"),
        ],
    )
    .await;
    let message = "WSDECK_TEST_PANIC=task: a forced panic in a spawned task";
    assert_restored(&run, &w, &c, message);
    let still = &run.stty[1];
    assert!(
        mode(still, "-icanon"),
        "still raw after the task's panic: {still}"
    );
    let noted = run
        .find_first("a background task crashed")
        .expect("the status bar said it");
    let left = run.find_first("\u{1b}[?1049l").expect("left");
    assert!(
        noted < left,
        "said while the console ran, before the terminal was restored"
    );
    assert!(
        run.text_after(left)
            .contains("a background task crashed while the console ran")
    );
}

/// The input reader is the one task the console cannot go on without (no key would reach it,
/// not even quit): its panic ends the console at once.
#[tokio::test(flavor = "multi_thread")]
async fn a_panic_in_the_input_reader_ends_the_console() {
    if !debug_build() {
        return;
    }
    let (run, w, c) = panic_in("input", &[]).await;
    assert_restored(
        &run,
        &w,
        &c,
        "WSDECK_TEST_PANIC=input: a forced panic in the input task",
    );
    let left = run.find_first("\u{1b}[?1049l").expect("left");
    assert!(
        run.text_after(left)
            .contains("the keyboard reader crashed, so the console ended")
    );
}

/// A stack overflow is an abort, not a panic: no hook and no `Drop` runs. The way a user gets
/// one is a jq filter that recurses without end (jaq has no depth bound). The SIGABRT handler
/// (`tui::abort_restore`) still gives the shell its terminal back and says what happened.
#[tokio::test(flavor = "multi_thread")]
async fn a_stack_overflow_from_a_recursive_jq_filter_restores_the_terminal() {
    // No WSDECK_TEST_PANIC: F12 does nothing, the filter is typed as a user types it.
    let (run, w, c) = panic_in(
        "",
        &[
            // A JSON frame in the log for the filter to run on: composed, sent, echoed.
            ("send", "c"),
            ("send", "{\"a\":1}"),
            ("send", "\u{13}"),
            ("wait", "▼ 1 frame"),
            ("send", "\u{1b}"),
            ("send", "f"),
            ("send", ".a | def f: 1 + f; f\r"),
        ],
    )
    .await;
    let during = &run.stty[0];
    assert!(mode(during, "-icanon"), "raw while it ran: {during}");
    let after = run.stty.last().expect("stty after");
    assert!(
        mode(after, "icanon") && mode(after, "echo"),
        "cooked after: {after}"
    );
    assert_eq!(run.code, Some(-6), "ended by SIGABRT, as an abort does");
    let entered = run.find_last("\u{1b}[?1049h").expect("entered");
    let left = run
        .find_last("\u{1b}[?1049l")
        .expect("left the alternate screen");
    assert!(left > entered);
    let mouse = run
        .find_last("\u{1b}[?1000h")
        .expect("mouse capture was on");
    assert!(run.find_last("\u{1b}[?1000l").is_some_and(|at| at > mouse));
    assert!(
        run.find_last("\u{1b}[?25h")
            .is_some_and(|at| at > run.find_last("\u{1b}[?25l").unwrap_or(0))
    );
    let said = run.text_after(left);
    assert!(
        said.contains("wsdeck aborted: most likely a stack overflow"),
        "{said}"
    );
    assert!(
        said.contains(&format!("the log is in {}", w.path("data/logs").display())),
        "{said}"
    );
    assert!(memchr::memmem::find(&run.out, c.needle.as_bytes()).is_none());
    w.assert_no_file_holds(&c);
}

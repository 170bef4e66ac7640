//! Start-up to the first drawn screen, two ways:
//! - the real binary, `wsdeck` with an empty config dir, in a pty of 160x48 (util-linux
//!   `script`): from the moment the shell execs wsdeck to the first bytes of the console's
//!   frame on the pty (the "Sessions" pane title). This is what a user waits for, process
//!   start, config and terminal set-up included; `script` and the shell are not counted.
//! - in-process: from `App::new` to the end of `run_loop`'s first draw on a TestBackend, the
//!   console's own share, free of the pty's and the process's noise.

use crate::timed_backend::TimedBackend;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use wsdeck::app::{App, Event};
use wsdeck::ui::theme::Theme;

/// Milliseconds from exec to the first screen, or why it could not be measured.
pub fn binary_ms(home: &std::path::Path) -> Result<f64, String> {
    if Command::new("script")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        return Err("util-linux `script` is not installed".into());
    }
    let shell = format!(
        "stty rows 48 cols 160; printf 'EXEC\\n'; exec {} --config-dir {}",
        env!("CARGO_BIN_EXE_wsdeck"),
        home.join("config").display()
    );
    let mut child = Command::new("script")
        .args(["-qfec", &shell, "/dev/null"])
        .env("TERM", "xterm-256color")
        .env("WSDECK_DATA_DIR", home.join("data"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("script: {e}"))?;
    let mut out = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel::<(Instant, Vec<u8>)>();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut seen, mut exec_at, mut drawn_at) = (Vec::new(), None, None);
    while drawn_at.is_none() && Instant::now() < deadline {
        let Ok((at, bytes)) = rx.recv_timeout(Duration::from_secs(1)) else {
            continue;
        };
        seen.extend_from_slice(&bytes);
        let text = String::from_utf8_lossy(&seen);
        if exec_at.is_none() && text.contains("EXEC") {
            exec_at = Some(at);
        }
        if exec_at.is_some() && text.contains("Sessions") {
            drawn_at = Some(at);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = reader.join();
    match (exec_at, drawn_at) {
        (Some(a), Some(b)) => Ok((b - a).as_secs_f64() * 1e3),
        _ => Err("no first screen on the pty within 20 s".into()),
    }
}

/// Milliseconds from `App::new` to the end of the first draw of the real loop.
pub fn in_process_ms() -> f64 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let t0 = Instant::now();
        let app = App::new(Vec::new());
        let theme = Theme::load("dark", None).expect("theme");
        let (backend, mut drawn) = TimedBackend::new(160, 48, &[]);
        let (tx, rx) = mpsc::channel::<Event>(8192);
        let keys = tx.clone();
        let looped = tokio::spawn(async move {
            let mut term = Terminal::new(backend).expect("terminal");
            wsdeck::tui::run_loop(&mut term, app, &theme, (tx, rx), Default::default())
                .await
                .expect("loop")
        });
        while drawn.borrow_and_update().n == 0 {
            drawn.changed().await.expect("a first draw");
        }
        let ms = (drawn.borrow().done - t0).as_secs_f64() * 1e3;
        let _ = keys
            .send(Event::Key(KeyEvent::new(
                KeyCode::Char('q'),
                KeyModifiers::NONE,
            )))
            .await;
        let _ = looped.await;
        ms
    })
}

//! Fault scenarios where the console shows them its own way: the whole loop on a TestBackend
//! against the raw peers of `faults_support.rs`, waiting on the screen (the table is in
//! `faults_peer.rs`).

use crate::console_support::{Console, key, send_text, wait_for};
use crate::faults_support::*;
use crossterm::event::KeyCode;
use std::time::Duration;
use tokio::sync::watch;
use wsdeck::app::{App, Session};

fn console(url: &str, first: Vec<(usize, wsdeck::engine::SessionCommand)>) -> Console {
    let mut s = spec(url);
    s.max_message_size = Some(64 << 20);
    Console::start(
        App::new(vec![Session::new("faulty", s)]),
        (140, 40),
        wsdeck::tui::LoopOptions {
            connect_now: vec![0],
            first_frames: first,
            ..Default::default()
        },
    )
}

/// Press `k` until the screen shows `what` (at most `n` times): the rows above the tail.
async fn up_until(
    c: &Console,
    screens: &mut watch::Receiver<String>,
    what: &str,
    n: usize,
) -> String {
    for _ in 0..n {
        let screen = screens.borrow_and_update().clone();
        if screen.contains(what) {
            return screen;
        }
        c.press(vec![key(KeyCode::Char('k'))]).await;
        let _ = tokio::time::timeout(Duration::from_secs(2), screens.changed()).await;
    }
    let screen = screens.borrow().clone();
    assert!(screen.contains(what), "{what:?} never appeared:\n{screen}");
    screen
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_shows_the_invalid_text_in_hex() {
    let server = invalid_text_peer(false).await;
    let c = console(&server.url(), vec![send_text(0, "x")]);
    let mut screens = c.screens.clone();
    wait_for(&mut screens, "1007").await;
    let screen = up_until(&c, &mut screens, "00000000  61 c3 28", 8).await;
    assert!(screen.contains("not UTF-8"), "{screen}");
    c.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_reconnects_after_a_frame_over_the_limit() {
    let server = over_the_limit_then_fine().await;
    let c = console(&server.url(), vec![]);
    let mut screens = c.screens.clone();
    let screen = wait_for(&mut screens, "1009").await;
    assert!(screen.contains("limit of 64 MiB"), "{screen}");
    c.press(vec![key(KeyCode::Char('R'))]).await;
    wait_for(&mut screens, "welcome back").await;
    c.quit().await;
}

/// A peer that stops reading while the console sends: the send queue fills and says so, the
/// stall is said, and keys still answer on the screen (the loop never waits on the socket).
#[tokio::test(flavor = "multi_thread")]
async fn the_console_answers_keys_while_the_peer_stops_reading() {
    use bytes::Bytes;
    use wsdeck::engine::{Opcode, SessionCommand};
    let server = deaf().await;
    let mib = Bytes::from(vec![b'z'; 1 << 20]);
    // 48 MiB queued: past the queue's 32 MiB and far past what the socket's buffers take.
    let first: Vec<_> = (0..48)
        .map(|_| {
            (
                0,
                SessionCommand::Send {
                    opcode: Opcode::Binary,
                    payload: mib.clone(),
                },
            )
        })
        .collect();
    let c = console(&server.url(), first);
    let mut screens = c.screens.clone();
    wait_for(&mut screens, "the send queue is full").await;
    // A key while the peer still reads nothing: the command line opens and echoes.
    c.press(vec![
        key(KeyCode::Char(':')),
        key(KeyCode::Char('z')),
        key(KeyCode::Char('z')),
        key(KeyCode::Char('q')),
    ])
    .await;
    wait_for(&mut screens, "zzq").await;
    c.press(vec![key(KeyCode::Esc)]).await;
    let screen = wait_for(&mut screens, "the peer is not reading").await;
    assert!(!screen.contains("zzq"), "Esc answered too:\n{screen}");
    c.quit().await;
}

//! The whole console loop on a TestBackend, against the demo agent and a real SDK agent with two
//! sessions open at once; waits for conditions on the screen, never sleeps-then-asserts.

use crate::support::Agent;
use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use wsdeck::app::{App, ConnState, Event, SessionView};
use wsdeck::engine::Opcode;
use wsdeck::engine::session::SessionCommand;
use wsdeck::engine::target::{ConnectSpec, Target};
use wsdeck::ui::theme::Theme;

async fn wait_for(screens: &mut watch::Receiver<String>, what: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let screen = screens.borrow_and_update().clone();
        if screen.contains(what) {
            return screen;
        }
        if tokio::time::timeout_at(deadline, screens.changed())
            .await
            .is_err()
        {
            panic!("{what:?} never appeared; last screen:\n{screen}");
        }
    }
}

fn key(c: KeyCode) -> Event {
    Event::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn send_text(i: usize, t: &'static str) -> (usize, SessionCommand) {
    (
        i,
        SessionCommand::Send {
            opcode: Opcode::Text,
            payload: Bytes::from_static(t.as_bytes()),
        },
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn two_sessions_demo_and_sdk_agent_at_once() {
    let demo = wsdeck::demo::start(0).await.expect("demo");
    let agent = tokio::task::spawn_blocking(|| Agent::start("echo_agent.py"))
        .await
        .expect("agent");
    let sessions = vec![
        SessionView::new(
            "demo",
            ConnectSpec::new(Target::url(&format!("{}?quiet=1", demo.url())).expect("url")),
        ),
        SessionView::new(
            "sdk",
            ConnectSpec::new(Target::url(&agent.url()).expect("url")),
        ),
    ];
    let app = App::new(sessions);
    let (tx, rx) = mpsc::channel(1024);
    let (screens_tx, mut screens) = watch::channel(String::new());
    let keys = tx.clone();
    let theme = Theme::load("dark", None).expect("theme");
    let looped = tokio::spawn(async move {
        let mut term = Terminal::new(TestBackend::new(140, 40)).expect("terminal");
        let options = wsdeck::tui::LoopOptions {
            connect_now: vec![0, 1],
            first_frames: vec![
                send_text(0, r#"{"type":"ping","id":"p1"}"#),
                send_text(0, r#"{"type":"count","id":"c1","to":20}"#),
                send_text(1, "hello sdk"),
            ],
            screens: Some(screens_tx),
            ..Default::default()
        };
        wsdeck::tui::run_loop(&mut term, app, &theme, (tx, rx), options)
            .await
            .expect("loop")
    });

    wait_for(&mut screens, "pong").await;
    // To the sessions pane, down to the SDK session: its echo is there while the demo keeps
    // streaming count.tick frames in the background.
    keys.send(key(KeyCode::BackTab)).await.expect("key");
    keys.send(key(KeyCode::Char('j'))).await.expect("key");
    let screen = wait_for(&mut screens, "Frames · sdk").await;
    assert!(screen.contains("hello sdk"), "{screen}");
    wait_for(&mut screens, "▲ 1 frames 9 B  ▼ 1 frames 9 B").await;
    keys.send(key(KeyCode::Char('k'))).await.expect("key");
    wait_for(&mut screens, "count.done").await;
    keys.send(key(KeyCode::Char('q'))).await.expect("key");
    wait_for(&mut screens, "Quit?").await;
    keys.send(key(KeyCode::Char('q'))).await.expect("key");
    let app = tokio::time::timeout(Duration::from_secs(10), looped)
        .await
        .expect("quits")
        .expect("join");
    assert_eq!(app.sessions[0].state, ConnState::Open);
    assert!(
        app.sessions[0].counters.frames_in >= 23,
        "ready + pong + 20 ticks + done"
    );
    assert_eq!(app.sessions[1].counters.frames_in, 1);
}

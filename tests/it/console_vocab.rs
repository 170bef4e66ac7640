//! The console's vocabulary work against real agents: the published AsyncAPI document of a real
//! SDK agent becomes templates and flags a frame that breaks its schema.

use crate::console_support::{Console, key, send_text, wait_for};
use crate::support::Agent;
use crossterm::event::KeyCode;
use wsdeck::app::{App, Event, Session};
use wsdeck::engine::target::{ConnectSpec, Target};

fn typed(text: &str) -> Vec<Event> {
    text.chars().map(|c| key(KeyCode::Char(c))).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_published_document_becomes_templates_and_flags_a_misfit() {
    let agent = tokio::task::spawn_blocking(|| Agent::start("asyncapi_agent.py"))
        .await
        .expect("agent");
    let spec = ConnectSpec::new(Target::url(&agent.url()).expect("url"));
    let app = App::new(vec![Session::new("agent", spec)]);
    let mut c = Console::start(
        app,
        (140, 40),
        wsdeck::tui::LoopOptions {
            connect_now: vec![0],
            first_frames: vec![
                send_text(0, r#"{"type":"whoami"}"#),
                send_text(0, r#"{"type":"whoami","query":5}"#),
            ],
            ..Default::default()
        },
    );
    wait_for(&mut c.screens, "\"query\":5").await;
    c.press(typed(":discover")).await;
    c.press(vec![key(KeyCode::Enter)]).await;
    let screen = wait_for(&mut c.screens, "frames checked against their schemas").await;
    assert!(screen.contains("wsdeck echo agent"), "{screen}");
    // The frames that break the schema (ours, and the agent's echo of it) are marked in the
    // log; the ones that fit are not.
    let marked: Vec<&str> = screen.lines().filter(|l| l.contains("✗ whoami")).collect();
    assert!(!marked.is_empty(), "{screen}");
    assert!(marked.iter().all(|l| l.contains("\"query\":5")), "{screen}");
    let fits = screen
        .lines()
        .filter(|l| l.contains("{\"type\":\"whoami\"}"))
        .count();
    assert_eq!(fits, 1, "{screen}");
    assert!(
        !screen
            .lines()
            .any(|l| l.contains("✗") && l.contains("{\"type\":\"whoami\"}"))
    );
    // Its detail says why: the path and the rule.
    c.press(typed("k")).await;
    let mut screen = c.screens.borrow().clone();
    for _ in 0..8 {
        if screen.contains("does not fit the published whoami") {
            break;
        }
        c.press(typed("k")).await;
        screen = wait_for(&mut c.screens, "Detail").await;
    }
    let screen = wait_for(&mut c.screens, "does not fit the published whoami").await;
    assert!(screen.contains("/query"), "{screen}");
    // The document's messages are templates.
    c.press(typed(":like whoami")).await;
    c.press(vec![key(KeyCode::Enter)]).await;
    let screen = wait_for(&mut c.screens, "Compose").await;
    assert!(screen.contains("\"type\": \"whoami\""), "{screen}");
    c.press(vec![key(KeyCode::Esc)]).await;
    // The vocabulary pane knows which types the document names.
    c.press(typed("V")).await;
    let screen = wait_for(&mut c.screens, "Vocabulary").await;
    assert!(screen.contains("whoami"), "{screen}");
    c.quit().await;
}

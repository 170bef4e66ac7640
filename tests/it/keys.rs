//! One key table: overrides from keymap.toml reach the console's keys, its help and its hints;
//! broken files are named; every help row is a binding and every action is reachable; the quit
//! question and the console's own sessions behave as a user expects.

use crate::support::{assert_exit, run, wsdeck};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Duration;
use wsdeck::app::commands::table;
use wsdeck::app::{App, ConnState, ConsoleConfig, Effect, Event, Origin, Overlay, Session, update};
use wsdeck::engine::session::{Handshake, SessionEvent};
use wsdeck::engine::target::{ConnectDefaults, ConnectSpec, CountingIds, ResolveEnv, Target};
use wsdeck::keymap::{Action, Keymap, Layer};
use wsdeck::ui::theme::Theme;

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    update(app, Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn screen(app: &App) -> String {
    let (w, h) = app.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let theme = Theme::load("dark", None).expect("theme");
    t.draw(|c| wsdeck::ui::draw(c, app, &theme)).expect("draw");
    t.backend().to_string()
}

fn opened(app: &mut App, id: usize) {
    let handshake = Handshake {
        url: "ws://x/".into(),
        request_headers: vec![],
        status: 101,
        response_headers: vec![],
        platform_session_id: None,
        subprotocol: None,
    };
    update(
        app,
        Event::Session {
            id,
            event: SessionEvent::Opened {
                at: Duration::ZERO,
                handshake,
            },
        },
    );
}

fn spec() -> ConnectSpec {
    ConnectSpec::new(Target::url("ws://127.0.0.1:9/").expect("url"))
}

#[test]
fn an_override_moves_help_to_f1_and_the_help_lists_f1() {
    let keymap = Keymap::with_overrides("[global]\nhelp = \"f1\"\n", "keymap.toml").expect("valid");
    let mut app = App::new(vec![Session::new("s", spec())]).with_keymap(keymap);
    update(
        &mut app,
        Event::Resize {
            width: 120,
            height: 40,
        },
    );
    press(&mut app, KeyCode::Char('?'));
    assert_eq!(app.layers.overlay, None, "? no longer opens the help");
    press(&mut app, KeyCode::F(1));
    assert_eq!(app.layers.overlay, Some(Overlay::Help));
    let s = screen(&app);
    assert!(s.contains("f1                   help: every key"), "{s}");
    press(&mut app, KeyCode::F(1));
    assert_eq!(app.layers.overlay, None, "the same key closes it");
    assert!(
        screen(&app).contains("f1 help"),
        "the hints follow the table"
    );
}

#[test]
fn every_help_row_is_a_binding_and_every_action_is_reachable() {
    let k = Keymap::default();
    let app = App::new(vec![]);
    let theme = Theme::load("dark", None).expect("theme");
    let lines: Vec<String> = wsdeck::ui::help_lines(&app, &theme)
        .iter()
        .map(|l| l.to_string())
        .collect();
    // Each binding row of the help names keys that trigger the action it describes.
    for b in k.bindings() {
        let row = format!(
            "  {:<20} {}",
            k.keys_text(b.layer, b.action),
            b.action.describe()
        );
        assert!(lines.contains(&row), "no help row {row:?}");
        for key in &b.keys {
            let ev = KeyEvent::new(key.code, key.mods);
            assert_eq!(
                k.action_in(b.layer, ev),
                Some(b.action),
                "{key} in {:?}",
                b.layer
            );
        }
    }
    let binding_rows = lines
        .iter()
        .filter(|l| {
            // Command rows read `  :name …`; the `:` key's own row reads `  :   …`.
            let cmd = l
                .strip_prefix("  :")
                .is_some_and(|r| r.starts_with(char::is_alphabetic));
            l.starts_with("  ") && !cmd
        })
        .count();
    assert_eq!(
        binding_rows,
        k.bindings().len(),
        "no help row without a binding"
    );
    // Every action has a key somewhere, or a `:` command does it.
    let commands: Vec<&String> = table().iter().map(|(u, _)| u).collect();
    for a in Action::ALL {
        let keyed = Layer::ALL.iter().any(|l| !k.keys(*l, *a).is_empty());
        assert!(
            keyed || commands.iter().any(|c| c.contains(a.name())),
            "{a:?} unreachable"
        );
    }
}

#[test]
fn quit_asks_only_when_something_of_the_users_would_be_cut_off() {
    // The demo's own connection: q quits at once.
    let mut app = App::new(vec![Session::new("demo", spec()).with_origin(Origin::Demo)]);
    opened(&mut app, 0);
    assert_eq!(app.sessions[0].state, ConnState::Open);
    assert_eq!(press(&mut app, KeyCode::Char('q')), vec![Effect::Quit]);
    // Recording the demo: q asks, and says why.
    app.sessions[0].recording = Some("/tmp/demo.jsonl".into());
    update(
        &mut app,
        Event::Resize {
            width: 100,
            height: 30,
        },
    );
    assert!(press(&mut app, KeyCode::Char('q')).is_empty());
    let s = screen(&app);
    assert!(
        s.contains("the recording of demo to /tmp/demo.jsonl"),
        "{s}"
    );
    assert!(s.contains("y/enter yes · n/esc no"), "{s}");
    assert_eq!(press(&mut app, KeyCode::Char('y')), vec![Effect::Quit]);
    // A connection the user opened: q asks; y quits.
    let mut app = App::new(vec![
        Session::new("mine", spec()).with_origin(Origin::Saved),
    ]);
    opened(&mut app, 0);
    assert!(press(&mut app, KeyCode::Char('q')).is_empty());
    assert_eq!(app.layers.overlay, Some(Overlay::ConfirmQuit));
    assert_eq!(press(&mut app, KeyCode::Char('y')), vec![Effect::Quit]);
}

#[test]
fn console_made_sessions_carry_the_users_connect_defaults() {
    let config = ConsoleConfig {
        resolve: ResolveEnv {
            defaults: ConnectDefaults {
                timeout: Duration::from_secs(3),
                max_message_size: 2048,
                ca_cert: Some("/etc/corp/ca.pem".into()),
            },
            foundry_endpoint: Some("https://acct.services.ai.azure.com/api/projects/p".into()),
        },
        ..Default::default()
    };
    let mut app = App::new(vec![])
        .with_config(config)
        .with_ids(Box::new(CountingIds::default()));
    let line = |app: &mut App, text: &str| {
        press(app, KeyCode::Char(':'));
        for c in text.chars() {
            press(app, KeyCode::Char(c));
        }
        press(app, KeyCode::Enter)
    };
    // :add, with the endpoint from the environment the console was started in.
    let effects = line(&mut app, "add bot --agent voice");
    assert!(
        matches!(effects.as_slice(), [Effect::SaveSessions(s)] if s.len() == 1),
        "{:?} {:?}",
        effects,
        app.status
    );
    let s = &app.sessions[0].spec;
    assert_eq!(s.connect_timeout, Duration::from_secs(3));
    assert_eq!(s.max_message_size, Some(2048));
    assert_eq!(
        s.session_id.as_deref(),
        Some("00000000000000000000000000000001")
    );
    // The settings' CA goes into the connection, not into the session kept (and saved).
    assert_eq!(s.ca_cert, None);
    let connecting = app.connect_spec(app.sessions[0].id).expect("spec");
    assert_eq!(
        connecting.ca_cert.as_deref(),
        Some("/etc/corp/ca.pem".as_ref())
    );
    assert!(
        app.saved_sessions().iter().all(|s| s.ca_cert.is_none()),
        "sessions.toml does not get the settings' CA"
    );
    // The form (a), with a URL.
    app.focus = wsdeck::app::Pane::Sessions;
    press(&mut app, KeyCode::Char('a'));
    for c in "form".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    for c in "ws://127.0.0.1:1/".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    let s = app
        .sessions
        .iter()
        .find(|s| s.name == "form")
        .expect("added by the form");
    assert_eq!(s.spec.connect_timeout, Duration::from_secs(3));
    assert_eq!(s.spec.max_message_size, Some(2048));
    let connecting = app.connect_spec(s.id).expect("spec");
    assert_eq!(
        connecting.ca_cert.as_deref(),
        Some("/etc/corp/ca.pem".as_ref())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn wsdeck_keys_prints_the_table_and_names_a_broken_file() {
    let home = tempfile::tempdir().expect("home");
    let mut c = wsdeck(home.path());
    c.arg("keys");
    let o = run(c).await;
    assert_exit(&o, 0);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("LAYER"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("global") && l.contains(" ?  ") && l.contains("help")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("composer") && l.contains("ctrl-s") && l.contains("send")),
        "{out}"
    );
    let dir = home.path().join("config");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("keymap.toml"),
        "[global]\nhelp = [\"?\", \"f1\"]\n",
    )
    .expect("write");
    let mut c = wsdeck(home.path());
    c.arg("keys");
    let o = run(c).await;
    assert_exit(&o, 0);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.lines()
            .any(|l| l.starts_with("global") && l.contains("?/f1")),
        "{out}"
    );
    std::fs::write(
        dir.join("keymap.toml"),
        "[global]\n\nhelp = \"ctrl-q\"\nquit = \"ctrl-q\"\n",
    )
    .expect("write");
    let mut c = wsdeck(home.path());
    c.arg("keys");
    let o = run(c).await;
    assert_exit(&o, 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("keymap.toml:3:1: ctrl-q is bound twice in [global]: help and quit"),
        "{err}"
    );
    std::fs::write(dir.join("keymap.toml"), "[frames]\nfliter = \"f\"\n").expect("write");
    let mut c = wsdeck(home.path());
    c.arg("keys");
    let o = run(c).await;
    assert_exit(&o, 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("keymap.toml:2:1: \"fliter\" is not an action"),
        "{err}"
    );
}

#[test]
fn the_help_scrolls_by_key_and_wheel_and_leaves_the_frames_alone() {
    use crossterm::event::{MouseEvent, MouseEventKind};
    let mut app = App::new(vec![Session::new("s", spec())]);
    update(
        &mut app,
        Event::Resize {
            width: 100,
            height: 24,
        },
    );
    update(
        &mut app,
        Event::Session {
            id: 0,
            event: SessionEvent::Frames(vec![]),
        },
    );
    press(&mut app, KeyCode::Char('?'));
    let first = screen(&app);
    assert!(first.contains("(1-"), "{first}");
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.layers.help_scroll, 1);
    let wheel = MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 0,
        row: 0,
        modifiers: KeyModifiers::NONE,
    };
    update(&mut app, Event::Mouse(wheel));
    assert_eq!(app.layers.help_scroll, 2);
    assert!(screen(&app).contains("(3-"), "the window moved");
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.layers.overlay, None);
    press(&mut app, KeyCode::Char('?'));
    assert_eq!(app.layers.help_scroll, 0, "opens at the top again");
}

#[test]
fn a_delete_question_deletes_the_session_it_named_and_altgr_types() {
    let mut app = App::new(vec![
        Session::new("one", spec()).with_origin(Origin::Saved),
        Session::new("two", spec()).with_origin(Origin::Saved),
    ]);
    app.focus = wsdeck::app::Pane::Sessions;
    press(&mut app, KeyCode::Char('d'));
    assert_eq!(app.layers.overlay, Some(Overlay::ConfirmDelete { id: 0 }));
    // The selection moves while the question is open (a capture opens, say).
    app.selected = 1;
    let effects = press(&mut app, KeyCode::Enter);
    assert!(matches!(effects.as_slice(), [Effect::SaveSessions(s)] if s.len() == 1));
    let names: Vec<&str> = app.sessions.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["two"],
        "the session asked about went, not the selected one"
    );
    assert_eq!(app.selected, 0);
    // AltGr arrives as Ctrl+Alt on Windows: `{` and `[` are text in the prompt.
    press(&mut app, KeyCode::Char('/'));
    for c in ['{', '['] {
        update(
            &mut app,
            Event::Key(KeyEvent::new(
                KeyCode::Char(c),
                KeyModifiers::CONTROL | KeyModifiers::ALT,
            )),
        );
    }
    assert_eq!(
        app.layers.prompt.as_ref().map(|p| p.text.as_str()),
        Some("{[")
    );
}

#[test]
fn the_help_stops_at_its_last_page() {
    let mut app = App::new(vec![]);
    update(
        &mut app,
        Event::Resize {
            width: 100,
            height: 30,
        },
    );
    let theme = Theme::load("dark", None).expect("theme");
    assert_eq!(
        wsdeck::app::layers::help_len(&app),
        wsdeck::ui::help_lines(&app, &theme).len(),
        "the update and the view count the same lines"
    );
    press(&mut app, KeyCode::Char('?'));
    press(&mut app, KeyCode::Char('G'));
    let last = app.layers.help_scroll;
    assert!(last > 0);
    press(&mut app, KeyCode::PageDown);
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.layers.help_scroll, last, "no scrolling past the end");
    let s = screen(&app);
    assert!(
        s.contains(":quit"),
        "the last page shows the last command: {s}"
    );
    press(&mut app, KeyCode::Char('k'));
    assert_eq!(app.layers.help_scroll, last - 1, "and back at once");
}

#[test]
fn a_replay_ending_while_the_user_types_does_not_take_the_keys() {
    use wsdeck::app::ReplayEvent;
    let mut app = App::new(vec![Session::new("s", spec())]);
    let started = ReplayEvent::Started {
        file: "cap.jsonl".into(),
        total: 0,
        expected: vec![],
        step: false,
    };
    update(
        &mut app,
        Event::Replay {
            id: 0,
            event: started,
        },
    );
    press(&mut app, KeyCode::Char('c'));
    assert!(app.layers.composing);
    let finished = ReplayEvent::Finished;
    update(
        &mut app,
        Event::Replay {
            id: 0,
            event: finished,
        },
    );
    assert_eq!(app.layers.overlay, None);
    assert!(
        app.status
            .as_deref()
            .is_some_and(|s| s.contains(":compare shows it")),
        "{:?}",
        app.status
    );
    press(&mut app, KeyCode::Char('x'));
    assert_eq!(app.composer.text(), "x", "the key went to the draft");
}

//! The console: pure update tests (events in, state out) and TestBackend snapshots of each screen.

use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, SystemTime};
use wsdeck::app::{
    App, Composed, ConnState, ContainerLogsEvent, Effect, Event, Overlay, Pane, ReplayEvent,
    Session, update,
};
use wsdeck::engine::close::Initiator;
use wsdeck::engine::diagnose::{ConnectError, Refusal};
use wsdeck::engine::session::{CloseInfo, Handshake, SessionCommand, SessionEvent};
use wsdeck::engine::target::{ConnectSpec, Target};
use wsdeck::engine::{Direction, Frame, Opcode};
use wsdeck::ui::theme::Theme;

fn key(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(k: KeyCode) -> Event {
    Event::Key(KeyEvent::new(k, KeyModifiers::NONE))
}

fn spec(url: &str) -> ConnectSpec {
    let mut s = ConnectSpec::new(Target::url(url).expect("url"));
    s.session_id = Some("0123456789abcdef0123456789abcdef".into());
    s
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn frame(seq: u64, at: u64, dir: Direction, opcode: Opcode, payload: &[u8]) -> Frame {
    Frame {
        seq,
        at: ms(at),
        dir,
        opcode,
        payload: Bytes::copy_from_slice(payload),
    }
}

fn handshake() -> Handshake {
    Handshake {
        url: "ws://127.0.0.1:8765/invocations_ws?agent_session_id=0123456789abcdef0123456789abcdef"
            .into(),
        request_headers: vec![
            ("host".into(), "127.0.0.1:8765".into()),
            (
                "authorization".into(),
                "Bearer <redacted, 1234 chars>".into(),
            ),
        ],
        status: 101,
        response_headers: vec![("upgrade".into(), "websocket".into())],
        platform_session_id: Some("0123456789abcdef0123456789abcdef".into()),
        subprotocol: None,
    }
}

/// A session that connected, exchanged JSON, PCM and a malformed frame, then closed with 1011.
fn demo_app(size: (u16, u16)) -> App {
    let mut app = App::new(vec![
        Session::new("demo", spec("ws://127.0.0.1:8765/invocations_ws")),
        Session::new("voice-dev", spec("ws://127.0.0.1:8099/invocations_ws")),
        Session::new("prod-eu", spec("wss://acct.services.ai.azure.com/x")),
    ]);
    update(
        &mut app,
        Event::Resize {
            width: size.0,
            height: size.1,
        },
    );
    let events = vec![
        SessionEvent::Connecting {
            at: ms(0),
            wall: SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_064_800),
            url: "ws://127.0.0.1:8765/invocations_ws".into(),
            session_id: Some("0123456789abcdef0123456789abcdef".into()),
        },
        SessionEvent::Opened { at: ms(9), handshake: handshake() },
        SessionEvent::Frames(vec![
            frame(1, 10, Direction::In, Opcode::Text, br#"{"type":"session.ready","id":"d_1","protocol":"wsdeck-demo/1"}"#),
            frame(2, 12, Direction::Out, Opcode::Text, br#"{"type":"user.message","id":"m_2","item_id":"in_0001","content":[{"type":"input_text","text":"hello"}]}"#),
            frame(3, 15, Direction::In, Opcode::Text, br#"{"type":"response.output_text.delta","in_reply_to":"m_2","delta":"you "}"#),
            frame(4, 16, Direction::In, Opcode::Binary, &(0u8..=255).cycle().take(640).collect::<Vec<u8>>()),
            frame(5, 20, Direction::In, Opcode::Text, br#"{"type":"oops", "missing": }"#),
            frame(6, 21, Direction::In, Opcode::Close, b"\x03\xf3Internal server error"),
            frame(7, 21, Direction::Out, Opcode::Close, b"\x03\xf3"),
        ]),
        SessionEvent::Closed {
            at: ms(22),
            info: CloseInfo { code: 1011, reason: "Internal server error".into(), initiator: Initiator::Server, clean: false },
        },
    ];
    for e in events {
        update(&mut app, Event::Session { id: 0, event: e });
    }
    update(
        &mut app,
        Event::Session {
            id: 1,
            event: SessionEvent::Connecting {
                at: ms(0),
                wall: SystemTime::UNIX_EPOCH,
                url: "ws://x".into(),
                session_id: None,
            },
        },
    );
    update(
        &mut app,
        Event::Session {
            id: 1,
            event: SessionEvent::Opened {
                at: ms(3),
                handshake: handshake(),
            },
        },
    );
    app
}

fn render(app: &App, theme: &Theme) -> Terminal<TestBackend> {
    let (w, h) = app.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    t.draw(|c| wsdeck::ui::draw(c, app, theme)).expect("draw");
    t
}

fn dark() -> Theme {
    Theme::load("dark", None).expect("theme")
}

#[test]
fn follow_mode_sticks_to_the_tail_until_the_user_moves_up() {
    let mut app = demo_app((120, 36));
    let s = &app.sessions[0];
    assert!(s.view.follow);
    assert_eq!(s.view.cursor, s.log.len() - 1);
    update(&mut app, key('k'));
    assert!(!app.sessions[0].view.follow);
    let cursor = app.sessions[0].view.cursor;
    update(
        &mut app,
        Event::Session {
            id: 0,
            event: SessionEvent::Frames(vec![frame(8, 30, Direction::In, Opcode::Text, b"{}")]),
        },
    );
    assert_eq!(
        app.sessions[0].view.cursor, cursor,
        "new frames do not move a cursor the user placed"
    );
    update(&mut app, key('G'));
    assert!(app.sessions[0].view.follow);
    update(
        &mut app,
        Event::Session {
            id: 0,
            event: SessionEvent::Frames(vec![frame(9, 31, Direction::In, Opcode::Text, b"{}")]),
        },
    );
    assert_eq!(app.sessions[0].view.cursor, app.sessions[0].log.len() - 1);
    update(&mut app, key('g'));
    assert_eq!(app.sessions[0].view.cursor, 0);
}

#[test]
fn a_million_rows_keep_the_window_on_the_cursor() {
    let mut app = App::new(vec![Session::new("big", spec("ws://x/"))]);
    update(
        &mut app,
        Event::Resize {
            width: 100,
            height: 30,
        },
    );
    let frames: Vec<Frame> = (1..=1_000_000u64)
        .map(|i| frame(i, i, Direction::In, Opcode::Text, b"{\"type\":\"t\"}"))
        .collect();
    update(
        &mut app,
        Event::Session {
            id: 0,
            event: SessionEvent::Frames(frames),
        },
    );
    let rows = app.frame_rows();
    let s = &app.sessions[0];
    assert_eq!(s.view.cursor, 999_999);
    assert_eq!(s.view.top, 1_000_000 - rows);
    update(&mut app, code(KeyCode::PageUp));
    let s = &app.sessions[0];
    assert_eq!(s.view.cursor, 999_999 - rows);
    assert!(s.view.top <= s.view.cursor && s.view.cursor < s.view.top + rows);
    let t = render(&app, &dark());
    assert!(
        t.backend()
            .to_string()
            .contains(&format!("{}", 1_000_000 - rows))
    );
}

#[test]
fn keys_route_by_focus_and_produce_effects() {
    let mut app = demo_app((120, 36));
    assert_eq!(app.focus, Pane::Frames);
    update(&mut app, code(KeyCode::Tab));
    assert_eq!(app.focus, Pane::Detail);
    // The demo fixture's first session closed abnormally: its logs pane is in the cycle.
    update(&mut app, code(KeyCode::Tab));
    assert_eq!(app.focus, Pane::Logs);
    update(&mut app, code(KeyCode::Tab));
    assert_eq!(app.focus, Pane::Sessions);
    update(&mut app, key('j'));
    assert_eq!(app.selected, 1);
    // voice-dev is open: x closes it with 1000; R and N reconnect with the same or a new id.
    assert_eq!(
        update(&mut app, key('x')),
        vec![Effect::ToSession(
            1,
            SessionCommand::Close {
                code: 1000,
                reason: String::new()
            }
        )]
    );
    assert_eq!(
        update(&mut app, key('R')),
        vec![Effect::ToSession(
            1,
            SessionCommand::Reconnect { new_id: false }
        )]
    );
    assert_eq!(
        update(&mut app, key('N')),
        vec![Effect::ToSession(
            1,
            SessionCommand::Reconnect { new_id: true }
        )]
    );
    // prod-eu has no actor yet: Enter connects it.
    update(&mut app, key('j'));
    assert_eq!(
        update(&mut app, code(KeyCode::Enter)),
        vec![Effect::Connect(2)]
    );
    // q with open connections asks first: n, Esc and other keys stay, y and Enter quit;
    // Ctrl-c always quits.
    assert!(update(&mut app, key('q')).is_empty());
    assert_eq!(app.layers.overlay, Some(Overlay::ConfirmQuit));
    assert!(
        update(&mut app, key('q')).is_empty(),
        "another key keeps asking"
    );
    assert_eq!(app.layers.overlay, Some(Overlay::ConfirmQuit));
    assert!(update(&mut app, key('n')).is_empty());
    assert_eq!(app.layers.overlay, None, "n answers no");
    update(&mut app, key('q'));
    assert!(update(&mut app, code(KeyCode::Esc)).is_empty());
    assert_eq!(app.layers.overlay, None, "Esc answers no");
    update(&mut app, key('q'));
    assert_eq!(update(&mut app, key('y')), vec![Effect::Quit]);
    update(&mut app, key('q'));
    assert_eq!(update(&mut app, code(KeyCode::Enter)), vec![Effect::Quit]);
    let mut app = demo_app((120, 36));
    let ctrl_c = Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(update(&mut app, ctrl_c), vec![Effect::Quit]);
}

#[test]
fn a_refused_upgrade_is_kept_for_the_handshake_view() {
    let mut app = App::new(vec![Session::new(
        "prod",
        spec("wss://acct.services.ai.azure.com/x"),
    )]);
    update(
        &mut app,
        Event::Resize {
            width: 120,
            height: 36,
        },
    );
    let error = ConnectError::Refused {
        refusal: Box::new(Refusal {
            status: 401,
            reason: "Unauthorized".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: br#"{"error":{"code":"PermissionDenied","message":"Token expired"}}"#.to_vec(),
            declared_len: None,
        }),
    };
    update(
        &mut app,
        Event::Session {
            id: 0,
            event: SessionEvent::Connecting {
                at: ms(0),
                wall: SystemTime::UNIX_EPOCH,
                url: "wss://acct.services.ai.azure.com/x".into(),
                session_id: None,
            },
        },
    );
    update(
        &mut app,
        Event::Session {
            id: 0,
            event: SessionEvent::Failed {
                at: ms(80),
                error,
                request: Some((
                    "wss://acct.services.ai.azure.com/x".into(),
                    vec![(
                        "authorization".into(),
                        "Bearer <redacted, 1234 chars>".into(),
                    )],
                )),
            },
        },
    );
    assert!(matches!(app.sessions[0].state, ConnState::Failed(_)));
    update(&mut app, key('h'));
    let t = render(&app, &dark());
    let screen = t.backend().to_string();
    assert!(screen.contains("HTTP 401"));
    assert!(screen.contains("Token expired"));
    assert!(screen.contains("az account get-access-token"));
    insta::assert_snapshot!("handshake_refused", t.backend());
}

#[test]
fn snapshot_main_screen_with_abnormal_close() {
    let app = demo_app((140, 36));
    insta::assert_snapshot!("main_abnormal_close", render(&app, &dark()).backend());
}

#[test]
fn snapshot_json_detail() {
    let mut app = demo_app((120, 36));
    for _ in 0..6 {
        update(&mut app, key('k'));
    }
    update(&mut app, code(KeyCode::Enter));
    assert_eq!(app.focus, Pane::Detail);
    let t = render(&app, &dark());
    assert!(
        t.backend().to_string().contains("\"content\": ["),
        "pretty JSON in key order"
    );
    insta::assert_snapshot!("json_detail", t.backend());
}

#[test]
fn snapshot_hex_detail_and_invalid_json() {
    let mut app = demo_app((120, 36));
    for _ in 0..4 {
        update(&mut app, key('k'));
    }
    let t = render(&app, &dark());
    assert!(t.backend().to_string().contains("00000000  00 01 02 03"));
    insta::assert_snapshot!("hex_detail", t.backend());
    update(&mut app, key('j'));
    let t = render(&app, &dark());
    let screen = t.backend().to_string();
    assert!(
        screen.contains("not JSON: expected value (line 1, column 28)"),
        "{screen}"
    );
    insta::assert_snapshot!("invalid_json_detail", t.backend());
}

#[test]
fn snapshot_help_overlay_and_small_terminal() {
    let mut app = demo_app((120, 36));
    update(&mut app, key('?'));
    insta::assert_snapshot!("help_overlay", render(&app, &dark()).backend());
    update(&mut app, code(KeyCode::Esc));
    assert_eq!(app.layers.overlay, None);
    let mut small = demo_app((80, 24));
    update(
        &mut small,
        Event::Resize {
            width: 80,
            height: 24,
        },
    );
    insta::assert_snapshot!("main_80x24", render(&small, &dark()).backend());
}

#[test]
fn snapshot_each_theme_keeps_colours() {
    let app = demo_app((100, 20));
    for name in Theme::names() {
        let t = render(&app, &Theme::load(name, None).expect("theme"));
        insta::assert_debug_snapshot!(format!("theme_{name}"), t.backend().buffer());
    }
    let t = render(&app, &Theme::monochrome());
    insta::assert_debug_snapshot!("theme_no_color", t.backend().buffer());
}

fn type_text(app: &mut App, s: &str) {
    for c in s.chars() {
        update(app, key(c));
    }
}

#[test]
fn filter_by_direction_opcode_words_and_jq_then_clear() {
    let mut app = demo_app((120, 36));
    update(&mut app, key('f'));
    assert!(app.layers.prompt.is_some());
    type_text(&mut app, "in op:text .type|startswith(\"response\")");
    update(&mut app, code(KeyCode::Enter));
    let s = &app.sessions[0];
    let shown: Vec<u64> = (0..s.view_len())
        .filter_map(|i| match &s.view_row(i).expect("row").kind {
            wsdeck::store::RowKind::Frame(f) => Some(f.seq),
            _ => None,
        })
        .collect();
    assert_eq!(shown, vec![3], "only the incoming response.* text frame");
    let t = render(&app, &dark());
    let screen = t.backend().to_string();
    assert!(
        screen.contains("filter: in op:text .type|startswith(\"response\")"),
        "{screen}"
    );
    insta::assert_snapshot!("log_with_filter", t.backend());

    // New frames are matched as they arrive.
    update(
        &mut app,
        Event::Session {
            id: 0,
            event: SessionEvent::Frames(vec![frame(
                8,
                40,
                Direction::In,
                Opcode::Text,
                br#"{"type":"response.done"}"#,
            )]),
        },
    );
    assert_eq!(
        app.sessions[0].view_len(),
        5,
        "open/connect/close events + 2 frames"
    );

    // A bad expression says why and leaves the filter as it was.
    update(&mut app, key('f'));
    for _ in 0..60 {
        update(&mut app, code(KeyCode::Backspace));
    }
    type_text(&mut app, ".type ==");
    update(&mut app, code(KeyCode::Enter));
    assert!(
        app.status
            .as_deref()
            .is_some_and(|s| s.starts_with("filter not applied: jq")),
        "{:?}",
        app.status
    );
    // Empty clears.
    update(&mut app, key('f'));
    for _ in 0..60 {
        update(&mut app, code(KeyCode::Backspace));
    }
    update(&mut app, code(KeyCode::Enter));
    assert!(app.sessions[0].view.filter.is_none());
    assert_eq!(app.sessions[0].view_len(), app.sessions[0].log.len());
}

#[test]
fn search_next_previous_and_copy() {
    let mut app = demo_app((120, 36));
    update(&mut app, key('/'));
    type_text(&mut app, "type");
    update(&mut app, code(KeyCode::Enter));
    let first = app.sessions[0].view.cursor;
    update(&mut app, key('n'));
    let second = app.sessions[0].view.cursor;
    assert_ne!(first, second);
    update(&mut app, key('N'));
    assert_eq!(app.sessions[0].view.cursor, first);
    let effects = update(&mut app, key('y'));
    match effects.as_slice() {
        [Effect::Copy(text)] => assert!(text.contains("type")),
        other => panic!("{other:?}"),
    }
    update(&mut app, key('/'));
    type_text(&mut app, "zzz-nothing");
    update(&mut app, code(KeyCode::Enter));
    assert!(
        app.status
            .as_deref()
            .is_some_and(|s| s.ends_with("no match"))
    );
}

#[test]
fn a_filter_over_a_million_rows_scans_in_slices() {
    let mut app = App::new(vec![Session::new("big", spec("ws://x/"))]);
    update(
        &mut app,
        Event::Resize {
            width: 100,
            height: 30,
        },
    );
    let frames: Vec<Frame> = (1..=1_000_000u64)
        .map(|i| {
            frame(
                i,
                i,
                if i % 2 == 0 {
                    Direction::In
                } else {
                    Direction::Out
                },
                Opcode::Text,
                b"{}",
            )
        })
        .collect();
    update(
        &mut app,
        Event::Session {
            id: 0,
            event: SessionEvent::Frames(frames),
        },
    );
    update(&mut app, key('f'));
    type_text(&mut app, "in");
    update(&mut app, code(KeyCode::Enter));
    assert!(
        app.has_work(),
        "one slice per event, not the whole log at once"
    );
    assert_eq!(app.sessions[0].view.scanned, wsdeck::app::FILTER_SLICE);
    let mut slices = 1;
    while app.sessions[0].filter_pending() {
        update(&mut app, Event::ScanSlice);
        slices += 1;
    }
    assert_eq!(slices, 1_000_000 / wsdeck::app::FILTER_SLICE);
    assert_eq!(app.sessions[0].view_len(), 500_000);
    // The vocabulary learns from the same burst in slices too, and catches up.
    let mut vocab_slices = 0;
    while app.has_work() {
        update(&mut app, Event::ScanSlice);
        vocab_slices += 1;
    }
    assert_eq!(app.sessions[0].vocab_seen, 1_000_000);
    assert!(vocab_slices < 1_000_000 / wsdeck::app::vocab::VOCAB_SLICE);
}

fn command(app: &mut App, line: &str) -> Vec<Effect> {
    update(app, key(':'));
    type_text(app, line);
    update(app, code(KeyCode::Enter))
}

#[test]
fn command_line_manages_sessions_with_validation() {
    let mut app = demo_app((120, 36));
    // A bad target says why and adds nothing.
    assert!(
        command(
            &mut app,
            "add prod --endpoint https://acct.services.ai.azure.com/ --agent a"
        )
        .is_empty()
    );
    assert!(
        app.status
            .as_deref()
            .is_some_and(|s| s.contains("/api/projects/{project}")),
        "{:?}",
        app.status
    );
    assert_eq!(app.sessions.len(), 3);
    assert!(
        command(&mut app, "add demo ws://x/").is_empty(),
        "names are unique"
    );
    assert!(command(&mut app, "add leak ws://x/ -H 'Authorization: Bearer t'").is_empty());
    assert!(
        app.status
            .as_deref()
            .is_some_and(|s| s.contains("carries a credential"))
    );
    assert!(command(&mut app, "frobnicate").is_empty());
    assert!(
        app.status
            .as_deref()
            .is_some_and(|s| s.contains(":add NAME TARGET"))
    );

    let effects = command(
        &mut app,
        "add prod --endpoint https://acct.services.ai.azure.com/api/projects/p --agent voice",
    );
    let [Effect::SaveSessions(saved)] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(saved.len(), 1, "only saved sessions go to the file");
    assert_eq!(saved[0].name, "prod");
    assert_eq!(app.sessions[app.selected].name, "prod");
    let id = app.sessions[app.selected].spec.session_id.clone();

    let effects = command(&mut app, "rename prod-west");
    assert!(matches!(effects.as_slice(), [Effect::SaveSessions(s)] if s[0].name == "prod-west"));
    let effects = command(&mut app, "dup prod-us");
    let [Effect::SaveSessions(saved)] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(saved.len(), 2);
    assert_ne!(
        saved[1].agent_session_id, saved[0].agent_session_id,
        "a duplicate gets a new id"
    );
    assert_eq!(Some(saved[0].agent_session_id.clone()), id);

    let effects = command(&mut app, "edit --local --port 9000");
    let [Effect::SaveSessions(saved)] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(saved[1].kind, "local");
    assert_eq!(saved[1].port, Some(9000));

    // Deleting the open session closes it first; its late events are dropped.
    app.selected = 1;
    let voice_id = app.sessions[1].id;
    app.sessions[1].container_logs = Some(wsdeck::app::ContainerLogs {
        running: true,
        ..Default::default()
    });
    let effects = command(&mut app, "rm");
    assert_eq!(
        effects,
        vec![
            Effect::ToSession(voice_id, SessionCommand::Shutdown),
            Effect::StopContainerLogs { id: voice_id }
        ],
        "a deleted session's connection and log reader both stop"
    );
    assert!(app.sessions.iter().all(|s| s.name != "voice-dev"));
    update(
        &mut app,
        Event::Session {
            id: voice_id,
            event: SessionEvent::Ended,
        },
    );

    assert_eq!(
        command(&mut app, "theme light"),
        vec![Effect::SetTheme("light".into())]
    );
    command(&mut app, "filter op:binary");
    assert_eq!(
        app.sessions[app.selected]
            .view
            .filter
            .as_ref()
            .map(|f| f.source.as_str()),
        Some("op:binary")
    );
}

#[test]
fn session_form_adds_and_edits_with_validation() {
    let mut app = demo_app((120, 36));
    update(&mut app, code(KeyCode::BackTab));
    assert_eq!(app.focus, Pane::Sessions);
    update(&mut app, key('a'));
    assert!(app.layers.form.is_some());
    type_text(&mut app, "staging");
    update(&mut app, code(KeyCode::Tab)); // kind
    update(&mut app, code(KeyCode::Right)); // url -> local
    update(&mut app, code(KeyCode::Right)); // local -> foundry
    update(&mut app, code(KeyCode::Tab)); // url
    update(&mut app, code(KeyCode::Tab)); // endpoint
    type_text(&mut app, "https://acct.services.ai.azure.com/nope");
    update(&mut app, code(KeyCode::Tab)); // agent
    type_text(&mut app, "voice");
    // Invalid endpoint: the form stays open and says why.
    assert!(update(&mut app, code(KeyCode::Enter)).is_empty());
    let err = app
        .layers
        .form
        .as_ref()
        .and_then(|f| f.error.clone())
        .expect("error shown");
    assert!(err.contains("/api/projects/{project}"), "{err}");
    insta::assert_snapshot!("session_form_error", render(&app, &dark()).backend());
    update(&mut app, code(KeyCode::BackTab)); // endpoint
    for _ in 0.."nope".len() {
        update(&mut app, code(KeyCode::Backspace));
    }
    type_text(&mut app, "api/projects/p");
    let effects = update(&mut app, code(KeyCode::Enter));
    let [Effect::SaveSessions(saved)] = effects.as_slice() else {
        panic!("{effects:?} {:?}", app.layers.form)
    };
    assert_eq!(saved[0].name, "staging");
    assert_eq!(saved[0].kind, "foundry");
    assert_eq!(saved[0].agent.as_deref(), Some("voice"));
    assert!(app.layers.form.is_none());

    // Edit keeps the id; a taken name is refused.
    let id = app.sessions[app.selected].spec.session_id.clone();
    update(&mut app, key('e'));
    for _ in 0.."staging".len() {
        update(&mut app, code(KeyCode::Backspace));
    }
    type_text(&mut app, "demo");
    assert!(update(&mut app, code(KeyCode::Enter)).is_empty());
    assert!(
        app.layers
            .form
            .as_ref()
            .and_then(|f| f.error.as_deref())
            .is_some_and(|e| e.contains("exists already"))
    );
    for _ in 0.."demo".len() {
        update(&mut app, code(KeyCode::Backspace));
    }
    type_text(&mut app, "stage");
    let effects = update(&mut app, code(KeyCode::Enter));
    assert!(matches!(effects.as_slice(), [Effect::SaveSessions(s)] if s[0].name == "stage"));
    assert_eq!(app.sessions[app.selected].spec.session_id, id);

    // d asks; any other key leaves the question open; y deletes.
    update(&mut app, key('d'));
    assert_eq!(
        app.layers.overlay,
        Some(Overlay::ConfirmDelete {
            id: app.sessions[app.selected].id
        })
    );
    update(&mut app, key('j'));
    assert!(app.sessions.iter().any(|s| s.name == "stage"));
    update(&mut app, key('d'));
    let effects = update(&mut app, key('y'));
    assert!(matches!(effects.as_slice(), [Effect::SaveSessions(s)] if s.is_empty()));
    assert!(app.sessions.iter().all(|s| s.name != "stage"));
}

#[test]
fn pcm_view_shows_level_and_waveform() {
    let mut app = App::new(vec![Session::new("voice", spec("ws://x/"))]);
    update(
        &mut app,
        Event::Resize {
            width: 100,
            height: 30,
        },
    );
    let tone = wsdeck::demo::tone_chunk(440.0, 0);
    update(
        &mut app,
        Event::Session {
            id: 0,
            event: SessionEvent::Frames(vec![frame(1, 5, Direction::In, Opcode::Binary, &tone)]),
        },
    );
    update(&mut app, key('v'));
    update(&mut app, key('v'));
    // The session's format: 24 kHz mono by default, the demo's tone is 16 kHz.
    let screen = render(&app, &dark()).backend().to_string();
    assert!(
        screen.contains("320 samples · 13.3 ms at s16le 24 kHz mono"),
        "{screen}"
    );
    command(&mut app, "pcm 16000");
    let t = render(&app, &dark());
    let screen = t.backend().to_string();
    assert!(
        screen.contains(
            "320 samples · 20.0 ms at s16le 16 kHz mono · peak -10.5 dBFS · rms -13.5 dBFS"
        ),
        "{screen}"
    );
    insta::assert_snapshot!("pcm_detail", t.backend());
    command(&mut app, "pcm 16000 2");
    let screen = render(&app, &dark()).backend().to_string();
    assert!(
        screen.contains("160 samples · 10.0 ms at s16le 16 kHz stereo"),
        "{screen}"
    );
    assert!(command(&mut app, "pcm 5").is_empty());
    assert!(
        app.status
            .as_deref()
            .is_some_and(|s| s.contains("1000-384000 Hz"))
    );
    // protobuf, msgpack, cbor do not read a tone: each says so and shows hex; then auto again.
    for name in ["protobuf", "msgpack", "cbor"] {
        update(&mut app, key('v'));
        let screen = render(&app, &dark()).backend().to_string();
        assert!(
            screen.contains(&format!("{name}: does not read this frame")),
            "{screen}"
        );
        assert!(screen.contains("00000000"), "{screen}");
    }
    update(&mut app, key('v'));
    assert!(
        render(&app, &dark())
            .backend()
            .to_string()
            .contains("00000000"),
        "back to auto: hex for audio"
    );
}

fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

#[test]
fn composer_checks_as_you_type_and_sends_on_ctrl_s() {
    let mut app = demo_app((120, 36));
    app.selected = 1; // voice-dev is open
    update(&mut app, key('c'));
    assert!(app.layers.composing);
    type_text(&mut app, "{\"type\": \"ping\", \"id\": ");
    let t = render(&app, &dark());
    let screen = t.backend().to_string();
    assert!(
        screen.contains("Compose · JSON ✗ EOF while parsing"),
        "{screen}"
    );
    insta::assert_snapshot!("composer_json_error", t.backend());
    assert!(update(&mut app, ctrl('s')).is_empty());
    assert!(
        app.status
            .as_deref()
            .is_some_and(|s| s.starts_with("not sent"))
    );
    type_text(&mut app, "{{seq}}, \"who\": \"{{agent}}\"}");
    assert!(
        update(&mut app, ctrl('s')).is_empty(),
        "an unknown variable is refused"
    );
    assert!(
        app.status
            .as_deref()
            .is_some_and(|s| s.contains("unknown variable {{agent}}")),
        "{:?}",
        app.status
    );
    update(&mut app, code(KeyCode::Esc));
    command(&mut app, "set agent voice-1");
    update(&mut app, key('c'));
    let effects = update(&mut app, ctrl('s'));
    let [
        Effect::SendComposed {
            id: 1,
            frame:
                Composed {
                    opcode: Opcode::Text,
                    template,
                    seq: 1,
                    vars,
                    ..
                },
        },
    ] = effects.as_slice()
    else {
        panic!("{effects:?}")
    };
    assert_eq!(
        template,
        "{\"type\": \"ping\", \"id\": {{seq}}, \"who\": \"{{agent}}\"}"
    );
    assert_eq!(vars.get("agent").map(String::as_str), Some("voice-1"));
    assert_eq!(app.composer.text(), "", "the next frame starts empty");
    // hex mode, sent as text on purpose, then as binary
    update(&mut app, ctrl('o'));
    type_text(&mut app, "68 69 0");
    insta::assert_snapshot!("composer_hex_error", render(&app, &dark()).backend());
    update(&mut app, code(KeyCode::Backspace));
    update(&mut app, code(KeyCode::Backspace));
    let effects = update(&mut app, ctrl('s'));
    assert!(
        matches!(&effects[..], [Effect::SendComposed { frame: Composed { opcode: Opcode::Binary, template, seq: 2, .. }, .. }] if template == "68 69")
    );
    update(&mut app, ctrl('p'));
    update(&mut app, ctrl('t'));
    let effects = update(&mut app, ctrl('s'));
    assert!(
        matches!(&effects[..], [Effect::SendComposed { frame: Composed { opcode: Opcode::Text, template, seq: 3, .. }, .. }] if template == "68 69")
    );
    // a closed session refuses, and Esc closes the composer
    app.selected = 0;
    type_text(&mut app, "00");
    assert!(update(&mut app, ctrl('s')).is_empty());
    assert!(
        app.status
            .as_deref()
            .is_some_and(|s| s.contains("not open"))
    );
    update(&mut app, code(KeyCode::Esc));
    assert!(!app.layers.composing);
}

#[test]
fn e_loads_the_selected_frame_into_the_composer() {
    let mut app = demo_app((120, 36));
    for _ in 0..6 {
        update(&mut app, key('k'));
    }
    update(&mut app, key('e'));
    assert!(app.layers.composing);
    assert!(
        app.composer.text().contains("\"item_id\": \"in_0001\""),
        "{}",
        app.composer.text()
    );
}

#[test]
fn composer_sends_a_close_with_code_and_reason() {
    let mut app = demo_app((120, 36));
    app.selected = 1;
    update(&mut app, key('c'));
    update(&mut app, ctrl('o')); // JSON -> hex
    update(&mut app, ctrl('o')); // hex -> base64
    update(&mut app, ctrl('o')); // base64 -> text
    update(&mut app, ctrl('k'));
    update(&mut app, ctrl('k'));
    update(&mut app, ctrl('k'));
    assert_eq!(app.composer.send_as, Opcode::Close);
    type_text(&mut app, "4001 bye now");
    let effects = update(&mut app, ctrl('s'));
    let [
        Effect::SendComposed {
            frame:
                Composed {
                    opcode: Opcode::Close,
                    template,
                    ..
                },
            ..
        },
    ] = effects.as_slice()
    else {
        panic!("{effects:?}")
    };
    assert_eq!(template, "4001 bye now");
    assert_eq!(
        wsdeck::app::composer::encode(wsdeck::app::composer::Mode::Text, Opcode::Close, template)
            .ok(),
        Some(wsdeck::engine::frame::close_payload(4001, "bye now"))
    );
}

#[test]
fn snapshot_replay_progress_and_comparison() {
    let mut app = demo_app((120, 36));
    app.selected = 1;
    let expected = vec![
        frame(
            1,
            1,
            Direction::In,
            Opcode::Text,
            br#"{"type":"pong","id":"x"}"#,
        ),
        frame(
            2,
            2,
            Direction::In,
            Opcode::Text,
            br#"{"type":"count.done","count":3}"#,
        ),
    ];
    update(
        &mut app,
        Event::Replay {
            id: 1,
            event: ReplayEvent::Started {
                file: "voice.jsonl".into(),
                total: 2,
                expected,
                step: false,
            },
        },
    );
    update(
        &mut app,
        Event::Replay {
            id: 1,
            event: ReplayEvent::Progress { sent: 1 },
        },
    );
    let t = render(&app, &dark());
    assert!(
        t.backend()
            .to_string()
            .contains("replay 1/2 0s ▕█████░░░░░▏")
    );
    insta::assert_snapshot!("replay_progress", t.backend());
    assert!(
        command(&mut app, "replay other.jsonl").is_empty(),
        "one replay at a time"
    );
    assert!(
        app.status
            .as_deref()
            .is_some_and(|s| s.contains(":replay stop first"))
    );
    update(
        &mut app,
        Event::Session {
            id: 1,
            event: SessionEvent::Frames(vec![
                frame(
                    10,
                    40,
                    Direction::In,
                    Opcode::Text,
                    br#"{"type":"pong","id":"y"}"#,
                ),
                frame(
                    11,
                    41,
                    Direction::In,
                    Opcode::Text,
                    br#"{"type":"count.done","count":4}"#,
                ),
                frame(12, 42, Direction::In, Opcode::Binary, b"\x00\x01"),
            ]),
        },
    );
    update(
        &mut app,
        Event::Replay {
            id: 1,
            event: ReplayEvent::Progress { sent: 2 },
        },
    );
    update(
        &mut app,
        Event::Replay {
            id: 1,
            event: ReplayEvent::Finished,
        },
    );
    assert_eq!(app.layers.overlay, Some(Overlay::Compare));
    let diffs = app.sessions[1]
        .replay
        .as_ref()
        .and_then(|r| r.diffs.clone())
        .expect("diffs");
    let paths: Vec<&str> = diffs.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        [".count", "frame"],
        "id is ignored by default; the extra binary is a difference"
    );
    insta::assert_snapshot!("replay_comparison", render(&app, &dark()).backend());
    app.layers.overlay = None;
    assert!(
        matches!(
            command(&mut app, "replay other.jsonl").as_slice(),
            [Effect::StartReplay { .. }]
        ),
        "a finished replay makes room for the next"
    );
}

#[test]
fn templates_history_and_snippets_load_into_the_composer() {
    let mut app = demo_app((120, 36));
    // :like lists one template per message type seen; typing narrows; Enter loads it.
    command(&mut app, "like");
    let p = app.layers.picker.as_ref().expect("picker");
    let labels: Vec<&str> = p.items.iter().map(|i| i.label.as_str()).collect();
    assert!(
        labels
            .iter()
            .any(|l| l.starts_with("session.ready  (received")),
        "{labels:?}"
    );
    assert!(
        labels.iter().any(|l| l.starts_with("user.message  (sent")),
        "{labels:?}"
    );
    type_text(&mut app, "user");
    insta::assert_snapshot!("template_picker", render(&app, &dark()).backend());
    update(&mut app, code(KeyCode::Enter));
    assert!(app.layers.composing);
    assert!(app.composer.text().contains("\"item_id\": \"in_0001\""));
    update(&mut app, code(KeyCode::Esc));
    // :like TYPE loads at once.
    command(&mut app, "like response.output_text.delta");
    assert!(
        app.composer.text().contains("\"delta\": \"you \""),
        "{}",
        app.composer.text()
    );
    update(&mut app, code(KeyCode::Esc));

    // Snippets: save the draft (per session, and global), list, load by name, remove.
    let effects = command(&mut app, "snip save greet");
    let [Effect::SaveSnippets(saved)] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(saved[0].session.as_deref(), Some("demo"));
    let effects = command(&mut app, "snip save hello --global");
    assert!(
        matches!(effects.as_slice(), [Effect::SaveSnippets(s)] if s.len() == 2 && s[1].session.is_none())
    );
    command(&mut app, "snip");
    assert_eq!(app.layers.picker.as_ref().map(|p| p.items.len()), Some(2));
    update(&mut app, code(KeyCode::Esc));
    app.composer.set_text(wsdeck::app::composer::Mode::Text, "");
    command(&mut app, "snip greet");
    assert!(
        app.composer.text().contains("delta"),
        "{}",
        app.composer.text()
    );
    update(&mut app, code(KeyCode::Esc));
    let effects = command(&mut app, "snip rm greet");
    assert!(matches!(effects.as_slice(), [Effect::SaveSnippets(s)] if s.len() == 1));

    // History: Ctrl-r in the composer lists what was sent, newest first.
    app.selected = 1;
    update(&mut app, key('c'));
    app.composer
        .set_text(wsdeck::app::composer::Mode::Text, "first");
    update(&mut app, ctrl('s'));
    app.composer
        .set_text(wsdeck::app::composer::Mode::Text, "second");
    update(&mut app, ctrl('s'));
    update(&mut app, ctrl('r'));
    let labels: Vec<String> = app
        .layers
        .picker
        .as_ref()
        .expect("history")
        .items
        .iter()
        .map(|i| i.label.clone())
        .collect();
    assert_eq!(labels, ["second", "first"]);
    type_text(&mut app, "fir");
    update(&mut app, code(KeyCode::Enter));
    assert_eq!(app.composer.text(), "first");
}

#[test]
fn composer_modes_text_base64_file_and_json_reformat() {
    let mut app = demo_app((120, 36));
    app.selected = 1;
    update(&mut app, key('c'));
    type_text(&mut app, "{\"b\": 1, \"a\": [1, 2]}");
    update(&mut app, ctrl('f'));
    assert_eq!(
        app.composer.text(),
        "{\"b\":1,\"a\":[1,2]}",
        "compact, key order kept"
    );
    update(&mut app, ctrl('f'));
    assert!(
        app.composer.text().contains("\n  \"a\": ["),
        "pretty: {}",
        app.composer.text()
    );
    update(&mut app, ctrl('o')); // hex
    update(&mut app, ctrl('o')); // base64
    app.composer
        .set_text(wsdeck::app::composer::Mode::Base64, "AQI*");
    insta::assert_snapshot!("composer_base64_error", render(&app, &dark()).backend());
    update(&mut app, ctrl('o')); // file
    app.composer
        .set_text(wsdeck::app::composer::Mode::File, "/tmp/chunk.pcm");
    let t = render(&app, &dark());
    assert!(
        t.backend().to_string().contains("Compose · file ✓"),
        "{}",
        t.backend()
    );
    insta::assert_snapshot!("composer_file", t.backend());
    let effects = update(&mut app, ctrl('s'));
    assert!(
        matches!(&effects[..], [Effect::SendComposed { frame: Composed { mode: wsdeck::app::composer::Mode::File, opcode: Opcode::Binary, template, .. }, .. }] if template == "/tmp/chunk.pcm")
    );
    update(&mut app, ctrl('o')); // text
    app.composer
        .set_text(wsdeck::app::composer::Mode::Text, "plain words, {not json}");
    insta::assert_snapshot!("composer_text", render(&app, &dark()).backend());
}

#[test]
fn logs_pane_starts_on_an_abnormal_close_and_says_what_happened() {
    let mut app = App::new(vec![Session::new("voice", spec("ws://x/"))]);
    app.config.container_logs_source = wsdeck::monitor::MonitorSource::Azd;
    update(
        &mut app,
        Event::Resize {
            width: 120,
            height: 30,
        },
    );
    update(
        &mut app,
        Event::Session {
            id: 0,
            event: SessionEvent::Connecting {
                at: ms(0),
                wall: SystemTime::UNIX_EPOCH,
                url: "ws://x/".into(),
                session_id: None,
            },
        },
    );
    update(
        &mut app,
        Event::Session {
            id: 0,
            event: SessionEvent::Opened {
                at: ms(1),
                handshake: handshake(),
            },
        },
    );
    let effects = update(
        &mut app,
        Event::Session {
            id: 0,
            event: SessionEvent::Closed {
                at: ms(5),
                info: CloseInfo {
                    code: 1006,
                    reason: String::new(),
                    initiator: Initiator::Transport,
                    clean: false,
                },
            },
        },
    );
    // The platform's id (from x-agent-session-id) is the one the logs know.
    assert_eq!(
        effects,
        vec![Effect::StartContainerLogs {
            id: 0,
            plan: wsdeck::monitor::Plan::Child(
                [
                    "azd",
                    "ai",
                    "agent",
                    "monitor",
                    "--session-id",
                    "0123456789abcdef0123456789abcdef",
                    "--follow"
                ]
                .map(String::from)
                .to_vec()
            )
        }]
    );
    update(
        &mut app,
        Event::ContainerLogs {
            id: 0,
            event: ContainerLogsEvent::Lines(vec![
                wsdeck::monitor::LogLine {
                    stream: wsdeck::monitor::Stream::Stderr,
                    at: Some("09:41:05".into()),
                    text: "Streaming session logs for voice (session: 0123…)...".into(),
                },
                wsdeck::monitor::LogLine::from_command(
                    wsdeck::monitor::Stream::Stdout,
                    "09:41:07  stderr  RuntimeError: boom".into(),
                ),
            ]),
        },
    );
    update(
        &mut app,
        Event::ContainerLogs {
            id: 0,
            event: ContainerLogsEvent::Ended {
                message:
                    "azd is not installed (not found on PATH): install the Azure Developer CLI"
                        .into(),
            },
        },
    );
    insta::assert_snapshot!("logs_pane", render(&app, &dark()).backend());
    // A clean close starts nothing; :logs stop stops.
    let mut clean = App::new(vec![Session::new("v", spec("ws://x/"))]);
    let effects = update(
        &mut clean,
        Event::Session {
            id: 0,
            event: SessionEvent::Closed {
                at: ms(5),
                info: CloseInfo {
                    code: 1000,
                    reason: String::new(),
                    initiator: Initiator::Server,
                    clean: true,
                },
            },
        },
    );
    assert!(effects.is_empty());
    assert_eq!(
        command(&mut app, "logs stop"),
        vec![Effect::StopContainerLogs { id: 0 }]
    );
}

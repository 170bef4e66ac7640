//! Snapshots of the vocabulary work on screen: the vocabulary pane, the reply column, each
//! decoder's detail view and a frame that breaks the agent's published schema.

use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, SystemTime};
use wsdeck::app::{App, Event, Session, update};
use wsdeck::engine::session::{Handshake, SessionEvent};
use wsdeck::engine::target::{ConnectSpec, Target};
use wsdeck::engine::{Direction, Frame, Opcode};
use wsdeck::ui::theme::Theme;
use wsdeck::vocab::asyncapi::{Discovery, parse_json};

fn press(app: &mut App, c: char) {
    update(
        app,
        Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
    );
}

fn code(app: &mut App, k: KeyCode) {
    update(app, Event::Key(KeyEvent::new(k, KeyModifiers::NONE)));
}

fn render(app: &App) -> Terminal<TestBackend> {
    let (w, h) = app.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let theme = Theme::load("dark", None).expect("theme");
    t.draw(|c| wsdeck::ui::draw(c, app, &theme)).expect("draw");
    t
}

fn frame(seq: u64, ms: u64, dir: Direction, opcode: Opcode, payload: &[u8]) -> Frame {
    Frame {
        seq,
        at: Duration::from_millis(ms),
        dir,
        opcode,
        payload: Bytes::copy_from_slice(payload),
    }
}

/// A session that connected at a fixed time and saw these frames.
fn app_with(frames: Vec<Frame>) -> App {
    let mut spec =
        ConnectSpec::new(Target::url("ws://127.0.0.1:8088/invocations_ws").expect("url"));
    spec.session_id = Some("0123456789abcdef0123456789abcdef".into());
    let mut app = App::new(vec![Session::new("voice", spec)]);
    update(
        &mut app,
        Event::Resize {
            width: 120,
            height: 36,
        },
    );
    let events = vec![
        SessionEvent::Connecting {
            at: Duration::ZERO,
            wall: SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_064_800),
            url: "ws://127.0.0.1:8088/invocations_ws".into(),
            session_id: None,
        },
        SessionEvent::Opened {
            at: Duration::from_millis(2),
            handshake: Handshake {
                url: "ws://127.0.0.1:8088/invocations_ws".into(),
                request_headers: vec![],
                status: 101,
                response_headers: vec![],
                platform_session_id: None,
                subprotocol: None,
            },
        },
        SessionEvent::Frames(frames),
    ];
    for event in events {
        update(&mut app, Event::Session { id: 0, event });
    }
    app
}

/// PLATFORM.md's Voice Live Bridge exchange, as wsdeck would see it.
fn voice_exchange() -> Vec<Frame> {
    use Direction::{In, Out};
    let t = Opcode::Text;
    vec![
        frame(1, 10, Out, t, br#"{"type":"session.start","id":"m_1","ts":"2026-11-25T09:37:47.240Z","protocol_version":"1.0","reconnect":false,"response_timeouts":{"first_output_ms":5000,"idle_ms":3000,"max_duration_ms":60000}}"#),
        frame(2, 14, In, t, br#"{"type":"session.ready","id":"m_e16c","ts":"2026-11-25T09:37:47.244Z"}"#),
        frame(3, 1010, Out, t, br#"{"type":"user.message","id":"m_2","ts":"2026-11-25T09:37:48.246Z","item_id":"in_0001","content":[{"type":"input_text","text":"hello"}]}"#),
        frame(4, 1052, In, t, br#"{"type":"response.created","id":"m_a1","ts":"2026-11-25T09:37:48.288Z","response_id":"r_be3c","in_reply_to":["in_0001"]}"#),
        frame(5, 1060, In, t, br#"{"type":"response.output_text.delta","id":"m_a2","ts":"2026-11-25T09:37:48.296Z","response_id":"r_be3c","item_id":"it_068e","delta":"you "}"#),
        frame(6, 1075, In, t, br#"{"type":"response.output_text.delta","id":"m_a3","ts":"2026-11-25T09:37:48.311Z","response_id":"r_be3c","item_id":"it_068e","delta":"said: hello"}"#),
        frame(7, 1090, In, t, br#"{"type":"response.output_text.done","id":"m_a4","ts":"2026-11-25T09:37:48.326Z","response_id":"r_be3c","item_id":"it_068e","text":"you said: hello"}"#),
        frame(8, 1110, In, t, br#"{"type":"response.done","id":"m_a5","ts":"2026-11-25T09:37:48.346Z","response_id":"r_be3c"}"#),
    ]
}

#[test]
fn snapshot_the_vocabulary_pane_and_its_keys() {
    let mut app = app_with(voice_exchange());
    press(&mut app, 'V');
    let t = render(&app);
    let screen = t.backend().to_string();
    assert!(
        screen.contains("Vocabulary · 7 types in 8 frames · by \"type\""),
        "{screen}"
    );
    insta::assert_snapshot!("vocab_pane", t.backend());
    // Down to user.message: its fields, what follows it, the time to its first reply.
    press(&mut app, 'j');
    let t = render(&app);
    let screen = t.backend().to_string();
    assert!(screen.contains("out user.message"), "{screen}");
    assert!(screen.contains("content[].text"), "{screen}");
    assert!(
        screen.contains("then → in response.created (1)"),
        "{screen}"
    );
    assert!(
        screen.contains("first reply: n 1 · p50 42.0 ms"),
        "{screen}"
    );
    insta::assert_snapshot!("vocab_pane_user_message", t.backend());
    // e: a new frame like it, required fields only, fresh ids and now.
    press(&mut app, 'e');
    assert!(app.layers.composing);
    let draft = app.composer.text();
    assert!(draft.contains("\"id\": \"m_{{uuid}}\""), "{draft}");
    assert!(draft.contains("\"item_id\": \"in_{{uuid}}\""), "{draft}");
    assert!(draft.contains("\"ts\": \"{{now}}\""), "{draft}");
    code(&mut app, KeyCode::Esc);
    // Enter (the pane still has the focus): the frame log filtered to the type.
    code(&mut app, KeyCode::Enter);
    let s = &app.sessions[0];
    assert_eq!(
        s.view_len(),
        3,
        "user.message plus the open and connect rows"
    );
    let f = s.view.filter.as_ref().map(|f| f.source.clone());
    assert_eq!(f.as_deref(), Some("out .[\"type\"] == \"user.message\""));
}

#[test]
fn snapshot_the_reply_column() {
    let mut app = app_with(voice_exchange());
    press(&mut app, 'L');
    let t = render(&app);
    let screen = t.backend().to_string();
    assert!(screen.contains("↩ 42.0/100 ms"), "{screen}");
    insta::assert_snapshot!("reply_column", t.backend());
}

#[test]
fn snapshot_each_decoder_view() {
    // Standard encodings of small messages: protobuf {1: "hi", 2: 150, 3: {1: 7}},
    // MessagePack and CBOR of {"op": "move", "x": 3, "tags": ["a", "b"]}.
    let protobuf: &[u8] = &[
        0x0a, 0x02, b'h', b'i', 0x10, 0x96, 0x01, 0x1a, 0x02, 0x08, 0x07,
    ];
    let msgpack: &[u8] = &[
        0x83, 0xa2, b'o', b'p', 0xa4, b'm', b'o', b'v', b'e', 0xa1, b'x', 0x03, 0xa4, b't', b'a',
        b'g', b's', 0x92, 0xa1, b'a', 0xa1, b'b',
    ];
    let cbor: &[u8] = &[
        0xa3, 0x62, b'o', b'p', 0x64, b'm', b'o', b'v', b'e', 0x61, b'x', 0x03, 0x64, b't', b'a',
        b'g', b's', 0x82, 0x61, b'a', 0x61, b'b',
    ];
    let mut app = app_with(vec![
        frame(1, 5, Direction::In, Opcode::Binary, protobuf),
        frame(2, 6, Direction::In, Opcode::Binary, msgpack),
        frame(3, 7, Direction::In, Opcode::Binary, cbor),
    ]);
    // The cursor is on the last frame (following); auto reads each as its own format.
    for (name, up) in [("cbor", 0), ("msgpack", 1), ("protobuf", 1)] {
        for _ in 0..up {
            press(&mut app, 'k');
        }
        let t = render(&app);
        let screen = t.backend().to_string();
        assert!(
            screen.contains(&format!("{name} (auto)")),
            "{name}: {screen}"
        );
        insta::assert_snapshot!(format!("decoded_{name}"), t.backend());
    }
    // Chosen by hand: protobuf (v three times: hex, pcm, protobuf) on the protobuf frame.
    for _ in 0..3 {
        press(&mut app, 'v');
    }
    let screen = render(&app).backend().to_string();
    assert!(screen.contains("· protobuf (v)"), "{screen}");
    assert!(screen.contains("\"hi\""), "{screen}");
    // The vocabulary of binary frames: their leading bytes and sizes.
    press(&mut app, 'V');
    let screen = render(&app).backend().to_string();
    assert!(screen.contains("in (binary) · 3×"), "{screen}");
    assert!(screen.contains("magic 0a026869"), "{screen}");
    assert!(screen.contains("magic 83a26f70"), "{screen}");
}

#[test]
fn snapshot_a_frame_that_breaks_the_published_schema() {
    let doc = r##"{"asyncapi":"3.0.0","info":{"title":"wsdeck echo agent","version":"1.0.0"},
      "channels":{"ws":{"address":"/invocations_ws","messages":{
        "whoami":{"name":"whoami","contentType":"application/json","payload":{"type":"object",
          "required":["type"],"properties":{"type":{"const":"whoami"},"query":{"type":"string"}}}}}}},
      "operations":{"toAgent":{"action":"receive","channel":{"$ref":"#/channels/ws"},
        "messages":[{"$ref":"#/channels/ws/messages/whoami"}]}}}"##;
    let document = parse_json(doc).expect("document");
    let mut app = app_with(vec![
        frame(
            1,
            5,
            Direction::Out,
            Opcode::Text,
            br#"{"type":"whoami","query":"me"}"#,
        ),
        frame(
            2,
            6,
            Direction::Out,
            Opcode::Text,
            br#"{"type":"whoami","query":5}"#,
        ),
    ]);
    update(
        &mut app,
        Event::Discovered {
            id: 0,
            result: Ok(Discovery::Found {
                url: "http://127.0.0.1:8088/invocations/docs/asyncapi.json".into(),
                document,
            }),
        },
    );
    let t = render(&app);
    let screen = t.backend().to_string();
    assert!(screen.contains("✗ whoami"), "{screen}");
    assert!(
        screen.contains("/query type: \"string\" expected, got integer"),
        "{screen}"
    );
    insta::assert_snapshot!("schema_misfit", t.backend());
}

#[test]
fn proto_files_name_the_fields_of_protobuf_frames() {
    // message Hello { string text = 1; int32 n = 2; Inner inner = 3; } message Inner { int32 v = 1; }
    let protobuf: &[u8] = &[
        0x0a, 0x02, b'h', b'i', 0x10, 0x96, 0x01, 0x1a, 0x02, 0x08, 0x07,
    ];
    let mut app = app_with(vec![frame(1, 5, Direction::In, Opcode::Binary, protobuf)]);
    let text = "syntax = \"proto3\";\npackage demo;\nmessage Hello { string text = 1; int32 n = 2; Inner inner = 3; }\nmessage Inner { int32 v = 1; }\n";
    let schema =
        wsdeck::decode::proto_schema::ProtoSchema::parse(text, "hello.proto").expect("proto");
    update(
        &mut app,
        Event::ProtoLoaded {
            id: 0,
            result: Ok(wsdeck::app::session::ProtoView {
                schema,
                message: Some("Hello".into()),
                files: vec!["hello.proto".into()],
            }),
        },
    );
    let screen = render(&app).backend().to_string();
    assert!(screen.contains("protobuf demo.Hello"), "{screen}");
    assert!(screen.contains("text (1)"), "{screen}");
    assert!(screen.contains("inner (3)"), "{screen}");
    // A .proto that does not parse is said, and changes nothing.
    update(
        &mut app,
        Event::ProtoLoaded {
            id: 0,
            result: Err("bad.proto:1:9: expected `=`".into()),
        },
    );
    assert!(
        app.status
            .as_deref()
            .is_some_and(|s| s.starts_with(":proto: bad.proto:1:9"))
    );
    assert!(app.sessions[0].proto.is_some());
}

//! The console around an abnormal close: each close class as the user sees it, the logs pane
//! (focus, search, the jump back to the close), keepalive round trips, and the automatic
//! reconnect's countdown. Pure update plus TestBackend snapshots.

use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, SystemTime};
use wsdeck::app::{App, ContainerLogsEvent, Effect, Event, Pane, Session, update};
use wsdeck::engine::close::Initiator;
use wsdeck::engine::session::{CloseInfo, Handshake, SessionCommand, SessionEvent};
use wsdeck::engine::target::{ConnectSpec, Target};
use wsdeck::engine::{Direction, Frame, Opcode};
use wsdeck::monitor::{LogLine, MonitorSource, Plan, Stream};
use wsdeck::ui::theme::Theme;

const SID: &str = "0123456789abcdef0123456789abcdef";

fn key(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(k: KeyCode) -> Event {
    Event::Key(KeyEvent::new(k, KeyModifiers::NONE))
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

fn render(app: &App) -> Terminal<TestBackend> {
    let (w, h) = app.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let theme = Theme::load("dark", None).expect("theme");
    t.draw(|c| wsdeck::ui::draw(c, app, &theme)).expect("draw");
    t
}

fn session_event(app: &mut App, event: SessionEvent) -> Vec<Effect> {
    update(app, Event::Session { id: 0, event })
}

/// One session, open, two frames exchanged; logs read with azd (a fixed command line).
fn open_app(size: (u16, u16)) -> App {
    let mut spec = ConnectSpec::new(Target::local(8088));
    spec.session_id = Some(SID.into());
    let mut app = App::new(vec![Session::new("agent", spec)]);
    app.config.container_logs_source = MonitorSource::Azd;
    update(
        &mut app,
        Event::Resize {
            width: size.0,
            height: size.1,
        },
    );
    session_event(
        &mut app,
        SessionEvent::Connecting {
            at: ms(0),
            wall: SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_064_800),
            url: format!("ws://localhost:8088/invocations_ws?agent_session_id={SID}"),
            session_id: Some(SID.into()),
        },
    );
    session_event(
        &mut app,
        SessionEvent::Opened {
            at: ms(4),
            handshake: Handshake {
                url: format!("ws://localhost:8088/invocations_ws?agent_session_id={SID}"),
                request_headers: vec![],
                status: 101,
                response_headers: vec![],
                platform_session_id: None,
                subprotocol: None,
            },
        },
    );
    session_event(
        &mut app,
        SessionEvent::Frames(vec![
            frame(1, 10, Direction::Out, Opcode::Text, br#"{"type":"raise"}"#),
            frame(2, 12, Direction::In, Opcode::Text, br#"{"type":"ack"}"#),
        ]),
    );
    app
}

struct Class {
    name: &'static str,
    frames: Vec<Frame>,
    warning: Option<&'static str>,
    info: CloseInfo,
}

fn close_frames(code: u16, reason: &str, first: Direction) -> Vec<Frame> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason.as_bytes());
    let other = match first {
        Direction::In => Direction::Out,
        Direction::Out => Direction::In,
    };
    vec![
        frame(3, 20, first, Opcode::Close, &p),
        frame(4, 21, other, Opcode::Close, &code.to_be_bytes()),
    ]
}

fn info(code: u16, reason: &str, initiator: Initiator, clean: bool) -> CloseInfo {
    CloseInfo {
        code,
        reason: reason.into(),
        initiator,
        clean,
    }
}

/// Every close class the engine reports, drawn with the close row selected: the log row, the
/// detail's explanation, the sessions list, the status bar, and (when abnormal) the logs pane.
#[test]
fn snapshot_each_close_class() {
    use Direction::{In, Out};
    let classes = vec![
        Class {
            name: "1000_clean_by_the_server",
            frames: close_frames(1000, "", In),
            warning: None,
            info: info(1000, "", Initiator::Server, true),
        },
        Class {
            name: "1000_clean_by_wsdeck",
            frames: close_frames(1000, "", Out),
            warning: None,
            info: info(1000, "", Initiator::Client, true),
        },
        Class {
            name: "1001_going_away",
            frames: close_frames(1001, "shutting down", In),
            warning: None,
            info: info(1001, "shutting down", Initiator::Server, true),
        },
        Class {
            name: "1002_protocol_error_by_wsdeck",
            frames: close_frames(1002, "", Out),
            warning: Some("protocol error: reserved bits are non-zero; closing with 1002"),
            info: info(1002, "", Initiator::Client, false),
        },
        Class {
            name: "1005_no_status",
            frames: vec![frame(3, 20, In, Opcode::Close, b"")],
            warning: None,
            info: info(1005, "", Initiator::Server, false),
        },
        Class {
            name: "1006_transport_dropped",
            frames: vec![],
            warning: None,
            info: info(1006, "", Initiator::Transport, false),
        },
        Class {
            name: "1007_invalid_utf8",
            frames: close_frames(1007, "", Out),
            warning: Some("a text frame was not valid UTF-8: closing with 1007"),
            info: info(1007, "", Initiator::Client, false),
        },
        Class {
            name: "1009_too_big",
            frames: close_frames(1009, "", Out),
            warning: Some("a message over the 16 MiB limit: closing with 1009"),
            info: info(1009, "", Initiator::Client, false),
        },
        Class {
            name: "1011_handler_raised",
            frames: close_frames(1011, "Internal server error", In),
            warning: None,
            info: info(1011, "Internal server error", Initiator::Server, false),
        },
        Class {
            name: "1013_try_again_later",
            frames: close_frames(1013, "", In),
            warning: None,
            info: info(1013, "", Initiator::Server, false),
        },
        Class {
            name: "4001_application",
            frames: close_frames(4001, "session expired", In),
            warning: None,
            info: info(4001, "session expired", Initiator::Server, false),
        },
        Class {
            name: "1000_unanswered_by_the_peer",
            frames: vec![frame(3, 20, Out, Opcode::Close, &1000u16.to_be_bytes())],
            warning: Some("the peer did not answer our close frame within 5s"),
            info: info(1000, "", Initiator::Client, false),
        },
    ];
    for c in classes {
        let mut app = open_app((100, 26));
        session_event(&mut app, SessionEvent::Frames(c.frames));
        if let Some(w) = c.warning {
            session_event(
                &mut app,
                SessionEvent::Warning {
                    at: ms(20),
                    message: w.into(),
                },
            );
        }
        let effects = session_event(
            &mut app,
            SessionEvent::Closed {
                at: ms(25),
                info: c.info.clone(),
            },
        );
        let abnormal = !c.info.clean;
        assert_eq!(
            effects
                .iter()
                .any(|e| matches!(e, Effect::StartContainerLogs { .. })),
            abnormal,
            "{}: the logs start exactly when the close is abnormal",
            c.name
        );
        insta::assert_snapshot!(format!("close_{}", c.name), render(&app).backend());
    }
}

fn log_lines() -> Vec<LogLine> {
    let l = |at: &str, stream, text: &str| LogLine {
        stream,
        at: Some(at.into()),
        text: text.into(),
    };
    vec![
        l(
            "09:41:05",
            Stream::Stderr,
            &format!("Streaming session logs for agent (session: {SID})..."),
        ),
        l(
            "2026-11-25T09:41:06.120Z",
            Stream::Status,
            "session: state Running · agent echo · version 3",
        ),
        l("09:41:06", Stream::Stdout, "INFO: ws accepted"),
        l(
            "09:41:07",
            Stream::Stderr,
            "Traceback (most recent call last):",
        ),
        l(
            "09:41:07",
            Stream::Stderr,
            "  File \"agent.py\", line 42, in echo",
        ),
        l("09:41:07", Stream::Stderr, "RuntimeError: boom requested"),
        l("09:41:07", Stream::Stdout, "INFO: connection closed"),
        l(
            "09:41:09",
            Stream::Status,
            "the log stream dropped: connection reset; reconnecting in 1 s",
        ),
    ]
}

/// The pane beside the detail, then focused (full width) with a search hit; Enter goes back to
/// the close row; l hides it and Tab no longer stops there.
#[test]
fn logs_pane_focus_search_jump_back_and_hide() {
    let mut app = open_app((100, 28));
    let effects = session_event(
        &mut app,
        SessionEvent::Closed {
            at: ms(25),
            info: info(1011, "Internal server error", Initiator::Server, false),
        },
    );
    assert!(matches!(
        effects.as_slice(),
        [Effect::StartContainerLogs { id: 0, plan: Plan::Child(argv) }] if argv.join(" ") == format!("azd ai agent monitor --session-id {SID} --follow")
    ));
    update(
        &mut app,
        Event::ContainerLogs {
            id: 0,
            event: ContainerLogsEvent::Lines(log_lines()),
        },
    );
    insta::assert_snapshot!("logs_beside_detail", render(&app).backend());
    let close_row = app.sessions[0].log.len() - 1;
    assert_eq!(app.sessions[0].selected_row_index(), Some(close_row));

    // l from the close row: focus the logs, landing where the crash starts.
    update(&mut app, key('l'));
    assert_eq!(app.focus, Pane::Logs);
    let logs = app.sessions[0].container_logs.as_ref().expect("logs");
    assert_eq!(
        logs.lines[logs.cursor].text,
        "Traceback (most recent call last):"
    );
    // Search the log lines.
    update(&mut app, key('/'));
    for c in "runtimeerror".chars() {
        update(&mut app, key(c));
    }
    update(&mut app, code(KeyCode::Enter));
    let logs = app.sessions[0].container_logs.as_ref().expect("logs");
    assert_eq!(logs.lines[logs.cursor].text, "RuntimeError: boom requested");
    assert_eq!(
        app.status.as_deref(),
        Some("/runtimeerror: log line 6 of 8")
    );
    insta::assert_snapshot!("logs_focused_with_search", render(&app).backend());
    // G follows again; k moves up.
    update(&mut app, key('G'));
    assert!(
        app.sessions[0]
            .container_logs
            .as_ref()
            .is_some_and(|l| l.follow && l.cursor == 7)
    );
    update(&mut app, key('k'));
    assert!(
        app.sessions[0]
            .container_logs
            .as_ref()
            .is_some_and(|l| !l.follow && l.cursor == 6)
    );

    // Enter: back to the close that started it, in the frames.
    update(&mut app, key('k'));
    update(&mut app, code(KeyCode::Enter));
    assert_eq!(app.focus, Pane::Frames);
    assert_eq!(app.sessions[0].selected_row_index(), Some(close_row));

    // l from the frames focuses the logs again; l there hides them (the reader goes on).
    update(&mut app, key('l'));
    assert_eq!(app.focus, Pane::Logs);
    assert_eq!(update(&mut app, key('l')), vec![]);
    assert_eq!(app.focus, Pane::Frames);
    assert!(
        app.sessions[0]
            .container_logs
            .as_ref()
            .is_some_and(|l| l.hidden && l.running)
    );
    update(&mut app, code(KeyCode::Tab));
    update(&mut app, code(KeyCode::Tab));
    assert_eq!(
        app.focus,
        Pane::Sessions,
        "a hidden pane is not in the Tab cycle"
    );
    assert!(!render(&app).backend().to_string().contains("Logs ·"));
    // :logs stop stops the reader; the message says so.
    update(&mut app, key(':'));
    for c in "logs stop".chars() {
        update(&mut app, key(c));
    }
    assert_eq!(
        update(&mut app, code(KeyCode::Enter)),
        vec![Effect::StopContainerLogs { id: 0 }]
    );
}

/// `l` on a session with no logs yet starts a reader by hand; on a narrow terminal the pane takes
/// the detail's place.
#[test]
fn logs_by_hand_and_on_a_small_terminal() {
    let mut app = open_app((80, 24));
    let effects = update(&mut app, key('l'));
    assert!(matches!(
        effects.as_slice(),
        [Effect::StartContainerLogs { id: 0, .. }]
    ));
    assert_eq!(app.focus, Pane::Logs);
    update(
        &mut app,
        Event::ContainerLogs {
            id: 0,
            event: ContainerLogsEvent::Lines(log_lines()),
        },
    );
    update(
        &mut app,
        Event::ContainerLogs {
            id: 0,
            event: ContainerLogsEvent::Ended {
                message: "the log source exited with status 1".into(),
            },
        },
    );
    insta::assert_snapshot!("logs_80x24", render(&app).backend());
    // Started by hand: Enter has no close to go back to, and says so.
    update(&mut app, code(KeyCode::Enter));
    assert_eq!(
        app.status.as_deref(),
        Some("these logs were started by hand, not by a close")
    );
}

/// Keepalive: :ping sets the interval (the running actor is told), pongs show their round
/// trip, and :pings hide takes pings and pongs out of the log.
#[test]
fn keepalive_round_trips_and_hiding_pings() {
    let mut app = open_app((100, 20));
    update(&mut app, Event::Started { id: 0, at: ms(0) });
    update(&mut app, key(':'));
    for c in "ping 5".chars() {
        update(&mut app, key(c));
    }
    assert_eq!(
        update(&mut app, code(KeyCode::Enter)),
        vec![Effect::ToSession(
            0,
            SessionCommand::Keepalive(Some(Duration::from_secs(5)))
        )]
    );
    session_event(
        &mut app,
        SessionEvent::Frames(vec![
            frame(3, 5012, Direction::Out, Opcode::Ping, b"wsdeck-keepalive-1"),
            frame(4, 5014, Direction::In, Opcode::Pong, b"wsdeck-keepalive-1"),
            frame(5, 7000, Direction::In, Opcode::Ping, b"agent-ping"),
            frame(6, 7000, Direction::Out, Opcode::Pong, b"agent-ping"),
        ]),
    );
    let screen = render(&app).backend().to_string();
    assert!(
        screen.contains("rtt 2.00 ms  wsdeck-keepalive-1"),
        "{screen}"
    );
    assert!(
        screen.contains("● open 00:00:00  rtt 2.00 ms"),
        "the title bar: {screen}"
    );
    insta::assert_snapshot!("keepalive_rtt", render(&app).backend());
    update(&mut app, key(':'));
    for c in "pings hide".chars() {
        update(&mut app, key(c));
    }
    update(&mut app, code(KeyCode::Enter));
    let s = &app.sessions[0];
    assert_eq!(
        s.view.filter.as_ref().map(|f| f.source.as_str()),
        Some("-ping")
    );
    assert_eq!(
        s.view_len(),
        s.log.len() - 4,
        "the four ping/pong rows are hidden"
    );
    update(&mut app, key(':'));
    for c in "pings show".chars() {
        update(&mut app, key(c));
    }
    update(&mut app, code(KeyCode::Enter));
    assert!(app.sessions[0].view.filter.is_none());
}

/// Off by default; :autoreconnect on plans an attempt after an abnormal close with a visible
/// countdown, the tick that reaches it reconnects with the same id, a failed attempt waits
/// longer, an open resets, and x cancels a countdown.
#[test]
fn automatic_reconnect_counts_down_backs_off_and_cancels() {
    let mut app = open_app((100, 20));
    update(&mut app, Event::Started { id: 0, at: ms(0) });
    let abnormal = |app: &mut App, at: u64| {
        session_event(
            app,
            SessionEvent::Closed {
                at: ms(at),
                info: info(1006, "", Initiator::Transport, false),
            },
        )
    };
    abnormal(&mut app, 100);
    assert_eq!(app.sessions[0].auto_reconnect.due, None, "off by default");

    // Back to open, turn it on, drop again.
    session_event(
        &mut app,
        SessionEvent::Opened {
            at: ms(200),
            handshake: Handshake {
                url: String::new(),
                request_headers: vec![],
                status: 101,
                response_headers: vec![],
                platform_session_id: None,
                subprotocol: None,
            },
        },
    );
    update(&mut app, key(':'));
    for c in "autoreconnect on".chars() {
        update(&mut app, key(c));
    }
    update(&mut app, code(KeyCode::Enter));
    abnormal(&mut app, 1_000);
    update(&mut app, Event::Tick(ms(1_200)));
    let screen = render(&app).backend().to_string();
    assert!(
        screen.contains("↻ reconnecting in 1s (attempt 1, x cancels)"),
        "{screen}"
    );
    assert!(
        screen.contains("↻1s"),
        "the sessions list counts down too: {screen}"
    );
    insta::assert_snapshot!("auto_reconnect_countdown", render(&app).backend());
    assert_eq!(
        update(&mut app, Event::Tick(ms(2_000))),
        vec![Effect::ToSession(
            0,
            SessionCommand::Reconnect { new_id: false }
        )]
    );
    // The attempt fails: the next waits 2 s.
    session_event(
        &mut app,
        SessionEvent::Failed {
            at: ms(2_100),
            error: wsdeck::engine::diagnose::ConnectError::Timeout {
                phase: "TCP connect",
                after: Duration::from_secs(15),
            },
            request: None,
        },
    );
    assert_eq!(app.sessions[0].auto_reconnect.due, Some(ms(4_100)));
    assert_eq!(update(&mut app, Event::Tick(ms(3_000))), vec![]);
    // x cancels the countdown.
    for _ in 0..4 {
        if app.focus != Pane::Sessions {
            update(&mut app, code(KeyCode::Tab));
        }
    }
    assert_eq!(app.focus, Pane::Sessions);
    assert_eq!(update(&mut app, key('x')), vec![]);
    assert_eq!(app.sessions[0].auto_reconnect.due, None);
    assert_eq!(update(&mut app, Event::Tick(ms(9_000))), vec![]);
    assert_eq!(
        app.status.as_deref(),
        Some("agent: automatic reconnect cancelled")
    );
    // A close we asked for never reconnects by itself.
    session_event(
        &mut app,
        SessionEvent::Closed {
            at: ms(9_500),
            info: info(4000, "bye", Initiator::Client, false),
        },
    );
    assert_eq!(app.sessions[0].auto_reconnect.due, None);
}

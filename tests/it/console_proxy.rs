//! Proxy sessions in the console: the real event loop on a TestBackend runs a proxy in front of
//! the real SDK echo agent, two tokio-tungstenite clients connect through it, each appears as a
//! session of its own under the proxy, and the composer injects toward the client and the agent.
//! The snapshots draw the same picture from fixed events.

use crate::console_support::{Console, key, wait_for};
use crate::support::Agent;
use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use futures_util::{SinkExt, StreamExt};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, SystemTime};
use tokio_tungstenite::tungstenite::Message;
use wsdeck::app::proxy::{ProxyNote, ProxySetup};
use wsdeck::app::{App, ConnState, Effect, Event, Session, update};
use wsdeck::engine::session::{CloseInfo, Handshake, SessionEvent};
use wsdeck::engine::target::{ConnectSpec, Target};
use wsdeck::engine::{Direction, Frame, Opcode};
use wsdeck::proxy::ClientRequest;
use wsdeck::ui::theme::Theme;

fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn typed(text: &str) -> Vec<Event> {
    text.chars().map(|c| key(KeyCode::Char(c))).collect()
}

fn proxy_session(url: &str, listen: &str) -> Session {
    let mut spec = ConnectSpec::new(Target::url(url).expect("url"));
    spec.session_id = Some("proxy-own-id".into());
    let mut s = Session::new("browser", spec);
    s.proxy = Some(ProxySetup::new(listen, vec![], false).expect("setup"));
    s
}

/// The port in "ws://127.0.0.1:PORT/" on the screen.
fn listen_addr(screen: &str) -> String {
    let at = screen
        .find("ws://127.0.0.1:")
        .expect("an address on screen")
        + 5;
    let rest = &screen[at..];
    let end = rest.find('/').expect("the address ends");
    rest[..end].to_string()
}

async fn next_data(ws: &mut crate::proxy::Client) -> Message {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message in time")
            .expect("open")
            .expect("read");
        if !matches!(m, Message::Ping(_) | Message::Pong(_)) {
            return m;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_clients_through_a_proxy_session_and_frames_injected_both_ways() {
    let agent = tokio::task::spawn_blocking(|| Agent::start("echo_agent.py"))
        .await
        .expect("agent");
    let app = App::new(vec![proxy_session(&agent.url(), "127.0.0.1:0")]);
    let console = Console::start(
        app,
        (150, 40),
        wsdeck::tui::LoopOptions {
            connect_now: vec![0],
            ..Default::default()
        },
    );
    let mut screens = console.screens.clone();
    let screen = wait_for(&mut screens, "listening on ws://").await;
    let addr = listen_addr(&screen);

    let (mut alpha, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/?agent_session_id=alpha"))
            .await
            .expect("alpha connects");
    alpha.send(Message::text("from alpha")).await.expect("send");
    assert_eq!(next_data(&mut alpha).await, Message::text("from alpha"));
    wait_for(&mut screens, "browser#1").await;
    let (mut beta, _) = tokio_tungstenite::connect_async(format!(
        "ws://{addr}/invocations_ws?agent_session_id=beta"
    ))
    .await
    .expect("beta connects");
    beta.send(Message::binary(vec![0xbe, 0x7a]))
        .await
        .expect("send");
    assert_eq!(
        next_data(&mut beta).await,
        Message::binary(vec![0xbe, 0x7a])
    );
    let screen = wait_for(&mut screens, "browser#2").await;
    assert!(screen.contains("└ ● browser#1"), "{screen}");
    assert!(screen.contains("◉ browser"), "{screen}");

    // To alpha's session, and compose toward its client.
    console
        .press(vec![key(KeyCode::BackTab), key(KeyCode::Char('j'))])
        .await;
    let screen = wait_for(&mut screens, "Frames · browser#1").await;
    assert!(screen.contains("from alpha"), "{screen}");
    console.press(vec![key(KeyCode::Char('c'))]).await;
    wait_for(&mut screens, "JSON → agent").await;
    console.press(vec![ctrl('g')]).await;
    wait_for(&mut screens, "JSON → client").await;
    console.press(typed("{\"injected\":\"to the page\"}")).await;
    console.press(vec![ctrl('s')]).await;
    assert_eq!(
        next_data(&mut alpha).await,
        Message::text("{\"injected\":\"to the page\"}")
    );
    // Then toward the agent: its echo reaches the client as a relayed frame.
    console.press(vec![ctrl('g')]).await;
    wait_for(&mut screens, "JSON → agent").await;
    console.press(typed("{\"asked\":\"by wsdeck\"}")).await;
    console.press(vec![ctrl('s')]).await;
    assert_eq!(
        next_data(&mut alpha).await,
        Message::text("{\"asked\":\"by wsdeck\"}")
    );
    console.press(vec![key(KeyCode::Esc)]).await;
    // Both injected frames are marked; the agent's echo of the second is not.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let screen = loop {
        let screen = screens.borrow_and_update().clone();
        if screen.matches("✎ injected").count() == 2
            && screen.matches(r#"{"asked":"by wsdeck"}"#).count() == 2
        {
            break screen;
        }
        if tokio::time::timeout_at(deadline, screens.changed())
            .await
            .is_err()
        {
            panic!("two injected rows and the echo never showed; last screen:\n{screen}");
        }
    };
    let rows: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains(r#"{"asked":"by wsdeck"}"#))
        .collect();
    assert!(
        rows[0].contains("▲") && rows[0].contains("✎ injected"),
        "{screen}"
    );
    assert!(rows[1].contains("▼") && !rows[1].contains("✎"), "{screen}");
    assert!(
        screen
            .lines()
            .any(|l| l.contains("▼") && l.contains("✎ injected") && l.contains("to the page")),
        "{screen}"
    );

    let app = console.quit().await;
    let names: Vec<&str> = app.sessions.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["browser", "browser#1", "browser#2"]);
    let (a, b) = (&app.sessions[1], &app.sessions[2]);
    assert_eq!(a.spec.session_id.as_deref(), Some("alpha"));
    assert_eq!(b.spec.session_id.as_deref(), Some("beta"));
    assert_eq!(a.injected.len(), 2, "both injected frames are marked");
    // alpha: its text and the echo, the frame injected toward it, the one toward the agent and
    // the agent's echo of that.
    assert_eq!((a.counters.frames_out, a.counters.frames_in), (2, 3));
    assert_eq!((b.counters.frames_out, b.counters.frames_in), (1, 1));
    // Quitting closed each client on both sides with 1001.
    for ws in [&mut alpha, &mut beta] {
        let close = loop {
            match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
                Ok(Some(Ok(Message::Close(cf)))) => break cf,
                Ok(Some(Ok(_))) => continue,
                other => panic!("expected a close, got {other:?}"),
            }
        };
        assert_eq!(close.map(|c| u16::from(c.code)), Some(1001));
    }
}

// ---- snapshots from fixed events -------------------------------------------------------------

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn frame(seq: u64, at: u64, dir: Direction, payload: &str) -> Frame {
    Frame {
        seq,
        at: ms(at),
        dir,
        opcode: Opcode::Text,
        payload: Bytes::copy_from_slice(payload.as_bytes()),
    }
}

fn request(port: u16, id: &str) -> ClientRequest {
    ClientRequest {
        peer: format!("127.0.0.1:{port}").parse().expect("peer"),
        path: format!("/?agent_session_id={id}"),
        origin: Some("http://localhost:5173".into()),
        user_agent: Some("Mozilla/5.0 HeadlessChrome/148".into()),
        subprotocols: vec![],
        agent_session_id: Some(id.into()),
    }
}

fn opened(at: u64, id: &str) -> SessionEvent {
    SessionEvent::Opened {
        at: ms(at),
        handshake: Handshake {
            url: format!("ws://127.0.0.1:8088/invocations_ws?agent_session_id={id}"),
            request_headers: vec![],
            status: 101,
            response_headers: vec![],
            platform_session_id: None,
            subprotocol: None,
        },
    }
}

/// A proxy listening on 127.0.0.1:8089 with two clients: the first talked and had a frame
/// injected each way, the second closed.
fn two_clients() -> App {
    let mut app = App::new(vec![proxy_session(
        "ws://127.0.0.1:8088/invocations_ws",
        "127.0.0.1:8089",
    )]);
    update(
        &mut app,
        Event::Resize {
            width: 120,
            height: 30,
        },
    );
    update(&mut app, Event::Started { id: 0, at: ms(0) });
    let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_064_800);
    let note = |note| Event::Proxy { id: 0, note };
    update(
        &mut app,
        note(ProxyNote::Listening {
            addr: "127.0.0.1:8089".parse().expect("addr"),
            wall,
        }),
    );
    let mut children = Vec::new();
    for (client, port, id) in [(1u64, 50101u16, "alpha"), (2, 50102, "beta")] {
        let effects = update(
            &mut app,
            note(ProxyNote::Client {
                client,
                at: ms(100 * client),
                request: request(port, id),
            }),
        );
        let child = effects
            .iter()
            .find_map(|e| match e {
                Effect::AttachProxyClient { child, .. } => Some(*child),
                _ => None,
            })
            .expect("the client's session is attached");
        children.push(child);
    }
    let alpha = [
        SessionEvent::Connecting {
            at: ms(100),
            wall,
            url: "ws://127.0.0.1:8088/invocations_ws?agent_session_id=alpha".into(),
            session_id: Some("alpha".into()),
        },
        opened(104, "alpha"),
        SessionEvent::Frames(vec![
            frame(1, 150, Direction::Out, r#"{"type":"hello","from":"page"}"#),
            frame(2, 151, Direction::In, r#"{"type":"hello","from":"page"}"#),
        ]),
        SessionEvent::Injected(frame(
            3,
            900,
            Direction::In,
            r#"{"type":"notice","text":"from wsdeck"}"#,
        )),
        SessionEvent::Injected(frame(4, 950, Direction::Out, r#"{"type":"whoami"}"#)),
        SessionEvent::Frames(vec![frame(
            5,
            952,
            Direction::In,
            r#"{"type":"whoami","agent_session_id":"alpha"}"#,
        )]),
    ];
    for event in alpha {
        update(
            &mut app,
            Event::Session {
                id: children[0],
                event,
            },
        );
    }
    let beta = [
        SessionEvent::Connecting {
            at: ms(200),
            wall,
            url: "ws://127.0.0.1:8088/invocations_ws?agent_session_id=beta".into(),
            session_id: Some("beta".into()),
        },
        opened(203, "beta"),
        SessionEvent::Frames(vec![frame(1, 300, Direction::Out, r#"{"type":"bye"}"#)]),
        SessionEvent::Closed {
            at: ms(310),
            info: CloseInfo {
                code: 1000,
                reason: "page done".into(),
                initiator: wsdeck::engine::close::Initiator::Client,
                clean: true,
            },
        },
        SessionEvent::Ended,
    ];
    for event in beta {
        update(
            &mut app,
            Event::Session {
                id: children[1],
                event,
            },
        );
    }
    app
}

fn render(app: &App) -> String {
    let (w, h) = app.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let theme = Theme::load("dark", None).expect("theme");
    t.draw(|c| wsdeck::ui::draw(c, app, &theme)).expect("draw");
    format!("{:?}", t.backend())
}

#[test]
fn snapshot_proxy_session_with_two_clients() {
    let mut app = two_clients();
    // The proxy itself: listening, and each client's request in its log.
    assert_eq!(app.sessions[0].state, ConnState::Listening);
    insta::assert_snapshot!("proxy_listening_two_clients", render(&app));
    // Down to the first client: its conversation, the injected frames marked.
    app.focus = wsdeck::app::Pane::Sessions;
    update(&mut app, key(KeyCode::Char('j')));
    assert_eq!(app.current().map(|s| s.name.as_str()), Some("browser#1"));
    insta::assert_snapshot!("proxy_client_with_injected_frames", render(&app));
}

#[test]
fn snapshot_composer_injecting_toward_the_client() {
    let mut app = two_clients();
    app.focus = wsdeck::app::Pane::Sessions;
    update(&mut app, key(KeyCode::Char('j')));
    update(&mut app, key(KeyCode::Char('c')));
    update(&mut app, ctrl('g'));
    for e in typed(r#"{"type":"notice"}"#) {
        update(&mut app, e);
    }
    insta::assert_snapshot!("proxy_composer_toward_client", render(&app));
    let effects = update(&mut app, ctrl('s'));
    let sent = effects.iter().find_map(|e| match e {
        Effect::SendComposed { frame, .. } => Some(frame.toward),
        _ => None,
    });
    assert_eq!(
        sent,
        Some(Direction::In),
        "the toggle decides the direction"
    );
}

#[test]
fn a_client_connecting_does_not_move_the_selection_and_clients_cannot_be_redialed() {
    let mut app = two_clients();
    app.add_session(
        Session::new(
            "other",
            ConnectSpec::new(Target::url("ws://127.0.0.1:9/").expect("url")),
        ),
        None,
    );
    assert_eq!(app.selected, 3);
    update(
        &mut app,
        Event::Proxy {
            id: 0,
            note: ProxyNote::Client {
                client: 3,
                at: ms(2000),
                request: request(50103, "gamma"),
            },
        },
    );
    let names: Vec<&str> = app.sessions.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["browser", "browser#1", "browser#2", "browser#3", "other"]
    );
    assert_eq!(app.current().map(|s| s.name.as_str()), Some("other"));
    // A client's session is its client's connection: connect and edit say so, send nothing.
    app.selected = 1;
    app.focus = wsdeck::app::Pane::Sessions;
    let effects = update(&mut app, key(KeyCode::Enter));
    assert!(effects.is_empty(), "{effects:?}");
    assert!(
        app.status
            .as_deref()
            .is_some_and(|s| s.contains("reconnect from the client")),
        "{:?}",
        app.status
    );
    // A foreign origin turned away after the request: its session says why.
    update(
        &mut app,
        Event::Proxy {
            id: 0,
            note: ProxyNote::Rejected {
                client: 3,
                at: ms(2001),
                status: 403,
                why: "Origin https://evil.example is not allowed".into(),
            },
        },
    );
    let gamma = app
        .sessions
        .iter()
        .find(|s| s.name == "browser#3")
        .expect("gamma");
    assert!(
        matches!(&gamma.state, ConnState::Failed(m) if m.contains("HTTP 403")),
        "{:?}",
        gamma.state
    );
}

#[test]
fn add_and_edit_a_proxy_session_from_the_command_line() {
    let mut app = App::new(vec![]);
    let run = |app: &mut App, line: &str| {
        update(app, key(KeyCode::Char(':')));
        for e in typed(line) {
            update(app, e);
        }
        update(app, key(KeyCode::Enter))
    };
    let effects = run(
        &mut app,
        "add web ws://127.0.0.1:8088/invocations_ws --listen 127.0.0.1:8090 --allow-origin https://app.example",
    );
    let s = app
        .current()
        .unwrap_or_else(|| panic!("not added: {:?}", app.status));
    assert_eq!(s.name, "web");
    assert_eq!(
        s.proxy,
        Some(ProxySetup {
            listen: "127.0.0.1:8090".into(),
            allow_origins: vec!["https://app.example".into()],
            allow_remote: false,
        })
    );
    // Saved with its listen address, as sessions.toml will hold it.
    let saved = effects.iter().find_map(|e| match e {
        Effect::SaveSessions(v) => v.first().cloned(),
        _ => None,
    });
    assert_eq!(
        saved.and_then(|s| s.listen),
        Some("127.0.0.1:8090".to_string())
    );
    assert_eq!(
        app.proxy_options(app.sessions[0].id)
            .map(|o| o.listen.port()),
        Some(8090)
    );

    run(
        &mut app,
        "add open ws://127.0.0.1:8088/ --listen 0.0.0.0:8091",
    );
    assert_eq!(app.sessions.len(), 1, "a non-loopback listen is refused");
    assert!(
        app.status
            .as_deref()
            .is_some_and(|s| s.contains("--allow-remote")),
        "{:?}",
        app.status
    );

    // :edit keeps the proxy unless told otherwise; --no-listen makes it a plain session.
    run(&mut app, "edit ws://127.0.0.1:9999/invocations_ws");
    assert!(app.sessions[0].proxy.is_some());
    run(
        &mut app,
        "edit ws://127.0.0.1:9999/invocations_ws --no-listen",
    );
    assert_eq!(app.sessions[0].proxy, None);
}

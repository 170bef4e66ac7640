//! Driving the whole console loop on a TestBackend: keys in, drawn screens out, and waiting on a
//! screen for a condition (never sleeping then asserting).

use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use wsdeck::app::{App, Event};
use wsdeck::engine::Opcode;
use wsdeck::engine::session::SessionCommand;
use wsdeck::ui::theme::Theme;

pub async fn wait_for(screens: &mut watch::Receiver<String>, what: &str) -> String {
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

pub fn key(c: KeyCode) -> Event {
    Event::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

pub fn send_text(i: usize, t: &'static str) -> (usize, SessionCommand) {
    (
        i,
        SessionCommand::Send {
            opcode: Opcode::Text,
            payload: Bytes::from_static(t.as_bytes()),
        },
    )
}

/// A console loop running on a TestBackend: keys in, drawn screens out.
pub struct Console {
    pub keys: mpsc::Sender<Event>,
    pub screens: watch::Receiver<String>,
    pub looped: tokio::task::JoinHandle<App>,
}

impl Console {
    pub fn start(app: App, size: (u16, u16), mut options: wsdeck::tui::LoopOptions) -> Console {
        let (tx, rx) = mpsc::channel(1024);
        let (screens_tx, screens) = watch::channel(String::new());
        options.screens = Some(screens_tx);
        let keys = tx.clone();
        let theme = Theme::load("dark", None).expect("theme");
        let looped = tokio::spawn(async move {
            let mut term = Terminal::new(TestBackend::new(size.0, size.1)).expect("terminal");
            wsdeck::tui::run_loop(&mut term, app, &theme, (tx, rx), options)
                .await
                .expect("loop")
        });
        Console {
            keys,
            screens,
            looped,
        }
    }

    pub async fn press(&self, events: Vec<Event>) {
        for e in events {
            self.keys.send(e).await.expect("key");
        }
    }

    /// `q`, then `y` (with a connection open, `q` asks first), and the app as the loop left it.
    pub async fn quit(self) -> App {
        for c in ['q', 'y'] {
            let _ = self.keys.send(key(KeyCode::Char(c))).await;
        }
        tokio::time::timeout(Duration::from_secs(10), self.looped)
            .await
            .expect("quits")
            .expect("join")
    }
}

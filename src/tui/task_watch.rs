//! A session's tasks watched for a panic, so that a crash is told on the session it stopped (its
//! log shows why it went quiet, and `R` starts fresh tasks) rather than only in the status bar.
//! The panic hook still logs it and the exit still says it (`tui::Crashes`).
//!
//! The actor's crash goes through the session's own event channel, behind the events it sent
//! before it, so the log keeps their order. The forwarder's crash cannot: the forwarder is what
//! reads that channel, so its notice goes straight to the loop, and the actor, whose events
//! nothing reads any more, is told to shut down.

use crate::app::Event;
use crate::engine::close::Initiator;
use crate::engine::session::{CloseInfo, SessionCommand, SessionEvent, SessionHandle};
use std::time::Instant;
use tokio::sync::mpsc;
use tokio::task::{JoinError, JoinHandle};

/// Watch session `id`'s actor; on a panic, `events` (a clone of its channel) carries the notice.
pub fn watch_actor(join: JoinHandle<()>, events: mpsc::Sender<SessionEvent>, t0: Instant) {
    tokio::spawn(async move {
        let Err(e) = join.await else { return };
        let Some(why) = panic_text(&e) else { return };
        let at = t0.elapsed();
        for ev in [
            SessionEvent::Warning {
                at,
                message: format!(
                    "wsdeck's task for this session crashed: {why} · its socket was dropped (1006 to the peer) · the frames above are kept · R reconnects"
                ),
            },
            SessionEvent::Closed {
                at,
                info: CloseInfo {
                    code: crate::engine::close::ABNORMAL,
                    reason: String::new(),
                    initiator: Initiator::Transport,
                    clean: false,
                },
            },
            SessionEvent::Ended,
        ] {
            if events.send(ev).await.is_err() {
                return;
            }
        }
    });
}

/// Watch session `id`'s forwarder; on a panic, tell the loop and shut the actor down.
pub fn watch_forwarder(
    id: usize,
    join: JoinHandle<()>,
    actor: Option<SessionHandle>,
    to_loop: mpsc::Sender<Event>,
    t0: Instant,
) {
    tokio::spawn(async move {
        let Err(e) = join.await else { return };
        let Some(why) = panic_text(&e) else { return };
        if let Some(h) = actor {
            h.send(SessionCommand::Shutdown);
        }
        let at = t0.elapsed();
        let message = format!(
            "the console's reader of this session crashed: {why} · nothing could show its frames, so it was closed · the frames above are kept · R reconnects"
        );
        let _ = to_loop
            .send(Event::Session {
                id,
                event: SessionEvent::Warning { at, message },
            })
            .await;
        let _ = to_loop
            .send(Event::Session {
                id,
                event: SessionEvent::Ended,
            })
            .await;
    });
}

/// The panic's message; `None` for a task that was cancelled rather than crashed.
fn panic_text(e: &JoinError) -> Option<String> {
    if !e.is_panic() {
        return None;
    }
    let text = format!("{e}");
    // JoinError says "task N panicked with message \"…\"": the message is what helps.
    Some(match text.split_once("with message ") {
        Some((_, m)) => m.trim_matches('"').to_string(),
        None => text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn next<T>(rx: &mut mpsc::Receiver<T>) -> T {
        tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("in time")
            .expect("an event")
    }

    #[tokio::test]
    async fn an_actor_that_panics_is_told_on_its_session_after_what_it_sent() {
        let (tx, mut rx) = mpsc::channel(8);
        let sent = tx.clone();
        let join = tokio::spawn(async move {
            let at = Duration::ZERO;
            let _ = sent
                .send(SessionEvent::Warning {
                    at,
                    message: "before".into(),
                })
                .await;
            panic!("a test panic in the actor");
        });
        watch_actor(join, tx, Instant::now());
        assert!(
            matches!(next(&mut rx).await, SessionEvent::Warning { message, .. } if message == "before")
        );
        match next(&mut rx).await {
            SessionEvent::Warning { message, .. } => {
                assert!(
                    message.contains("crashed: a test panic in the actor"),
                    "{message}"
                );
                assert!(message.contains("R reconnects"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            next(&mut rx).await,
            SessionEvent::Closed {
                info: CloseInfo {
                    code: 1006,
                    clean: false,
                    ..
                },
                ..
            }
        ));
        assert!(matches!(next(&mut rx).await, SessionEvent::Ended));
        assert!(
            rx.recv().await.is_none(),
            "the watcher let go of the channel"
        );
    }

    #[tokio::test]
    async fn an_actor_that_ends_or_is_cancelled_says_nothing() {
        let (tx, mut rx) = mpsc::channel::<SessionEvent>(8);
        watch_actor(tokio::spawn(async {}), tx.clone(), Instant::now());
        let forever = tokio::spawn(std::future::pending::<()>());
        forever.abort();
        watch_actor(forever, tx, Instant::now());
        assert!(
            tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .expect("the watchers end")
                .is_none()
        );
    }

    #[tokio::test]
    async fn a_forwarder_that_panics_is_told_to_the_loop_on_its_session() {
        let (to_loop, mut rx) = mpsc::channel(8);
        let join = tokio::spawn(async { panic!("a test panic in the forwarder") });
        watch_forwarder(7, join, None, to_loop, Instant::now());
        match next(&mut rx).await {
            Event::Session {
                id: 7,
                event: SessionEvent::Warning { message, .. },
            } => {
                assert!(
                    message
                        .contains("reader of this session crashed: a test panic in the forwarder"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            next(&mut rx).await,
            Event::Session {
                id: 7,
                event: SessionEvent::Ended
            }
        ));
    }
}

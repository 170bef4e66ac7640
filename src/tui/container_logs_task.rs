//! Reads a session's container logs and hands them to the loop in batches.

use crate::app::{ContainerLogsEvent, Event};
use crate::engine::auth::TokenProvider;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Longest a batch of log lines waits to fill once lines come fast, and its largest size.
const LOG_BATCH_WAIT: Duration = Duration::from_millis(40);
const LOG_BATCH_MAX: usize = 20_000;

pub async fn read_container_logs(
    id: usize,
    plan: crate::monitor::Plan,
    tokens: Option<Arc<TokenProvider>>,
    to_loop: mpsc::Sender<Event>,
    stop: oneshot::Receiver<()>,
) {
    let (line_tx, mut line_rx) = mpsc::channel(1024);
    let fwd = to_loop.clone();
    let batcher = tokio::spawn(async move {
        while let Some(first) = line_rx.recv().await {
            // A source that floods (a `yes`, a debug-level firehose) arrives as a few large
            // batches a second rather than one event per line: the keys stay responsive, and
            // the reader waits on the pipe when the pane cannot keep up.
            let mut lines = vec![first];
            let until = tokio::time::Instant::now() + LOG_BATCH_WAIT;
            while lines.len() < LOG_BATCH_MAX {
                match line_rx.try_recv() {
                    Ok(l) => lines.push(l),
                    Err(_) if lines.len() < 64 => break,
                    Err(_) => match tokio::time::timeout_at(until, line_rx.recv()).await {
                        Ok(Some(l)) => lines.push(l),
                        _ => break,
                    },
                }
            }
            let event = Event::ContainerLogs {
                id,
                event: ContainerLogsEvent::Lines(lines),
            };
            if fwd.send(event).await.is_err() {
                break;
            }
        }
    });
    let result = crate::monitor::follow(&plan, tokens, line_tx, stop).await;
    let _ = batcher.await;
    let message = match result {
        Ok(Some(0)) | Ok(None) => "the log source ended".to_string(),
        Ok(Some(code)) => format!("the log source exited with status {code}"),
        Err(e) => format!("{e}: {}", e.advice()),
    };
    let event = Event::ContainerLogs {
        id,
        event: ContainerLogsEvent::Ended { message },
    };
    let _ = to_loop.send(event).await;
}

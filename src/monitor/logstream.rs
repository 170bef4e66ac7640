//! The platform's session log stream: `GET …/sessions/{id}:logstream` answered with server-sent
//! events. Each `log` event's data is `{"timestamp","stream","message"}`, another shape carries
//! the session's metadata, and none of it is contractual: data that does not parse is shown raw.
//! A stream that drops is opened again (with `Last-Event-ID` when the server gave ids), and the
//! lines the new stream's tail repeats are not shown twice.

use super::sse::{SseEvent, SseParser};
use super::{LogLine, MonitorError, Stream};
use crate::engine::auth::TokenProvider;
use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where the stream is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamPlan {
    pub url: String,
    pub ca_cert: Option<PathBuf>,
}

/// Attempts in a row that may fail (no answer, or 5xx) before the reader gives up.
const MAX_FAILURES: u32 = 8;
/// Longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Bytes of a refusal's body kept for the message.
const BODY_LIMIT: usize = 2048;

/// The end of one connection to the stream.
enum Dropped {
    /// Try again after a pause: why, and whether any event had arrived on it.
    Transient { why: String, got_events: bool },
    /// The token was refused: fetch a new one and try at once (once).
    Unauthorized { status: u16, body: String },
}

/// Read the stream until `stop` completes or it cannot go on (refused, not found, unreachable
/// too many times in a row). Never returns while it still can read.
pub async fn follow(
    plan: &StreamPlan,
    tokens: Option<Arc<TokenProvider>>,
    sink: tokio::sync::mpsc::Sender<LogLine>,
    stop: impl std::future::Future,
) -> Result<Option<i32>, MonitorError> {
    let client = client(plan)?;
    let mut reader = Reader {
        client,
        url: plan.url.clone(),
        tokens,
        parser: SseParser::new(),
        recent: Recent::default(),
        sink,
        server_retry: None,
    };
    tokio::pin!(stop);
    let mut failures = 0u32;
    let mut backoff = Duration::from_secs(1);
    let mut auth_retried = false;
    loop {
        let dropped = tokio::select! {
            _ = &mut stop => return Ok(None),
            d = reader.connect_once() => d?,
        };
        let why = match dropped {
            Dropped::Unauthorized { status, body } => {
                if auth_retried {
                    return Err(MonitorError::StreamRefused {
                        status,
                        body,
                        advice: "the token was refused: sign in again (az login / azd auth login) or check the role on the project",
                    });
                }
                auth_retried = true;
                if let Some(t) = &reader.tokens {
                    t.invalidate().await;
                }
                continue;
            }
            Dropped::Transient { why, got_events } => {
                if got_events {
                    failures = 0;
                    backoff = Duration::from_secs(1);
                    auth_retried = false;
                } else {
                    failures += 1;
                    if failures >= MAX_FAILURES {
                        return Err(MonitorError::StreamGaveUp {
                            attempts: failures,
                            last: why,
                        });
                    }
                }
                why
            }
        };
        let wait = reader
            .server_retry
            .map(Duration::from_millis)
            .unwrap_or(backoff)
            .min(MAX_BACKOFF);
        let note = LogLine {
            stream: Stream::Status,
            at: Some(super::now_hms()),
            text: format!(
                "{why}; reconnecting in {:.0} s",
                wait.as_secs_f32().max(1.0)
            ),
        };
        if reader.sink.send(note).await.is_err() {
            return Ok(None);
        }
        tokio::select! {
            _ = &mut stop => return Ok(None),
            _ = tokio::time::sleep(wait) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

fn client(plan: &StreamPlan) -> Result<reqwest::Client, MonitorError> {
    let mut b = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(15))
        .user_agent(concat!("wsdeck/", env!("CARGO_PKG_VERSION")));
    if plan.url.starts_with("https:") {
        let tls = crate::engine::tls::client_config(plan.ca_cert.as_deref())
            .map_err(|e| MonitorError::Stream(e.to_string()))?;
        b = b.tls_backend_preconfigured((*tls).clone());
    }
    b.build().map_err(|e| MonitorError::Stream(e.to_string()))
}

struct Reader {
    client: reqwest::Client,
    url: String,
    tokens: Option<Arc<TokenProvider>>,
    parser: SseParser,
    recent: Recent,
    sink: tokio::sync::mpsc::Sender<LogLine>,
    server_retry: Option<u64>,
}

impl Reader {
    async fn connect_once(&mut self) -> Result<Dropped, MonitorError> {
        let mut req = self
            .client
            .get(&self.url)
            .header(http::header::ACCEPT, "text/event-stream")
            .header(http::header::CACHE_CONTROL, "no-cache");
        if let Some(t) = &self.tokens {
            let token = t
                .token()
                .await
                .map_err(|e| MonitorError::Auth(e.to_string()))?;
            if let Some(token) = token {
                let mut v = token
                    .bearer_header()
                    .map_err(|_| MonitorError::Auth("the token cannot go in a header".into()))?;
                v.set_sensitive(true);
                req = req.header(http::header::AUTHORIZATION, v);
            }
        }
        if let Some(id) = self.parser.last_id() {
            req = req.header("Last-Event-ID", id);
        }
        let mut resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                return Ok(Dropped::Transient {
                    why: format!("cannot reach the log stream: {}", error_chain(&e)),
                    got_events: false,
                });
            }
        };
        let status = resp.status().as_u16();
        if !resp.status().is_success() {
            let body = body_text(resp).await;
            return match status {
                401 | 403 => Ok(Dropped::Unauthorized { status, body }),
                404 => Err(MonitorError::StreamRefused {
                    status,
                    body,
                    advice: "no such agent or session: check the agent name and the agent_session_id (the session may have expired)",
                }),
                s if s >= 500 || s == 429 => Ok(Dropped::Transient {
                    why: format!("the log stream answered HTTP {s}"),
                    got_events: false,
                }),
                _ => Err(MonitorError::StreamRefused {
                    status,
                    body,
                    advice: "read the body: the request was not understood",
                }),
            };
        }
        // A fresh connection starts a fresh event, but the last id is kept.
        let last = self.parser.last_id().map(str::to_string);
        self.parser = SseParser::new();
        self.parser.restore_id(last);
        let mut got_events = false;
        let mut events = Vec::new();
        loop {
            let chunk = match resp.chunk().await {
                Ok(Some(c)) => c,
                Ok(None) => {
                    return Ok(Dropped::Transient {
                        why: "the log stream ended".into(),
                        got_events,
                    });
                }
                Err(e) => {
                    return Ok(Dropped::Transient {
                        why: format!("the log stream dropped: {}", error_chain(&e)),
                        got_events,
                    });
                }
            };
            self.parser.feed(&chunk, &mut events);
            for ev in events.drain(..) {
                got_events = true;
                if ev.retry.is_some() {
                    self.server_retry = ev.retry;
                }
                for line in lines_of(&ev) {
                    if !self.recent.first_time(&line) {
                        continue;
                    }
                    if self.sink.send(line).await.is_err() {
                        return Ok(Dropped::Transient {
                            why: "nobody reads the logs".into(),
                            got_events,
                        });
                    }
                }
            }
        }
    }
}

/// The lines an event shows: a `log` message (split at newlines), the session's metadata as a
/// status line, raw data when it is not the JSON we know; nothing for an event type we do not know.
pub fn lines_of(ev: &SseEvent) -> Vec<LogLine> {
    if !matches!(ev.kind(), "log" | "message" | "metadata") {
        return Vec::new();
    }
    let raw = || LogLine {
        stream: Stream::Stdout,
        at: None,
        text: ev.data.clone(),
    };
    let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(&ev.data)
    else {
        return vec![raw()];
    };
    let str_of = |k: &str| m.get(k).and_then(|v| v.as_str()).map(str::to_string);
    if let Some(msg) = m.get("message") {
        let stream = match m.get("stream").and_then(|v| v.as_str()) {
            Some("stderr") => Stream::Stderr,
            Some("status") => Stream::Status,
            _ => Stream::Stdout,
        };
        let text = match msg.as_str() {
            Some(s) => s.to_string(),
            None => msg.to_string(),
        };
        let at = str_of("timestamp");
        let text = text.trim_end_matches(['\n', '\r']);
        return text
            .split('\n')
            .map(|t| LogLine {
                stream,
                at: at.clone(),
                text: t.trim_end_matches('\r').to_string(),
            })
            .collect();
    }
    if ["session_state", "agent", "version"]
        .iter()
        .any(|k| m.contains_key(*k))
    {
        let mut parts = Vec::new();
        for (k, label) in [
            ("session_state", "state"),
            ("agent", "agent"),
            ("version", "version"),
        ] {
            if let Some(v) = m.get(k) {
                let v = v
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string());
                parts.push(format!("{label} {v}"));
            }
        }
        return vec![LogLine {
            stream: Stream::Status,
            at: str_of("timestamp"),
            text: format!("session: {}", parts.join(" · ")),
        }];
    }
    vec![raw()]
}

/// Lines already shown, so the tail a reconnected stream starts with is not shown twice. Only
/// lines with a timestamp count: without one, a repeat may be a real repeat.
#[derive(Default)]
struct Recent {
    order: VecDeque<u64>,
    set: HashSet<u64>,
}

impl Recent {
    const KEEP: usize = 1024;

    fn first_time(&mut self, l: &LogLine) -> bool {
        use std::hash::{Hash, Hasher};
        if l.at.is_none() {
            return true;
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (&l.at, l.stream.as_str(), &l.text).hash(&mut h);
        let k = h.finish();
        if !self.set.insert(k) {
            return false;
        }
        self.order.push_back(k);
        if self.order.len() > Self::KEEP
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }
}

async fn body_text(resp: reqwest::Response) -> String {
    let bytes = resp.bytes().await.unwrap_or_default();
    let cut = &bytes[..bytes.len().min(BODY_LIMIT)];
    let mut s = String::from_utf8_lossy(cut).trim().to_string();
    if bytes.len() > BODY_LIMIT {
        s.push_str(" …");
    }
    s
}

/// reqwest's top error says "error sending request"; the cause says what happened.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        src = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: &str, data: &str) -> SseEvent {
        SseEvent {
            event: kind.into(),
            data: data.into(),
            ..Default::default()
        }
    }

    #[test]
    fn event_shapes() {
        let l = lines_of(&ev(
            "log",
            r#"{"timestamp":"2026-11-25T10:00:01.5Z","stream":"stderr","message":"Traceback\n  boom\n"}"#,
        ));
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].stream, Stream::Stderr);
        assert_eq!(l[0].at.as_deref(), Some("2026-11-25T10:00:01.5Z"));
        assert_eq!(l[1].text, "  boom");
        let m = lines_of(&ev(
            "log",
            r#"{"session_state":"Running","agent":"echo","version":"3"}"#,
        ));
        assert_eq!(m[0].stream, Stream::Status);
        assert_eq!(m[0].text, "session: state Running · agent echo · version 3");
        assert!(lines_of(&ev("heartbeat", "{}")).is_empty());
        let raw = lines_of(&ev("log", "plain text, not JSON"));
        assert_eq!(raw[0].text, "plain text, not JSON");
        assert_eq!(raw[0].at, None);
        let other_json = lines_of(&ev("", r#"[1,2]"#));
        assert_eq!(other_json[0].text, "[1,2]");
    }
}

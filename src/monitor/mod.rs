//! The agent's container logs for one `agent_session_id`, from one of three sources: a child
//! process (by default `azd ai agent monitor <agent> --session-id <id> --follow`, or a command
//! template the user names), or the platform's session log stream (server-sent events). Every
//! reader stops when told: children are killed and waited for, streams are closed.

pub mod child;
pub mod logstream;
pub mod sse;

pub use logstream::StreamPlan;

use crate::engine::auth::TokenProvider;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// Where logs come from, as the user names it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum MonitorSource {
    /// `azd` when it is on PATH; otherwise the log stream for Foundry targets.
    #[default]
    Auto,
    /// `azd ai agent monitor [agent] --session-id ID --follow`.
    Azd,
    /// The platform's `…/sessions/{id}:logstream` (Foundry targets).
    Logstream,
    /// A command template: `{session_id}`, `{agent}`, `{endpoint}` are filled in.
    Cmd(String),
}

impl MonitorSource {
    pub fn parse(s: &str) -> Result<Self, MonitorError> {
        match s {
            "auto" => Ok(MonitorSource::Auto),
            "azd" => Ok(MonitorSource::Azd),
            "logstream" => Ok(MonitorSource::Logstream),
            _ => match s.strip_prefix("cmd:") {
                Some(t) if !t.trim().is_empty() => Ok(MonitorSource::Cmd(t.to_string())),
                _ => Err(MonitorError::BadSource(s.to_string())),
            },
        }
    }
}

/// What the logs are asked for.
#[derive(Debug, Clone, Default)]
pub struct MonitorRequest {
    pub session_id: String,
    pub agent: Option<String>,
    /// The project endpoint (https), for Foundry targets.
    pub endpoint: Option<String>,
    /// Extra roots for the log stream's TLS (the session's `--ca-cert`).
    pub ca_cert: Option<PathBuf>,
}

impl MonitorRequest {
    /// The request for a connection: its `agent_session_id` (the one the platform answered
    /// with in `x-agent-session-id` wins), and for Foundry targets the agent and endpoint.
    pub fn for_spec(spec: &crate::engine::ConnectSpec, platform_id: Option<String>) -> Self {
        let (agent, endpoint) = match &spec.target {
            crate::engine::Target::Foundry {
                agent, endpoint, ..
            } => (Some(agent.clone()), Some(endpoint.https_url.clone())),
            _ => (None, None),
        };
        MonitorRequest {
            session_id: platform_id
                .or_else(|| spec.session_id.clone())
                .unwrap_or_default(),
            agent,
            endpoint,
            ca_cert: spec.ca_cert.clone(),
        }
    }
}

/// A source made concrete for one session: what runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// A child process to run (azd, or the user's command template), as argv.
    Child(Vec<String>),
    Stream(StreamPlan),
}

impl Plan {
    /// For titles and messages: the command line, or the stream's URL.
    pub fn describe(&self) -> String {
        match self {
            Plan::Child(argv) => argv.join(" "),
            Plan::Stream(s) => format!("log stream {}", s.url),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
    /// The platform's status lines, and wsdeck's own notes about the source (reconnecting…).
    Status,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
            Stream::Status => "status",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub stream: Stream,
    /// When the line was logged, as the source gave it (or when it arrived, for sources that
    /// give no time).
    pub at: Option<String>,
    pub text: String,
}

impl LogLine {
    /// A line a command printed. `azd ai agent monitor` prints `HH:MM:SS  <stream>  <message>`:
    /// its time and stream are taken from the line; other lines get their arrival time.
    pub fn from_command(stream: Stream, text: String) -> Self {
        if let Some((at, s, msg)) = split_azd_line(&text) {
            return LogLine {
                stream: s,
                at: Some(at.to_string()),
                text: msg.to_string(),
            };
        }
        LogLine {
            stream,
            at: Some(now_hms()),
            text,
        }
    }

    /// The time to show: the time of day part of an RFC 3339 stamp, or the stamp as given.
    pub fn short_time(&self) -> &str {
        let Some(at) = self.at.as_deref() else {
            return "";
        };
        let t = match at.find('T') {
            Some(i) if at.len() > i + 8 => &at[i + 1..],
            _ => at,
        };
        t.trim_end_matches('Z').split(['+']).next().unwrap_or(t)
    }
}

fn split_azd_line(line: &str) -> Option<(&str, Stream, &str)> {
    let b = line.as_bytes();
    let is_time = b.len() > 10
        && b[2] == b':'
        && b[5] == b':'
        && [0, 1, 3, 4, 6, 7].iter().all(|&i| b[i].is_ascii_digit());
    if !is_time {
        return None;
    }
    let (at, rest) = line.split_at(8);
    let rest = rest.trim_start();
    let (word, msg) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let stream = match word {
        "stdout" => Stream::Stdout,
        "stderr" => Stream::Stderr,
        "status" => Stream::Status,
        _ => return None,
    };
    // The separator is two spaces (the split took one); more is the message's own indentation.
    let msg = msg.strip_prefix(' ').unwrap_or(msg);
    Some((at, stream, msg))
}

/// The wall-clock time now, `HH:MM:SS` (UTC), for lines whose source gives no time.
pub fn now_hms() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!("{:02}:{:02}:{:02}", now.hour(), now.minute(), now.second())
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MonitorError {
    #[error("bad --monitor-source {0:?} (auto, azd, logstream or cmd:TEMPLATE)")]
    BadSource(String),
    #[error("{program} is not installed (not found on PATH)")]
    NotFound { program: String },
    #[error("the monitor command is empty or has unbalanced quotes: {0:?}")]
    BadTemplate(String),
    #[error("cannot start {program}: {message}")]
    Spawn { program: String, message: String },
    #[error("the log stream needs a Foundry target (a project endpoint and an agent name)")]
    NotFoundry,
    #[error("the log stream needs a token: {0}")]
    Auth(String),
    #[error("the log stream answered HTTP {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    StreamRefused {
        status: u16,
        body: String,
        advice: &'static str,
    },
    #[error("the log stream failed {attempts} times in a row; last: {last}")]
    StreamGaveUp { attempts: u32, last: String },
    #[error("the log stream: {0}")]
    Stream(String),
}

impl MonitorError {
    pub fn advice(&self) -> &'static str {
        match self {
            MonitorError::NotFound { program } if program == "azd" => {
                "install the Azure Developer CLI (azd) with the agents extension; or read the platform's log stream (logstream, Foundry targets); or name a command: --monitor-source 'cmd:docker logs -f CONTAINER' (in the console :logs cmd:…)"
            }
            MonitorError::NotFoundry => {
                "for a local container name a command: --monitor-source 'cmd:docker logs -f CONTAINER' or 'cmd:tail -F FILE' (in the console :logs cmd:…)"
            }
            MonitorError::Auth(_) => "sign in (az login or azd auth login), or pick another --auth",
            MonitorError::StreamRefused { advice, .. } => advice,
            MonitorError::StreamGaveUp { .. } | MonitorError::Stream(_) => {
                "check the endpoint and the network; azd ai agent monitor reads the same stream"
            }
            _ => "check the command: run it by hand with the session id",
        }
    }
}

/// Whether `program` can be found on PATH.
pub fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|d| {
        std::fs::metadata(d.join(program))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// What runs for this source and session. `Auto` looks for `azd` on PATH now.
pub fn plan(source: &MonitorSource, req: &MonitorRequest) -> Result<Plan, MonitorError> {
    plan_with(source, req, on_path("azd"))
}

/// `plan` with the PATH lookup done by the caller (the console does it once, at start, so its
/// update reads nothing from the machine).
pub fn plan_with(
    source: &MonitorSource,
    req: &MonitorRequest,
    azd_on_path: bool,
) -> Result<Plan, MonitorError> {
    let source = match source {
        MonitorSource::Auto if !azd_on_path && req.endpoint.is_some() => &MonitorSource::Logstream,
        MonitorSource::Auto => &MonitorSource::Azd,
        s => s,
    };
    match source {
        MonitorSource::Logstream => {
            let (Some(endpoint), Some(agent)) = (&req.endpoint, &req.agent) else {
                return Err(MonitorError::NotFoundry);
            };
            Ok(Plan::Stream(StreamPlan {
                url: logstream_url(endpoint, agent, &req.session_id),
                ca_cert: req.ca_cert.clone(),
            }))
        }
        _ => command_line(source, req).map(Plan::Child),
    }
}

/// `{endpoint}/agents/{agent}/sessions/{id}:logstream?api-version=v1&kind=console&tail=50&follow=true`.
pub fn logstream_url(endpoint: &str, agent: &str, session_id: &str) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    const SEGMENT: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    format!(
        "{}/agents/{}/sessions/{}:logstream?api-version=v1&kind=console&tail=50&follow=true",
        endpoint.trim_end_matches('/'),
        utf8_percent_encode(agent, SEGMENT),
        utf8_percent_encode(session_id, SEGMENT),
    )
}

/// The program and arguments for a command source.
pub fn command_line(
    source: &MonitorSource,
    req: &MonitorRequest,
) -> Result<Vec<String>, MonitorError> {
    match source {
        MonitorSource::Cmd(t) => {
            let words = shlex::split(t)
                .filter(|w| !w.is_empty())
                .ok_or_else(|| MonitorError::BadTemplate(t.clone()))?;
            Ok(words
                .into_iter()
                .map(|w| {
                    w.replace("{session_id}", &req.session_id)
                        .replace("{agent}", req.agent.as_deref().unwrap_or(""))
                        .replace("{endpoint}", req.endpoint.as_deref().unwrap_or(""))
                })
                .collect())
        }
        _ => {
            let mut v = vec![
                "azd".to_string(),
                "ai".into(),
                "agent".into(),
                "monitor".into(),
            ];
            if let Some(a) = &req.agent {
                v.push(a.clone());
            }
            v.extend([
                "--session-id".to_string(),
                req.session_id.clone(),
                "--follow".into(),
            ]);
            Ok(v)
        }
    }
}

/// Read a source until `stop` completes or it ends; the exit status of a command that ended on
/// its own, `None` otherwise. `tokens` is the session's own (the log stream sends its token).
pub async fn follow(
    plan: &Plan,
    tokens: Option<Arc<TokenProvider>>,
    sink: tokio::sync::mpsc::Sender<LogLine>,
    stop: impl std::future::Future,
) -> Result<Option<i32>, MonitorError> {
    match plan {
        Plan::Child(argv) => child::follow(argv, sink, stop).await,
        Plan::Stream(s) => logstream::follow(s, tokens, sink, stop).await,
    }
}

/// Read a source and collect what it prints until it ends, `timeout` passes, or `max_lines`
/// arrived. Stopped either way (a `--follow` never ends on its own). The result is the exit
/// status of a command that ended by itself, `None` when it was still running, or why it failed;
/// the lines that came before a failure are kept.
pub async fn collect(
    plan: &Plan,
    tokens: Option<Arc<TokenProvider>>,
    timeout: Duration,
    max_lines: usize,
) -> (Vec<LogLine>, Result<Option<i32>, MonitorError>) {
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let plan = plan.clone();
    let mut task = tokio::spawn(async move { follow(&plan, tokens, tx, stop_rx).await });
    let deadline = tokio::time::Instant::now() + timeout;
    let mut lines = Vec::new();
    while lines.len() < max_lines {
        tokio::select! {
            l = rx.recv() => match l {
                Some(l) => lines.push(l),
                None => break,
            },
            _ = tokio::time::sleep_until(deadline) => break,
        }
    }
    // Tell the reader to stop (a child is killed) and wait for it, so none outlives us: a child
    // that ignores SIGTERM takes the grace; a wait past it is a stuck stream.
    let _ = stop_tx.send(());
    let wait = child::STOP_GRACE + Duration::from_secs(2);
    let result = match tokio::time::timeout(wait, &mut task).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => Err(MonitorError::Spawn {
            program: "log source".into(),
            message: e.to_string(),
        }),
        Err(_) => {
            task.abort();
            Ok(None)
        }
    };
    (lines, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines() {
        let req = MonitorRequest {
            session_id: "s 1".into(),
            agent: Some("voice".into()),
            endpoint: Some("https://e".into()),
            ca_cert: None,
        };
        assert_eq!(
            command_line(&MonitorSource::Azd, &req).ok(),
            Some(
                [
                    "azd",
                    "ai",
                    "agent",
                    "monitor",
                    "voice",
                    "--session-id",
                    "s 1",
                    "--follow"
                ]
                .map(String::from)
                .to_vec()
            )
        );
        let t = MonitorSource::parse("cmd:tail -n 5 '/var/log/{agent} x.log' --id={session_id}")
            .expect("cmd");
        assert_eq!(
            command_line(&t, &req).ok(),
            Some(
                ["tail", "-n", "5", "/var/log/voice x.log", "--id=s 1"]
                    .map(String::from)
                    .to_vec()
            )
        );
        assert!(MonitorSource::parse("logs").is_err());
        assert_eq!(
            MonitorSource::parse("logstream").ok(),
            Some(MonitorSource::Logstream)
        );
        assert_eq!(
            plan(&MonitorSource::Logstream, &req).ok(),
            Some(Plan::Stream(StreamPlan {
                url: "https://e/agents/voice/sessions/s%201:logstream?api-version=v1&kind=console&tail=50&follow=true".into(),
                ca_cert: None,
            }))
        );
        let local = MonitorRequest {
            session_id: "s".into(),
            ..Default::default()
        };
        assert_eq!(
            plan(&MonitorSource::Logstream, &local),
            Err(MonitorError::NotFoundry)
        );
        assert!(command_line(&MonitorSource::Cmd("'unclosed".into()), &req).is_err());
    }

    #[tokio::test]
    async fn collects_both_streams_and_bounds_a_follow() {
        let argv: Vec<String> = ["sh", "-c", "echo out1; echo err1 >&2; echo out2; sleep 30"]
            .map(String::from)
            .to_vec();
        let t0 = std::time::Instant::now();
        let (lines, status) =
            collect(&Plan::Child(argv), None, Duration::from_millis(500), 100).await;
        let status = status.expect("run");
        assert!(t0.elapsed() < Duration::from_secs(5));
        assert_eq!(status, None, "still following when the time ran out");
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert!(
            texts.contains(&"out1") && texts.contains(&"out2") && texts.contains(&"err1"),
            "{texts:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.stream == Stream::Stderr && l.text == "err1")
        );
        let (_, missing) = collect(
            &Plan::Child(vec!["wsdeck-no-such-program".to_string()]),
            None,
            Duration::from_secs(1),
            10,
        )
        .await;
        assert!(matches!(missing, Err(MonitorError::NotFound { .. })));
        let (_, status) = collect(
            &Plan::Child(vec!["sh".into(), "-c".into(), "echo x; exit 3".into()]),
            None,
            Duration::from_secs(5),
            10,
        )
        .await;
        let status = status.expect("run");
        assert_eq!(status, Some(3));
    }
}

#[cfg(test)]
mod line_tests {
    use super::*;

    #[test]
    fn azd_lines_give_their_time_and_stream() {
        let l = LogLine::from_command(
            Stream::Stdout,
            "10:02:03  stderr  Traceback (most recent call last):".into(),
        );
        assert_eq!(l.stream, Stream::Stderr);
        assert_eq!(l.at.as_deref(), Some("10:02:03"));
        assert_eq!(l.text, "Traceback (most recent call last):");
        let indented =
            LogLine::from_command(Stream::Stdout, "10:02:03  stderr    File \"a.py\"".into());
        assert_eq!(indented.text, "  File \"a.py\"");
        let plain = LogLine::from_command(Stream::Stderr, "Streaming session logs for echo".into());
        assert_eq!(plain.stream, Stream::Stderr);
        assert_eq!(plain.at.as_deref().map(str::len), Some(8));
        let stamped = LogLine {
            stream: Stream::Stdout,
            at: Some("2026-11-25T10:00:01.500Z".into()),
            text: String::new(),
        };
        assert_eq!(stamped.short_time(), "10:00:01.500");
    }
}

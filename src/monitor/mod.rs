//! The agent's container logs for one `agent_session_id`: read from a child process (by default
//! `azd ai agent monitor <agent> --session-id <id> --follow`, or a command template the user
//! names). Children are killed when the read ends, times out, or is dropped: no orphans.

use std::process::Stdio;
use std::time::Duration;
use thiserror::Error;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// Where logs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MonitorSource {
    /// `azd ai agent monitor [agent] --session-id ID --follow`.
    Azd,
    /// A command template: `{session_id}`, `{agent}`, `{endpoint}` are filled in.
    Cmd(String),
}

impl MonitorSource {
    pub fn parse(s: &str) -> Result<Self, MonitorError> {
        match s {
            "azd" => Ok(MonitorSource::Azd),
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
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub stream: Stream,
    pub text: String,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MonitorError {
    #[error("bad --monitor-source {0:?} (azd or cmd:TEMPLATE)")]
    BadSource(String),
    #[error("{program} is not installed (not found on PATH)")]
    NotFound { program: String },
    #[error("the monitor command is empty or has unbalanced quotes: {0:?}")]
    BadTemplate(String),
    #[error("cannot start {program}: {message}")]
    Spawn { program: String, message: String },
}

impl MonitorError {
    pub fn advice(&self) -> &'static str {
        match self {
            MonitorError::NotFound { program } if program == "azd" => {
                "install the Azure Developer CLI (azd) with the agents extension, or name another command: --monitor-source 'cmd:kubectl logs … | grep {session_id}'"
            }
            _ => "check the command: run it by hand with the session id",
        }
    }
}

/// The program and arguments for a source.
pub fn command_line(
    source: &MonitorSource,
    req: &MonitorRequest,
) -> Result<Vec<String>, MonitorError> {
    match source {
        MonitorSource::Azd => {
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
    }
}

/// Run the command and collect what it prints (stdout and stderr, in arrival order) until it
/// exits, `timeout` passes, or `max_lines` arrived; the status is `None` when it was still
/// running, and the child is killed either way (a `--follow` never ends on its own).
pub async fn collect(
    argv: &[String],
    timeout: Duration,
    max_lines: usize,
) -> Result<(Vec<LogLine>, Option<i32>), MonitorError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let argv = argv.to_vec();
    let task = tokio::spawn(async move { follow(&argv, tx, stop_rx).await });
    let deadline = tokio::time::Instant::now() + timeout;
    let mut lines = Vec::new();
    let mut ended = false;
    while lines.len() < max_lines {
        tokio::select! {
            l = rx.recv() => match l {
                Some(l) => lines.push(l),
                None => {
                    ended = true;
                    break;
                }
            },
            _ = tokio::time::sleep_until(deadline) => break,
        }
    }
    if !ended {
        // Tell the follower to kill the child and wait for it, so none outlives us.
        let _ = stop_tx.send(());
        let _ = tokio::time::timeout(Duration::from_secs(3), task).await;
        return Ok((lines, None));
    }
    match task.await {
        Ok(result) => result.map(|status| (lines, status)),
        Err(e) => Err(MonitorError::Spawn {
            program: "log source".into(),
            message: e.to_string(),
        }),
    }
}

/// Run the command until it exits or `stop` completes, sending each line as it comes; on stop
/// the child is killed and waited for, so none outlives its reader.
pub async fn follow(
    argv: &[String],
    sink: tokio::sync::mpsc::Sender<LogLine>,
    stop: impl std::future::Future,
) -> Result<Option<i32>, MonitorError> {
    let Some((program, args)) = argv.split_first() else {
        return Err(MonitorError::BadTemplate(String::new()));
    };
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                MonitorError::NotFound {
                    program: program.clone(),
                }
            } else {
                MonitorError::Spawn {
                    program: program.clone(),
                    message: e.to_string(),
                }
            }
        })?;
    let mut out = child.stdout.take().map(|s| BufReader::new(s).lines());
    let mut err = child.stderr.take().map(|s| BufReader::new(s).lines());
    tokio::pin!(stop);
    while out.is_some() || err.is_some() {
        let line = tokio::select! {
            _ = &mut stop => break,
            l = async { out.as_mut()?.next_line().await.ok().flatten() }, if out.is_some() => match l {
                Some(text) => LogLine { stream: Stream::Stdout, text },
                None => { out = None; continue; }
            },
            l = async { err.as_mut()?.next_line().await.ok().flatten() }, if err.is_some() => match l {
                Some(text) => LogLine { stream: Stream::Stderr, text },
                None => { err = None; continue; }
            },
        };
        if sink.send(line).await.is_err() {
            break;
        }
    }
    let _ = child.start_kill();
    Ok(child.wait().await.ok().and_then(|s| s.code()))
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
        assert!(command_line(&MonitorSource::Cmd("'unclosed".into()), &req).is_err());
    }

    #[tokio::test]
    async fn collects_both_streams_and_bounds_a_follow() {
        let argv: Vec<String> = ["sh", "-c", "echo out1; echo err1 >&2; echo out2; sleep 30"]
            .map(String::from)
            .to_vec();
        let t0 = std::time::Instant::now();
        let (lines, status) = collect(&argv, Duration::from_millis(500), 100)
            .await
            .expect("run");
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
        let missing = collect(
            &["wsdeck-no-such-program".to_string()],
            Duration::from_secs(1),
            10,
        )
        .await;
        assert!(matches!(missing, Err(MonitorError::NotFound { .. })));
        let (_, status) = collect(
            &["sh".into(), "-c".into(), "echo x; exit 3".into()],
            Duration::from_secs(5),
            10,
        )
        .await
        .expect("run");
        assert_eq!(status, Some(3));
    }
}

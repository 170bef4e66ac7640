//! A log source that is a child process (`azd ai agent monitor … --follow`, `kubectl logs -f`,
//! `tail -F`): every line of stdout and stderr, in arrival order.

use super::{LogLine, MonitorError, Stream};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// Run the command until it exits or `stop` completes, sending each line as it comes; on stop
/// the child is killed and waited for, so none outlives its reader. The exit status is `None`
/// when it was stopped (or killed by a signal).
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
    let mut stopped = false;
    while out.is_some() || err.is_some() {
        let line = tokio::select! {
            _ = &mut stop => { stopped = true; break },
            l = async { out.as_mut()?.next_line().await.ok().flatten() }, if out.is_some() => match l {
                Some(text) => LogLine::from_command(Stream::Stdout, text),
                None => { out = None; continue; }
            },
            l = async { err.as_mut()?.next_line().await.ok().flatten() }, if err.is_some() => match l {
                Some(text) => LogLine::from_command(Stream::Stderr, text),
                None => { err = None; continue; }
            },
        };
        if sink.send(line).await.is_err() {
            stopped = true;
            break;
        }
    }
    if stopped {
        let _ = child.start_kill();
    }
    let status = child.wait().await.ok().and_then(|s| s.code());
    Ok(if stopped { None } else { status })
}

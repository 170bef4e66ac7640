//! A log source that is a child process (`azd ai agent monitor … --follow`, `kubectl logs -f`,
//! `tail -F`): every line of stdout and stderr, in arrival order.
//!
//! The child runs in a process group of its own, and stopping it signals the whole group: `azd`
//! runs its `ai agent` extension as a process of its own, and a shell template runs its pipeline
//! under a shell, so killing only the process we started would leave them behind, reparented to
//! init and still following the logs.

use super::{LogLine, MonitorError, Stream};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a stopped log command has between SIGTERM and SIGKILL. A follower has nothing to save,
/// and `azd` (Go, no handler) or `tail` exit on SIGTERM within milliseconds (a shell template that
/// obeys it: 2–4 ms from SIGTERM to reaped, tests/it/faults_process.rs); one that ignores it
/// costs the user this much, once, when the pane is stopped or `--monitor` ends.
pub const STOP_GRACE: Duration = Duration::from_secs(1);

/// Run the command until it exits or `stop` completes, sending each line as it comes; on stop
/// its process group gets SIGTERM, then SIGKILL after [`STOP_GRACE`], and the child is waited
/// for, so none outlives its reader. The exit status is `None` when it was stopped (or killed by
/// a signal).
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
        .process_group(0)
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
    // Whatever way this future ends (stopped, or dropped with its task), the group goes.
    let group = Group(child.id().and_then(|p| i32::try_from(p).ok()));
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
    let status = if stopped {
        terminate(&mut child, &group).await;
        None
    } else {
        child.wait().await.ok().and_then(|s| s.code())
    };
    // The leader is gone; anything it left in its group goes with it (`group` on drop).
    drop(group);
    Ok(status)
}

/// SIGTERM to the group, then SIGKILL if the child is still there after the grace.
async fn terminate(child: &mut Child, group: &Group) {
    group.signal(libc::SIGTERM);
    if tokio::time::timeout(STOP_GRACE, child.wait())
        .await
        .is_err()
    {
        group.signal(libc::SIGKILL);
        let _ = child.wait().await;
    }
}

/// The child's process group (its pid: it leads the group); SIGKILLed on drop.
struct Group(Option<i32>);

impl Group {
    fn signal(&self, sig: i32) {
        // Never 0 or 1: kill(0) and kill(-1) would signal our own group or every process.
        if let Some(pgid) = self.0.filter(|&p| p > 1) {
            // SAFETY: kill(2) takes plain integers and touches no memory of ours.
            unsafe {
                libc::kill(-pgid, sig);
            }
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.signal(libc::SIGKILL);
    }
}

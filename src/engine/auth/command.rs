//! A token from a command the user names (`--auth cmd:COMMAND`): its output read into one
//! bounded buffer that is wiped on drop, the bare token or az/azd-style JSON parsed in place.

use super::{AuthError, COMMAND_OUTPUT_MAX, bounded, jwt_expiry, strip_bearer};
use crate::engine::redact::{Secret, scrub};
use std::borrow::Cow;
use std::io;
use std::process::Stdio;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncRead, AsyncReadExt};
use zeroize::{Zeroize, Zeroizing};

/// Run `cmd` with /bin/sh within `timeout` (the child is killed if it runs out).
pub(super) async fn fetch(
    cmd: &str,
    timeout: Duration,
) -> Result<(Secret, Option<SystemTime>), AuthError> {
    let run = async {
        let mut child = tokio::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(cmd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let (out, err) = tokio::join!(
            read_bounded(child.stdout.take()),
            read_bounded(child.stderr.take())
        );
        let status = child.wait().await?;
        io::Result::Ok((status, out?, err?))
    };
    let (status, out, err) = tokio::time::timeout(timeout, run)
        .await
        .map_err(|_| AuthError::Timeout {
            tool: "token command",
            after: timeout,
        })?
        .map_err(|e| AuthError::CommandFailed {
            status: "could not run /bin/sh".into(),
            stderr: e.to_string(),
        })?;
    let stdout = WipedText::lossy(out.bytes());
    let stdout = stdout.trim();
    if !status.success() {
        // It may have printed the token before failing, and stderr may quote it.
        let secret = Secret::new(stdout);
        let stderr = bounded(&scrub(&WipedText::lossy(err.bytes()), &[&secret]), 500);
        return Err(AuthError::CommandFailed {
            status: status.to_string(),
            stderr,
        });
    }
    if out.overflowed {
        return Err(AuthError::CommandFailed {
            status: format!("printed more than {} KiB", COMMAND_OUTPUT_MAX / 1024),
            stderr: "a token is a few KiB: is this the right command?".into(),
        });
    }
    // Either the bare token, or JSON as az/azd print it.
    if stdout.starts_with('{')
        && let Ok(v) = serde_json::from_str::<CommandJson>(stdout)
        && let Some(token) = v.token()
    {
        let exp = v
            .expires_on
            .as_ref()
            .and_then(|e| e.as_i64().or_else(|| e.as_str()?.parse().ok()))
            .and_then(|secs| u64::try_from(secs).ok())
            .map(|secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
            .or_else(|| jwt_expiry(token));
        return Ok((Secret::new(token), exp));
    }
    let token = strip_bearer(stdout);
    if token.is_empty() {
        return Err(AuthError::CommandEmpty);
    }
    Ok((Secret::new(token), jwt_expiry(token)))
}

/// What a token command printed on one stream: at most [`COMMAND_OUTPUT_MAX`] bytes, wiped on
/// drop, and whether it printed more.
struct CommandOutput {
    buf: Zeroizing<Vec<u8>>,
    len: usize,
    overflowed: bool,
}

impl CommandOutput {
    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// Read a child's stream to its end into one buffer allocated at its full size (it never
/// grows, so no reallocation leaves an unwiped copy); past the bound the rest is drained, so
/// the child is not left blocked on a full pipe, and dropped.
async fn read_bounded(stream: Option<impl AsyncRead + Unpin>) -> io::Result<CommandOutput> {
    let mut out = CommandOutput {
        buf: Zeroizing::new(vec![0; COMMAND_OUTPUT_MAX]),
        len: 0,
        overflowed: false,
    };
    let Some(mut stream) = stream else {
        return Ok(out);
    };
    while out.len < COMMAND_OUTPUT_MAX {
        let n = stream.read(&mut out.buf[out.len..]).await?;
        if n == 0 {
            return Ok(out);
        }
        out.len += n;
    }
    let mut scratch = [0u8; 4096];
    loop {
        match stream.read(&mut scratch).await {
            Ok(0) | Err(_) => break,
            Ok(_) => out.overflowed = true,
        }
    }
    scratch.zeroize();
    Ok(out)
}

/// Text read from a wiped buffer: borrowed when it is UTF-8, else a lossy copy wiped on drop.
struct WipedText<'a>(Cow<'a, str>);

impl<'a> WipedText<'a> {
    fn lossy(bytes: &'a [u8]) -> Self {
        WipedText(String::from_utf8_lossy(bytes))
    }
}

impl std::ops::Deref for WipedText<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Drop for WipedText<'_> {
    fn drop(&mut self) {
        if let Cow::Owned(s) = &mut self.0 {
            s.zeroize();
        }
    }
}

/// A token command's JSON, as az and azd print it (or OAuth's `access_token`). The strings are
/// borrowed from the output buffer, which is wiped. A token written with escapes (none that az,
/// azd or a JWT prints: base64url and dots need none) is unescaped by serde_json through a
/// scratch buffer of its own, freed unwiped; the copy it hands us is wiped on drop here.
#[derive(serde::Deserialize)]
struct CommandJson<'a> {
    #[serde(rename = "accessToken", borrow, default)]
    access_token: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    token: Option<Cow<'a, str>>,
    #[serde(rename = "access_token", borrow, default)]
    oauth_access_token: Option<Cow<'a, str>>,
    #[serde(default)]
    expires_on: Option<serde_json::Value>,
}

impl CommandJson<'_> {
    fn token(&self) -> Option<&str> {
        [&self.access_token, &self.token, &self.oauth_access_token]
            .into_iter()
            .flatten()
            .map(|t| t.as_ref())
            .find(|t| !t.is_empty())
    }
}

impl Drop for CommandJson<'_> {
    fn drop(&mut self) {
        for field in [
            &mut self.access_token,
            &mut self.token,
            &mut self.oauth_access_token,
        ] {
            if let Some(Cow::Owned(s)) = field {
                s.zeroize();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::auth::{AuthError, AuthSource, TokenProvider};

    #[tokio::test]
    async fn a_command_printing_too_much_is_refused() {
        let p = TokenProvider::new(AuthSource::Command(
            "head -c 70000 /dev/zero | tr '\\0' a".into(),
        ));
        match p.token().await {
            Err(AuthError::CommandFailed { status, .. }) => {
                assert_eq!(status, "printed more than 64 KiB")
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

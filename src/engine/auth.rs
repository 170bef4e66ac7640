//! Where bearer tokens come from, and how long they are kept.
//!
//! `azure_identity` does the Entra work (Azure CLI, Azure Developer CLI, managed and workload
//! identity); it neither caches nor times out CLI calls, so this module does both. A token lives
//! only in memory, inside a [`Secret`], which wipes it on drop; what this module reads a token
//! from (the variable's value, the command's output) is read into buffers wiped the same way.
//! One copy is out of reach: azure_identity's `AccessToken` keeps the token in azure_core's
//! `Secret` (a `Cow<str>` with only `&str` access), freed unwiped once `fetch_azure` has copied
//! it; so is what azure_identity read from `az`/`azd` to parse.

use crate::engine::redact::Secret;
use crate::engine::target::FOUNDRY_SCOPE;
use azure_core::credentials::TokenCredential;
use std::ffi::OsStr;
use std::io;
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use thiserror::Error;
use tokio::sync::Mutex;
use zeroize::Zeroizing;

mod command;

/// Refetch a token this long before it expires.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// How long a token with no known expiry (environment, command) is reused.
pub const UNKNOWN_EXPIRY_REUSE: Duration = Duration::from_secs(5 * 60);
/// A token command's output is read into one buffer of this size, allocated once: an Entra token
/// is a few KiB, and a buffer that never grows leaves no partial copies behind when it is wiped
/// (it also bounds what a runaway command can make us hold).
pub const COMMAND_OUTPUT_MAX: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AuthSource {
    /// No Authorization header.
    #[default]
    None,
    /// Workload identity or managed identity when the environment says they apply, then the
    /// Azure CLI, then the Azure Developer CLI (`--auth auto` on a Foundry target).
    DeveloperTools,
    AzureCli,
    AzureDeveloperCli,
    ManagedIdentity,
    WorkloadIdentity,
    /// The token is the value of this environment variable.
    Env(String),
    /// The token is what this shell command prints.
    Command(String),
}

impl AuthSource {
    /// Parse `--auth`: `auto|az|azd|mi|workload|env:VAR|cmd:COMMAND|none`. `auto` depends on
    /// the target: the developer tools chain for Foundry, nothing otherwise.
    pub fn parse(s: &str, foundry: bool) -> Result<Self, AuthError> {
        let s = s.trim();
        Ok(match s {
            "auto" if foundry => AuthSource::DeveloperTools,
            "auto" | "none" => AuthSource::None,
            "az" => AuthSource::AzureCli,
            "azd" => AuthSource::AzureDeveloperCli,
            "mi" | "managed-identity" => AuthSource::ManagedIdentity,
            "workload" | "workload-identity" => AuthSource::WorkloadIdentity,
            "chain" | "dev" => AuthSource::DeveloperTools,
            _ => {
                if let Some(var) = s.strip_prefix("env:") {
                    if var.is_empty() {
                        return Err(AuthError::BadSpec(s.to_string()));
                    }
                    AuthSource::Env(var.to_string())
                } else if let Some(cmd) = s.strip_prefix("cmd:") {
                    if cmd.trim().is_empty() {
                        return Err(AuthError::BadSpec(s.to_string()));
                    }
                    AuthSource::Command(cmd.to_string())
                } else {
                    return Err(AuthError::BadSpec(s.to_string()));
                }
            }
        })
    }

    /// The `--auth` spelling, for config files and display.
    pub fn spec(&self) -> String {
        match self {
            AuthSource::None => "none".into(),
            AuthSource::DeveloperTools => "auto".into(),
            AuthSource::AzureCli => "az".into(),
            AuthSource::AzureDeveloperCli => "azd".into(),
            AuthSource::ManagedIdentity => "mi".into(),
            AuthSource::WorkloadIdentity => "workload".into(),
            AuthSource::Env(v) => format!("env:{v}"),
            AuthSource::Command(c) => format!("cmd:{c}"),
        }
    }
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AuthError {
    #[error("bad --auth {0:?} (one of: auto, az, azd, mi, workload, env:VAR, cmd:COMMAND, none)")]
    BadSpec(String),
    #[error("{tool} is not installed (not found on PATH)")]
    ToolMissing { tool: &'static str },
    #[error("{tool} is not signed in: {message}")]
    NotSignedIn { tool: &'static str, message: String },
    #[error("{tool} gave no token within {}s", after.as_secs())]
    Timeout { tool: &'static str, after: Duration },
    #[error("environment variable {var} is not set or empty")]
    EnvMissing { var: String },
    #[error("token command failed ({status}): {stderr}")]
    CommandFailed { status: String, stderr: String },
    #[error("token command printed nothing")]
    CommandEmpty,
    #[error("{source_name}: {message}")]
    Credential {
        source_name: &'static str,
        message: String,
    },
}

impl AuthError {
    pub fn advice(&self) -> Vec<String> {
        let v: &[&str] = match self {
            AuthError::BadSpec(_) => {
                &["--auth takes auto, az, azd, mi, workload, env:VAR, cmd:COMMAND or none"]
            }
            AuthError::ToolMissing { tool: "az" } => &[
                "install the Azure CLI, or use --auth azd, --auth env:VAR (a token in a variable) or --auth cmd:COMMAND",
            ],
            AuthError::ToolMissing { .. } => {
                &["install the Azure Developer CLI (azd), or use --auth az, env:VAR or cmd:COMMAND"]
            }
            AuthError::NotSignedIn { tool: "azd", .. } => &["run: azd auth login"],
            AuthError::NotSignedIn { .. } => &[
                "run: az login (then check: az account get-access-token --resource https://ai.azure.com)",
            ],
            AuthError::Timeout { .. } => &[
                "the CLI hung (a login prompt, a slow network?): run it by hand to see, or use --auth env:VAR",
            ],
            AuthError::EnvMissing { .. } => &[
                "export it first, e.g. export TOKEN=$(az account get-access-token --resource https://ai.azure.com --query accessToken -o tsv)",
            ],
            AuthError::CommandFailed { .. } | AuthError::CommandEmpty => &[
                "run the command by hand: it must print the token (or JSON with accessToken/token) on stdout",
            ],
            AuthError::Credential { .. } => {
                &["sign in with az login or azd auth login, or pass a token with --auth env:VAR"]
            }
        };
        v.iter().map(|s| s.to_string()).collect()
    }
}

/// Spawns `az`/`azd` with `kill_on_drop`, so a call abandoned by our timeout leaves no child.
#[derive(Debug)]
struct KillOnDropExecutor;

#[async_trait::async_trait]
impl azure_identity::Executor for KillOnDropExecutor {
    async fn run(&self, program: &OsStr, args: &[&OsStr]) -> io::Result<Output> {
        tokio::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
    }
}

#[derive(Clone)]
struct Cached {
    token: Secret,
    refresh_after: SystemTime,
}

/// Hands out tokens for one source, fetching again when the cached one is near expiry.
pub struct TokenProvider {
    source: AuthSource,
    scope: String,
    timeout: Duration,
    cache: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenProvider")
            .field("source", &self.source.spec())
            .finish_non_exhaustive()
    }
}

impl TokenProvider {
    pub fn new(source: AuthSource) -> Self {
        TokenProvider {
            source,
            scope: FOUNDRY_SCOPE.to_string(),
            timeout: Duration::from_secs(30),
            cache: Mutex::new(None),
        }
    }

    pub fn source(&self) -> &AuthSource {
        &self.source
    }

    /// The token to send now, `None` when this source sends none.
    pub async fn token(&self) -> Result<Option<Secret>, AuthError> {
        if self.source == AuthSource::None {
            return Ok(None);
        }
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref()
            && SystemTime::now() < c.refresh_after
        {
            return Ok(Some(c.token.clone()));
        }
        let (token, expires) = self.fetch().await?;
        let refresh_after = match expires {
            Some(exp) => exp.checked_sub(REFRESH_MARGIN).unwrap_or(exp),
            None => SystemTime::now() + UNKNOWN_EXPIRY_REUSE,
        };
        tracing::info!(
            source = %self.source.spec(),
            chars = token.len(),
            "fetched a token"
        );
        *cache = Some(Cached {
            token: token.clone(),
            refresh_after,
        });
        Ok(Some(token))
    }

    /// Forget the cached token (after a 401, say).
    pub async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    async fn fetch(&self) -> Result<(Secret, Option<SystemTime>), AuthError> {
        match &self.source {
            AuthSource::None => Err(AuthError::BadSpec("none".into())),
            AuthSource::Env(var) => {
                let raw = Zeroizing::new(
                    std::env::var_os(var)
                        .map(|v| v.into_encoded_bytes())
                        .unwrap_or_default(),
                );
                let value = strip_bearer(std::str::from_utf8(&raw).unwrap_or_default().trim());
                if value.is_empty() {
                    return Err(AuthError::EnvMissing { var: var.clone() });
                }
                let exp = jwt_expiry(value);
                Ok((Secret::new(value), exp))
            }
            AuthSource::Command(cmd) => command::fetch(cmd, self.timeout).await,
            other => self.fetch_azure(other).await,
        }
    }

    async fn fetch_azure(
        &self,
        source: &AuthSource,
    ) -> Result<(Secret, Option<SystemTime>), AuthError> {
        let exec: Arc<dyn azure_identity::Executor> = Arc::new(KillOnDropExecutor);
        let (tool, cred): (
            &'static str,
            Result<Arc<dyn TokenCredential>, azure_core::Error>,
        ) = match source {
            AuthSource::AzureCli => (
                "az",
                azure_identity::AzureCliCredential::new(Some(
                    azure_identity::AzureCliCredentialOptions {
                        executor: Some(exec),
                        ..Default::default()
                    },
                ))
                .map(|c| c as Arc<dyn TokenCredential>),
            ),
            AuthSource::AzureDeveloperCli => (
                "azd",
                azure_identity::AzureDeveloperCliCredential::new(Some(
                    azure_identity::AzureDeveloperCliCredentialOptions {
                        executor: Some(exec),
                        ..Default::default()
                    },
                ))
                .map(|c| c as Arc<dyn TokenCredential>),
            ),
            AuthSource::ManagedIdentity => (
                "managed identity",
                azure_identity::ManagedIdentityCredential::new(None)
                    .map(|c| c as Arc<dyn TokenCredential>),
            ),
            AuthSource::WorkloadIdentity => (
                "workload identity",
                azure_identity::WorkloadIdentityCredential::new(None)
                    .map(|c| c as Arc<dyn TokenCredential>),
            ),
            _ => {
                // Where the environment says a platform identity applies, it goes first.
                if std::env::var_os("AZURE_FEDERATED_TOKEN_FILE").is_some() {
                    return Box::pin(self.fetch_azure(&AuthSource::WorkloadIdentity)).await;
                }
                if std::env::var_os("IDENTITY_ENDPOINT").is_some()
                    || std::env::var_os("MSI_ENDPOINT").is_some()
                {
                    return Box::pin(self.fetch_azure(&AuthSource::ManagedIdentity)).await;
                }
                (
                    "az or azd",
                    azure_identity::DeveloperToolsCredential::new(Some(
                        azure_identity::DeveloperToolsCredentialOptions {
                            executor: Some(exec),
                        },
                    ))
                    .map(|c| c as Arc<dyn TokenCredential>),
                )
            }
        };
        let cred = cred.map_err(|e| classify(tool, &e))?;
        let scopes = [self.scope.as_str()];
        let token = tokio::time::timeout(self.timeout, cred.get_token(&scopes, None))
            .await
            .map_err(|_| AuthError::Timeout {
                tool,
                after: self.timeout,
            })?
            .map_err(|e| classify(tool, &e))?;
        let exp = SystemTime::UNIX_EPOCH
            + Duration::from_secs(u64::try_from(token.expires_on.unix_timestamp()).unwrap_or(0));
        // azure_core's Secret gives out only `&str`: this copy is wiped, the original is not.
        Ok((Secret::new(token.token.secret()), Some(exp)))
    }
}

/// Tell "not installed" from "not signed in" from anything else; azure_identity reports all of
/// them as one error kind, so the words decide.
fn classify(tool: &'static str, e: &azure_core::Error) -> AuthError {
    let mut text = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        text.push('\n');
        text.push_str(&s.to_string());
        src = s.source();
    }
    let lower = text.to_lowercase();
    let missing_az = lower.contains("az not found on path");
    let missing_azd = lower.contains("azd not found on path");
    if missing_az && (tool == "az" || !lower.contains("azdeveloperclicredential")) {
        return AuthError::ToolMissing { tool: "az" };
    }
    if missing_azd && tool == "azd" {
        return AuthError::ToolMissing { tool: "azd" };
    }
    if missing_az && missing_azd {
        return AuthError::Credential {
            source_name: tool,
            message: "neither az nor azd is installed (not found on PATH)".into(),
        };
    }
    if lower.contains("az login") {
        return AuthError::NotSignedIn {
            tool: "az",
            message: first_line_with(&text, "az login"),
        };
    }
    if lower.contains("azd auth login") {
        return AuthError::NotSignedIn {
            tool: "azd",
            message: first_line_with(&text, "azd auth login"),
        };
    }
    AuthError::Credential {
        source_name: tool,
        message: bounded(text.lines().next().unwrap_or_default(), 400),
    }
}

fn first_line_with(text: &str, needle: &str) -> String {
    text.lines()
        .find(|l| l.contains(needle))
        .map(|l| bounded(l.trim(), 300))
        .unwrap_or_default()
}

fn bounded(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.trim().to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn strip_bearer(s: &str) -> &str {
    s.strip_prefix("Bearer ")
        .or_else(|| s.strip_prefix("bearer "))
        .unwrap_or(s)
        .trim()
}

/// The `exp` claim of a JWT, when the token is one (Entra tokens are).
pub fn jwt_expiry(token: &str) -> Option<SystemTime> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(payload.trim_end_matches('='))
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = u64::try_from(v.get("exp")?.as_i64()?).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_auth_specs() {
        assert_eq!(
            AuthSource::parse("auto", true).ok(),
            Some(AuthSource::DeveloperTools)
        );
        assert_eq!(
            AuthSource::parse("auto", false).ok(),
            Some(AuthSource::None)
        );
        assert_eq!(
            AuthSource::parse("env:TOK", false).ok(),
            Some(AuthSource::Env("TOK".into()))
        );
        assert_eq!(
            AuthSource::parse("cmd:echo x", false).ok(),
            Some(AuthSource::Command("echo x".into()))
        );
        assert!(AuthSource::parse("env:", false).is_err());
        assert!(AuthSource::parse("kerberos", false).is_err());
    }

    #[test]
    fn jwt_expiry_reads_exp() {
        let payload = base64_simd::URL_SAFE_NO_PAD.encode_to_string(r#"{"exp":1893553445}"#);
        let tok = format!("eyJhbGciOiJub25lIn0.{payload}.sig");
        assert_eq!(
            jwt_expiry(&tok),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1893553445))
        );
        assert_eq!(jwt_expiry("opaque"), None);
    }

    #[tokio::test]
    async fn env_and_command_tokens_are_cached() {
        // SAFETY: this variable name is used by this test only.
        unsafe { std::env::set_var("WSDECK_TEST_TOKEN_UNIT", "Bearer abc.def.ghi") };
        let p = TokenProvider::new(AuthSource::Env("WSDECK_TEST_TOKEN_UNIT".into()));
        assert_eq!(
            p.token()
                .await
                .ok()
                .flatten()
                .map(|s| s.expose().to_string()),
            Some("abc.def.ghi".into())
        );
        let p = TokenProvider::new(AuthSource::Env("WSDECK_TEST_TOKEN_UNSET_XYZ".into()));
        assert!(matches!(p.token().await, Err(AuthError::EnvMissing { .. })));

        let p = TokenProvider::new(AuthSource::Command(
            r#"echo '{"accessToken":"tok-from-json","expires_on":1893553445}'"#.into(),
        ));
        assert_eq!(
            p.token()
                .await
                .ok()
                .flatten()
                .map(|s| s.expose().to_string()),
            Some("tok-from-json".into())
        );
        let p = TokenProvider::new(AuthSource::Command("echo oops >&2; exit 3".into()));
        match p.token().await {
            Err(AuthError::CommandFailed { stderr, .. }) => assert_eq!(stderr, "oops"),
            other => panic!("unexpected {other:?}"),
        }
    }

    /// Each source's copies of the token are wiped before their memory is freed: the token
    /// read from a variable, from a command's bare output, from its JSON, and from a failing
    /// command that echoes it on stderr.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    // The watch is process-wide, so it is held for the whole test; only watching tests take it.
    #[allow(clippy::await_holding_lock)]
    async fn token_copies_are_wiped_before_they_are_freed() {
        use crate::engine::redact::freed_watch;
        let _one = freed_watch::serial();
        let dir = tempfile::tempdir().expect("dir");

        let env_token = freed_watch::canary("env");
        // SAFETY: this variable name is used by this test only.
        unsafe { std::env::set_var("WSDECK_TEST_TOKEN_WIPED", &env_token) };
        let file = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).expect("write");
            format!("cat {}", p.display())
        };
        let bare = freed_watch::canary("bare");
        let json = freed_watch::canary("json");
        let failing = freed_watch::canary("failing");
        let sources = [
            (
                AuthSource::Env("WSDECK_TEST_TOKEN_WIPED".into()),
                env_token.clone(),
            ),
            (AuthSource::Command(file("bare", &bare)), bare.clone()),
            (
                AuthSource::Command(file(
                    "json",
                    &format!(r#"{{"accessToken":"{json}","expires_on":1893553445}}"#),
                )),
                json.clone(),
            ),
        ];
        let failing_cmd = format!(
            "{} ; {} >&2 ; exit 3",
            file("f1", &failing),
            file("f2", &failing)
        );

        freed_watch::start();
        for (source, want) in &sources {
            let p = TokenProvider::new(source.clone());
            let got = p.token().await.expect("token").expect("some");
            assert_eq!(got.expose(), want.as_str());
            drop(got);
            drop(p);
        }
        let p = TokenProvider::new(AuthSource::Command(failing_cmd));
        let err = p.token().await.expect_err("fails").to_string();
        drop(p);
        let hits = freed_watch::stop();
        assert!(!err.contains("canary"), "{err}");
        assert!(err.contains("<redacted>"), "{err}");
        assert_eq!(hits, 0, "a copy of a token was freed unwiped");
        // SAFETY: as above.
        unsafe { std::env::remove_var("WSDECK_TEST_TOKEN_WIPED") };
    }
}

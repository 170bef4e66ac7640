//! Why a connection attempt failed, in plain words, with what to do next (the guide's table).

use crate::engine::auth::AuthError;
use crate::engine::target::TargetError;
use crate::engine::tls::{TlsProblem, TlsSetupError};
use crate::exit;
use std::time::Duration;
use thiserror::Error;

/// The most of a refused upgrade's body kept for display.
pub const MAX_REFUSAL_BODY: usize = 64 * 1024;

/// The server answered the upgrade with something other than 101.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body's length per `Content-Length` when fewer bytes arrived with the headers.
    pub declared_len: Option<usize>,
}

impl Refusal {
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn body_is_truncated(&self) -> bool {
        self.declared_len.is_some_and(|n| n > self.body.len())
    }
}

#[derive(Debug, Error)]
pub enum ConnectError {
    #[error("{0}")]
    Target(#[from] TargetError),
    #[error("no token: {0}")]
    Auth(#[from] AuthError),
    #[error("TLS setup: {0}")]
    TlsSetup(#[from] TlsSetupError),
    #[error("DNS: cannot resolve {host}: {message}")]
    Dns { host: String, message: String },
    #[error("TCP: cannot connect to {addr}: {message}")]
    Tcp { addr: String, message: String },
    #[error("TLS handshake with {host} failed: {problem}")]
    Tls { host: String, problem: TlsProblem },
    #[error("timed out after {}s while {phase}", after.as_secs_f32())]
    Timeout {
        phase: &'static str,
        after: Duration,
    },
    #[error("the server refused the WebSocket upgrade: HTTP {} {}", refusal.status, refusal.reason)]
    Refused { refusal: Box<Refusal> },
    #[error("WebSocket handshake failed: {message}")]
    Handshake { message: String },
}

impl ConnectError {
    /// The exit code SPEC.md assigns: 3 for a refused upgrade, 4 for anything that kept the
    /// connection from being made, 2 for bad input.
    pub fn exit_code(&self) -> i32 {
        match self {
            ConnectError::Target(_) => exit::USAGE,
            ConnectError::TlsSetup(TlsSetupError::CaFile { .. })
            | ConnectError::TlsSetup(TlsSetupError::CaFileEmpty { .. }) => exit::USAGE,
            ConnectError::Refused { .. } | ConnectError::Handshake { .. } => {
                exit::HANDSHAKE_REFUSED
            }
            _ => exit::CONNECT_FAILED,
        }
    }

    /// Every value `kind()` gives (docs/troubleshooting.md explains each; tests/it/release.rs).
    pub const ALL_KINDS: &[&str] = &[
        "target",
        "auth",
        "tls_setup",
        "dns",
        "tcp",
        "tls",
        "timeout",
        "refused",
        "handshake",
    ];

    /// A short machine-readable kind for JSON lines.
    pub fn kind(&self) -> &'static str {
        match self {
            ConnectError::Target(_) => "target",
            ConnectError::Auth(_) => "auth",
            ConnectError::TlsSetup(_) => "tls_setup",
            ConnectError::Dns { .. } => "dns",
            ConnectError::Tcp { .. } => "tcp",
            ConnectError::Tls { .. } => "tls",
            ConnectError::Timeout { .. } => "timeout",
            ConnectError::Refused { .. } => "refused",
            ConnectError::Handshake { .. } => "handshake",
        }
    }

    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            ConnectError::Refused { refusal } => Some(refusal),
            _ => None,
        }
    }

    /// What to do about it, one step a line.
    pub fn advice(&self) -> Vec<String> {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        match self {
            ConnectError::Target(_) => s(&["check the target arguments (wsdeck --help)"]),
            ConnectError::Auth(e) => e.advice(),
            ConnectError::TlsSetup(_) => {
                s(
                    &[
                        "give a PEM file of root certificates with --ca-cert FILE (or SSL_CERT_FILE)",
                    ],
                )
            }
            ConnectError::Dns { .. } => s(&[
                "check the host name for typos (for Foundry: the account in {account}.services.ai.azure.com)",
                "check that this machine resolves names (VPN, proxy, /etc/resolv.conf)",
            ]),
            ConnectError::Tcp { .. } => s(&[
                "nothing is listening there, or a firewall drops it",
                "for a local agent: is it running, and on which port? (the agentserver SDK uses $PORT, default 8088; wsdeck connect --local --port P)",
            ]),
            ConnectError::Tls { problem, .. } => problem.advice(),
            ConnectError::Timeout { .. } => s(&[
                "the host accepted nothing in time: check the address, the port, and any proxy",
                "raise the limit with --connect-timeout SECS",
            ]),
            ConnectError::Refused { refusal } => refusal_advice(refusal),
            ConnectError::Handshake { message } => {
                if message.contains("SubProtocol") {
                    s(&[
                        "the server answered no subprotocol: agentserver agents never answer one, so offer none (drop --subprotocol)",
                    ])
                } else {
                    s(&[
                        "the server's answer to the upgrade is not a valid WebSocket handshake: is this a WebSocket route?",
                    ])
                }
            }
        }
    }
}

fn refusal_advice(r: &Refusal) -> Vec<String> {
    let mut out: Vec<String> = match r.status {
        401 | 403 => vec![
            "the Entra token is missing, expired, or for the wrong audience".into(),
            "mint one: az account get-access-token --resource https://ai.azure.com (or azd auth login), then connect again".into(),
            "wsdeck asks for scope https://ai.azure.com/.default; check --auth (auto, az, azd, env:VAR, cmd:COMMAND)".into(),
        ],
        404 => vec![
            "check the project endpoint, the project name and the agent name (the name in agent.yaml)".into(),
            "try the other route form: --route preview (or --route ga)".into(),
            "for the preview route the HostedAgents=V1Preview flag must be set (query or header)".into(),
            "check that the deployed version uses protocol invocations_ws and that the region supports hosted agents".into(),
        ],
        400 => vec![
            "the platform rejected the request: read the body above (a missing api-version=v1 on the GA route is one cause)".into(),
        ],
        429 => vec!["rate limited: wait and try again (see Retry-After)".into()],
        200..=299 => vec![
            "the server answered as a plain HTTP route: this path is not a WebSocket endpoint (check the path; agentserver agents serve /invocations_ws)".into(),
        ],
        300..=399 => match r.headers.iter().find(|(k, _)| k == "location") {
            Some((_, to)) => vec![format!(
                "the server redirects to {to}: wsdeck does not follow redirects; connect there yourself if you trust it"
            )],
            None => vec!["the server redirects without saying where (no Location): wsdeck does not follow redirects".into()],
        },
        500..=599 => vec![
            "the server or the platform failed before the upgrade: try again, then read the container logs".into(),
        ],
        _ => vec!["read the response body and headers above".into()],
    };
    if r.body_is_truncated() {
        out.push(format!(
            "(the body shown is truncated: {} of {} bytes arrived with the headers)",
            r.body.len(),
            r.declared_len.unwrap_or_default()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(status: u16) -> ConnectError {
        ConnectError::Refused {
            refusal: Box::new(Refusal {
                status,
                reason: "x".into(),
                headers: vec![],
                body: b"{}".to_vec(),
                declared_len: Some(10),
            }),
        }
    }

    #[test]
    fn refusals_give_the_guides_advice() {
        assert!(refusal(401).advice()[1].contains("az account get-access-token"));
        assert!(refusal(403).advice()[0].contains("token"));
        assert!(refusal(404).advice().iter().any(|a| a.contains("--route")));
        assert!(refusal(400).advice()[0].contains("body"));
        assert!(
            refusal(401)
                .advice()
                .last()
                .is_some_and(|a| a.contains("2 of 10"))
        );
        assert_eq!(refusal(401).exit_code(), exit::HANDSHAKE_REFUSED);
    }

    #[test]
    fn transport_failures_exit_4() {
        let e = ConnectError::Tcp {
            addr: "127.0.0.1:1".into(),
            message: "refused".into(),
        };
        assert_eq!(e.exit_code(), exit::CONNECT_FAILED);
        assert!(e.advice()[1].contains("--local --port"));
    }
}

//! What a session connects to: a Foundry hosted agent (GA or preview route), a local agentserver
//! container, or any WebSocket URL; and how that becomes the upgrade request's URL and headers.

mod args;
mod foundry;
mod resolve;

pub use args::TargetArgs;
pub use foundry::{PreviewFlag, ProjectEndpoint, Route};
pub use resolve::{
    ConnectDefaults, CountingIds, IdSource, RandomIds, ResolveEnv, ResolveError, resolve,
};

use crate::engine::auth::AuthSource;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;

/// Everything but RFC 3986's unreserved characters is encoded in a query value.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The agentserver SDK's default port.
pub const DEFAULT_LOCAL_PORT: u16 = 8088;
/// The preview feature flag, as query value or `Foundry-Features` header value.
pub const PREVIEW_FEATURES: &str = "HostedAgents=V1Preview";
/// The Entra scope Foundry accepts.
pub const FOUNDRY_SCOPE: &str = "https://ai.azure.com/.default";

/// What a session connects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Foundry {
        endpoint: ProjectEndpoint,
        agent: String,
        route: Route,
        preview_flag: PreviewFlag,
    },
    Local {
        host: String,
        port: u16,
    },
    Url {
        url: String,
    },
}

impl Target {
    pub fn foundry(endpoint: &str, agent: &str) -> Result<Self, TargetError> {
        let endpoint = ProjectEndpoint::parse(endpoint)?;
        Self::foundry_with(endpoint, agent, Route::Ga, PreviewFlag::Query)
    }

    pub fn foundry_with(
        endpoint: ProjectEndpoint,
        agent: &str,
        route: Route,
        preview_flag: PreviewFlag,
    ) -> Result<Self, TargetError> {
        let agent = agent.trim();
        if agent.is_empty() {
            return Err(TargetError::Missing("--agent (the hosted agent's name)"));
        }
        Ok(Target::Foundry {
            endpoint,
            agent: agent.to_string(),
            route,
            preview_flag,
        })
    }

    pub fn local(port: u16) -> Self {
        Target::Local {
            host: "localhost".into(),
            port,
        }
    }

    pub fn url(raw: &str) -> Result<Self, TargetError> {
        let parsed = url::Url::parse(raw.trim()).map_err(|e| TargetError::BadUrl {
            url: crate::engine::redact::url_for_display(raw),
            why: e.to_string(),
        })?;
        match parsed.scheme() {
            "ws" | "wss" => {}
            "http" | "https" => {
                return Err(TargetError::BadUrl {
                    url: crate::engine::redact::url_for_display(raw),
                    why: "a WebSocket URL starts with ws:// or wss:// (for a Foundry project endpoint use --endpoint and --agent)".into(),
                });
            }
            other => {
                return Err(TargetError::BadUrl {
                    url: crate::engine::redact::url_for_display(raw),
                    why: format!("scheme {other}:// is not ws:// or wss://"),
                });
            }
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(TargetError::BadUrl {
                url: raw.to_string(),
                why: "it has no host".into(),
            });
        }
        Ok(Target::Url {
            url: raw.trim().to_string(),
        })
    }

    pub fn is_foundry(&self) -> bool {
        matches!(self, Target::Foundry { .. })
    }

    /// The URL of the upgrade request, with `agent_session_id` when there is one.
    pub fn request_url(&self, session_id: Option<&str>) -> String {
        let sid = session_id.filter(|s| !s.is_empty());
        match self {
            Target::Foundry {
                endpoint,
                agent,
                route,
                preview_flag,
            } => {
                let base = format!("{}://{}", endpoint.ws_scheme, endpoint.authority);
                let mut q: Vec<String> = Vec::new();
                let path = match route {
                    Route::Ga => {
                        q.push("api-version=v1".into());
                        format!(
                            "/api/projects/{}/agents/{}/endpoint/protocols/invocations_ws",
                            enc_path(&endpoint.project),
                            enc_path(agent)
                        )
                    }
                    Route::Preview => {
                        q.push(format!("project_name={}", enc_q(&endpoint.project)));
                        q.push(format!("agent_name={}", enc_q(agent)));
                        "/api/projects/agents/endpoint/protocols/invocations_ws".to_string()
                    }
                };
                if let Some(sid) = sid {
                    q.push(format!("agent_session_id={}", enc_q(sid)));
                }
                if *route == Route::Preview && *preview_flag == PreviewFlag::Query {
                    // '=' is legal inside a query value; the guide writes the flag this way.
                    q.push(format!("foundry_features={PREVIEW_FEATURES}"));
                }
                format!("{base}{path}?{}", q.join("&"))
            }
            Target::Local { host, port } => {
                let mut u = format!("ws://{host}:{port}/invocations_ws");
                if let Some(sid) = sid {
                    u.push_str(&format!("?agent_session_id={}", enc_q(sid)));
                }
                u
            }
            Target::Url { url } => match sid {
                None => url.clone(),
                Some(sid) => {
                    let mut parsed = match url::Url::parse(url) {
                        Ok(p) => p,
                        Err(_) => return url.clone(),
                    };
                    let has = parsed.query_pairs().any(|(k, _)| k == "agent_session_id");
                    if has {
                        return url.clone();
                    }
                    let q = match parsed.query() {
                        Some(q) if !q.is_empty() => {
                            format!("{q}&agent_session_id={}", enc_q(sid))
                        }
                        _ => format!("agent_session_id={}", enc_q(sid)),
                    };
                    parsed.set_query(Some(&q));
                    parsed.to_string()
                }
            },
        }
    }

    /// Headers the target itself requires (not auth): the preview flag as a header.
    pub fn extra_headers(&self) -> Vec<(String, String)> {
        match self {
            Target::Foundry {
                route: Route::Preview,
                preview_flag: PreviewFlag::Header,
                ..
            } => vec![("Foundry-Features".into(), PREVIEW_FEATURES.into())],
            _ => Vec::new(),
        }
    }

    /// One line for humans: kind and where, without secrets.
    pub fn describe(&self) -> String {
        match self {
            Target::Foundry {
                endpoint,
                agent,
                route,
                ..
            } => format!(
                "foundry {} agent {agent} ({} route)",
                endpoint.https_url,
                route.as_str()
            ),
            Target::Local { host, port } => {
                format!("local agent ws://{host}:{port}/invocations_ws")
            }
            Target::Url { url } => crate::engine::redact::url_for_display(url),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Target::Foundry { .. } => "foundry",
            Target::Local { .. } => "local",
            Target::Url { .. } => "url",
        }
    }
}

fn enc_q(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

fn enc_path(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// A header from the command line or a config file, `Name: value`.
pub fn parse_header(raw: &str) -> Result<(String, String), TargetError> {
    let (name, value) = raw.split_once(':').ok_or_else(|| TargetError::BadHeader {
        header: redact_header_arg(raw),
        why: "expected 'Name: value'".into(),
    })?;
    let name = name.trim();
    let value = value.trim();
    if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(TargetError::BadHeader {
            header: redact_header_arg(raw),
            why: format!("'{name}' is not a valid header name"),
        });
    }
    if http::HeaderValue::from_str(value).is_err() {
        return Err(TargetError::BadHeader {
            header: redact_header_arg(raw),
            why: "the value has characters a header cannot carry".into(),
        });
    }
    Ok((name.to_string(), value.to_string()))
}

fn redact_header_arg(raw: &str) -> String {
    match raw.split_once(':') {
        Some((n, v)) => format!(
            "{n}: {}",
            crate::engine::redact::header_value_for_display(n.trim(), v.trim())
        ),
        // Without a colon we cannot tell name from value: show neither.
        None => format!("<{} chars, no ':'>", raw.len()),
    }
}

/// A complete connection request: where, with which id, headers, auth and socket options.
#[derive(Debug, Clone)]
pub struct ConnectSpec {
    pub target: Target,
    /// The stable `agent_session_id`; reconnects reuse it.
    pub session_id: Option<String>,
    pub headers: Vec<(String, String)>,
    pub subprotocols: Vec<String>,
    pub auth: AuthSource,
    pub ca_cert: Option<PathBuf>,
    /// Largest message accepted (default 16 MiB, the SDK's own limit); `None` = no limit.
    pub max_message_size: Option<usize>,
    pub connect_timeout: Duration,
    /// Keepalive pings while open (`None`: none).
    pub ping_interval: Option<Duration>,
}

pub const DEFAULT_MAX_MESSAGE: usize = 16 * 1024 * 1024;

impl ConnectSpec {
    pub fn new(target: Target) -> Self {
        let auth = if target.is_foundry() {
            AuthSource::DeveloperTools
        } else {
            AuthSource::None
        };
        ConnectSpec {
            target,
            session_id: None,
            headers: Vec::new(),
            subprotocols: Vec::new(),
            auth,
            ca_cert: None,
            max_message_size: Some(DEFAULT_MAX_MESSAGE + 1024),
            connect_timeout: Duration::from_secs(15),
            ping_interval: None,
        }
    }

    pub fn request_url(&self) -> String {
        self.target.request_url(self.session_id.as_deref())
    }
}

/// A new `agent_session_id`: 32 hex digits, as the guide's `uuid4().hex`.
pub fn new_session_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum TargetError {
    #[error("missing {0}")]
    Missing(&'static str),
    #[error("bad project endpoint {endpoint:?}: {why}")]
    BadEndpoint { endpoint: String, why: String },
    #[error("bad WebSocket URL {url:?}: {why}")]
    BadUrl { url: String, why: String },
    #[error("bad header {header:?}: {why}")]
    BadHeader { header: String, why: String },
    #[error("bad {what} {value:?} (one of: {allowed})")]
    BadChoice {
        what: &'static str,
        value: String,
        allowed: &'static str,
    },
    #[error("choose one target: {0}")]
    Conflict(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    const EP: &str = "https://acct.services.ai.azure.com/api/projects/proj";

    #[test]
    fn ga_route_is_built_exactly() {
        let t = Target::foundry(EP, "my-agent").expect("target");
        assert_eq!(
            t.request_url(Some("abc123")),
            "wss://acct.services.ai.azure.com/api/projects/proj/agents/my-agent/endpoint/protocols/invocations_ws?api-version=v1&agent_session_id=abc123"
        );
        assert!(t.extra_headers().is_empty());
    }

    #[test]
    fn preview_route_with_query_flag_is_built_exactly() {
        let ep = ProjectEndpoint::parse(EP).expect("endpoint");
        let t = Target::foundry_with(ep, "my-agent", Route::Preview, PreviewFlag::Query)
            .expect("target");
        assert_eq!(
            t.request_url(Some("s1")),
            "wss://acct.services.ai.azure.com/api/projects/agents/endpoint/protocols/invocations_ws?project_name=proj&agent_name=my-agent&agent_session_id=s1&foundry_features=HostedAgents=V1Preview"
        );
    }

    #[test]
    fn preview_route_with_header_flag() {
        let ep = ProjectEndpoint::parse(EP).expect("endpoint");
        let t = Target::foundry_with(ep, "a", Route::Preview, PreviewFlag::Header).expect("t");
        let url = t.request_url(None);
        assert!(!url.contains("foundry_features"), "{url}");
        assert_eq!(
            t.extra_headers(),
            vec![(
                "Foundry-Features".to_string(),
                "HostedAgents=V1Preview".to_string()
            )]
        );
    }

    #[test]
    fn values_are_percent_encoded() {
        let t = Target::foundry(EP, "agent").expect("t");
        let url = t.request_url(Some("a b&c=d/é"));
        assert!(
            url.ends_with("agent_session_id=a%20b%26c%3Dd%2F%C3%A9"),
            "{url}"
        );
    }

    #[test]
    fn http_endpoint_maps_to_ws_and_keeps_the_port() {
        let t = Target::foundry("http://127.0.0.1:9000/api/projects/_default/", "a").expect("t");
        assert_eq!(
            t.request_url(None),
            "ws://127.0.0.1:9000/api/projects/_default/agents/a/endpoint/protocols/invocations_ws?api-version=v1"
        );
    }

    #[test]
    fn endpoint_errors_say_what_is_wrong() {
        let e = ProjectEndpoint::parse("https://acct.services.ai.azure.com/").unwrap_err();
        assert!(e.to_string().contains("/api/projects/{project}"), "{e}");
        let e = ProjectEndpoint::parse("ftp://x/api/projects/p").unwrap_err();
        assert!(e.to_string().contains("ftp"), "{e}");
        let e = Target::foundry(EP, "  ").unwrap_err();
        assert_eq!(e, TargetError::Missing("--agent (the hosted agent's name)"));
        let e = ProjectEndpoint::parse("not a url").unwrap_err();
        assert!(matches!(e, TargetError::BadEndpoint { .. }));
    }

    #[test]
    fn account_and_project_make_an_endpoint() {
        let ep = ProjectEndpoint::from_account("acct", "proj").expect("ep");
        assert_eq!(ep, ProjectEndpoint::parse(EP).expect("ep"));
        assert!(ProjectEndpoint::from_account("a/b", "p").is_err());
    }

    #[test]
    fn local_target() {
        let t = Target::local(8099);
        assert_eq!(t.request_url(None), "ws://localhost:8099/invocations_ws");
        assert_eq!(
            t.request_url(Some("x")),
            "ws://localhost:8099/invocations_ws?agent_session_id=x"
        );
    }

    #[test]
    fn url_target_validation_and_session_id() {
        assert!(Target::url("https://x/y").is_err());
        assert!(Target::url("nonsense").is_err());
        let t = Target::url("ws://h:1/p?a=1").expect("t");
        assert_eq!(
            t.request_url(Some("s")),
            "ws://h:1/p?a=1&agent_session_id=s"
        );
        assert_eq!(t.request_url(None), "ws://h:1/p?a=1");
        let t = Target::url("ws://h:1/p?agent_session_id=keep").expect("t");
        assert_eq!(t.request_url(Some("s")), "ws://h:1/p?agent_session_id=keep");
    }

    #[test]
    fn header_parsing() {
        assert_eq!(
            parse_header("X-Trace:  1 2 ").expect("h"),
            ("X-Trace".into(), "1 2".into())
        );
        let e = parse_header("Authorization Bearer secret-token").unwrap_err();
        assert!(!e.to_string().contains("secret-token"), "{e}");
        assert!(e.to_string().contains("expected 'Name: value'"), "{e}");
        let e = parse_header("bad name: v").unwrap_err();
        assert!(e.to_string().contains("not a valid header name"));
    }

    #[test]
    fn new_session_ids_are_32_hex() {
        let id = new_session_id();
        assert_eq!(id.len(), 32);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(id, new_session_id());
    }
}

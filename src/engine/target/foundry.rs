//! The Foundry parts of a target: the project endpoint (as given, or from account and project),
//! the GA and preview route forms, and where the preview flag goes.

use super::{TargetError, enc_path};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Route {
    /// `/api/projects/{project}/agents/{agent}/endpoint/protocols/invocations_ws?api-version=v1`
    #[default]
    Ga,
    /// `/api/projects/agents/endpoint/protocols/invocations_ws?project_name=…&agent_name=…`
    Preview,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Ga => "ga",
            Route::Preview => "preview",
        }
    }
    pub fn parse(s: &str) -> Result<Self, TargetError> {
        match s {
            "ga" => Ok(Route::Ga),
            "preview" => Ok(Route::Preview),
            other => Err(TargetError::BadChoice {
                what: "route",
                value: other.to_string(),
                allowed: "ga, preview",
            }),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PreviewFlag {
    /// `foundry_features=HostedAgents=V1Preview` in the query string.
    #[default]
    Query,
    /// `Foundry-Features: HostedAgents=V1Preview` request header.
    Header,
}

impl PreviewFlag {
    pub fn as_str(self) -> &'static str {
        match self {
            PreviewFlag::Query => "query",
            PreviewFlag::Header => "header",
        }
    }
    pub fn parse(s: &str) -> Result<Self, TargetError> {
        match s {
            "query" => Ok(PreviewFlag::Query),
            "header" => Ok(PreviewFlag::Header),
            other => Err(TargetError::BadChoice {
                what: "preview flag",
                value: other.to_string(),
                allowed: "query, header",
            }),
        }
    }
}

/// A Foundry project endpoint, split into what the routes need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectEndpoint {
    /// `wss` or `ws` (from `https`/`http`).
    pub ws_scheme: &'static str,
    /// Host and optional port, as given.
    pub authority: String,
    /// The project name: the segment after `/api/projects/`.
    pub project: String,
    /// The endpoint as the user gave it, without a trailing slash (for display and log streams).
    pub https_url: String,
}

impl ProjectEndpoint {
    /// Parse `https://{account}.services.ai.azure.com/api/projects/{project}` (also `http://` for
    /// a local stand-in, and `wss://`/`ws://` for people who paste the socket form).
    pub fn parse(raw: &str) -> Result<Self, TargetError> {
        let bad = |why: &str| TargetError::BadEndpoint {
            endpoint: raw.to_string(),
            why: why.to_string(),
        };
        let url = url::Url::parse(raw.trim()).map_err(|e| bad(&e.to_string()))?;
        let ws_scheme = match url.scheme() {
            "https" | "wss" => "wss",
            "http" | "ws" => "ws",
            other => return Err(bad(&format!("scheme {other}:// is not http(s) or ws(s)"))),
        };
        let host = url.host_str().ok_or_else(|| bad("it has no host"))?;
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let segments: Vec<&str> = url
            .path_segments()
            .map(|s| s.filter(|p| !p.is_empty()).collect())
            .unwrap_or_default();
        let project = match segments.as_slice() {
            ["api", "projects", project] => *project,
            _ => {
                return Err(bad(
                    "the path must be /api/projects/{project}, as the portal shows the project endpoint",
                ));
            }
        };
        let project = percent_encoding::percent_decode_str(project)
            .decode_utf8()
            .map_err(|_| bad("the project name is not valid UTF-8"))?
            .into_owned();
        let https_scheme = if ws_scheme == "wss" { "https" } else { "http" };
        Ok(ProjectEndpoint {
            ws_scheme,
            https_url: format!(
                "{https_scheme}://{authority}/api/projects/{}",
                enc_path(&project)
            ),
            authority,
            project,
        })
    }

    /// `https://{account}.services.ai.azure.com/api/projects/{project}`.
    pub fn from_account(account: &str, project: &str) -> Result<Self, TargetError> {
        if account.is_empty()
            || !account
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(TargetError::BadEndpoint {
                endpoint: account.to_string(),
                why: "an account name has only letters, digits and '-'".into(),
            });
        }
        if project.is_empty() {
            return Err(TargetError::Missing("--project"));
        }
        Self::parse(&format!(
            "https://{account}.services.ai.azure.com/api/projects/{}",
            enc_path(project)
        ))
    }
}

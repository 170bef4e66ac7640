//! Where an agent's document lives for a target, and fetching it with the session's token and
//! the user's CA.

use super::{AsyncApiError, Document, MAX_DOCUMENT_BYTES, parse_json, parse_yaml};
use crate::engine::auth::{AuthSource, TokenProvider};
use crate::engine::redact::{Secret, scrub, url_for_display};
use crate::engine::{ConnectSpec, Target};
use std::sync::Arc;
use std::time::Duration;

/// The SDK's routes, beside `/invocations_ws`.
const DOCS: [&str; 2] = [
    "invocations/docs/asyncapi.json",
    "invocations/docs/asyncapi.yaml",
];
/// Bytes of a refusal's body kept for the message.
const BODY_LIMIT: usize = 2048;
/// How long the whole answer may take once connected.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the agent's document lives for a target, `.json` first, then `.yaml`.
///
/// Each is the target's WebSocket URL turned into HTTP(S) on the same host and port, with its
/// last path segment `invocations_ws` replaced by `invocations/docs/asyncapi.json`, and the query
/// kept. For a local agent that is the SDK's own route (`http://localhost:8088/invocations/docs/
/// asyncapi.json`). For a URL target whose path does not end in `invocations_ws` it is that host's
/// `/invocations/docs/asyncapi.json`. For Foundry it is **inferred**, not documented: the GA
/// route's `…/agents/{agent}/endpoint/protocols/invocations_ws?api-version=v1` becomes
/// `…/agents/{agent}/endpoint/protocols/invocations/docs/asyncapi.json?api-version=v1`, on the
/// reading that the front door maps `…/endpoint/protocols/` onto the container's root as it does
/// for `invocations_ws` (the preview route likewise, with its query). `discover` prints the URL it
/// tried so a user can check it.
pub fn document_urls(target: &Target) -> Vec<String> {
    let ws = target.request_url(None);
    let Ok(mut url) = url::Url::parse(&ws) else {
        return Vec::new();
    };
    let scheme = if url.scheme() == "wss" {
        "https"
    } else {
        "http"
    };
    if url.set_scheme(scheme).is_err() {
        return Vec::new();
    }
    let path = url.path().to_string();
    let prefix = match path.strip_suffix("invocations_ws") {
        Some(p) if p.ends_with('/') => p.to_string(),
        _ => "/".to_string(),
    };
    DOCS.iter()
        .map(|doc| {
            let mut u = url.clone();
            u.set_path(&format!("{prefix}{doc}"));
            u.to_string()
        })
        .collect()
}

/// What `discover` found.
#[derive(Debug, Clone, PartialEq)]
pub enum Discovery {
    /// `url` is the one that answered, as it may be shown (credentials in the query redacted).
    Found { url: String, document: Document },
    /// Every URL answered 404 (the SDK's answer when no document is registered); `url` is the
    /// first one tried, as it may be shown.
    None { url: String },
}

/// Fetch the document (with the session's token, the user's CA): 404 on every URL = `None`.
///
/// The token goes along when `tokens` is given and the spec's auth sends one (Foundry targets,
/// or `--auth` on any target), unless the spec's own headers carry an `Authorization`. The
/// target's and the user's headers go along as they do on the upgrade (the preview flag among
/// them).
pub async fn discover(
    spec: &ConnectSpec,
    tokens: Option<Arc<TokenProvider>>,
) -> Result<Discovery, AsyncApiError> {
    let urls = document_urls(&spec.target);
    let first_shown = urls.first().map(|u| url_for_display(u)).unwrap_or_default();
    let mut headers = http::HeaderMap::new();
    let mut extra = spec.target.extra_headers();
    extra.extend(spec.headers.iter().cloned());
    for (name, value) in &extra {
        // Both were checked when the target was resolved; a header that is not one is left out.
        if let (Ok(n), Ok(mut v)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            v.set_sensitive(crate::engine::redact::is_sensitive_header(name));
            headers.append(n, v);
        }
    }
    let mut token: Option<Secret> = None;
    if let Some(t) = &tokens
        && spec.auth != AuthSource::None
        && !headers.contains_key(http::header::AUTHORIZATION)
    {
        token = t.token().await?;
        if let Some(tok) = &token {
            let mut v =
                tok.bearer_header()
                    .map_err(|_| crate::engine::auth::AuthError::CommandFailed {
                        status: "token rejected".into(),
                        stderr: "the token has characters a header cannot carry".into(),
                    })?;
            v.set_sensitive(true);
            headers.insert(http::header::AUTHORIZATION, v);
        }
    }
    let client = client(
        spec,
        urls.iter().any(|u| u.starts_with("https:")),
        &first_shown,
    )?;
    for (i, url) in urls.iter().enumerate() {
        let shown = url_for_display(url);
        let accept = if i == 0 {
            "application/json"
        } else {
            "application/yaml, text/yaml, */*"
        };
        let request = client
            .get(url)
            .headers(headers.clone())
            .header(http::header::ACCEPT, accept);
        let resp = request
            .send()
            .await
            .map_err(|e| transport(&e, &shown, spec.connect_timeout))?;
        let status = resp.status();
        if status.as_u16() == 404 {
            continue;
        }
        if !status.is_success() {
            if matches!(status.as_u16(), 401 | 403)
                && let Some(t) = &tokens
            {
                // The next attempt (a console's retry) fetches a fresh token.
                t.invalidate().await;
            }
            let reason = status.canonical_reason().unwrap_or("").to_string();
            let body = read_body(resp, BODY_LIMIT, &shown, spec.connect_timeout).await;
            let body = String::from_utf8_lossy(&body.unwrap_or_default()).into_owned();
            let secrets: Vec<&Secret> = token.iter().collect();
            return Err(AsyncApiError::Refused {
                url: shown,
                status: status.as_u16(),
                reason,
                body: scrub(body.trim(), &secrets),
            });
        }
        if let Some(len) = resp.content_length()
            && len > MAX_DOCUMENT_BYTES as u64
        {
            return Err(AsyncApiError::TooLarge {
                len: usize::try_from(len).unwrap_or(usize::MAX),
                max: MAX_DOCUMENT_BYTES,
            });
        }
        let body = read_body(resp, MAX_DOCUMENT_BYTES + 1, &shown, spec.connect_timeout).await?;
        if body.len() > MAX_DOCUMENT_BYTES {
            return Err(AsyncApiError::TooLarge {
                len: body.len(),
                max: MAX_DOCUMENT_BYTES,
            });
        }
        let in_document = |error| AsyncApiError::InDocument {
            url: shown.clone(),
            error: Box::new(error),
        };
        let text = std::str::from_utf8(&body)
            .map_err(|e| in_document(AsyncApiError::NotJson(format!("not UTF-8 text ({e})"))))?;
        let parsed = if i == 0 {
            parse_json(text)
        } else {
            parse_yaml(text)
        };
        return match parsed {
            Ok(document) => Ok(Discovery::Found {
                url: shown,
                document,
            }),
            Err(e) => Err(in_document(e)),
        };
    }
    Ok(Discovery::None { url: first_shown })
}

fn client(spec: &ConnectSpec, https: bool, shown: &str) -> Result<reqwest::Client, AsyncApiError> {
    let mut b = reqwest::Client::builder()
        .connect_timeout(spec.connect_timeout)
        .read_timeout(READ_TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(5))
        .user_agent(concat!("wsdeck/", env!("CARGO_PKG_VERSION")));
    if https {
        let tls = crate::engine::tls::client_config(spec.ca_cert.as_deref())?;
        b = b.tls_backend_preconfigured((*tls).clone());
    }
    b.build().map_err(|e| AsyncApiError::Unreachable {
        url: shown.to_string(),
        why: format!("cannot set up the HTTP client: {}", chain(&e)),
    })
}

/// The body, at most `limit` bytes (the caller tells a longer one by its length).
async fn read_body(
    mut resp: reqwest::Response,
    limit: usize,
    shown: &str,
    timeout: Duration,
) -> Result<Vec<u8>, AsyncApiError> {
    let mut body = Vec::new();
    while body.len() < limit {
        match resp.chunk().await {
            Ok(Some(c)) => {
                let room = limit - body.len();
                body.extend_from_slice(&c[..c.len().min(room)]);
            }
            Ok(None) => break,
            Err(e) => return Err(transport(&e, shown, timeout)),
        }
    }
    Ok(body)
}

fn transport(e: &reqwest::Error, shown: &str, timeout: Duration) -> AsyncApiError {
    if e.is_timeout() {
        return AsyncApiError::Timeout {
            url: shown.to_string(),
            after: if e.is_connect() {
                timeout
            } else {
                READ_TIMEOUT
            },
        };
    }
    AsyncApiError::Unreachable {
        url: shown.to_string(),
        why: chain(e),
    }
}

/// An error with its causes, each once (reqwest's own text is "error sending request").
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    while let Some(c) = cur {
        let m = c.to_string();
        // reqwest's own words repeat the URL the message already names.
        if !m.starts_with("error sending request") && !parts.iter().any(|p| p.contains(&m)) {
            parts.push(m);
        }
        cur = c.source();
    }
    let s = if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    };
    // reqwest names the URL in its text; it may carry a credential in the query.
    match reqwest_url_in(&s) {
        Some(raw) => s.replace(&raw, &url_for_display(&raw)),
        None => s,
    }
}

fn reqwest_url_in(s: &str) -> Option<String> {
    let start = s.find("http://").or_else(|| s.find("https://"))?;
    let rest = &s[start..];
    let end = rest.find([' ', ')']).unwrap_or(rest.len());
    Some(rest[..end].to_string())
}

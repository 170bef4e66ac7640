//! Keeping secrets secret: a `Secret` that never prints, and redaction of headers and URLs
//! before anything reaches a screen, a capture, a log or an error message.

use std::fmt;

/// A credential (bearer token, API key). `Debug` and `Display` never show it; there is no
/// `Serialize`, so it cannot end up in a capture or a config file by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself; call only where it goes onto the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<redacted, {} chars>)", self.0.len())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted, {} chars>", self.0.len())
    }
}

/// Header names whose values are credentials.
const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "api-key",
    "x-api-key",
    "ocp-apim-subscription-key",
    "x-functions-key",
];

/// Query parameters whose values are credentials (SAS signatures, tokens, keys).
const SENSITIVE_QUERY: &[&str] = &[
    "access_token",
    "token",
    "sig",
    "signature",
    "api-key",
    "api_key",
    "apikey",
    "key",
    "code",
    "client_secret",
    "password",
];

pub fn is_sensitive_header(name: &str) -> bool {
    SENSITIVE_HEADERS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name))
}

/// The value of a header as it may be shown: credentials keep only their scheme and length.
pub fn header_value_for_display(name: &str, value: &str) -> String {
    if !is_sensitive_header(name) {
        return value.to_string();
    }
    match value.split_once(' ') {
        Some((scheme, rest)) if !scheme.is_empty() && !rest.is_empty() => {
            format!("{scheme} <redacted, {} chars>", rest.len())
        }
        _ => format!("<redacted, {} chars>", value.len()),
    }
}

/// A URL as it may be shown: credential-like query values replaced, user info removed.
pub fn url_for_display(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        return raw.to_string();
    };
    if !url.username().is_empty() || url.password().is_some() {
        let _ = url.set_username("");
        let _ = url.set_password(None);
    }
    let Some(query) = url.query() else {
        return url.to_string();
    };
    let mut changed = false;
    let parts: Vec<String> = query
        .split('&')
        .map(|part| {
            let (k, _) = part.split_once('=').unwrap_or((part, ""));
            if SENSITIVE_QUERY.iter().any(|s| s.eq_ignore_ascii_case(k)) {
                changed = true;
                format!("{k}=REDACTED")
            } else {
                part.to_string()
            }
        })
        .collect();
    if changed {
        url.set_query(Some(&parts.join("&")));
    }
    url.to_string()
}

/// Replace every occurrence of each secret in `text` (for messages that quote a peer or a child
/// process, which might echo a token back).
pub fn scrub(text: &str, secrets: &[&Secret]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if s.len() >= 8 {
            out = out.replace(s.expose(), "<redacted>");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("eyJcanary-123456");
        assert!(!format!("{s:?}").contains("canary"));
        assert!(!format!("{s}").contains("canary"));
        assert_eq!(s.expose(), "eyJcanary-123456");
    }

    #[test]
    fn authorization_keeps_scheme_only() {
        let v = header_value_for_display("Authorization", "Bearer eyJabc.def");
        assert_eq!(v, "Bearer <redacted, 10 chars>");
        assert_eq!(header_value_for_display("x-trace", "abc"), "abc");
        assert_eq!(
            header_value_for_display("api-key", "k1"),
            "<redacted, 2 chars>"
        );
    }

    #[test]
    fn url_query_credentials_are_hidden() {
        let u = url_for_display("wss://u:p@h.example/x?agent_session_id=a&access_token=zzz&sig=1");
        assert_eq!(
            u,
            "wss://h.example/x?agent_session_id=a&access_token=REDACTED&sig=REDACTED"
        );
        assert_eq!(url_for_display("ws://h/x?a=1"), "ws://h/x?a=1");
    }

    #[test]
    fn scrub_replaces_long_secrets() {
        let s = Secret::new("tok-abcdefgh");
        assert_eq!(scrub("got tok-abcdefgh back", &[&s]), "got <redacted> back");
    }
}

//! Who may use the proxy. It speaks to the agent with the user's token, so it listens on loopback
//! unless told otherwise, and it turns away pages from other sites: a browser lets any web page
//! open a WebSocket to localhost, and without the `Origin` check a page the user happens to visit
//! could talk to their agent.

use super::ProxyError;
use std::net::SocketAddr;

/// Whether `addr` may be listened on: loopback always, anything else only with `--allow-remote`.
pub fn check_listen(addr: SocketAddr, allow_remote: bool) -> Result<(), ProxyError> {
    if allow_remote || addr.ip().to_canonical().is_loopback() {
        Ok(())
    } else {
        Err(ProxyError::NotLoopback { addr })
    }
}

/// The `Origin` rule: no `Origin` (a non-browser client) passes; a page on this machine
/// (`http(s)://localhost`, `127.0.0.1` or `[::1]`, any port) passes; so does an origin named by
/// `--allow-origin`, compared whole. Everything else, `null` included, is refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginGuard {
    /// The `--allow-origin` values, normalised (lower case, no trailing `/`).
    allowed: Vec<String>,
}

impl OriginGuard {
    /// Check each `--allow-origin` value: `null`, or `scheme://host[:port]` with nothing after.
    pub fn new(allow: &[String]) -> Result<Self, ProxyError> {
        let mut allowed = Vec::with_capacity(allow.len());
        for given in allow {
            let v = given.trim().trim_end_matches('/').to_ascii_lowercase();
            if v != "null" {
                let bad = |why: &str| ProxyError::BadOrigin {
                    given: given.clone(),
                    why: why.to_string(),
                };
                let Some((scheme, rest)) = v.split_once("://") else {
                    return Err(bad(
                        "an origin is scheme://host[:port], as the browser sends it (e.g. https://app.example.com), or null",
                    ));
                };
                if scheme.is_empty()
                    || !scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                {
                    return Err(bad("the scheme is not valid"));
                }
                if split_host_port(rest).is_none() {
                    return Err(bad(
                        "an origin has a host and an optional port and nothing else (no path, no user)",
                    ));
                }
            }
            allowed.push(v);
        }
        Ok(OriginGuard { allowed })
    }

    /// `Ok` when a client with these `Origin` header values may in; otherwise the refused value.
    pub fn check<'a>(&self, origins: &[&'a str]) -> Result<(), &'a str> {
        match origins.iter().find(|o| !self.allows(o)) {
            Some(o) => Err(o),
            None => Ok(()),
        }
    }

    fn allows(&self, origin: &str) -> bool {
        let o = origin.trim();
        is_local_origin(o) || self.allowed.iter().any(|a| a.eq_ignore_ascii_case(o))
    }
}

/// `http(s)://localhost`, `127.0.0.1` or `[::1]` with any port or none, and nothing else:
/// the whole origin is compared, so `http://localhost.evil.example` is not local.
pub fn is_local_origin(origin: &str) -> bool {
    let lower = origin.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"))
    else {
        return false;
    };
    matches!(
        split_host_port(rest),
        Some(("localhost" | "127.0.0.1" | "[::1]", _))
    )
}

/// `host[:port]` of a serialised origin; `None` when anything else is there (a path, user info,
/// an empty host, a port that is not a number).
fn split_host_port(s: &str) -> Option<(&str, Option<u16>)> {
    if s.is_empty() || s.contains(['/', '?', '#', '@', ' ', '\\']) {
        return None;
    }
    let (host, port) = if s.starts_with('[') {
        let end = s.find(']')?;
        let (host, after) = s.split_at(end + 1);
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty() || (!host.starts_with('[') && host.contains(':')) {
        return None;
    }
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().ok()?)
        }
        Some(_) => return None,
    };
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(allow: &[&str]) -> OriginGuard {
        OriginGuard::new(&allow.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("guard")
    }

    #[test]
    fn local_pages_pass_on_any_port() {
        for o in [
            "http://localhost",
            "http://localhost:3000",
            "https://localhost:8443",
            "http://127.0.0.1:8080",
            "http://[::1]:5173",
            "HTTP://LOCALHOST:3000",
        ] {
            assert!(is_local_origin(o), "{o}");
        }
    }

    #[test]
    fn origins_are_compared_whole() {
        for o in [
            "http://localhost.evil.example",
            "http://evil.example",
            "https://evil.example:443",
            "http://127.0.0.1.nip.io",
            "http://localhost:3000/path",
            "http://user@localhost",
            "ftp://localhost",
            "http://localhost:",
            "http://localhost:99999",
            "http://[::1",
            "http://127.0.0.2",
            "null",
            "",
        ] {
            assert!(!is_local_origin(o), "{o}");
        }
    }

    #[test]
    fn null_needs_allow_origin_null() {
        assert_eq!(guard(&[]).check(&["null"]), Err("null"));
        assert_eq!(guard(&["null"]).check(&["null"]), Ok(()));
    }

    #[test]
    fn allowed_origins_match_whole_and_ignore_case_and_a_trailing_slash() {
        let g = guard(&["https://App.example.com/"]);
        assert_eq!(g.check(&["https://app.example.com"]), Ok(()));
        assert!(g.check(&["https://app.example.com.evil.example"]).is_err());
        assert!(g.check(&["http://app.example.com"]).is_err());
        assert_eq!(g.check(&[]), Ok(()), "no Origin: a non-browser client");
        assert!(
            g.check(&["http://localhost:1", "https://evil.example"])
                .is_err()
        );
    }

    #[test]
    fn bad_allow_origin_values_are_refused() {
        for bad in [
            "app.example.com",
            "https://app.example.com/x",
            "https://",
            "://x",
        ] {
            assert!(
                OriginGuard::new(&[bad.to_string()]).is_err(),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn listen_rule() {
        let lo: SocketAddr = "127.0.0.1:8089".parse().expect("addr");
        let lo6: SocketAddr = "[::1]:8089".parse().expect("addr");
        let any: SocketAddr = "0.0.0.0:8089".parse().expect("addr");
        assert!(check_listen(lo, false).is_ok());
        assert!(check_listen(lo6, false).is_ok());
        assert!(check_listen(any, false).is_err());
        assert!(check_listen(any, true).is_ok());
    }
}

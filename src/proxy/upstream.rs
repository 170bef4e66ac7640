//! The agent's side of one client: the target's spec made the client's own (its
//! `agent_session_id`, its subprotocols), dialed through the engine's own dial, so the token, the
//! TLS roots and every failure's diagnosis are exactly a session's.

use crate::engine::auth::TokenProvider;
use crate::engine::diagnose::ConnectError;
use crate::engine::session::{CloseWatch, DialFailure, Handshake, Socket, dial};
use crate::engine::target::{ConnectSpec, Target};
pub(super) type Upstream = Socket;

/// The spec for one client: the client's `agent_session_id` when it gave one (a target URL's own
/// `agent_session_id` gives way to it), else the target's; the client's subprotocols and none
/// else.
pub(super) fn client_spec(
    base: &ConnectSpec,
    session_id: Option<String>,
    subprotocols: Vec<String>,
) -> ConnectSpec {
    let mut spec = base.clone();
    spec.subprotocols = subprotocols;
    if let Some(id) = session_id {
        if let Target::Url { url } = &spec.target
            && let Some(stripped) = without_session_id(url)
        {
            spec.target = Target::Url { url: stripped };
        }
        spec.session_id = Some(id);
    }
    spec
}

/// `url` without its `agent_session_id` query parameter; `None` when it has none.
fn without_session_id(url: &str) -> Option<String> {
    let mut parsed = url::Url::parse(url).ok()?;
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if !pairs.iter().any(|(k, _)| k == "agent_session_id") {
        return None;
    }
    let kept: Vec<&(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != "agent_session_id")
        .collect();
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    Some(parsed.to_string())
}

/// Dial the agent for one client. A refusal of the token (401, 403) drops the cached token, so
/// the next client's dial fetches a fresh one, as a session's reconnect does.
pub(super) async fn open(
    spec: &ConnectSpec,
    tokens: &TokenProvider,
) -> Result<(Upstream, Handshake, CloseWatch), DialFailure> {
    let result = dial(spec, tokens).await;
    if let Err((ConnectError::Refused { refusal }, _)) = &result
        && matches!(refusal.status, 401 | 403)
    {
        tokens.invalidate().await;
    }
    result
}

/// The status a client gets when the dial failed: the agent's own for a refused upgrade, 504
/// when the agent did not answer in time, 502 otherwise; and a short body saying why.
pub(super) fn status_for(error: &ConnectError) -> (u16, String) {
    let status = match error {
        ConnectError::Refused { refusal } => refusal.status,
        ConnectError::Timeout { .. } => 504,
        _ => 502,
    };
    let body = match error {
        ConnectError::Refused { refusal } => format!(
            "wsdeck proxy: the agent refused the upgrade: HTTP {} {} (wsdeck's output has the diagnosis)\n",
            refusal.status, refusal.reason
        ),
        other => format!(
            "wsdeck proxy: could not reach the agent ({}); wsdeck's output has the diagnosis\n",
            other.kind()
        ),
    };
    (status, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clients_session_id_wins() {
        let base = ConnectSpec::new(Target::url("ws://h:1/p?a=1&agent_session_id=own").expect("t"));
        let spec = client_spec(&base, Some("mine".into()), vec!["v1".into()]);
        assert_eq!(spec.request_url(), "ws://h:1/p?a=1&agent_session_id=mine");
        assert_eq!(spec.subprotocols, vec!["v1".to_string()]);
        let spec = client_spec(&base, None, vec![]);
        assert_eq!(spec.request_url(), "ws://h:1/p?a=1&agent_session_id=own");

        let mut local = ConnectSpec::new(Target::local(8088));
        local.session_id = Some("target".into());
        let spec = client_spec(&local, Some("c 1".into()), vec![]);
        assert_eq!(
            spec.request_url(),
            "ws://localhost:8088/invocations_ws?agent_session_id=c%201"
        );
        let spec = client_spec(&local, None, vec![]);
        assert_eq!(spec.session_id.as_deref(), Some("target"));
    }

    #[test]
    fn statuses_for_failures() {
        let e = ConnectError::Timeout {
            phase: "x",
            after: std::time::Duration::from_secs(1),
        };
        assert_eq!(status_for(&e).0, 504);
        let e = ConnectError::Tcp {
            addr: "a".into(),
            message: "m".into(),
        };
        assert_eq!(status_for(&e).0, 502);
    }
}

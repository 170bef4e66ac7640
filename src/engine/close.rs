//! Close codes explained: name, meaning, and the likely cause with duplex agents (PLATFORM.md).

/// Who ended the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initiator {
    /// wsdeck sent the first close frame.
    Client,
    /// The peer sent the first close frame.
    Server,
    /// No close frame at all: the transport dropped (reported as 1006).
    Transport,
}

impl Initiator {
    pub fn as_str(self) -> &'static str {
        match self {
            Initiator::Client => "client",
            Initiator::Server => "server",
            Initiator::Transport => "transport",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "client" => Some(Initiator::Client),
            "server" => Some(Initiator::Server),
            "transport" => Some(Initiator::Transport),
            _ => None,
        }
    }
}

/// 1006 is never sent on the wire; wsdeck reports it when the TCP stream ended without a close
/// frame, as browsers do.
pub const ABNORMAL: u16 = 1006;
/// 1005 is what a close frame without a code means.
pub const NO_STATUS: u16 = 1005;

/// The plain-words explanation of a close code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseExplanation {
    pub code: u16,
    pub name: &'static str,
    pub meaning: &'static str,
    /// What usually causes it with Foundry/agentserver agents, and what to do.
    pub likely_cause: &'static str,
}

/// A clean end is a close handshake with 1000 or 1001; anything else is worth a look.
pub fn is_clean_code(code: u16) -> bool {
    matches!(code, 1000 | 1001)
}

pub fn explain(code: u16) -> CloseExplanation {
    let (name, meaning, likely_cause) = match code {
        1000 => (
            "normal closure",
            "the purpose of the connection was fulfilled",
            "the handler returned, or the session ended (session.end)",
        ),
        1001 => (
            "going away",
            "an endpoint is shutting down or navigating away",
            "the server or the client is shutting down",
        ),
        1002 => (
            "protocol error",
            "the endpoint received a frame that broke the protocol",
            "a frame broke the agent's vocabulary (voice host: not JSON, bad ts, wrong id prefix, an outbound type sent inbound); the reason is often empty: compare the last frame sent with the agent's schema",
        ),
        1003 => (
            "unsupported data",
            "the endpoint cannot accept this kind of data",
            "binary sent where text was expected, or an unsupported message type; check the opcode of the last frame sent",
        ),
        1005 => (
            "no status received",
            "a close frame arrived without a code",
            "the peer closed without saying why",
        ),
        1006 => (
            "abnormal closure",
            "the connection ended without a close frame",
            "the transport dropped: the container was killed or restarted, the network was cut, or a proxy timed out; read the container logs for this agent_session_id",
        ),
        1007 => (
            "invalid payload data",
            "a message's data did not match its type",
            "a text frame that is not valid UTF-8; send such bytes as a binary frame",
        ),
        1008 => (
            "policy violation",
            "a message broke the endpoint's policy",
            "rejected by policy (auth, quota or content rules on the server side)",
        ),
        1009 => (
            "message too big",
            "a message was larger than the endpoint accepts",
            "over the limit: 16 MiB on the agentserver SDK host, 1 MiB on the voice host, 1 MB through the Foundry front door; split the payload",
        ),
        1010 => (
            "mandatory extension",
            "the client expected an extension the server did not negotiate",
            "an extension was required but not offered by the server",
        ),
        1011 => (
            "internal error",
            "the server met an unexpected condition",
            "the handler raised (agentserver: reason \"Internal server error\"); the traceback is in the container logs: azd ai agent monitor --session-id <id>",
        ),
        1012 => (
            "service restart",
            "the server is restarting",
            "platform side: the agent is being restarted or redeployed; reconnect with the same agent_session_id",
        ),
        1013 => (
            "try again later",
            "the server is overloaded or temporarily unable to serve",
            "platform side: back off and reconnect",
        ),
        1014 => (
            "bad gateway",
            "a gateway got an invalid response from upstream",
            "platform side: the relay could not reach the container; check that the agent is running",
        ),
        1015 => (
            "TLS handshake failure",
            "the TLS handshake failed",
            "certificate or protocol mismatch; see --ca-cert",
        ),
        3000..=3999 => (
            "registered",
            "reserved for libraries, frameworks and applications registered with IANA",
            "defined by a library or framework on the peer; read the reason text",
        ),
        4000..=4999 => (
            "application",
            "defined by the agent itself",
            "defined by the agent; the reason text is its explanation",
        ),
        _ => (
            "unknown",
            "a code outside the ranges the WebSocket standard defines",
            "the peer sent a non-standard code; read the reason text",
        ),
    };
    CloseExplanation {
        code,
        name,
        meaning,
        likely_cause,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_in_the_platform_table_is_explained() {
        for code in [
            1000, 1001, 1002, 1003, 1006, 1007, 1008, 1009, 1011, 1012, 1013, 1014,
        ] {
            assert_ne!(explain(code).name, "unknown", "code {code}");
        }
        assert_eq!(explain(4001).name, "application");
        assert_eq!(explain(1011).name, "internal error");
        assert!(explain(1011).likely_cause.contains("handler raised"));
        assert!(explain(1006).likely_cause.contains("transport dropped"));
        assert_eq!(explain(999).name, "unknown");
    }

    #[test]
    fn only_1000_and_1001_are_clean() {
        assert!(is_clean_code(1000));
        assert!(is_clean_code(1001));
        assert!(!is_clean_code(1006));
        assert!(!is_clean_code(1011));
        assert!(!is_clean_code(4000));
    }
}

//! Variables in composed frames: `{{session_id}}`, `{{uuid}}`, `{{now}}` (RFC 3339), `{{seq}}`
//! and user-defined ones per session (`:set NAME VALUE`), expanded at send time. Expansion is a
//! pure function of the values given; the runtime supplies the clock and the randomness.

use std::collections::BTreeMap;

pub struct Values<'a> {
    pub session_id: &'a str,
    pub uuid: &'a str,
    pub now: &'a str,
    pub seq: u64,
    pub user: &'a BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum VarError {
    #[error("an unclosed {{{{")]
    Unclosed,
    #[error(
        "unknown variable {{{{{0}}}}} (built in: session_id, uuid, now, seq; :set NAME VALUE adds one)"
    )]
    Unknown(String),
}

/// Replace every `{{name}}`; an unknown name is an error that names it.
pub fn expand(text: &str, v: &Values) -> Result<String, VarError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(VarError::Unclosed);
        };
        let name = after[..end].trim();
        let value = match name {
            "session_id" => v.session_id.to_string(),
            "uuid" => v.uuid.to_string(),
            "now" => v.now.to_string(),
            "seq" => v.seq.to_string(),
            other => match v.user.get(other) {
                Some(x) => x.clone(),
                None => return Err(VarError::Unknown(other.to_string())),
            },
        };
        out.push_str(&value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Placeholder values, for checking a draft as it is typed.
pub fn sample(user: &BTreeMap<String, String>) -> impl Fn(&str) -> Result<String, VarError> + '_ {
    move |text| {
        expand(
            text,
            &Values {
                session_id: "0123456789abcdef0123456789abcdef",
                uuid: "00000000-0000-4000-8000-000000000000",
                now: "2026-01-01T00:00:00Z",
                seq: 1,
                user,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_built_ins_and_user_variables() {
        let mut user = BTreeMap::new();
        user.insert("agent".to_string(), "voice".to_string());
        let v = Values {
            session_id: "s1",
            uuid: "u-1",
            now: "2026-11-25T10:00:00Z",
            seq: 7,
            user: &user,
        };
        assert_eq!(
            expand(r#"{"id":"{{uuid}}","sid":"{{ session_id }}","n":{{seq}},"t":"{{now}}","a":"{{agent}}"}"#, &v).ok(),
            Some(r#"{"id":"u-1","sid":"s1","n":7,"t":"2026-11-25T10:00:00Z","a":"voice"}"#.to_string())
        );
        assert!(
            expand("{{nope}}", &v)
                .unwrap_err()
                .to_string()
                .contains("unknown variable {{nope}}")
        );
        assert!(
            expand("{{seq", &v)
                .unwrap_err()
                .to_string()
                .contains("unclosed")
        );
        assert_eq!(expand("no vars", &v).ok(), Some("no vars".into()));
    }
}

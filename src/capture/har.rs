//! HAR (HTTP Archive) files with WebSocket messages, as Chrome DevTools and HTTP Toolkit write
//! them: an entry with `_resourceType: "websocket"` and `_webSocketMessages` (`type` send/receive,
//! `time` in epoch seconds, `opcode` 1 text / 2 binary, `data` with binary as base64).

use crate::capture::reader::{Capture, Entry};
use crate::engine::{Direction, Frame, Opcode};
use bytes::Bytes;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// Whether a parsed JSON document is a HAR.
pub fn is_har(v: &Value) -> bool {
    v.get("log")
        .and_then(|l| l.get("entries"))
        .is_some_and(Value::is_array)
}

/// The WebSocket messages of a HAR as a capture (the first WebSocket entry; others are named in
/// the warnings).
/// Why a HAR holds no WebSocket conversation.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum HarError {
    #[error("no log.entries")]
    NoEntries,
    #[error("the HAR has no WebSocket entry (_webSocketMessages)")]
    NoWebSocket,
    /// Every message was skipped: as a capture none of whose lines is a record, not a capture.
    #[error("none of the WebSocket entry's {0} messages could be read ({1})")]
    NoMessage(usize, String),
}

pub fn read_har(v: &Value) -> Result<Capture, HarError> {
    let entries = v
        .pointer("/log/entries")
        .and_then(Value::as_array)
        .ok_or(HarError::NoEntries)?;
    let ws: Vec<&Value> = entries
        .iter()
        .filter(|e| {
            e.get("_webSocketMessages").is_some()
                || e.get("_resourceType").and_then(Value::as_str) == Some("websocket")
        })
        .collect();
    let Some(entry) = ws.first() else {
        return Err(HarError::NoWebSocket);
    };
    let mut cap = Capture::default();
    if ws.len() > 1 {
        cap.warnings.push(format!(
            "the HAR has {} WebSocket entries; reading the first",
            ws.len()
        ));
    }
    let url = entry
        .pointer("/request/url")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut header = Map::new();
    header.insert("wsdeck_capture".into(), json!(1));
    header.insert("target".into(), json!({"kind": "url", "describe": crate::engine::redact::url_for_display(url), "url": crate::engine::redact::url_for_display(url)}));
    if let Some(s) = entry.get("startedDateTime") {
        header.insert("started".into(), s.clone());
    }
    cap.header = Some(header);
    let msgs = entry
        .get("_webSocketMessages")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let t0 = msgs
        .first()
        .and_then(|m| m.get("time"))
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    for (i, m) in msgs.iter().enumerate() {
        let dir = match m.get("type").and_then(Value::as_str) {
            Some("send") => Direction::Out,
            Some("receive") => Direction::In,
            other => {
                cap.warnings.push(match other {
                    Some(t) => format!("message {i}: type {t:?} is not send/receive; skipped"),
                    None => format!("message {i}: no \"type\" (send/receive); skipped"),
                });
                continue;
            }
        };
        let data = m.get("data").and_then(Value::as_str).unwrap_or_default();
        let (opcode, payload) = match m.get("opcode").and_then(Value::as_u64).unwrap_or(1) {
            1 => (Opcode::Text, Bytes::from(data.to_string())),
            2 => match base64_simd::STANDARD.decode_to_vec(data) {
                Ok(b) => (Opcode::Binary, Bytes::from(b)),
                Err(e) => {
                    cap.warnings.push(format!(
                        "message {i}: binary data is not base64 ({e}); skipped"
                    ));
                    continue;
                }
            },
            9 => (Opcode::Ping, Bytes::from(data.to_string())),
            10 => (Opcode::Pong, Bytes::from(data.to_string())),
            8 => (Opcode::Close, Bytes::from(data.to_string())),
            op => {
                cap.warnings
                    .push(format!("message {i}: opcode {op} unknown; skipped"));
                continue;
            }
        };
        let t = m.get("time").and_then(Value::as_f64).unwrap_or(t0);
        let Ok(at) = Duration::try_from_secs_f64((t - t0).max(0.0)) else {
            cap.warnings
                .push(format!("message {i}: time {t:e} is out of range; skipped"));
            continue;
        };
        cap.entries.push(Entry::Frame(Frame {
            seq: i as u64 + 1,
            at,
            dir,
            opcode,
            payload,
        }));
    }
    if cap.entries.is_empty() && !msgs.is_empty() {
        let first = cap.warnings.iter().find(|w| w.starts_with("message "));
        let first = first.map_or("", |w| w.strip_suffix("; skipped").unwrap_or(w));
        return Err(HarError::NoMessage(msgs.len(), first.to_string()));
    }
    Ok(cap)
}

/// A capture as a HAR 1.2 document with one WebSocket entry, as Chrome's readers expect it.
pub fn write_har(cap: &Capture) -> Value {
    let header = cap.header.clone().unwrap_or_default();
    let started = header
        .get("started")
        .and_then(Value::as_str)
        .unwrap_or("1970-01-01T00:00:00Z")
        .to_string();
    let start_secs =
        time::OffsetDateTime::parse(&started, &time::format_description::well_known::Rfc3339)
            .map(|t| t.unix_timestamp_nanos() as f64 / 1e9)
            .unwrap_or(0.0);
    let url = header
        .get("target")
        .and_then(|t| t.get("url"))
        .and_then(Value::as_str)
        .unwrap_or("ws://unknown/")
        .to_string();
    let mut req_headers = Vec::new();
    let mut resp_headers = Vec::new();
    for e in &cap.entries {
        if let Entry::Event { kind, fields, .. } = e
            && kind == "open"
        {
            let pairs = |k: &str| -> Vec<Value> {
                fields
                    .get(k)
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|p| Some(json!({"name": p.get(0)?.as_str()?, "value": p.get(1)?.as_str()?})))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            req_headers = pairs("request_headers");
            resp_headers = pairs("response_headers");
        }
    }
    let messages: Vec<Value> = cap
        .frames()
        .filter_map(|f| {
            let (opcode, data) = match f.opcode {
                Opcode::Text => (1, f.text().unwrap_or_default().to_string()),
                Opcode::Binary => (2, base64_simd::STANDARD.encode_to_string(&f.payload)),
                _ => return None,
            };
            Some(json!({
                "type": if f.dir == Direction::Out { "send" } else { "receive" },
                "time": start_secs + f.at.as_secs_f64(),
                "opcode": opcode,
                "data": data,
            }))
        })
        .collect();
    let query: Vec<Value> = url::Url::parse(&url)
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| json!({"name": k, "value": v}))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "log": {
            "version": "1.2",
            "creator": {"name": "wsdeck", "version": env!("CARGO_PKG_VERSION")},
            "pages": [],
            "entries": [{
                "startedDateTime": started,
                "time": 0,
                "request": {
                    "method": "GET", "url": url, "httpVersion": "HTTP/1.1",
                    "headers": req_headers, "queryString": query, "cookies": [],
                    "headersSize": -1, "bodySize": 0
                },
                "response": {
                    "status": 101, "statusText": "Switching Protocols", "httpVersion": "HTTP/1.1",
                    "headers": resp_headers, "cookies": [],
                    "content": {"size": 0, "mimeType": "x-unknown"},
                    "redirectURL": "", "headersSize": -1, "bodySize": 0
                },
                "cache": {},
                "timings": {"blocked": -1, "dns": -1, "connect": -1, "send": 0, "wait": 0, "receive": 0, "ssl": -1},
                "_resourceType": "websocket",
                "_webSocketMessages": messages
            }]
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn har(messages: Value) -> Value {
        json!({"log": {"entries": [{"_resourceType": "websocket", "_webSocketMessages": messages}]}})
    }

    #[test]
    fn messages_with_missing_fields_are_named_and_none_readable_is_an_error() {
        // tests/hostile/har-missing-fields.har: every message lacks what it needs.
        let e = read_har(&har(json!([
            {"time": 1.0},
            {"type": "receive", "opcode": 2, "data": "***"},
            {"type": "send", "time": 1e300, "data": "late"},
        ])))
        .expect_err("nothing to read");
        assert_eq!(
            e.to_string(),
            "none of the WebSocket entry's 3 messages could be read (message 0: no \"type\" (send/receive))"
        );
        // One readable message is a capture; the others are warnings naming them.
        let cap = read_har(&har(json!([
            {"type": "sideways"},
            {"type": "send", "time": 1e300, "data": "late"},
            {"type": "send", "data": "{}"},
        ])))
        .expect("one frame");
        assert_eq!(cap.frames().count(), 1);
        assert_eq!(
            cap.warnings,
            [
                "message 0: type \"sideways\" is not send/receive; skipped",
                "message 1: time 1e300 is out of range; skipped"
            ]
        );
        // A WebSocket entry that exchanged nothing is an empty conversation, not an error.
        assert_eq!(read_har(&har(json!([]))).expect("empty").entries, []);
    }
}

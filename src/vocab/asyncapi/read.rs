//! A parsed document's value into a `Document`: AsyncAPI 3 (channels with their messages,
//! operations saying who sends what), and 2.x (`publish` / `subscribe` on each channel).

use super::refs::{self, escape};
use super::{AsyncApiError, Channel, Document, Message, example};
use crate::engine::Direction;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Messages and operations read, at most (a document has a handful; a hostile one must not make
/// the matching of operations to messages quadratic in megabytes).
const MAX_MESSAGES: usize = 4096;

pub(super) fn document(root: &Value) -> Result<Document, AsyncApiError> {
    let Value::Object(top) = root else {
        return Err(AsyncApiError::NotAsyncApi(format!(
            "the top level is {}, not an object",
            kind(root)
        )));
    };
    let version = match top.get("asyncapi") {
        Some(Value::String(s)) => s.trim().to_string(),
        // YAML reads `asyncapi: 2.0` as a number.
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => {
            return Err(AsyncApiError::NotAsyncApi(format!(
                "its \"asyncapi\" field is {}, not a version string",
                kind(other)
            )));
        }
        None => {
            return Err(AsyncApiError::NotAsyncApi(
                "it has no \"asyncapi\" version field".into(),
            ));
        }
    };
    let major = version.split('.').next().unwrap_or_default();
    if major != "3" && major != "2" {
        return Err(AsyncApiError::NotAsyncApi(format!(
            "asyncapi version {version:?}: wsdeck reads 3.x (and 2.x on a best-effort basis)"
        )));
    }
    let info = match top.get("info") {
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(shape(
                "/info",
                &format!("is {}, not an object", kind(other)),
            ));
        }
        None => return Err(shape("/info", "is missing (title and version live there)")),
    };
    let text = |key: &str| match info.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let default_ct = top
        .get("defaultContentType")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut pending = Vec::new();
    let channels = if major == "3" {
        v3(root, top, &mut pending)?
    } else {
        v2(root, top, &mut pending)?
    };
    components(root, top, &mut pending)?;
    if pending.len() > MAX_MESSAGES {
        return Err(shape(
            "/",
            &format!("defines more than {MAX_MESSAGES} messages"),
        ));
    }
    let mut budget = refs::MAX_NODES;
    let mut messages = Vec::new();
    for p in pending {
        let directions: Vec<Option<Direction>> = match (p.out, p.inn) {
            (true, true) => vec![Some(Direction::Out), Some(Direction::In)],
            (true, false) => vec![Some(Direction::Out)],
            (false, true) => vec![Some(Direction::In)],
            (false, false) => vec![None],
        };
        let base = message(root, &p, default_ct.as_deref(), &mut budget)?;
        for d in directions {
            messages.push(Message {
                direction: d,
                ..base.clone()
            });
        }
    }
    Ok(Document {
        title: text("title").unwrap_or_default(),
        version: text("version").unwrap_or_default(),
        description: text("description"),
        asyncapi: version,
        channels,
        messages,
    })
}

/// A message found in a channel (or in components), before its directions are known.
struct Pending<'a> {
    /// Every pointer an operation may use for it: where the channel lists it, the same under
    /// the channel's own `$ref` target, and the message's `$ref` target.
    ids: Vec<String>,
    channel: Option<String>,
    /// The key it is listed under (the name when it has no `name`).
    key: String,
    at: String,
    msg: &'a Map<String, Value>,
    out: bool,
    inn: bool,
}

fn v3<'a>(
    root: &'a Value,
    top: &'a Map<String, Value>,
    pending: &mut Vec<Pending<'a>>,
) -> Result<Vec<Channel>, AsyncApiError> {
    let mut channels = Vec::new();
    // The channel pointers each channel answers to, for operations' `channel` refs.
    let mut channel_ids: Vec<(String, Vec<String>)> = Vec::new();
    for (ckey, cval) in object_at(top.get("channels"), "/channels")? {
        let here = format!("/channels/{}", escape(ckey));
        let (cptr, chan) = refs::follow(root, cval, &here)?;
        let chan = as_object(chan, &cptr)?;
        let address = chan
            .get("address")
            .and_then(Value::as_str)
            .map(str::to_string);
        channels.push(Channel {
            name: ckey.clone(),
            address,
        });
        channel_ids.push((ckey.clone(), vec![here.clone(), cptr.clone()]));
        let messages_at = format!("{cptr}/messages");
        for (mkey, mval) in object_at(chan.get("messages"), &messages_at)? {
            let listed = format!("{here}/messages/{}", escape(mkey));
            let under_target = format!("{cptr}/messages/{}", escape(mkey));
            let (mptr, msg) = refs::follow(root, mval, &under_target)?;
            pending.push(Pending {
                ids: vec![listed, under_target, mptr.clone()],
                channel: Some(ckey.clone()),
                key: mkey.clone(),
                msg: as_object(msg, &mptr)?,
                at: mptr,
                out: false,
                inn: false,
            });
        }
    }
    if pending.len() > MAX_MESSAGES {
        return Err(shape(
            "/channels",
            &format!("define more than {MAX_MESSAGES} messages"),
        ));
    }
    let mut by_id: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, p) in pending.iter().enumerate() {
        for id in &p.ids {
            by_id.entry(id.clone()).or_default().push(i);
        }
    }
    let operations = object_at(top.get("operations"), "/operations")?;
    if operations.len() > MAX_MESSAGES {
        return Err(shape(
            "/operations",
            &format!("has more than {MAX_MESSAGES} operations"),
        ));
    }
    for (okey, oval) in operations {
        let here = format!("/operations/{}", escape(okey));
        let (optr, op) = refs::follow(root, oval, &here)?;
        let op = as_object(op, &optr)?;
        let dir = match op.get("action").and_then(Value::as_str) {
            Some("receive") => Direction::Out,
            Some("send") => Direction::In,
            _ => continue,
        };
        let channel = match op.get("channel").and_then(ref_target) {
            Some(r) => {
                let target = ref_pointer(r, &format!("{optr}/channel"))?;
                channel_ids
                    .iter()
                    .find(|(_, ids)| ids.contains(&target))
                    .map(|(name, _)| name.clone())
            }
            None => None,
        };
        let listed: Vec<String> = match op.get("messages") {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, m)| {
                    ref_target(m).map(|r| ref_pointer(r, &format!("{optr}/messages/{i}")))
                })
                .collect::<Result<_, _>>()?,
            _ => Vec::new(),
        };
        let hits: Vec<usize> = if listed.is_empty() {
            // No `messages`: every message of the operation's channel.
            match &channel {
                Some(c) => pending
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.channel.as_ref() == Some(c))
                    .map(|(i, _)| i)
                    .collect(),
                None => Vec::new(),
            }
        } else {
            listed
                .iter()
                .filter_map(|id| by_id.get(id.as_str()))
                .flatten()
                .copied()
                .filter(|&i| channel.is_none() || pending[i].channel == channel)
                .collect()
        };
        for i in hits {
            match dir {
                Direction::Out => pending[i].out = true,
                Direction::In => pending[i].inn = true,
            }
        }
    }
    Ok(channels)
}

/// 2.x: `publish` is what the application receives (we send it: Out), `subscribe` what it sends.
fn v2<'a>(
    root: &'a Value,
    top: &'a Map<String, Value>,
    pending: &mut Vec<Pending<'a>>,
) -> Result<Vec<Channel>, AsyncApiError> {
    let mut channels = Vec::new();
    for (address, cval) in object_at(top.get("channels"), "/channels")? {
        let here = format!("/channels/{}", escape(address));
        let (cptr, chan) = refs::follow(root, cval, &here)?;
        let chan = as_object(chan, &cptr)?;
        channels.push(Channel {
            name: address.clone(),
            address: Some(address.clone()),
        });
        for (op_key, dir) in [("publish", Direction::Out), ("subscribe", Direction::In)] {
            let Some(oval) = chan.get(op_key) else {
                continue;
            };
            let (optr, op) = refs::follow(root, oval, &format!("{cptr}/{op_key}"))?;
            let op = as_object(op, &optr)?;
            let Some(mval) = op.get("message") else {
                continue;
            };
            let (mptr, msg) = refs::follow(root, mval, &format!("{optr}/message"))?;
            let alternatives: Vec<(String, &Value)> = match msg.get("oneOf") {
                Some(Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(i, m)| refs::follow(root, m, &format!("{mptr}/oneOf/{i}")))
                    .collect::<Result<_, _>>()?,
                _ => vec![(mptr, msg)],
            };
            for (aptr, alt) in alternatives {
                let alt = as_object(alt, &aptr)?;
                if let Some(p) = pending
                    .iter_mut()
                    .find(|p| p.at == aptr && p.channel.as_deref() == Some(address))
                {
                    match dir {
                        Direction::Out => p.out = true,
                        Direction::In => p.inn = true,
                    }
                    continue;
                }
                let key = alt
                    .get("messageId")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or_else(|| components_key(&aptr))
                    .or_else(|| {
                        op.get("operationId")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .unwrap_or_else(|| format!("{address} {op_key}"));
                if pending.len() >= MAX_MESSAGES {
                    return Err(shape(
                        "/channels",
                        &format!("define more than {MAX_MESSAGES} messages"),
                    ));
                }
                pending.push(Pending {
                    ids: vec![aptr.clone()],
                    channel: Some(address.clone()),
                    key,
                    msg: alt,
                    at: aptr,
                    out: dir == Direction::Out,
                    inn: dir == Direction::In,
                });
            }
        }
    }
    Ok(channels)
}

/// Messages defined in `components.messages` that no channel uses: listed, with no channel.
fn components<'a>(
    root: &'a Value,
    top: &'a Map<String, Value>,
    pending: &mut Vec<Pending<'a>>,
) -> Result<(), AsyncApiError> {
    let Some(Value::Object(comps)) = top.get("components") else {
        return Ok(());
    };
    for (key, mval) in object_at(comps.get("messages"), "/components/messages")? {
        let here = format!("/components/messages/{}", escape(key));
        if pending.iter().any(|p| p.ids.contains(&here)) {
            continue;
        }
        let (mptr, msg) = refs::follow(root, mval, &here)?;
        if pending.iter().any(|p| p.ids.contains(&mptr)) {
            continue;
        }
        pending.push(Pending {
            ids: vec![here, mptr.clone()],
            channel: None,
            key: key.clone(),
            msg: as_object(msg, &mptr)?,
            at: mptr,
            out: false,
            inn: false,
        });
    }
    Ok(())
}

fn message(
    root: &Value,
    p: &Pending<'_>,
    default_ct: Option<&str>,
    budget: &mut usize,
) -> Result<Message, AsyncApiError> {
    let msg = p.msg;
    let name = msg
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| p.key.clone());
    let traits_ct = || {
        msg.get("traits")?.as_array()?.iter().find_map(|t| {
            refs::follow(root, t, &p.at)
                .ok()?
                .1
                .get("contentType")?
                .as_str()
        })
    };
    let content_type = msg
        .get("contentType")
        .and_then(Value::as_str)
        .or_else(traits_ct)
        .or(default_ct)
        .map(str::to_string);
    let payload = match msg.get("payload") {
        Some(v) => refs::inline(root, v, &format!("{}/payload", p.at), budget)?,
        None => Value::Null,
    };
    let payload = unwrap_multi_format(payload);
    let example = match msg
        .get("examples")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        Some(first) => {
            let first = refs::inline(root, first, &format!("{}/examples/0", p.at), budget)?;
            match first.get("payload") {
                Some(v) => v.clone(),
                None => example::from_schema(&payload, 0),
            }
        }
        None => example::from_schema(&payload, 0),
    };
    Ok(Message {
        name,
        channel: p.channel.clone(),
        direction: None,
        content_type,
        type_const: example::type_const(&payload),
        example,
        payload,
    })
}

/// AsyncAPI 3's multi-format schema (`{schemaFormat, schema}`): the schema itself when it is a
/// JSON Schema or AsyncAPI Schema; other formats (Avro, RAML…) are kept whole, and not validated.
fn unwrap_multi_format(payload: Value) -> Value {
    let Value::Object(mut m) = payload else {
        return payload;
    };
    let json_like = match m.get("schemaFormat").and_then(Value::as_str) {
        Some(f) => {
            let f = f.to_ascii_lowercase();
            f.contains("schema+json") || f.contains("schema+yaml") || f.contains("asyncapi")
        }
        None => return Value::Object(m),
    };
    if json_like && let Some(schema) = m.remove("schema") {
        return schema;
    }
    Value::Object(m)
}

/// The components key in `/components/messages/KEY`.
fn components_key(ptr: &str) -> Option<String> {
    let key = ptr.strip_prefix("/components/messages/")?;
    (!key.contains('/')).then(|| key.replace("~1", "/").replace("~0", "~"))
}

fn ref_target(v: &Value) -> Option<&str> {
    v.as_object()?.get("$ref")?.as_str()
}

fn ref_pointer(reference: &str, at: &str) -> Result<String, AsyncApiError> {
    match refs::local_pointer(reference, at) {
        Some(p) => p,
        None => Err(AsyncApiError::BrokenRef {
            reference: reference.to_string(),
            at: at.to_string(),
            why: "it points outside the document, and wsdeck fetches nothing else".into(),
        }),
    }
}

fn object_at<'a>(
    v: Option<&'a Value>,
    at: &str,
) -> Result<Vec<(&'a String, &'a Value)>, AsyncApiError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(m)) => Ok(m.iter().collect()),
        Some(other) => Err(shape(at, &format!("is {}, not an object", kind(other)))),
    }
}

fn as_object<'a>(v: &'a Value, at: &str) -> Result<&'a Map<String, Value>, AsyncApiError> {
    v.as_object()
        .ok_or_else(|| shape(at, &format!("is {}, not an object", kind(v))))
}

fn shape(at: &str, why: &str) -> AsyncApiError {
    AsyncApiError::Shape {
        at: if at.is_empty() {
            "/".into()
        } else {
            at.to_string()
        },
        why: why.to_string(),
    }
}

pub(super) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

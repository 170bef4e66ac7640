//! Request-to-reply correlation, learned from the data. An outgoing JSON frame is a request for
//! the id-like values it carries (fields named `id` or ending in `_id`/`Id`, and the elements of
//! `…_ids` lists). An incoming frame replies to it when one of its values names one of those ids
//! (`in_reply_to: ["in_0001"]` names `item_id: "in_0001"`). A reply's own new ids (its
//! `response_id`, `item_id`, `id`) then stand for the same request, so the frames that only name
//! the response (`response.output_text.delta`, …, `response.done`) are replies too, and the last
//! of them is the request's last reply. A frame that names no id of a request is not its reply,
//! however soon it comes.

use crate::engine::{Direction, Frame, Opcode};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// Requests followed at once; the oldest is dropped past it.
const MAX_OPEN: usize = 100_000;
/// Ids standing for one request (its own and those its replies introduced).
const MAX_IDS_PER_REQUEST: usize = 16;
/// Requests one id may stand for (a reply naming several inputs introduces ids for each).
const MAX_REQUESTS_PER_ID: usize = 8;
/// Values of one frame looked at.
const MAX_VALUES_PER_FRAME: usize = 256;
/// How deep ids are looked for.
const MAX_DEPTH: usize = 8;
/// Elements of one array looked at.
const MAX_ELEMENTS: usize = 64;
/// Latest first-reply times kept per request type for the percentiles (n and max are exact).
const MAX_SAMPLES: usize = 10_000;
/// A value shorter than this names an id only in an id-like field, so that `"ok"` or `"1"` in
/// a text does not make a reply.
const MIN_FREE_ID_LEN: usize = 6;
/// Distinct (request field, reply field) pairs reported.
const MAX_LINKS: usize = 256;

/// The replies to one request: time from it to the first and to the last, and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replies {
    pub first: Duration,
    pub last: Duration,
    pub count: u64,
}

/// The time to the first reply of one request type, in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Latency {
    pub request_type: String,
    /// Requests of this type that had a reply.
    pub n: u64,
    /// Nearest-rank percentiles over the latest 10 000 of them.
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

/// Where an id came from: the request's own field, or a reply that introduced it.
#[derive(Debug, Clone)]
struct IdRef {
    seq: u64,
    field: String,
    from_reply: bool,
}

#[derive(Debug, Clone)]
struct Request {
    at: Duration,
    kind: String,
    ids: Vec<String>,
    replies: Option<Replies>,
}

#[derive(Debug, Clone, Default)]
struct Samples {
    ring: Vec<f64>,
    next: usize,
    n: u64,
    max: f64,
}

impl Samples {
    fn add(&mut self, ms: f64) {
        self.n += 1;
        self.max = self.max.max(ms);
        if self.ring.len() < MAX_SAMPLES {
            self.ring.push(ms);
        } else {
            self.ring[self.next] = ms;
            self.next = (self.next + 1) % MAX_SAMPLES;
        }
    }
}

/// Nearest-rank percentile of sorted values (`p` in 0..=100).
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Learns which incoming frames reply to which outgoing ones.
#[derive(Debug, Clone, Default)]
pub struct Correlator {
    ids: HashMap<String, Vec<IdRef>>,
    open: HashMap<u64, Request>,
    order: VecDeque<u64>,
    /// (request field, reply field, introduced by a reply) → matches; few, so a list.
    links: Vec<(String, String, bool, u64)>,
    samples: HashMap<String, Samples>,
}

/// A field name that holds ids: `id`, `item_id`, `requestId`.
fn is_id_field(name: &str) -> bool {
    name == "id" || name.ends_with("_id") || (name.len() > 2 && name.ends_with("Id"))
}

/// A field name that holds lists of ids: `item_ids`, `requestIds`.
fn is_ids_field(name: &str) -> bool {
    name.ends_with("_ids") || (name.len() > 3 && name.ends_with("Ids"))
}

/// A field whose values refer to other messages: ids, and `in_reply_to`, `request`, `ref`…
fn is_link_field(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    is_id_field(name)
        || is_ids_field(name)
        || [
            "reply",
            "request",
            "ref",
            "parent",
            "correlation",
            "previous",
        ]
        .iter()
        .any(|w| lower.contains(w))
}

fn id_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) if !s.is_empty() => Some(Cow::Borrowed(s)),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

type Found<'a> = Vec<(&'a str, Cow<'a, str>)>;

/// The id-like values of a frame, `(field, value)`: `…_id` fields first, then `id`, then the
/// elements of `…_ids` (so a request's references and its own id come before the cap).
fn ids_of(v: &Value) -> Found<'_> {
    struct Out<'a> {
        named: Found<'a>,
        own: Found<'a>,
        lists: Found<'a>,
    }
    fn walk<'a>(v: &'a Value, depth: usize, out: &mut Out<'a>) {
        if depth > MAX_DEPTH
            || out.named.len() + out.own.len() + out.lists.len() >= MAX_VALUES_PER_FRAME
        {
            return;
        }
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    if is_id_field(k) {
                        if let Some(t) = id_text(child) {
                            let to = if k == "id" {
                                &mut out.own
                            } else {
                                &mut out.named
                            };
                            to.push((k, t));
                            continue;
                        }
                    } else if is_ids_field(k)
                        && let Value::Array(a) = child
                    {
                        for el in a.iter().take(MAX_ELEMENTS) {
                            if let Some(t) = id_text(el) {
                                out.lists.push((k, t));
                            }
                        }
                        continue;
                    }
                    walk(child, depth + 1, out);
                }
            }
            Value::Array(a) => a
                .iter()
                .take(MAX_ELEMENTS)
                .for_each(|el| walk(el, depth + 1, out)),
            _ => {}
        }
    }
    let mut out = Out {
        named: Vec::new(),
        own: Vec::new(),
        lists: Vec::new(),
    };
    walk(v, 0, &mut out);
    let mut all = out.named;
    all.extend(out.own);
    all.extend(out.lists);
    all.truncate(MAX_VALUES_PER_FRAME);
    all
}

/// Values of an incoming frame that may name an id, `(field, value)`: strings anywhere (list
/// elements under the list's field), integers in id-like fields. Borrowed from the frame: this
/// runs on every incoming frame.
fn references_of(v: &Value) -> Vec<(&str, Cow<'_, str>)> {
    fn walk<'a>(
        v: &'a Value,
        field: &'a str,
        depth: usize,
        out: &mut Vec<(&'a str, Cow<'a, str>)>,
    ) {
        if depth > MAX_DEPTH || out.len() >= MAX_VALUES_PER_FRAME {
            return;
        }
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    walk(child, k, depth + 1, out);
                }
            }
            Value::Array(a) => a
                .iter()
                .take(MAX_ELEMENTS)
                .for_each(|el| walk(el, field, depth + 1, out)),
            Value::String(s)
                if s.len() >= MIN_FREE_ID_LEN || (!s.is_empty() && is_link_field(field)) =>
            {
                out.push((field, Cow::Borrowed(s)));
            }
            Value::Number(n) if (n.is_i64() || n.is_u64()) && is_id_field(field) => {
                out.push((field, Cow::Owned(n.to_string())));
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, "", 0, &mut out);
    out
}

impl Correlator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Learn from one frame; `kind` is its message type name when known.
    pub fn observe(&mut self, frame: &Frame, kind: Option<&str>) {
        if frame.opcode != Opcode::Text {
            return;
        }
        let Ok(v) = serde_json::from_slice::<Value>(&frame.payload) else {
            return;
        };
        match frame.dir {
            Direction::Out => self.request(frame, &v, kind),
            Direction::In => self.reply(frame, &v),
        }
    }

    fn request(&mut self, frame: &Frame, v: &Value, kind: Option<&str>) {
        let seq = frame.seq;
        let mut req = Request {
            at: frame.at,
            kind: kind.unwrap_or(super::infer::NO_TYPE).to_string(),
            ids: Vec::new(),
            replies: None,
        };
        for (field, id) in ids_of(v) {
            if req.ids.len() >= MAX_IDS_PER_REQUEST {
                break;
            }
            let taken = self.ids.contains_key(id.as_ref());
            // A frame's own `id` is its own even when reused; any other id already known is a
            // reference to something earlier (a response the agent opened), not this request's.
            if taken && field != "id" {
                continue;
            }
            if req.ids.iter().any(|i| *i == id) {
                continue;
            }
            let id = id.into_owned();
            self.ids.insert(
                id.clone(),
                vec![IdRef {
                    seq,
                    field: field.to_string(),
                    from_reply: false,
                }],
            );
            req.ids.push(id);
        }
        if req.ids.is_empty() {
            return;
        }
        if let Some(old) = self.open.insert(seq, req) {
            self.forget_ids(seq, &old.ids);
        }
        self.order.push_back(seq);
        while self.open.len() > MAX_OPEN {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(old) = self.open.remove(&oldest) {
                self.forget_ids(oldest, &old.ids);
            }
        }
    }

    fn forget_ids(&mut self, seq: u64, ids: &[String]) {
        for id in ids {
            if let Some(refs) = self.ids.get_mut(id) {
                refs.retain(|r| r.seq != seq);
                if refs.is_empty() {
                    self.ids.remove(id);
                }
            }
        }
    }

    fn reply(&mut self, frame: &Frame, v: &Value) {
        let mut matched: Vec<u64> = Vec::new();
        for (field, value) in references_of(v) {
            let Some(refs) = self.ids.get(value.as_ref()) else {
                continue;
            };
            for r in refs {
                if !self.open.contains_key(&r.seq) {
                    continue;
                }
                if !matched.contains(&r.seq) {
                    matched.push(r.seq);
                }
                let known = self
                    .links
                    .iter()
                    .position(|l| l.0 == r.field && l.1 == field && l.2 == r.from_reply);
                match known {
                    Some(i) => self.links[i].3 += 1,
                    None if self.links.len() < MAX_LINKS => {
                        self.links
                            .push((r.field.clone(), field.to_string(), r.from_reply, 1));
                    }
                    None => {}
                }
            }
        }
        if matched.is_empty() {
            return;
        }
        for &seq in &matched {
            let Some(req) = self.open.get_mut(&seq) else {
                continue;
            };
            let after = frame.at.saturating_sub(req.at);
            match &mut req.replies {
                Some(r) => {
                    r.last = after;
                    r.count += 1;
                }
                None => {
                    req.replies = Some(Replies {
                        first: after,
                        last: after,
                        count: 1,
                    });
                    self.samples
                        .entry(req.kind.clone())
                        .or_default()
                        .add(after.as_secs_f64() * 1000.0);
                }
            }
        }
        // The ids this reply introduces stand for the same requests from now on.
        for (field, id) in ids_of(v) {
            if self.ids.contains_key(id.as_ref()) {
                continue;
            }
            let mut refs = Vec::new();
            for &seq in matched.iter().take(MAX_REQUESTS_PER_ID) {
                if let Some(req) = self.open.get_mut(&seq)
                    && req.ids.len() < MAX_IDS_PER_REQUEST
                {
                    req.ids.push(id.to_string());
                    refs.push(IdRef {
                        seq,
                        field: field.to_string(),
                        from_reply: true,
                    });
                }
            }
            if !refs.is_empty() {
                self.ids.insert(id.into_owned(), refs);
            }
        }
    }

    /// The replies to the outgoing frame with this `seq`: time to the first and last.
    pub fn replies(&self, seq: u64) -> Option<Replies> {
        self.open.get(&seq).and_then(|r| r.replies)
    }

    /// Per request type: n, p50, p95, max of the time to the first reply, in milliseconds.
    /// Most replied-to first.
    pub fn latencies(&self) -> Vec<Latency> {
        let mut v: Vec<Latency> = self
            .samples
            .iter()
            .map(|(kind, s)| {
                let mut sorted = s.ring.clone();
                sorted.sort_by(f64::total_cmp);
                Latency {
                    request_type: kind.clone(),
                    n: s.n,
                    p50_ms: percentile(&sorted, 50.0),
                    p95_ms: percentile(&sorted, 95.0),
                    max_ms: s.max,
                }
            })
            .collect();
        v.sort_by(|a, b| {
            b.n.cmp(&a.n)
                .then_with(|| a.request_type.cmp(&b.request_type))
        });
        v
    }

    /// The id fields learned from the data (`item_id → in_reply_to`; `response_id →
    /// response_id (via a reply)` for an id a reply introduced): direct links first, then the
    /// most used.
    pub fn links(&self) -> Vec<String> {
        let mut v: Vec<&(String, String, bool, u64)> = self.links.iter().collect();
        // Direct links first (a request's own id named by a reply), then the most used.
        v.sort_by_key(|l| (l.2, std::cmp::Reverse(l.3), &l.0, &l.1));
        v.into_iter()
            .map(|(from, to, via, _)| {
                if *via {
                    format!("{from} → {to} (via a reply)")
                } else {
                    format!("{from} → {to}")
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;

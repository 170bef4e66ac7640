//! Which rows of a log a user wants to see: direction, opcode, text, and a jq expression over
//! JSON frames (jaq, a maintained jq in Rust; compiled once, run per frame).
//!
//! Syntax (words separated by spaces, all must hold):
//! `in` / `out`, `op:text|binary|ping|pong|close` (or just `text`, `binary`, …), `jq:EXPR` or
//! anything from the first word starting with `.` on (the rest of the line is the expression), and
//! any other word: text the payload must contain (case-insensitive).

use crate::engine::{Direction, Opcode};
use crate::store::{Row, RowKind};
use bytes::Bytes;
use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;
use runner::{Failed, RUNAWAYS, Runner};
use std::sync::atomic::Ordering;
use std::time::Duration;

mod runner;

/// A compiled jq program.
type Jq = jaq_core::compile::Filter<jaq_core::Native<data::JustLut<Val>>>;

pub struct Filter {
    pub source: String,
    dir: Option<Direction>,
    op: Option<Opcode>,
    words: Vec<crate::needle::Needle>,
    jq: Option<Jq>,
    /// The jq program's text, compiled again on the thread it runs on (`run_jq_apart`).
    jq_source: Option<String>,
    /// That thread, once started.
    runner: Option<Runner>,
    /// How long one frame may take there.
    limit: Duration,
    /// `-ping`: keepalive noise (pings and pongs) out of the way.
    no_pings: bool,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Filter({:?})", self.source)
    }
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum FilterError {
    #[error("{0}: the opcodes are text, binary, ping, pong, close")]
    UnknownOpcode(String),
    #[error("an empty jq expression")]
    EmptyJq,
    #[error("jq: cannot parse {expr:?} ({errors} error(s))")]
    JqParse { expr: String, errors: usize },
    #[error("jq: cannot compile {expr:?} ({errors} error(s): unknown name?)")]
    JqCompile { expr: String, errors: usize },
    #[error(
        "jq: {expr:?} did not finish within {ms} ms on a frame of this log (does it loop without end?); it keeps a core busy until wsdeck quits"
    )]
    JqTooSlow { expr: String, ms: u128 },
    #[error(
        "jq: {expr:?} did not finish within {ms} ms on frame #{seq} (does it loop without end on that frame?); it keeps a core busy until wsdeck quits"
    )]
    JqStuckOn { expr: String, ms: u128, seq: u64 },
    #[error("jq: the thread running {expr:?} stopped")]
    JqGone { expr: String },
    #[error("jq: no thread could be started to run it on")]
    JqNoThread,
    #[error(
        "jq: {0} earlier programs that never finished are still running: restart wsdeck before trying another"
    )]
    JqRunaways(usize),
}

/// How long a jq program may take on one frame before it is given up (on the log's newest
/// frames when the filter is applied, and on every frame it filters after).
pub const JQ_TRIAL: Duration = Duration::from_millis(500);
/// Programs given up on that still hold a thread; past this, no more jq filters start.
const MAX_RUNAWAYS: usize = 2;

/// Payloads for a jq program's thread, copied into one buffer: handing it the frames' own
/// `Bytes` made both cores count references on the same shared blocks, which cost a third more
/// than the program's work.
#[derive(Debug, Default)]
pub struct JqBatch {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl JqBatch {
    pub fn push(&mut self, payload: &[u8]) {
        self.data.extend_from_slice(payload);
        self.ends.push(self.data.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The payloads' bytes, together.
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(a, &b)| &self.data[a..b])
    }
}

impl FromIterator<Bytes> for JqBatch {
    fn from_iter<I: IntoIterator<Item = Bytes>>(it: I) -> Self {
        let mut b = JqBatch::default();
        for p in it {
            b.push(&p);
        }
        b
    }
}

impl From<Failed> for JqFailed {
    fn from(f: Failed) -> Self {
        JqFailed {
            at: match f {
                Failed::Stuck { at } => Some(at),
                Failed::Gone => None,
            },
        }
    }
}

/// jq programs given up on whose threads still run.
pub fn runaways() -> usize {
    RUNAWAYS.load(Ordering::SeqCst)
}

/// A frame jq could not decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JqFailed {
    /// The batch's payload it was stuck on (`None`: its thread is gone).
    pub at: Option<usize>,
}

impl Filter {
    pub fn parse(source: &str) -> Result<Filter, FilterError> {
        let mut f = Filter {
            source: source.trim().to_string(),
            dir: None,
            op: None,
            words: Vec::new(),
            jq: None,
            jq_source: None,
            runner: None,
            limit: JQ_TRIAL,
            no_pings: false,
        };
        let mut rest = source.trim();
        while !rest.is_empty() {
            if let Some(expr) = rest.strip_prefix("jq:") {
                f.jq = Some(compile_jq(expr)?);
                f.jq_source = Some(expr.to_string());
                break;
            }
            if rest.starts_with('.') {
                f.jq = Some(compile_jq(rest)?);
                f.jq_source = Some(rest.to_string());
                break;
            }
            let (word, tail) = rest.split_once(' ').unwrap_or((rest, ""));
            rest = tail.trim_start();
            let w = word.strip_prefix("op:").unwrap_or(word);
            if word == "-ping" {
                f.no_pings = true;
            } else if let Some(d) = Direction::parse(word) {
                f.dir = Some(d);
            } else if let Some(o) = Opcode::parse(w) {
                f.op = Some(o);
            } else if word.starts_with("op:") {
                return Err(FilterError::UnknownOpcode(word.to_string()));
            } else {
                f.words.push(crate::needle::Needle::new(word));
            }
        }
        Ok(f)
    }

    /// Whether a row passes. Lifecycle events (open, close, errors) always pass unless the
    /// filter asks for words, so the story around the frames stays readable.
    /// What the filter says from a row's fixed fields alone (`None`: it needs the payload, or
    /// the row's text). Lets a scan over a capture or a spilled log skip reading back rows that
    /// cannot match.
    pub fn matches_without_payload(&self, info: Option<&crate::store::FrameInfo>) -> Option<bool> {
        let needs_payload = !self.words.is_empty() || self.jq.is_some();
        match info {
            // An event row: only words look at it.
            None => (!needs_payload).then_some(true),
            Some(f) => {
                if self.dir.is_some_and(|d| d != f.dir) || self.op.is_some_and(|o| o != f.opcode) {
                    return Some(false);
                }
                if self.no_pings && matches!(f.opcode, Opcode::Ping | Opcode::Pong) {
                    return Some(false);
                }
                (!needs_payload).then_some(true)
            }
        }
    }

    /// Run the jq program on a thread of its own from now on, one frame given at most `limit`
    /// there (the console's filters; otherwise it runs on the caller's thread). Refused once
    /// `MAX_RUNAWAYS` programs given up on still run.
    pub fn run_jq_apart(&mut self, limit: Duration) -> Result<(), FilterError> {
        let Some(program) = &self.jq_source else {
            return Ok(());
        };
        let running = RUNAWAYS.load(Ordering::SeqCst);
        if running >= MAX_RUNAWAYS {
            return Err(FilterError::JqRunaways(running));
        }
        self.limit = limit;
        // Without one, a program that loops would hold the console: not applied.
        self.runner = Some(Runner::start(program, limit).ok_or(FilterError::JqNoThread)?);
        Ok(())
    }

    /// Run the jq program over `samples` (frames of the log it is for) before it filters
    /// anything: one that does not finish on them, all of them within the limit, is refused
    /// at once.
    pub fn trial(&mut self, samples: Vec<Bytes>) -> Result<(), FilterError> {
        let batch: JqBatch = samples.into_iter().collect();
        let tried = match &mut self.runner {
            Some(r) => r.run(batch, Some(self.limit)).map_err(|f| f.into()),
            None => self.jq_verdicts(batch),
        };
        match tried {
            Ok(_) => Ok(()),
            Err(JqFailed { at: Some(_) }) => Err(FilterError::JqTooSlow {
                expr: self.jq_expr(),
                ms: self.limit.as_millis(),
            }),
            Err(JqFailed { at: None }) => Err(FilterError::JqGone {
                expr: self.jq_expr(),
            }),
        }
    }

    /// The error for a frame the program did not finish on, or a thread that went.
    pub fn jq_failure(&self, failed: JqFailed, seq: u64) -> FilterError {
        match failed.at {
            Some(_) => FilterError::JqStuckOn {
                expr: self.jq_expr(),
                ms: self.limit.as_millis(),
                seq,
            },
            None => FilterError::JqGone {
                expr: self.jq_expr(),
            },
        }
    }

    fn jq_expr(&self) -> String {
        self.jq_source.as_deref().unwrap_or("").trim().to_string()
    }

    /// The jq program's verdict on each payload, on its thread when it has one. A failure
    /// leaves the filter of no further use.
    pub fn jq_verdicts(&mut self, batch: JqBatch) -> Result<Vec<bool>, JqFailed> {
        let Some(jq) = &self.jq else {
            return Ok(vec![true; batch.len()]);
        };
        match &mut self.runner {
            Some(r) => r.run(batch, None).map_err(|f| f.into()),
            None => Ok(batch.iter().map(|p| run_jq(jq, p)).collect()),
        }
    }

    /// Whether a jq program runs on every row (which makes a scan slower per row).
    pub fn uses_jq(&self) -> bool {
        self.jq.is_some()
    }

    pub fn matches(&self, row: &Row) -> bool {
        match self.before_jq(row) {
            Ok(hit) => hit,
            Err(payload) => self.jq.as_ref().is_some_and(|jq| run_jq(jq, &payload)),
        }
    }

    /// What a row's fields and words decide (`Err`: the payload jq is left to decide).
    pub fn before_jq(&self, row: &Row) -> Result<bool, Bytes> {
        match &row.kind {
            RowKind::Event { text, .. } => Ok(self.words.iter().all(|w| w.is_in(text.as_bytes()))),
            RowKind::Frame(f) => {
                if self.dir.is_some_and(|d| d != f.dir) || self.op.is_some_and(|o| o != f.opcode) {
                    return Ok(false);
                }
                if self.no_pings && matches!(f.opcode, Opcode::Ping | Opcode::Pong) {
                    return Ok(false);
                }
                if !self.words.iter().all(|w| w.is_in(&f.payload)) {
                    return Ok(false);
                }
                match &self.jq {
                    None => Ok(true),
                    Some(_) => Err(f.payload.clone()),
                }
            }
        }
    }
}

fn compile_jq(expr: &str) -> Result<Jq, FilterError> {
    let expr = expr.trim();
    if expr.is_empty() {
        return Err(FilterError::EmptyJq);
    }
    let program = File {
        code: expr,
        path: (),
    };
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs());
    let funs = jaq_core::funs()
        .chain(jaq_std::funs())
        .chain(jaq_json::funs());
    let loader = Loader::new(defs);
    let arena = Arena::default();
    let modules = loader
        .load(&arena, program)
        .map_err(|errs| FilterError::JqParse {
            expr: expr.to_string(),
            errors: errs.len(),
        })?;
    Compiler::default()
        .with_funs(funs)
        .compile(modules)
        .map_err(|errs| FilterError::JqCompile {
            expr: expr.to_string(),
            errors: errs.len(),
        })
}

/// Nesting past this is not JSON to a jq filter: serde_json, which reads frames everywhere
/// else in wsdeck, stops at the same depth.
const MAX_JQ_DEPTH: usize = 128;

/// True when the payload is JSON and the expression's first output is truthy.
fn run_jq(jq: &Jq, payload: &[u8]) -> bool {
    // jaq's reader recurses once a level with no bound of its own: a peer's frame of 100 000
    // `[` would overflow the stack of the thread that filters.
    if nested_deeper_than(payload, MAX_JQ_DEPTH) {
        return false;
    }
    let Ok(input) = jaq_json::read::parse_single(payload) else {
        return false;
    };
    let ctx = Ctx::<data::JustLut<Val>>::new(&jq.lut, Vars::new([]));
    let mut out = jq.id.run((ctx, input)).map(unwrap_valr);
    matches!(out.next(), Some(Ok(v)) if jaq_core::ValT::as_bool(&v))
}

/// Whether brackets nest deeper than `max`, read as jaq's lexer reads them: not inside strings
/// (escapes skipped) nor in `#` comments, which run to the end of the line.
fn nested_deeper_than(payload: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    while i < payload.len() {
        match payload[i] {
            b'"' => {
                i += 1;
                while i < payload.len() && payload[i] != b'"' {
                    i += if payload[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'#' => {
                i = memchr::memchr(b'\n', &payload[i..]).map_or(payload.len(), |n| i + n);
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    false
}

/// Tests that leave a jq thread running for a while take turns: `RUNAWAYS` is the process's.
#[cfg(test)]
pub(crate) static RUNAWAY_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
mod tests;

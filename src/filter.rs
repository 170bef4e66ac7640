//! Which rows of a log a user wants to see: direction, opcode, text, and a jq expression over
//! JSON frames (jaq, a maintained jq in Rust; compiled once, run per frame).
//!
//! Syntax (words separated by spaces, all must hold):
//! `in` / `out`, `op:text|binary|ping|pong|close` (or just `text`, `binary`, …), `jq:EXPR` or
//! anything from the first word starting with `.` on (the rest of the line is the expression), and
//! any other word: text the payload must contain (case-insensitive).

use crate::engine::{Direction, Opcode};
use crate::store::{Row, RowKind};
use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A compiled jq program.
type Jq = jaq_core::compile::Filter<jaq_core::Native<data::JustLut<Val>>>;

pub struct Filter {
    pub source: String,
    dir: Option<Direction>,
    op: Option<Opcode>,
    words: Vec<crate::needle::Needle>,
    jq: Option<Jq>,
    /// The jq program's text, compiled again on a trial thread (`trial`).
    jq_source: Option<String>,
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
        "jq: {0} earlier programs that never finished are still running: restart wsdeck before trying another"
    )]
    JqRunaways(usize),
}

/// How long a jq program may take on a log's sample frames before it is refused (`trial`).
pub const JQ_TRIAL: Duration = Duration::from_millis(500);
/// Trials that never finished and still hold a thread; past this, no more are started.
const MAX_RUNAWAYS: usize = 2;
static RUNAWAYS: AtomicUsize = AtomicUsize::new(0);

impl Filter {
    pub fn parse(source: &str) -> Result<Filter, FilterError> {
        let mut f = Filter {
            source: source.trim().to_string(),
            dir: None,
            op: None,
            words: Vec::new(),
            jq: None,
            jq_source: None,
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

    /// Run the jq program over `samples` (frames of the log it is for) on a thread of its own,
    /// for at most `limit`. jaq has no bound on evaluation: a program that never ends
    /// (`def f: f; f`) would freeze the console for good on the loop's thread, so one that does
    /// not finish here is refused. Its thread cannot be stopped and is left to run; after
    /// `MAX_RUNAWAYS` of them still running, no more trials start.
    pub fn trial(&self, samples: Vec<bytes::Bytes>, limit: Duration) -> Result<(), FilterError> {
        let Some(expr) = self.jq_source.clone() else {
            return Ok(());
        };
        if samples.is_empty() {
            return Ok(());
        }
        let running = RUNAWAYS.load(Ordering::Relaxed);
        if running >= MAX_RUNAWAYS {
            return Err(FilterError::JqRunaways(running));
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let program = expr.clone();
        let spawned = std::thread::Builder::new()
            .name("wsdeck-jq-trial".into())
            .spawn(move || {
                if let Ok(jq) = compile_jq(&program) {
                    for s in &samples {
                        run_jq(&jq, s);
                    }
                }
                // The trial gave up on it (and counted it): it is over now.
                if tx.send(()).is_err() {
                    RUNAWAYS.fetch_sub(1, Ordering::Relaxed);
                }
            });
        if spawned.is_err() {
            // No thread to try it on: applied untried, as before trials.
            return Ok(());
        }
        match rx.recv_timeout(limit) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                RUNAWAYS.fetch_add(1, Ordering::Relaxed);
                Err(FilterError::JqTooSlow {
                    expr: expr.trim().to_string(),
                    ms: limit.as_millis(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Whether a jq program runs on every row (which makes a scan slower per row).
    pub fn uses_jq(&self) -> bool {
        self.jq.is_some()
    }

    pub fn matches(&self, row: &Row) -> bool {
        match &row.kind {
            RowKind::Event { text, .. } => self.words.iter().all(|w| w.is_in(text.as_bytes())),
            RowKind::Frame(f) => {
                if self.dir.is_some_and(|d| d != f.dir) || self.op.is_some_and(|o| o != f.opcode) {
                    return false;
                }
                if self.no_pings && matches!(f.opcode, Opcode::Ping | Opcode::Pong) {
                    return false;
                }
                if !self.words.iter().all(|w| w.is_in(&f.payload)) {
                    return false;
                }
                match &self.jq {
                    None => true,
                    Some(jq) => run_jq(jq, &f.payload),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Frame;
    use bytes::Bytes;
    use std::time::Duration;

    fn row(dir: Direction, op: Opcode, p: &str) -> Row {
        Row {
            at: Duration::ZERO,
            kind: RowKind::Frame(Frame {
                seq: 1,
                at: Duration::ZERO,
                dir,
                opcode: op,
                payload: Bytes::from(p.to_string()),
            }),
        }
    }

    #[test]
    fn a_jq_program_that_does_not_finish_on_the_samples_is_refused() {
        let samples = vec![Bytes::from_static(br#"{"type":"pong"}"#)];
        let fine = Filter::parse(".type == \"pong\"").expect("parse");
        assert_eq!(fine.trial(samples.clone(), Duration::from_secs(30)), Ok(()));
        assert_eq!(
            fine.trial(vec![], Duration::ZERO),
            Ok(()),
            "nothing to try it on"
        );
        assert_eq!(
            Filter::parse("in")
                .expect("words")
                .trial(samples.clone(), Duration::ZERO),
            Ok(()),
            "no jq, no trial"
        );
        // Long but finite, so the test leaves no thread spinning: refused at 20 ms, then its
        // thread ends on its own and is no longer counted.
        let slow = Filter::parse(".a | last(range(1e7))").expect("parse");
        let e = slow
            .trial(samples, Duration::from_millis(20))
            .expect_err("refused");
        assert!(matches!(&e, FilterError::JqTooSlow { ms: 20, .. }), "{e}");
        assert!(e.to_string().contains("does it loop without end?"), "{e}");
        assert!(RUNAWAYS.load(Ordering::Relaxed) >= 1);
        let until = std::time::Instant::now() + Duration::from_secs(120);
        while RUNAWAYS.load(Ordering::Relaxed) > 0 && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            RUNAWAYS.load(Ordering::Relaxed),
            0,
            "the finished thread let go"
        );
    }

    #[test]
    fn direction_opcode_words_and_jq() {
        let pong = row(Direction::In, Opcode::Text, r#"{"type":"pong","id":"X1"}"#);
        let ping = row(Direction::Out, Opcode::Text, r#"{"type":"ping"}"#);
        let bin = row(Direction::In, Opcode::Binary, "\u{1}\u{2}");
        let f = Filter::parse("in").expect("f");
        assert!(f.matches(&pong) && !f.matches(&ping) && f.matches(&bin));
        let f = Filter::parse("op:binary").expect("f");
        assert!(!f.matches(&pong) && f.matches(&bin));
        let f = Filter::parse("x1").expect("f");
        assert!(f.matches(&pong) && !f.matches(&ping));
        let f = Filter::parse(r#"in .type == "pong""#).expect("f");
        assert!(f.matches(&pong) && !f.matches(&ping) && !f.matches(&bin));
        let f = Filter::parse(r#"jq:.type|startswith("pi")"#).expect("f");
        assert!(f.matches(&ping) && !f.matches(&pong));
        assert!(Filter::parse(".type ==").is_err());
        assert!(Filter::parse(".nosuchfn(1)").is_err() || Filter::parse("nosuchfn").is_ok());
        assert!(Filter::parse("op:blob").is_err());
        let f = Filter::parse("-ping in").expect("f");
        assert!(!f.matches(&row(Direction::In, Opcode::Ping, "x")));
        assert!(!f.matches(&row(Direction::In, Opcode::Pong, "x")));
        assert!(f.matches(&row(Direction::In, Opcode::Text, "x")));
    }

    #[test]
    fn a_frame_nested_past_any_reader_is_not_json_to_jq_and_no_stack_overflow() {
        // jaq's reader recurses once a level: 100 000 `[` from the peer overflowed the stack
        // (tests/hostile, the jq_input fuzz target). Run where a tokio worker would: 2 MiB.
        let f = Filter::parse("jq:true").expect("f");
        let deep = |open: &str, n: usize| row(Direction::In, Opcode::Text, &open.repeat(n));
        let ok = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let shallow = format!("{}1{}", "[".repeat(100), "]".repeat(100));
                [
                    f.matches(&deep("[", 100_000)),
                    f.matches(&deep("{\"a\":", 100_000)),
                    // A comment (jaq reads `#` to the end of the line) hides no brackets.
                    f.matches(&deep("#\"\n[", 100_000)),
                    f.matches(&row(Direction::In, Opcode::Text, &shallow)),
                ]
            })
            .expect("thread")
            .join()
            .expect("no overflow");
        assert_eq!(ok, [false, false, false, true]);
    }

    #[test]
    fn the_fixed_fields_answer_as_the_whole_row_would() {
        let rows = [
            row(Direction::In, Opcode::Text, r#"{"type":"a"}"#),
            row(Direction::Out, Opcode::Binary, "xyz"),
            row(Direction::In, Opcode::Ping, ""),
            Row {
                at: Duration::ZERO,
                kind: RowKind::Event {
                    kind: crate::store::EventKind::Open,
                    text: "open".into(),
                },
            },
        ];
        for src in [
            "in",
            "out",
            "op:binary",
            "-ping",
            "in op:text",
            "",
            "open",
            "in .type",
        ] {
            let Ok(f) = Filter::parse(src) else { continue };
            for r in &rows {
                let info = match &r.kind {
                    RowKind::Frame(fr) => Some(crate::store::FrameInfo {
                        seq: fr.seq,
                        at: fr.at,
                        dir: fr.dir,
                        opcode: fr.opcode,
                        len: fr.payload.len(),
                    }),
                    RowKind::Event { .. } => None,
                };
                if let Some(quick) = f.matches_without_payload(info.as_ref()) {
                    assert_eq!(quick, f.matches(r), "{src:?} on {r:?}");
                }
            }
        }
    }
}

//! Layering: the crate's top-level modules only ever reach down, never up into the console or
//! the frontends. Rust's privacy rules cannot say "engine must not use ui", so this reads the
//! sources and checks every reference one top-level module makes to another (and to the
//! terminal crates), after blanking comments and literals so prose and test data don't count.

use std::path::{Path, PathBuf};

/// Below every frontend: these must stay usable headless (the CLI's one-shot commands, the SDK,
/// benches), so no terminal crates and nothing from the console or the frontends.
const LOWER: &[&str] = &[
    "engine", "store", "capture", "decode", "vocab", "monitor", "config", "demo", "proxy",
    "filter", "exit", "needle", "private", "test_rng",
];

/// The terminal crates, as they are spelled in paths.
const EXTERNAL: &[&str] = &["ratatui", "ratatui_textarea", "crossterm"];

/// The console and the frontends: nothing in `LOWER` may reach them.
const UPPER: &[&str] = &["app", "ui", "tui", "cli", "keymap"];

/// What a top-level module must never reference; `None` for a module the table doesn't know,
/// which fails the test rather than leaving a new module unchecked.
fn forbidden(module: &str) -> Option<Vec<&'static str>> {
    if LOWER.contains(&module) {
        return Some([EXTERNAL, UPPER].concat());
    }
    match module {
        // Key parsing needs crossterm's key types, but not the console that binds them.
        "keymap" => Some(vec!["app", "ui", "tui", "cli"]),
        // The app state owns the composer's editor and reads key events: ratatui_textarea and
        // crossterm are allowed; drawing and running the terminal are not.
        "app" => Some(vec!["ui", "tui", "cli"]),
        "cli" => Some(vec!["app", "ui", "tui"]),
        "ui" => Some(vec!["tui", "cli"]),
        // The top: the console frontend may use everything.
        "tui" => Some(vec![]),
        _ => None,
    }
}

fn is_ident(ch: char) -> bool {
    ch == '_' || ch.is_alphanumeric()
}

/// End (exclusive) of a `quote`-terminated literal whose body starts at `j`, honouring escapes.
fn quoted_end(c: &[char], mut j: usize, quote: char) -> usize {
    while j < c.len() {
        match c[j] {
            '\\' => j += 2,
            ch if ch == quote => return j + 1,
            _ => j += 1,
        }
    }
    c.len()
}

/// End of a raw string whose hashes start at `j` (just past the `r`), or `None` when this `r`
/// is not a raw string (a plain identifier, or a raw identifier like `r#type`).
fn raw_end(c: &[char], j: usize) -> Option<usize> {
    let open = j + c[j..].iter().take_while(|&&ch| ch == '#').count();
    if c.get(open) != Some(&'"') {
        return None;
    }
    let hashes = open - j;
    let mut k = open + 1;
    while k < c.len() {
        if c[k] == '"' && c[k + 1..].iter().take_while(|&&ch| ch == '#').count() >= hashes {
            return Some(k + 1 + hashes);
        }
        k += 1;
    }
    Some(c.len())
}

/// If a comment or a string/char literal starts at `i`, the index just past it.
fn literal_end(c: &[char], i: usize) -> Option<usize> {
    let at = |k: usize| c.get(k).copied();
    // `r"`, `br"`, `cr"` only open a raw string at the start of a token, not `for"` or `bar"`.
    let token_start = |k: usize| k == 0 || !is_ident(c[k - 1]);
    let raw = token_start(i) || (i > 0 && matches!(c[i - 1], 'b' | 'c') && token_start(i - 1));
    match (c[i], at(i + 1)) {
        // The newline is left as code so the next line keeps its number.
        ('/', Some('/')) => Some((i..c.len()).find(|&k| c[k] == '\n').unwrap_or(c.len())),
        ('/', Some('*')) => {
            // Block comments nest in Rust, so a plain search for `*/` would end too early.
            let (mut depth, mut j) = (0usize, i);
            while j < c.len() {
                if c[j] == '/' && at(j + 1) == Some('*') {
                    depth += 1;
                    j += 2;
                } else if c[j] == '*' && at(j + 1) == Some('/') {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        return Some(j);
                    }
                } else {
                    j += 1;
                }
            }
            Some(c.len())
        }
        ('"', _) => Some(quoted_end(c, i + 1, '"')),
        // `'\''` and `'\u{..}'` escape; `'"'` is one char then a quote; anything else is a
        // lifetime or a loop label (`'a`, `'outer:`), which stays code.
        ('\'', Some('\\')) => Some(quoted_end(c, i + 1, '\'')),
        ('\'', _) if at(i + 2) == Some('\'') => Some(i + 3),
        ('r', _) if raw => raw_end(c, i + 1),
        _ => None,
    }
}

/// The source with comments and literals blanked to spaces, newlines kept, so what is left is
/// code and line numbers still match the file.
fn strip(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let blank = |&ch: &char| if ch == '\n' { ch } else { ' ' };
    let mut i = 0;
    while i < c.len() {
        match literal_end(&c, i) {
            Some(end) => {
                out.extend(c[i..end].iter().map(blank));
                i = end;
            }
            None => {
                out.push(c[i]);
                i += 1;
            }
        }
    }
    out
}

/// Just enough tokens to follow paths and `use` groups.
#[derive(Debug, PartialEq)]
enum Tok {
    Ident(String),
    Path,
    Open,
    Close,
    Comma,
    Other(char),
}

/// Tokens of stripped code, each with its 1-based line.
fn tokens(code: &str) -> Vec<(usize, Tok)> {
    let c: Vec<char> = code.chars().collect();
    let (mut out, mut line, mut i) = (Vec::new(), 1, 0);
    while i < c.len() {
        if is_ident(c[i]) {
            let start = i;
            while i < c.len() && is_ident(c[i]) {
                i += 1;
            }
            out.push((line, Tok::Ident(c[start..i].iter().collect())));
            continue;
        }
        let tok = match c[i] {
            '\n' => {
                line += 1;
                None
            }
            ':' if c.get(i + 1) == Some(&':') => {
                i += 1;
                Some(Tok::Path)
            }
            '{' => Some(Tok::Open),
            '}' => Some(Tok::Close),
            ',' => Some(Tok::Comma),
            ch if ch.is_whitespace() => None,
            ch => Some(Tok::Other(ch)),
        };
        out.extend(tok.map(|t| (line, t)));
        i += 1;
    }
    out
}

/// The leading name of each item in a `crate::{a, b::c, d::{e, f}}` group (`a`, `b`, `d`),
/// given the tokens just past its opening brace. Only the first level names a top-level module.
fn group(toks: &[(usize, Tok)]) -> Vec<(usize, String)> {
    let (mut out, mut depth, mut expect) = (Vec::new(), 1usize, true);
    for (line, tok) in toks {
        match tok {
            Tok::Open => depth += 1,
            Tok::Close => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Tok::Comma if depth == 1 => expect = true,
            Tok::Ident(name) if depth == 1 && expect => {
                expect = false;
                if name != "self" {
                    out.push((*line, name.clone()));
                }
            }
            _ => {}
        }
    }
    out
}

/// Every `(line, name)` where `src` names a top-level crate module (`crate::x`, `wsdeck::x`,
/// `crate::{x, y}`) or a terminal crate used as a path start (`ratatui::`, `use crossterm`).
fn references(src: &str) -> Vec<(usize, String)> {
    let toks = tokens(&strip(src));
    let ident = |k: usize| match toks.get(k) {
        Some((_, Tok::Ident(s))) => Some(s.as_str()),
        _ => None,
    };
    let is = |k: usize, t: Tok| toks.get(k).is_some_and(|(_, x)| *x == t);
    let mut refs = Vec::new();
    for (i, (line, tok)) in toks.iter().enumerate() {
        let Tok::Ident(name) = tok else { continue };
        if matches!(name.as_str(), "crate" | "wsdeck") && is(i + 1, Tok::Path) {
            match toks.get(i + 2) {
                Some((l, Tok::Ident(module))) => refs.push((*l, module.clone())),
                Some((_, Tok::Open)) => refs.extend(group(&toks[i + 3..])),
                _ => {}
            }
        } else if EXTERNAL.contains(&name.as_str()) {
            // `tui::crossterm::x` would be a module of ours that shares the name, but a keyword
            // before `::` (`use ::crossterm`, `impl ::ratatui::..`) still starts a path.
            let keyword = |s: &str| matches!(s, "use" | "as" | "dyn" | "impl" | "in" | "mut");
            let ours = |k: usize| ident(k).is_some_and(|s| !keyword(s));
            let mid_path = i >= 2 && is(i - 1, Tok::Path) && ours(i - 2);
            // `use crossterm;` and `extern crate ratatui;` name the crate without a `::`.
            let named = i >= 1 && matches!(ident(i - 1), Some("use" | "crate"));
            if (is(i + 1, Tok::Path) || named) && !mid_path {
                refs.push((*line, name.clone()));
            }
        }
    }
    refs
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `app/x.rs`, `app/sub/y.rs` → `app`; `store.rs` → `store`; the crate roots belong to no layer.
fn top_module(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    match first {
        "lib.rs" | "main.rs" => None,
        f => Some(f.strip_suffix(".rs").unwrap_or(f).to_string()),
    }
}

#[test]
fn modules_only_reach_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rs_files(&src, &mut files);
    files.sort();
    let (mut violations, mut ui_uses_app, mut ui_uses_ratatui) = (Vec::new(), false, false);
    for path in &files {
        let rel = path.strip_prefix(&src).expect("under src");
        let Some(module) = top_module(rel) else {
            continue;
        };
        let shown = format!("src/{}", rel.to_string_lossy().replace('\\', "/"));
        let Some(banned) = forbidden(&module) else {
            violations.push(format!("{shown}:1: {module} is not in the layer table"));
            continue;
        };
        let text = std::fs::read_to_string(path).expect("read source");
        for (line, used) in references(&text) {
            ui_uses_app |= module == "ui" && used == "app";
            ui_uses_ratatui |= module == "ui" && used == "ratatui";
            if banned.contains(&used.as_str()) {
                violations.push(format!("{shown}:{line}: {module} uses {used}"));
            }
        }
    }
    // Guards against a check that passes by seeing nothing (wrong directory, a broken scanner).
    let n = files.len();
    assert!(n > 40, "only {n} .rs files in {}", src.display());
    assert!(ui_uses_app, "no ui -> app seen: scanner broken");
    assert!(ui_uses_ratatui, "no ui -> ratatui seen: scanner broken");
    let list = violations.join("\n");
    assert!(violations.is_empty(), "layering violations:\n{list}");
}

/// `references` as `line:name`, for short assertions.
fn seen(src: &str) -> Vec<String> {
    let refs = references(src).into_iter();
    refs.map(|(line, name)| format!("{line}:{name}")).collect()
}

#[test]
fn scanner_reads_code_not_comments_or_literals() {
    let src = r##"//! Docs mention crate::app::App.
// crate::ui::x in a comment
/* block crate::tui /* nested
   crate::tui */ still a comment: crate::tui */
use crate::{engine::Frame, ui::draw};
fn f<'a>(s: &'a str) -> char {
    let _ = "crate::tui and ratatui::Frame";
    let _ = r#"crate::tui "quoted" ratatui::x"#;
    let _ = ('"', '\'', b'"', "\"crate::tui\"");
    let _ = crate::cli::args::X;
    '"'
}
"##;
    assert_eq!(seen(src), ["5:engine", "5:ui", "10:cli"]);
    // Nested groups name only their first level; `self` is no module; a module of ours called
    // `crossterm` is not the crate, but `::crossterm` is.
    let src = "use crate::{app::{A, b::C}, self, tui};\nuse ratatui::Frame;\n\
               let k = crossterm::event::KeyCode::Enter;\nlet x = tui::crossterm::y; use ::crossterm::tty;\n";
    let want = ["1:app", "1:tui", "2:ratatui", "3:crossterm", "4:crossterm"];
    assert_eq!(seen(src), want);
}

//! Tokens of `.proto` text, each with the line and column (1-based, in characters) it starts
//! at, so that every parse error can name `file:line:col`.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Tok {
    Ident(String),
    /// An integer literal (decimal, `0x` hex or `0` octal) that fits a u64.
    Int(u64),
    /// Any other number (floats in option values, integers too large): only ever skipped.
    Num(String),
    Str(String),
    Sym(char),
    Eof,
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub tok: Tok,
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Ident(s) => write!(f, "`{s}`"),
            Tok::Int(n) => write!(f, "`{n}`"),
            Tok::Num(s) => write!(f, "`{s}`"),
            Tok::Str(_) => f.write_str("a string literal"),
            Tok::Sym(c) => write!(f, "`{c}`"),
            Tok::Eof => f.write_str("the end of the file"),
        }
    }
}

/// Where lexing stopped and why.
#[derive(Debug)]
pub(super) struct LexError {
    pub line: u32,
    pub col: u32,
    pub message: String,
}

struct Cursor<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: u32,
    col: u32,
}

impl Cursor<'_> {
    fn peek(&mut self) -> Option<char> {
        self.chars.peek().copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line = self.line.saturating_add(1);
            self.col = 1;
        } else {
            self.col = self.col.saturating_add(1);
        }
        Some(c)
    }

    fn error(&self, line: u32, col: u32, message: impl Into<String>) -> LexError {
        LexError {
            line,
            col,
            message: message.into(),
        }
    }
}

/// All tokens of `text`, ending with [`Tok::Eof`]. Comments are dropped; adjacent string
/// literals stay separate tokens (the parser joins them).
pub(super) fn lex(text: &str) -> Result<Vec<Token>, LexError> {
    let mut c = Cursor {
        chars: text.chars().peekable(),
        line: 1,
        col: 1,
    };
    let mut out = Vec::new();
    loop {
        let (line, col) = (c.line, c.col);
        let Some(ch) = c.peek() else {
            out.push(Token {
                tok: Tok::Eof,
                line,
                col,
            });
            return Ok(out);
        };
        let tok = match ch {
            _ if ch.is_whitespace() => {
                c.bump();
                continue;
            }
            '/' => {
                c.bump();
                match c.peek() {
                    Some('/') => {
                        while c.peek().is_some_and(|x| x != '\n') {
                            c.bump();
                        }
                        continue;
                    }
                    Some('*') => {
                        c.bump();
                        block_comment(&mut c, line, col)?;
                        continue;
                    }
                    _ => Tok::Sym('/'),
                }
            }
            '"' | '\'' => Tok::Str(string(&mut c, line, col)?),
            _ if ch.is_ascii_alphabetic() || ch == '_' => {
                let mut s = String::new();
                while let Some(x) = c.peek().filter(|x| x.is_ascii_alphanumeric() || *x == '_') {
                    s.push(x);
                    c.bump();
                }
                Tok::Ident(s)
            }
            _ if ch.is_ascii_digit() => number(&mut c),
            _ => {
                c.bump();
                Tok::Sym(ch)
            }
        };
        out.push(Token { tok, line, col });
    }
}

fn block_comment(c: &mut Cursor<'_>, line: u32, col: u32) -> Result<(), LexError> {
    let mut star = false;
    while let Some(x) = c.bump() {
        if star && x == '/' {
            return Ok(());
        }
        star = x == '*';
    }
    Err(c.error(line, col, "a `/*` comment that is never closed"))
}

/// A number's characters (letters and digits, `.`, and a sign right after an exponent), read
/// as an integer where it is one.
fn number(c: &mut Cursor<'_>) -> Tok {
    let mut s = String::new();
    while let Some(x) = c.peek() {
        let sign_after_exp = matches!(x, '+' | '-')
            && s.ends_with(['e', 'E'])
            && !s.starts_with("0x")
            && !s.starts_with("0X");
        if !(x.is_ascii_alphanumeric() || x == '.' || x == '_' || sign_after_exp) {
            break;
        }
        s.push(x);
        c.bump();
    }
    let int = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse::<u64>().ok()
    };
    match int {
        Some(n) => Tok::Int(n),
        None => Tok::Num(s),
    }
}

/// A quoted literal with the escapes protobuf allows (`\n`, `\xHH`, octal, `\uHHHH`, …).
/// Unknown escapes keep the character; what the literal means never matters beyond `syntax`,
/// `import` and `package`, so being lenient is safe.
fn string(c: &mut Cursor<'_>, line: u32, col: u32) -> Result<String, LexError> {
    let quote = c.bump().unwrap_or('"');
    let mut s = String::new();
    loop {
        let Some(x) = c.bump() else {
            return Err(c.error(line, col, "a string literal that is never closed"));
        };
        match x {
            '\n' => return Err(c.error(line, col, "a string literal that runs past its line")),
            _ if x == quote => return Ok(s),
            '\\' => {
                let Some(e) = c.bump() else {
                    return Err(c.error(line, col, "a string literal that is never closed"));
                };
                match e {
                    'n' => s.push('\n'),
                    't' => s.push('\t'),
                    'r' => s.push('\r'),
                    '0'..='7' => {
                        let mut v = e.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            match c.peek().and_then(|d| d.to_digit(8)) {
                                Some(d) => {
                                    v = v * 8 + d;
                                    c.bump();
                                }
                                None => break,
                            }
                        }
                        s.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                    }
                    'x' | 'X' | 'u' | 'U' => {
                        let max = match e {
                            'u' => 4,
                            'U' => 8,
                            _ => 2,
                        };
                        let mut v = 0u32;
                        for _ in 0..max {
                            match c.peek().and_then(|d| d.to_digit(16)) {
                                Some(d) => {
                                    v = v.saturating_mul(16).saturating_add(d);
                                    c.bump();
                                }
                                None => break,
                            }
                        }
                        s.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                    }
                    other => s.push(other),
                }
            }
            _ => s.push(x),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).expect("lexes").into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn tokens_numbers_strings_and_comments() {
        assert_eq!(
            toks("a.b = 0x1F 017 12 1.5e-3 -4; // x\n/* y\n */ \"q\\\"\\x41\" 'z'"),
            [
                Tok::Ident("a".into()),
                Tok::Sym('.'),
                Tok::Ident("b".into()),
                Tok::Sym('='),
                Tok::Int(31),
                Tok::Int(15),
                Tok::Int(12),
                Tok::Num("1.5e-3".into()),
                Tok::Sym('-'),
                Tok::Int(4),
                Tok::Sym(';'),
                Tok::Str("q\"A".into()),
                Tok::Str("z".into()),
                Tok::Eof,
            ]
        );
        let t = lex("x\n  /* c */ y").expect("lexes");
        assert_eq!((t[1].line, t[1].col), (2, 11));
    }

    #[test]
    fn unterminated_things_say_where_they_started() {
        let e = lex("a\n /* open").expect_err("open comment");
        assert_eq!((e.line, e.col), (2, 2));
        let e = lex("x = \"abc\ny").expect_err("open string");
        assert_eq!((e.line, e.col), (1, 5));
        assert!(e.message.contains("past its line"));
    }
}

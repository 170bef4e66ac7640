//! The parser: tokens of one `.proto` file into its messages, enums and fields. Type names are
//! kept as written and resolved later, across every file the user gives (see `resolve`), and
//! names are relative to the package until the end, so a `package` line may come anywhere.

use super::lex::{Tok, Token, lex};
use super::{EnumDef, FieldDef, FieldKind, Label, MessageDef, ParsedFile, ProtoError, Scalar};

/// Messages nest at most this deep in a file (the parser recurses once per level).
const MAX_NESTING: usize = 64;
/// The largest field number protobuf allows (2^29 - 1).
pub(super) const MAX_FIELD_NUMBER: u64 = (1 << 29) - 1;

pub(super) fn parse_file(text: &str, file: &str) -> Result<ParsedFile, ProtoError> {
    let toks = lex(text).map_err(|e| ProtoError::Parse {
        file: file.to_string(),
        line: e.line,
        col: e.col,
        message: e.message,
    })?;
    let eof = Token {
        tok: Tok::Eof,
        line: 1,
        col: 1,
    };
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        file,
        eof,
        package: None,
        out: ParsedFile {
            name: file.to_string(),
            syntax: "proto2".into(),
            package: String::new(),
            imports: Vec::new(),
            messages: Vec::new(),
            enums: Vec::new(),
        },
    };
    p.file_body()?;
    let package = p.package.take().unwrap_or_default();
    let mut out = p.out;
    for m in &mut out.messages {
        m.full_name = join(&package, &m.full_name);
    }
    for e in &mut out.enums {
        e.full_name = join(&package, &e.full_name);
    }
    out.package = package;
    Ok(out)
}

pub(super) fn join(scope: &str, name: &str) -> String {
    if scope.is_empty() {
        name.to_string()
    } else {
        format!("{scope}.{name}")
    }
}

struct Parser<'a> {
    toks: &'a [Token],
    pos: usize,
    file: &'a str,
    eof: Token,
    package: Option<String>,
    out: ParsedFile,
}

impl Parser<'_> {
    fn cur(&self) -> &Token {
        self.toks.get(self.pos).unwrap_or(&self.eof)
    }

    fn peek(&self) -> &Tok {
        &self.cur().tok
    }

    fn peek2(&self) -> &Tok {
        self.toks.get(self.pos + 1).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn is_ident(&self, word: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == word)
    }

    fn bump(&mut self) -> Token {
        let t = self.cur().clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn error_at(&self, line: u32, col: u32, message: impl Into<String>) -> ProtoError {
        ProtoError::Parse {
            file: self.file.to_string(),
            line,
            col,
            message: message.into(),
        }
    }

    /// "expected WHAT, found …" at the current token.
    fn expected(&self, what: &str) -> ProtoError {
        let t = self.cur();
        self.error_at(t.line, t.col, format!("expected {what}, found {}", t.tok))
    }

    fn sym(&mut self, c: char, what: &str) -> Result<(), ProtoError> {
        if *self.peek() == Tok::Sym(c) {
            self.bump();
            Ok(())
        } else {
            Err(self.expected(&format!("`{c}` {what}")))
        }
    }

    fn ident(&mut self, what: &str) -> Result<String, ProtoError> {
        match self.peek() {
            Tok::Ident(s) => {
                let s = s.clone();
                self.bump();
                Ok(s)
            }
            _ => Err(self.expected(what)),
        }
    }

    /// `a.b.C` or `.a.b.C` (fully qualified).
    fn dotted(&mut self, what: &str) -> Result<String, ProtoError> {
        let mut s = String::new();
        if *self.peek() == Tok::Sym('.') {
            self.bump();
            s.push('.');
        }
        s.push_str(&self.ident(what)?);
        while *self.peek() == Tok::Sym('.') {
            self.bump();
            s.push('.');
            s.push_str(&self.ident(what)?);
        }
        Ok(s)
    }

    /// One string literal, or several side by side (they join, as in C).
    fn string(&mut self, what: &str) -> Result<String, ProtoError> {
        let Tok::Str(first) = self.peek() else {
            return Err(self.expected(what));
        };
        let mut s = first.clone();
        self.bump();
        while let Tok::Str(more) = self.peek() {
            s.push_str(more);
            self.bump();
        }
        Ok(s)
    }

    fn file_body(&mut self) -> Result<(), ProtoError> {
        loop {
            match self.peek() {
                Tok::Eof => return Ok(()),
                Tok::Sym(';') => {
                    self.bump();
                }
                Tok::Ident(word) => match word.as_str() {
                    "syntax" | "edition" => {
                        let editions = word == "edition";
                        self.bump();
                        self.sym(
                            '=',
                            &format!("after `{}`", if editions { "edition" } else { "syntax" }),
                        )?;
                        let v = self.string("a string literal such as \"proto3\"")?;
                        self.sym(';', "after the syntax")?;
                        self.out.syntax = if editions { format!("editions {v}") } else { v };
                    }
                    "package" => {
                        let at = self.bump();
                        let name = self.dotted("a package name")?;
                        self.sym(';', "after the package name")?;
                        if self.package.is_some() {
                            return Err(self.error_at(at.line, at.col, "a second `package` line"));
                        }
                        self.package = Some(name.trim_start_matches('.').to_string());
                    }
                    "import" => {
                        self.bump();
                        if self.is_ident("public") || self.is_ident("weak") {
                            self.bump();
                        }
                        let path = self.string("the imported file's name as a string literal")?;
                        self.sym(';', "after the import")?;
                        self.out.imports.push(path);
                    }
                    "option" => self.skip_statement()?,
                    "message" => {
                        self.bump();
                        self.message("", true, 0)?;
                    }
                    "enum" => {
                        self.bump();
                        self.enumeration("")?;
                    }
                    "service" | "extend" => {
                        self.bump();
                        self.skip_block()?;
                    }
                    _ => return Err(self.expected(TOP_LEVEL)),
                },
                _ => return Err(self.expected(TOP_LEVEL)),
            }
        }
    }

    fn message(&mut self, scope: &str, top_level: bool, depth: usize) -> Result<(), ProtoError> {
        let at = self.cur().clone();
        let name = self.ident("a message name")?;
        if depth >= MAX_NESTING {
            return Err(self.error_at(
                at.line,
                at.col,
                format!("messages nested more than {MAX_NESTING} deep"),
            ));
        }
        let rel = join(scope, &name);
        self.sym('{', &format!("to open message `{name}`"))?;
        let index = self.out.messages.len();
        self.out.messages.push(MessageDef {
            full_name: rel.clone(),
            file: self.file.to_string(),
            top_level,
            fields: Vec::new(),
            by_number: Vec::new(),
            at: (at.line, at.col),
        });
        let mut fields: Vec<(FieldDef, Token)> = Vec::new();
        loop {
            match self.peek() {
                Tok::Sym('}') => {
                    self.bump();
                    break;
                }
                Tok::Sym(';') => {
                    self.bump();
                }
                Tok::Eof => return Err(self.expected(&format!("`}}` to close message `{name}`"))),
                Tok::Ident(w) => match w.as_str() {
                    "message" => {
                        self.bump();
                        self.message(&rel, false, depth + 1)?;
                    }
                    "enum" => {
                        self.bump();
                        self.enumeration(&rel)?;
                    }
                    "oneof" => {
                        self.bump();
                        self.oneof(&mut fields)?;
                    }
                    "option" | "reserved" | "extensions" => self.skip_statement()?,
                    "extend" => {
                        self.bump();
                        self.skip_block()?;
                    }
                    _ => fields.push(self.field(None)?),
                },
                _ => fields.push(self.field(None)?),
            }
        }
        let fields = self.check_fields(&name, fields)?;
        let m = &mut self.out.messages[index];
        m.by_number = fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.number, i))
            .collect();
        m.by_number.sort_unstable();
        m.fields = fields;
        Ok(())
    }

    /// Field numbers and names are unique in a message; the later one is the error.
    fn check_fields(
        &self,
        message: &str,
        fields: Vec<(FieldDef, Token)>,
    ) -> Result<Vec<FieldDef>, ProtoError> {
        let mut seen: Vec<(u32, &str)> = Vec::with_capacity(fields.len());
        for (f, at) in &fields {
            if let Some((_, other)) = seen.iter().find(|(n, _)| *n == f.number) {
                return Err(self.error_at(
                    at.line,
                    at.col,
                    format!(
                        "field number {} is already used by `{other}` in message `{message}`",
                        f.number
                    ),
                ));
            }
            if seen.iter().any(|(_, n)| *n == f.name) {
                return Err(self.error_at(
                    at.line,
                    at.col,
                    format!("field `{}` is defined twice in message `{message}`", f.name),
                ));
            }
            seen.push((f.number, &f.name));
        }
        Ok(fields.into_iter().map(|(f, _)| f).collect())
    }

    fn oneof(&mut self, fields: &mut Vec<(FieldDef, Token)>) -> Result<(), ProtoError> {
        let name = self.ident("a oneof name")?;
        self.sym('{', &format!("to open oneof `{name}`"))?;
        loop {
            match self.peek() {
                Tok::Sym('}') => {
                    self.bump();
                    return Ok(());
                }
                Tok::Sym(';') => {
                    self.bump();
                }
                Tok::Eof => return Err(self.expected(&format!("`}}` to close oneof `{name}`"))),
                Tok::Ident(w) if w == "option" => self.skip_statement()?,
                Tok::Ident(w) if matches!(w.as_str(), "repeated" | "optional" | "required") => {
                    return Err(self.expected(&format!(
                        "a field type (fields of oneof `{name}` have no label)"
                    )));
                }
                _ => fields.push(self.field(Some(&name))?),
            }
        }
    }

    /// `[label] TYPE NAME = NUMBER [options];` or `map<K, V> NAME = NUMBER [options];`.
    fn field(&mut self, oneof: Option<&str>) -> Result<(FieldDef, Token), ProtoError> {
        let start = self.cur().clone();
        let label = match self.peek() {
            Tok::Ident(w) if w == "repeated" => Label::Repeated,
            Tok::Ident(w) if w == "optional" => Label::Optional,
            Tok::Ident(w) if w == "required" => Label::Required,
            _ => Label::Singular,
        };
        if label != Label::Singular {
            self.bump();
        }
        let is_map = self.is_ident("map") && *self.peek2() == Tok::Sym('<');
        if is_map && (label != Label::Singular || oneof.is_some()) {
            return Err(
                self.expected("a field type (a map field has no label and is not in a oneof)")
            );
        }
        if self.is_ident("group") && matches!(self.peek2(), Tok::Ident(_)) {
            let t = self.cur();
            return Err(self.error_at(
                t.line,
                t.col,
                "group fields are not supported (deprecated since proto2; the wire reader does not read groups)",
            ));
        }
        let (kind, written) = if is_map {
            self.bump();
            self.bump();
            let at = self.cur().clone();
            let key = self.ident("the map's key type")?;
            let key = Scalar::parse(&key)
                .filter(|k| k.can_be_map_key())
                .ok_or_else(|| {
                    self.error_at(
                        at.line,
                        at.col,
                        format!("expected an integer, bool or string type as the map's key, found `{key}`"),
                    )
                })?;
            self.sym(',', "after the map's key type")?;
            let value = self.dotted("the map's value type")?;
            self.sym('>', "to close the map's types")?;
            let (v, written) = named_or_scalar(value);
            (
                FieldKind::Map {
                    key,
                    value: Box::new(v),
                },
                written,
            )
        } else {
            let ty = self.dotted("a field type")?;
            named_or_scalar(ty)
        };
        let name = self.ident("a field name")?;
        self.sym('=', &format!("after the field name `{name}`"))?;
        let number = match self.peek() {
            Tok::Int(n) if (1..=MAX_FIELD_NUMBER).contains(n) => *n as u32,
            _ => return Err(self.expected(&format!("a field number from 1 to {MAX_FIELD_NUMBER}"))),
        };
        self.bump();
        let packed = self.field_options()?;
        self.sym(';', &format!("after field `{name}`"))?;
        let field = FieldDef {
            name,
            number,
            label,
            kind,
            oneof: oneof.map(str::to_string),
            packed,
            written,
        };
        Ok((field, start))
    }

    /// `[packed = true, deprecated = true, (custom).x = {…}]`: only `packed` is kept.
    fn field_options(&mut self) -> Result<Option<bool>, ProtoError> {
        if *self.peek() != Tok::Sym('[') {
            return Ok(None);
        }
        let open = self.bump();
        // The brackets opened so far: a closer must match the last, and a `;` directly inside
        // the `[` means it was never closed.
        let mut stack = vec![']'];
        let mut packed = None;
        while let Some(&want) = stack.last() {
            let t = self.bump();
            let never_closed = || {
                self.error_at(
                    t.line,
                    t.col,
                    format!(
                        "expected `]` to close the field options at {}:{}, found {}",
                        open.line, open.col, t.tok
                    ),
                )
            };
            match &t.tok {
                Tok::Sym('[') => stack.push(']'),
                Tok::Sym('(') => stack.push(')'),
                Tok::Sym('{') => stack.push('}'),
                Tok::Sym(c @ (']' | ')' | '}')) => {
                    if *c != want {
                        return Err(never_closed());
                    }
                    stack.pop();
                }
                Tok::Sym(';') if stack.len() == 1 => return Err(never_closed()),
                Tok::Ident(w) if w == "packed" && stack.len() == 1 => {
                    if *self.peek() == Tok::Sym('=')
                        && let Tok::Ident(v) = self.peek2()
                    {
                        packed = Some(v == "true");
                    }
                }
                Tok::Eof => return Err(never_closed()),
                _ => {}
            }
        }
        Ok(packed)
    }

    fn enumeration(&mut self, scope: &str) -> Result<(), ProtoError> {
        let at = self.cur().clone();
        let name = self.ident("an enum name")?;
        self.sym('{', &format!("to open enum `{name}`"))?;
        let mut values = Vec::new();
        loop {
            match self.peek() {
                Tok::Sym('}') => {
                    self.bump();
                    break;
                }
                Tok::Sym(';') => {
                    self.bump();
                }
                Tok::Ident(w) if matches!(w.as_str(), "option" | "reserved") => {
                    self.skip_statement()?
                }
                Tok::Ident(v) => {
                    let v = v.clone();
                    self.bump();
                    self.sym('=', &format!("after the enum value name `{v}`"))?;
                    let negative = *self.peek() == Tok::Sym('-');
                    if negative {
                        self.bump();
                    }
                    let n = match self.peek() {
                        Tok::Int(n) => i64::try_from(*n)
                            .ok()
                            .map(|n| if negative { -n } else { n })
                            .and_then(|n| i32::try_from(n).ok()),
                        _ => None,
                    };
                    let Some(n) = n else {
                        return Err(self.expected("an enum value number (a 32-bit integer)"));
                    };
                    self.bump();
                    self.field_options()?;
                    self.sym(';', &format!("after enum value `{v}`"))?;
                    values.push((v, n));
                }
                Tok::Eof => return Err(self.expected(&format!("`}}` to close enum `{name}`"))),
                _ => return Err(self.expected("an enum value name")),
            }
        }
        self.out.enums.push(EnumDef {
            full_name: join(scope, &name),
            values,
            at: (at.line, at.col),
        });
        Ok(())
    }

    /// Past the `;` that ends a statement (`option`, `reserved`, …), braces of aggregate values
    /// included.
    fn skip_statement(&mut self) -> Result<(), ProtoError> {
        let start = self.bump();
        let mut depth = 0usize;
        loop {
            let t = self.bump();
            match t.tok {
                Tok::Sym(';') if depth == 0 => return Ok(()),
                Tok::Sym('{' | '(' | '[') => depth += 1,
                Tok::Sym('}' | ')' | ']') if depth > 0 => depth -= 1,
                Tok::Sym('}' | ')' | ']') | Tok::Eof => {
                    return Err(self.error_at(
                        t.line,
                        t.col,
                        format!(
                            "expected `;` to end the statement at {}:{}, found {}",
                            start.line, start.col, t.tok
                        ),
                    ));
                }
                _ => {}
            }
        }
    }

    /// A `service` or `extend` block: what it says does not change how messages are read.
    fn skip_block(&mut self) -> Result<(), ProtoError> {
        loop {
            match self.peek() {
                Tok::Sym('{') => break,
                Tok::Ident(_) | Tok::Sym('.') => {
                    self.bump();
                }
                _ => return Err(self.expected("`{`")),
            }
        }
        let open = self.bump();
        let mut depth = 1usize;
        while depth > 0 {
            match self.bump().tok {
                Tok::Sym('{') => depth += 1,
                Tok::Sym('}') => depth -= 1,
                Tok::Eof => {
                    return Err(self.error_at(open.line, open.col, "a `{` that is never closed"));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

const TOP_LEVEL: &str =
    "`syntax`, `package`, `import`, `option`, `message`, `enum`, `service` or `extend`";

fn named_or_scalar(ty: String) -> (FieldKind, Option<String>) {
    match Scalar::parse(&ty) {
        Some(s) => (FieldKind::Scalar(s), None),
        None => (FieldKind::Unresolved(ty.clone()), Some(ty)),
    }
}

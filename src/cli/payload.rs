//! Frames given on the command line: text, JSON, hex, base64 and files, in the order given.

use crate::engine::frame::Opcode;
use bytes::Bytes;
use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PayloadError {
    #[error("--json {arg}: not JSON: {message} (line {line}, column {column})")]
    Json {
        arg: String,
        message: String,
        line: usize,
        column: usize,
    },
    #[error("--hex: {0}")]
    Hex(String),
    #[error("--base64: {0}")]
    Base64(String),
    #[error("--file {path}: {message}")]
    File { path: String, message: String },
}

/// Decode hex digits, allowing spaces, colons, dashes and a leading 0x, as dumps print them.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, PayloadError> {
    let body = s.trim();
    let body = body
        .strip_prefix("0x")
        .or_else(|| body.strip_prefix("0X"))
        .unwrap_or(body);
    let mut digits = Vec::with_capacity(body.len());
    for (i, c) in body.char_indices() {
        if c.is_ascii_hexdigit() {
            digits.push(c as u8);
        } else if !(c.is_whitespace() || c == ':' || c == '-') {
            return Err(PayloadError::Hex(format!(
                "{c:?} at column {} is not a hex digit",
                i + 1
            )));
        }
    }
    if digits.len() % 2 == 1 {
        return Err(PayloadError::Hex(format!(
            "odd number of hex digits ({}): each byte takes two",
            digits.len()
        )));
    }
    hex::decode(&digits).map_err(|e| PayloadError::Hex(e.to_string()))
}

pub fn parse_base64(s: &str) -> Result<Vec<u8>, PayloadError> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    base64_simd::STANDARD
        .decode_to_vec(&compact)
        .or_else(|_| base64_simd::URL_SAFE.decode_to_vec(&compact))
        .or_else(|_| base64_simd::STANDARD_NO_PAD.decode_to_vec(&compact))
        .or_else(|_| base64_simd::URL_SAFE_NO_PAD.decode_to_vec(&compact))
        .map_err(|e| PayloadError::Base64(e.to_string()))
}

pub fn check_json(s: &str) -> Result<(), PayloadError> {
    serde_json::from_str::<serde_json::Value>(s)
        .map(|_| ())
        .map_err(|e| PayloadError::Json {
            arg: if s.len() > 40 {
                format!("{}…", s.chars().take(40).collect::<String>())
            } else {
                s.to_string()
            },
            message: e.to_string(),
            line: e.line(),
            column: e.column(),
        })
}

/// The `send` frames in command-line order.
pub fn frames_in_order(m: &clap::ArgMatches) -> Result<Vec<(Opcode, Bytes)>, PayloadError> {
    let mut indexed: Vec<(usize, Opcode, Bytes)> = Vec::new();
    let take = |id: &str| -> Vec<(usize, String)> {
        match (m.get_many::<String>(id), m.indices_of(id)) {
            (Some(v), Some(i)) => i.zip(v.cloned()).collect(),
            _ => Vec::new(),
        }
    };
    for (i, s) in take("text") {
        indexed.push((i, Opcode::Text, Bytes::from(s)));
    }
    for (i, s) in take("json") {
        check_json(&s)?;
        indexed.push((i, Opcode::Text, Bytes::from(s)));
    }
    for (i, s) in take("hex") {
        indexed.push((i, Opcode::Binary, Bytes::from(parse_hex(&s)?)));
    }
    for (i, s) in take("base64") {
        indexed.push((i, Opcode::Binary, Bytes::from(parse_base64(&s)?)));
    }
    if let (Some(v), Some(idx)) = (m.get_many::<PathBuf>("file"), m.indices_of("file")) {
        for (i, p) in idx.zip(v) {
            let data = std::fs::read(p).map_err(|e| PayloadError::File {
                path: p.display().to_string(),
                message: e.to_string(),
            })?;
            indexed.push((i, Opcode::Binary, Bytes::from(data)));
        }
    }
    indexed.sort_by_key(|(i, _, _)| *i);
    Ok(indexed.into_iter().map(|(_, o, b)| (o, b)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_forms_and_errors() {
        assert_eq!(parse_hex("00 ff:10-0a").ok(), Some(vec![0, 255, 16, 10]));
        assert_eq!(parse_hex("0xABCD").ok(), Some(vec![0xab, 0xcd]));
        let e = parse_hex("abc").unwrap_err().to_string();
        assert!(e.contains("odd number of hex digits (3)"), "{e}");
        let e = parse_hex("ab zz").unwrap_err().to_string();
        assert!(e.contains("'z' at column 4"), "{e}");
    }

    #[test]
    fn base64_and_json() {
        assert_eq!(parse_base64("AP8Q").ok(), Some(vec![0, 255, 16]));
        assert_eq!(parse_base64("AP-_").ok(), Some(vec![0, 255, 191]));
        assert!(parse_base64("!!").is_err());
        assert!(check_json("{\"a\":1}").is_ok());
        match check_json("{\"a\":}") {
            Err(PayloadError::Json { line, column, .. }) => assert_eq!((line, column), (1, 6)),
            other => panic!("{other:?}"),
        }
    }
}

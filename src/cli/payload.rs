//! Frames given on the command line: text, JSON, hex, base64 and files, in the order given.

use crate::decode::payload::{ParseError, parse_base64, parse_hex};
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
    Hex(ParseError),
    #[error("--base64: {0}")]
    Base64(ParseError),
    #[error("--file {path}: {message}")]
    File { path: String, message: String },
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
        indexed.push((
            i,
            Opcode::Binary,
            Bytes::from(parse_hex(&s).map_err(PayloadError::Hex)?),
        ));
    }
    for (i, s) in take("base64") {
        indexed.push((
            i,
            Opcode::Binary,
            Bytes::from(parse_base64(&s).map_err(PayloadError::Base64)?),
        ));
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
    fn json_is_checked() {
        assert!(check_json("{\"a\":1}").is_ok());
        match check_json("{\"a\":}") {
            Err(PayloadError::Json { line, column, .. }) => assert_eq!((line, column), (1, 6)),
            other => panic!("{other:?}"),
        }
    }
}

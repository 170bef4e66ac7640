//! Bytes typed as text: hex digits as dumps print them, and base64 in any of its four alphabets.
//! Shared by `send --hex/--base64` and the console's composer.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ParseError {
    #[error("{0}")]
    Hex(String),
    #[error("{0}")]
    Base64(String),
}

/// Decode hex digits, allowing spaces, colons, dashes and a leading 0x, as dumps print them.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, ParseError> {
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
            return Err(ParseError::Hex(format!(
                "{c:?} at column {} is not a hex digit",
                i + 1
            )));
        }
    }
    if digits.len() % 2 == 1 {
        return Err(ParseError::Hex(format!(
            "odd number of hex digits ({}): each byte takes two",
            digits.len()
        )));
    }
    hex::decode(&digits).map_err(|e| ParseError::Hex(e.to_string()))
}

pub fn parse_base64(s: &str) -> Result<Vec<u8>, ParseError> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    base64_simd::STANDARD
        .decode_to_vec(&compact)
        .or_else(|_| base64_simd::URL_SAFE.decode_to_vec(&compact))
        .or_else(|_| base64_simd::STANDARD_NO_PAD.decode_to_vec(&compact))
        .or_else(|_| base64_simd::URL_SAFE_NO_PAD.decode_to_vec(&compact))
        .map_err(|e| ParseError::Base64(e.to_string()))
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
    fn base64_alphabets() {
        assert_eq!(parse_base64("AP8Q").ok(), Some(vec![0, 255, 16]));
        assert_eq!(parse_base64("AP-_").ok(), Some(vec![0, 255, 191]));
        assert!(parse_base64("!!").is_err());
    }
}

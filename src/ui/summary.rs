//! One-line summaries of rows, computed only for the rows on screen.

use crate::decode::json::discriminator;
use crate::engine::close::explain;
use crate::engine::{Frame, Opcode};
use serde_json::Value;

/// Payloads longer than this are not parsed for a summary (a 16 MiB frame must scroll as fast
/// as a small one).
const PARSE_MAX: usize = 64 * 1024;

/// (lead, rest): the discriminator value (for JSON) and a compact preview.
pub fn frame_summary(f: &Frame, width: usize) -> (String, String) {
    match f.opcode {
        Opcode::Text if f.text().is_some() => {
            let text = f.text().unwrap_or_default();
            if f.payload.len() <= PARSE_MAX
                && let Ok(v) = serde_json::from_str::<Value>(text)
            {
                let lead = discriminator(&v).map(|(_, d)| d).unwrap_or_default();
                let compact = v.to_string();
                return (lead, clip(&compact, width));
            }
            let prefix = if f.payload.len() <= PARSE_MAX && looks_like_json(text) {
                "invalid JSON "
            } else {
                ""
            };
            (prefix.trim().to_string(), clip(&escape(text), width))
        }
        Opcode::Close => match f.close_code() {
            Some((code, reason)) => (
                format!("{code} {}", explain(code).name),
                if reason.is_empty() {
                    String::new()
                } else {
                    format!("{reason:?}")
                },
            ),
            None => ("no status".into(), String::new()),
        },
        // Ping payloads are usually words (ours are "wsdeck-keepalive-N").
        Opcode::Ping | Opcode::Pong
            if std::str::from_utf8(&f.payload)
                .is_ok_and(|t| !t.is_empty() && !t.chars().any(char::is_control)) =>
        {
            (
                String::new(),
                clip(&String::from_utf8_lossy(&f.payload), width),
            )
        }
        _ => {
            let n = (width / 3).clamp(4, 24);
            let hex: Vec<String> = f
                .payload
                .iter()
                .take(n)
                .map(|b| format!("{b:02x}"))
                .collect();
            let more = if f.payload.len() > n { " …" } else { "" };
            // A text frame the peer sent with bytes that are not UTF-8 (kept to explain a 1007).
            let lead = if f.opcode == Opcode::Text {
                "not UTF-8"
            } else {
                ""
            };
            (lead.into(), format!("{}{more}", hex.join(" ")))
        }
    }
}

fn looks_like_json(t: &str) -> bool {
    matches!(t.trim_start().as_bytes().first(), Some(b'{' | b'['))
}

fn escape(t: &str) -> String {
    t.chars()
        .take(512)
        .map(|c| if c.is_control() { '·' } else { c })
        .collect()
}

/// At most `width` characters, with an ellipsis when cut.
pub fn clip(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Sizes as people read them: 212, 4.7K, 2.3M.
pub fn human_bytes(n: u64) -> String {
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
    }
}

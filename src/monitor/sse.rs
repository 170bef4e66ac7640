//! A server-sent events parser (the WHATWG `text/event-stream` rules): bytes in, events out.
//! Hand-written because the rules fit in a page and the crates that do it pull a parser
//! combinator library into the build for them.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field; empty means the default type, "message".
    pub event: String,
    /// The `data:` lines, joined with '\n'.
    pub data: String,
    /// The last `id:` seen on the stream (it persists across events, as the spec says).
    pub id: Option<String>,
    /// A `retry:` the server asked for, in milliseconds.
    pub retry: Option<u64>,
}

impl SseEvent {
    pub fn kind(&self) -> &str {
        if self.event.is_empty() {
            "message"
        } else {
            &self.event
        }
    }
}

/// Feeds chunks as they arrive; lines may split anywhere, even inside a UTF-8 sequence.
#[derive(Debug, Default)]
pub struct SseParser {
    buf: Vec<u8>,
    event: String,
    data: String,
    has_data: bool,
    last_id: Option<String>,
    retry: Option<u64>,
    /// A '\r' ended the previous chunk: a '\n' starting the next one belongs to it.
    pending_cr: bool,
    started: bool,
}

/// Longest line kept (a stream that never sends a newline must not eat the memory).
const MAX_LINE: usize = 1 << 20;

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// The id to send as `Last-Event-ID` when reconnecting.
    pub fn last_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    /// Carry the last event id over to a parser for a new connection.
    pub fn restore_id(&mut self, id: Option<String>) {
        self.last_id = id;
    }

    /// Parse a chunk; complete events are pushed to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) {
        let mut rest = chunk;
        if self.pending_cr {
            self.pending_cr = false;
            if rest.first() == Some(&b'\n') {
                rest = &rest[1..];
            }
        }
        while let Some(pos) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            let (line, tail) = rest.split_at(pos);
            if self.buf.len() + line.len() <= MAX_LINE {
                self.buf.extend_from_slice(line);
            }
            let cr = tail[0] == b'\r';
            rest = &tail[1..];
            if cr {
                if rest.is_empty() {
                    self.pending_cr = true;
                } else if rest[0] == b'\n' {
                    rest = &rest[1..];
                }
            }
            let line = std::mem::take(&mut self.buf);
            self.line(&line, out);
        }
        if self.buf.len() + rest.len() <= MAX_LINE {
            self.buf.extend_from_slice(rest);
        }
    }

    fn line(&mut self, raw: &[u8], out: &mut Vec<SseEvent>) {
        let mut line = String::from_utf8_lossy(raw);
        // A byte order mark may open the stream.
        if !self.started {
            self.started = true;
            if let Some(s) = line.strip_prefix('\u{feff}') {
                line = s.to_string().into();
            }
        }
        if line.is_empty() {
            if self.has_data {
                let mut data = std::mem::take(&mut self.data);
                if data.ends_with('\n') {
                    data.pop();
                }
                out.push(SseEvent {
                    event: std::mem::take(&mut self.event),
                    data,
                    id: self.last_id.clone(),
                    retry: self.retry,
                });
            }
            self.event.clear();
            self.data.clear();
            self.has_data = false;
            return;
        }
        if line.starts_with(':') {
            return; // a comment (keepalive)
        }
        let (field, value) = match line.find(':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (&line[..], ""),
        };
        match field {
            "event" => self.event = value.to_string(),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_string()),
            "retry" => {
                if let Ok(ms) = value.parse() {
                    self.retry = Some(ms);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_pieces(input: &[u8], piece: usize) -> Vec<SseEvent> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        for c in input.chunks(piece) {
            p.feed(c, &mut out);
        }
        out
    }

    #[test]
    fn events_survive_any_chunking() {
        let input = "\u{feff}: hello\r\nevent: log\r\ndata: {\"a\":1}\r\nid: 7\r\n\r\ndata: one\ndata: two\n\nevent: other\ndata:x\r\rretry: 2500\nevent: log\ndata: é\n\n".as_bytes();
        let whole = parse_in_pieces(input, input.len());
        for n in 1..8 {
            assert_eq!(parse_in_pieces(input, n), whole, "chunks of {n}");
        }
        assert_eq!(whole.len(), 4, "{whole:?}");
        assert_eq!(whole[0].kind(), "log");
        assert_eq!(whole[0].data, "{\"a\":1}");
        assert_eq!(whole[0].id.as_deref(), Some("7"));
        assert_eq!(whole[1].kind(), "message");
        assert_eq!(whole[1].data, "one\ntwo");
        assert_eq!(whole[1].id.as_deref(), Some("7"), "the id persists");
        assert_eq!(whole[2].kind(), "other");
        assert_eq!(whole[2].data, "x");
        assert_eq!(whole[3].data, "é");
        assert_eq!(whole[3].retry, Some(2500));
    }

    #[test]
    fn an_event_without_data_is_not_dispatched_and_a_partial_one_waits() {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        p.feed(b"event: log\n\ndata: half", &mut out);
        assert!(out.is_empty());
        p.feed(b"\n\n", &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].kind(),
            "message",
            "the event field was reset by the blank line"
        );
    }
}

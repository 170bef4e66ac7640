//! The composer: the next frame, edited in a maintained textarea widget (ratatui-textarea), in one
//! of four modes, checked as you type, sent as text or binary regardless of content (a wire-format
//! mismatch is often exactly that choice).

use crate::app::event::Composed;
use crate::app::{App, ConnState, Effect, picker};
use crate::decode::payload::{parse_base64, parse_hex};
use crate::engine::{Direction, Opcode};
use crate::keymap::Action;
use bytes::Bytes;
use crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Text,
    Json,
    Hex,
    Base64,
    /// The draft is a file's path; its bytes are read when the frame is sent.
    File,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Text => "text",
            Mode::Json => "JSON",
            Mode::Hex => "hex",
            Mode::Base64 => "base64",
            Mode::File => "file",
        }
    }

    fn next(self) -> Mode {
        match self {
            Mode::Text => Mode::Json,
            Mode::Json => Mode::Hex,
            Mode::Hex => Mode::Base64,
            Mode::Base64 => Mode::File,
            Mode::File => Mode::Text,
        }
    }

    fn default_opcode(self) -> Opcode {
        match self {
            Mode::Text | Mode::Json => Opcode::Text,
            Mode::Hex | Mode::Base64 | Mode::File => Opcode::Binary,
        }
    }
}

pub struct Composer {
    pub editor: TextArea<'static>,
    pub mode: Mode,
    /// Text or Binary: what goes on the wire, whatever the content.
    pub send_as: Opcode,
    /// Frames sent from the composer, oldest first; Ctrl-p/Ctrl-n walk it.
    pub history: Vec<(Mode, String)>,
    history_pos: Option<usize>,
    /// Where a proxy client's frame goes: `Out` toward the agent, `In` toward the client.
    pub toward: Direction,
}

impl Default for Composer {
    fn default() -> Self {
        Composer {
            editor: TextArea::default(),
            mode: Mode::Json,
            send_as: Opcode::Text,
            history: Vec::new(),
            history_pos: None,
            toward: Direction::Out,
        }
    }
}

impl Composer {
    pub fn text(&self) -> String {
        self.editor.lines().join("\n")
    }

    pub fn set_text(&mut self, mode: Mode, text: &str) {
        self.mode = mode;
        self.send_as = mode.default_opcode();
        self.editor = TextArea::new(text.lines().map(str::to_string).collect());
    }

    /// A frame like `payload`: JSON pretty-printed when it parses, text as is, binary as hex.
    pub fn load_frame(&mut self, opcode: Opcode, payload: &[u8]) {
        match (opcode, std::str::from_utf8(payload)) {
            (Opcode::Text, Ok(t)) => match serde_json::from_str::<serde_json::Value>(t) {
                Ok(v) => self.set_text(
                    Mode::Json,
                    &serde_json::to_string_pretty(&v).unwrap_or_default(),
                ),
                Err(_) => self.set_text(Mode::Text, t),
            },
            _ => {
                let hex: Vec<String> = payload.iter().map(|b| format!("{b:02x}")).collect();
                let lines: Vec<String> = hex.chunks(16).map(|c| c.join(" ")).collect();
                self.set_text(Mode::Hex, &lines.join("\n"));
            }
        }
    }

    /// JSON drafts: pretty ↔ compact.
    pub fn reformat(&mut self) {
        if self.mode != Mode::Json {
            return;
        }
        let text = self.text();
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
            return;
        };
        let compact = v.to_string();
        let next = if text.trim() == compact {
            serde_json::to_string_pretty(&v).unwrap_or(compact)
        } else {
            compact
        };
        let (mode, send_as) = (self.mode, self.send_as);
        self.set_text(mode, &next);
        self.send_as = send_as;
    }

    pub fn cycle_mode(&mut self) {
        self.mode = self.mode.next();
        self.send_as = self.mode.default_opcode();
    }

    /// Text ↔ binary, whatever the content (from a control frame: back to text).
    pub fn toggle_opcode(&mut self) {
        self.send_as = match self.send_as {
            Opcode::Text => Opcode::Binary,
            _ => Opcode::Text,
        };
    }

    /// Ping → pong → close (payload "CODE reason") → back to the mode's data frame.
    pub fn cycle_control(&mut self) {
        self.send_as = match self.send_as {
            Opcode::Ping => Opcode::Pong,
            Opcode::Pong => Opcode::Close,
            Opcode::Close => self.mode.default_opcode(),
            _ => Opcode::Ping,
        };
    }

    /// The payload with placeholder variable values, or what is wrong with the draft.
    pub fn check(
        &self,
        user_vars: &std::collections::BTreeMap<String, String>,
    ) -> Result<Bytes, EncodeError> {
        let text = crate::app::vars::sample(user_vars)(&self.text())?;
        encode(self.mode, self.send_as, &text)
    }

    /// After a send: remember it and start the next frame empty.
    pub fn sent(&mut self) {
        self.history.push((self.mode, self.text()));
        self.history_pos = None;
        let mode = self.mode;
        let send_as = self.send_as;
        self.editor = TextArea::default();
        self.mode = mode;
        self.send_as = send_as;
    }

    pub fn history_step(&mut self, back: bool) {
        if self.history.is_empty() {
            return;
        }
        let last = self.history.len() - 1;
        let pos = match (self.history_pos, back) {
            (None, true) => last,
            (None, false) => return,
            (Some(p), true) => p.saturating_sub(1),
            (Some(p), false) if p >= last => {
                self.history_pos = None;
                self.editor = TextArea::default();
                return;
            }
            (Some(p), false) => p + 1,
        };
        self.history_pos = Some(pos);
        let (mode, text) = self.history[pos].clone();
        self.set_text(mode, &text);
    }
}

/// Why a draft cannot be sent.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum EncodeError {
    #[error(transparent)]
    Var(#[from] crate::app::vars::VarError),
    #[error("close: CODE [reason], e.g. 1000 done (1000-4999, not 1004-1006 or 1015)")]
    CloseCode,
    #[error("close: the reason is at most 123 bytes")]
    CloseReason,
    #[error("empty: type the frame")]
    Empty,
    #[error("{message} at line {line}, column {column}")]
    Json {
        message: String,
        line: usize,
        column: usize,
    },
    #[error(transparent)]
    Bytes(#[from] crate::decode::payload::ParseError),
    #[error("not UTF-8: send it as binary (Ctrl-t)")]
    NotUtf8,
    #[error("a {opcode} payload is at most 125 bytes ({len} here)")]
    ControlTooLong { opcode: &'static str, len: usize },
}

/// Text (after variables are expanded) to the bytes of a frame in `mode`, sent as `send_as`.
pub fn encode(mode: Mode, send_as: Opcode, text: &str) -> Result<Bytes, EncodeError> {
    if send_as == Opcode::Close {
        // "CODE reason", e.g. "1000 done" or "4001": the close frame's payload.
        let t = text.trim();
        let (code, reason) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
        let code: u16 = code
            .parse()
            .ok()
            .filter(|c| (1000..5000).contains(c) && !matches!(c, 1004..=1006 | 1015))
            .ok_or(EncodeError::CloseCode)?;
        if reason.len() > 123 {
            return Err(EncodeError::CloseReason);
        }
        return Ok(crate::engine::frame::close_payload(code, reason.trim()));
    }
    if matches!(send_as, Opcode::Ping | Opcode::Pong) && text.trim().is_empty() {
        return Ok(Bytes::new());
    }
    if text.trim().is_empty() && mode != Mode::Text {
        return Err(EncodeError::Empty);
    }
    let text = text.to_string();
    if mode == Mode::File {
        // The path is checked here; the bytes are read by the runtime when the frame is sent.
        return Ok(Bytes::new());
    }
    let bytes = match mode {
        Mode::Text => Bytes::from(text),
        Mode::Json => {
            let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                let m = e.to_string();
                EncodeError::Json {
                    message: m.split(" at line ").next().unwrap_or(&m).to_string(),
                    line: e.line(),
                    column: e.column(),
                }
            })?;
            // Sent compact: one frame, one line, as agents expect.
            Bytes::from(v.to_string())
        }
        Mode::Hex => Bytes::from(parse_hex(&text)?),
        Mode::Base64 => Bytes::from(parse_base64(&text)?),
        Mode::File => Bytes::new(),
    };
    if send_as == Opcode::Text && std::str::from_utf8(&bytes).is_err() {
        return Err(EncodeError::NotUtf8);
    }
    if matches!(send_as, Opcode::Ping | Opcode::Pong) && bytes.len() > 125 {
        return Err(EncodeError::ControlTooLong {
            opcode: send_as.as_str(),
            len: bytes.len(),
        });
    }
    Ok(bytes)
}

/// Keys in the composer: its table's actions; every other key edits the draft.
pub fn on_key(app: &mut App, action: Option<Action>, key: KeyEvent) -> Vec<Effect> {
    let proxy_client = app.current().is_some_and(|s| s.proxy_client().is_some());
    let c = &mut app.composer;
    match action {
        Some(Action::QuitNow) => return vec![Effect::Quit],
        Some(Action::Cancel) => app.layers.composing = false,
        Some(Action::ToggleOpcode) => c.toggle_opcode(),
        Some(Action::ToggleToward) => {
            if proxy_client {
                c.toward = match c.toward {
                    Direction::Out => Direction::In,
                    Direction::In => Direction::Out,
                };
            } else {
                app.status =
                    Some("only a proxy client's session sends toward the client too".into());
            }
        }
        Some(Action::ControlFrame) => c.cycle_control(),
        Some(Action::HistorySearch) => app.layers.picker = Some(picker::history(&c.history)),
        Some(Action::Reformat) => c.reformat(),
        Some(Action::NextMode) => c.cycle_mode(),
        Some(Action::HistoryPrev) => c.history_step(true),
        Some(Action::HistoryNext) => c.history_step(false),
        Some(Action::Send) => return send(app),
        _ => {
            c.editor.input(key);
        }
    }
    vec![]
}

/// Check the draft and hand it to the runtime, which fills in `now` and `uuid`.
fn send(app: &mut App) -> Vec<Effect> {
    let Some(s) = app.current() else {
        app.status = Some("no session to send to".into());
        return vec![];
    };
    if s.proxy.is_some() {
        app.status = Some(format!(
            "{} is a proxy: select one of its clients (the sessions under it) to send into",
            s.name
        ));
        return vec![];
    }
    if !matches!(s.state, ConnState::Open) {
        let what = if s.proxy_client().is_some() {
            "its client is not connected"
        } else {
            "connect first"
        };
        app.status = Some(format!("{} is not open: {what}", s.name));
        return vec![];
    }
    let toward = if s.proxy_client().is_some() {
        app.composer.toward
    } else {
        Direction::Out
    };
    let id = s.id;
    let vars = s.vars.clone();
    let session_id = s.spec.session_id.clone().unwrap_or_default();
    if let Err(e) = app.composer.check(&vars) {
        app.status = Some(format!("not sent: {e}"));
        return vec![];
    }
    let (mode, opcode, template) = (app.composer.mode, app.composer.send_as, app.composer.text());
    app.composer.sent();
    let seq = match app.current_mut() {
        Some(s) => {
            s.composed += 1;
            s.composed
        }
        None => 0,
    };
    vec![Effect::SendComposed {
        id,
        frame: Composed {
            mode,
            opcode,
            template,
            seq,
            session_id,
            vars,
            toward,
        },
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_validate_and_opcode_is_a_free_choice() {
        let mut c = Composer::default();
        c.set_text(Mode::Json, "{\n  \"type\": \"ping\",\n  \"id\": \n}");
        let e = c.check(&Default::default()).unwrap_err();
        assert!(e.to_string().contains("line 4, column 1"), "{e}");
        c.set_text(Mode::Json, "{\n  \"type\": \"ping\"\n}");
        assert_eq!(
            c.check(&Default::default()).ok(),
            Some(Bytes::from_static(b"{\"type\":\"ping\"}"))
        );
        c.set_text(Mode::Hex, "00 ff 1");
        assert!(
            c.check(&Default::default())
                .unwrap_err()
                .to_string()
                .contains("odd number")
        );
        c.set_text(Mode::Hex, "00 ff");
        assert_eq!(c.send_as, Opcode::Binary);
        assert_eq!(
            c.check(&Default::default()).ok(),
            Some(Bytes::from_static(&[0, 255]))
        );
        c.send_as = Opcode::Text;
        assert!(
            c.check(&Default::default())
                .unwrap_err()
                .to_string()
                .contains("not UTF-8")
        );
        c.set_text(Mode::Base64, "AQID");
        assert_eq!(
            c.check(&Default::default()).ok(),
            Some(Bytes::from_static(&[1, 2, 3]))
        );
        c.set_text(Mode::Text, "{not json");
        c.toggle_opcode();
        assert_eq!(
            c.send_as,
            Opcode::Binary,
            "JSON-looking text can go as binary"
        );
        assert!(c.check(&Default::default()).is_ok());
    }

    #[test]
    fn ping_pong_and_close_frames() {
        let none = Default::default();
        let mut c = Composer::default();
        c.set_text(Mode::Text, "hello");
        c.send_as = Opcode::Ping;
        assert_eq!(c.check(&none).ok(), Some(Bytes::from_static(b"hello")));
        c.set_text(Mode::Text, &"x".repeat(126));
        c.send_as = Opcode::Pong;
        assert!(
            c.check(&none)
                .unwrap_err()
                .to_string()
                .contains("at most 125")
        );
        c.set_text(Mode::Text, "4001 going now");
        c.send_as = Opcode::Close;
        assert_eq!(
            c.check(&none).ok(),
            Some(crate::engine::frame::close_payload(4001, "going now"))
        );
        c.set_text(Mode::Text, "1006");
        c.send_as = Opcode::Close;
        assert!(
            c.check(&none)
                .unwrap_err()
                .to_string()
                .contains("CODE [reason]")
        );
        c.send_as = Opcode::Text;
        c.cycle_control();
        assert_eq!(c.send_as, Opcode::Ping);
        c.cycle_control();
        c.cycle_control();
        assert_eq!(c.send_as, Opcode::Close);
        c.cycle_control();
        assert_eq!(c.send_as, Opcode::Text, "back to the mode's data frame");
        c.send_as = Opcode::Close;
        c.toggle_opcode();
        assert_eq!(c.send_as, Opcode::Text);
    }

    #[test]
    fn history_walks_back_and_forth() {
        let mut c = Composer::default();
        c.set_text(Mode::Text, "one");
        c.sent();
        c.set_text(Mode::Json, "{}");
        c.sent();
        c.history_step(true);
        assert_eq!(c.text(), "{}");
        c.history_step(true);
        assert_eq!(c.text(), "one");
        c.history_step(false);
        assert_eq!(c.text(), "{}");
        c.history_step(false);
        assert_eq!(c.text(), "");
        c.load_frame(Opcode::Binary, &[1, 2]);
        assert_eq!((c.mode, c.text()), (Mode::Hex, "01 02".to_string()));
    }
}

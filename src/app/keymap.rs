//! Every action the console knows, its default keys and where it applies. The help overlay and
//! the key hints are generated from this one table, so they cannot drift from what keys do.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Help,
    FocusNext,
    FocusPrev,
    Quit,
    QuitNow,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Enter,
    Back,
    ToggleTime,
    NextView,
    Wrap,
    Handshake,
    Disconnect,
    Reconnect,
    ReconnectNew,
    Filter,
    Search,
    SearchNext,
    Copy,
    CommandLine,
    AddSession,
    EditSession,
    DeleteSession,
    Compose,
    ReplayStep,
    Logs,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Anywhere,
    Lists,
    Sessions,
    Frames,
    Detail,
    Logs,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::Anywhere => "anywhere",
            Scope::Lists => "lists",
            Scope::Sessions => "sessions",
            Scope::Frames => "frames",
            Scope::Detail => "detail",
            Scope::Logs => "logs",
        }
    }
}

pub struct Binding {
    pub keys: &'static str,
    pub scope: Scope,
    pub action: Action,
    pub does: &'static str,
}

/// The table, in help order.
pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: "? / Esc",
        scope: Scope::Anywhere,
        action: Action::Help,
        does: "help (this list) / close an overlay, back to the frames",
    },
    Binding {
        keys: "Tab / Shift-Tab",
        scope: Scope::Anywhere,
        action: Action::FocusNext,
        does: "next / previous pane",
    },
    Binding {
        keys: "q / Ctrl-c",
        scope: Scope::Anywhere,
        action: Action::Quit,
        does: "quit (asks while connections are open) / quit now",
    },
    Binding {
        keys: ":",
        scope: Scope::Anywhere,
        action: Action::CommandLine,
        does: "command line: :add :edit :rename :dup :rm :filter :search :theme :q …",
    },
    Binding {
        keys: "j/k ↓/↑ PgDn/PgUp g/G",
        scope: Scope::Lists,
        action: Action::Down,
        does: "move / a page (also Ctrl-d/u) / first, last; G (End) follows the tail again",
    },
    Binding {
        keys: "Enter",
        scope: Scope::Sessions,
        action: Action::Enter,
        does: "connect (or show the frames)",
    },
    Binding {
        keys: "a / e / d",
        scope: Scope::Sessions,
        action: Action::AddSession,
        does: "add / edit / delete a session (a form; d asks first)",
    },
    Binding {
        keys: "x",
        scope: Scope::Sessions,
        action: Action::Disconnect,
        does: "disconnect (close 1000)",
    },
    Binding {
        keys: "R / N",
        scope: Scope::Sessions,
        action: Action::Reconnect,
        does: "reconnect with the same / a new agent_session_id",
    },
    Binding {
        keys: "Enter",
        scope: Scope::Frames,
        action: Action::Enter,
        does: "focus the detail of the selected frame",
    },
    Binding {
        keys: "t",
        scope: Scope::Frames,
        action: Action::ToggleTime,
        does: "absolute / relative time",
    },
    Binding {
        keys: "f",
        scope: Scope::Frames,
        action: Action::Filter,
        does: "filter: in/out, op:text…, words, a .jq expression (empty clears)",
    },
    Binding {
        keys: "/, n / N",
        scope: Scope::Frames,
        action: Action::Search,
        does: "search the payloads; next / previous match",
    },
    Binding {
        keys: "y",
        scope: Scope::Frames,
        action: Action::Copy,
        does: "copy the payload (OSC 52; binary as hex)",
    },
    Binding {
        keys: "c / e",
        scope: Scope::Frames,
        action: Action::Compose,
        does: "compose a frame / one like the selected (Ctrl-s send, Ctrl-t text/binary, Ctrl-k ping/pong/close, Ctrl-o mode, Ctrl-p/n history)",
    },
    Binding {
        keys: "]",
        scope: Scope::Anywhere,
        action: Action::ReplayStep,
        does: "next frame of a step-by-step replay (:replay FILE step)",
    },
    Binding {
        keys: "l",
        scope: Scope::Anywhere,
        action: Action::Logs,
        does: "container logs: show (starts reading) and focus / hide; :logs stop|start|SOURCE",
    },
    Binding {
        keys: "Enter, /, n/N",
        scope: Scope::Logs,
        action: Action::Enter,
        does: "back to the close that started the logs; search the log lines",
    },
    Binding {
        keys: "h",
        scope: Scope::Anywhere,
        action: Action::Handshake,
        does: "handshake and close of this session",
    },
    Binding {
        keys: "v / w",
        scope: Scope::Detail,
        action: Action::NextView,
        does: "next view (JSON, hex, PCM) / wrap long lines",
    },
];

/// The action for a key (focus decides between same-key bindings in the update).
pub fn action_for(key: KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('c') if ctrl => Action::QuitNow,
        KeyCode::Char('d') if ctrl => Action::PageDown,
        KeyCode::Char('u') if ctrl => Action::PageUp,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Tab => Action::FocusNext,
        KeyCode::BackTab => Action::FocusPrev,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Esc => Action::Back,
        KeyCode::Char('j') | KeyCode::Down => Action::Down,
        KeyCode::Char('k') | KeyCode::Up => Action::Up,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::Char('g') | KeyCode::Home => Action::Top,
        KeyCode::Char('G') | KeyCode::End => Action::Bottom,
        KeyCode::Enter => Action::Enter,
        KeyCode::Char('t') => Action::ToggleTime,
        KeyCode::Char('v') => Action::NextView,
        KeyCode::Char('w') => Action::Wrap,
        KeyCode::Char('h') => Action::Handshake,
        KeyCode::Char('l') => Action::Logs,
        KeyCode::Char('x') => Action::Disconnect,
        KeyCode::Char('R') => Action::Reconnect,
        KeyCode::Char('N') => Action::ReconnectNew,
        KeyCode::Char('f') => Action::Filter,
        KeyCode::Char('/') => Action::Search,
        KeyCode::Char('n') => Action::SearchNext,
        KeyCode::Char('y') => Action::Copy,
        KeyCode::Char(':') => Action::CommandLine,
        KeyCode::Char('a') => Action::AddSession,
        KeyCode::Char('c') => Action::Compose,
        KeyCode::Char(']') => Action::ReplayStep,
        KeyCode::Char('e') => Action::EditSession,
        KeyCode::Char('d') => Action::DeleteSession,
        _ => return None,
    })
}

//! Every action a key can trigger, with the name keymap.toml uses, what it does (the help's
//! words) and a short label for the status bar's hints. The declaration order is the help order.

macro_rules! actions {
    ($($variant:ident $name:literal $short:expr, $describe:literal;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $($variant),*
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];

            /// The name in keymap.toml.
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name),*
                }
            }

            /// What it does, for the help.
            pub fn describe(self) -> &'static str {
                match self {
                    $(Action::$variant => $describe),*
                }
            }

            /// A word or two for the status bar's hints (`None`: help only).
            pub fn short(self) -> Option<&'static str> {
                match self {
                    $(Action::$variant => $short),*
                }
            }

            pub fn from_name(name: &str) -> Option<Action> {
                Action::ALL.iter().copied().find(|a| a.name() == name)
            }
        }
    };
}

actions! {
    Help "help" Some("help"), "help: every key, the focused pane's first";
    NextPane "next_pane" Some("pane"), "next pane (sessions, frames, detail, logs when shown)";
    PrevPane "prev_pane" None, "previous pane";
    Up "up" None, "up one row";
    Down "down" None, "down one row";
    PageUp "page_up" None, "a page up";
    PageDown "page_down" None, "a page down";
    Top "top" None, "first row";
    Bottom "bottom" Some("follow"), "last row; in the frame log, follow the tail again (moving up stops following)";
    Back "back" None, "close an overlay; back to the frames";
    CommandLine "command_line" Some("command"), "the : command line (its commands are listed below)";
    Filter "filter" Some("filter"), "filter the frame log: in/out, op:text…, words, a .jq expression (empty clears)";
    Search "search" Some("search"), "search the payloads (in the logs pane: its lines)";
    SearchNext "search_next" None, "next match";
    SearchPrev "search_prev" None, "previous match";
    Copy "copy" Some("copy"), "copy the selected payload or log line (OSC 52; binary as hex)";
    ToggleTime "toggle_time" Some("time"), "absolute / relative time";
    Compose "compose" Some("compose"), "compose a frame";
    ContainerLogs "container_logs" Some("logs"), "container logs: show (starts reading) and focus / hide";
    Vocabulary "vocabulary" Some("vocabulary"), "the session's vocabulary: message types, fields, what follows what, reply latency";
    Handshake "handshake" Some("handshake"), "handshake and close of this session";
    ReplayStep "replay_step" None, "next frame of a step-by-step replay (:replay FILE step)";
    Disconnect "disconnect" None, "disconnect (close 1000); cancels an automatic reconnect's countdown";
    Reconnect "reconnect" None, "reconnect with the same agent_session_id";
    Quit "quit" None, "quit (asks first when a connection, recording or replay you started would be cut)";
    QuitNow "quit_now" None, "quit now";
    Connect "connect" Some("connect"), "connect (or reconnect a closed session)";
    ReconnectNew "reconnect_new" Some("new id"), "reconnect with a new agent_session_id";
    AddSession "add_session" Some("add"), "add a session (a form, validated)";
    EditSession "edit_session" Some("edit"), "edit the selected session";
    DeleteSession "delete_session" Some("delete"), "delete the selected session (asks first)";
    OpenDetail "open_detail" Some("detail"), "focus the detail of the selected frame";
    ComposeLike "compose_like" Some("like this"), "compose a frame like the selected one";
    Mark "mark" None, "mark the selected row (the mark and the cursor make a range for :wav); again clears";
    NextView "next_view" Some("view"), "next view: auto (JSON, a decoder that reads the frame, hex), hex, PCM, protobuf, MessagePack, CBOR";
    Wrap "wrap" Some("wrap"), "wrap long lines";
    JumpToClose "jump_to_close" Some("to the close"), "back to the close that started the logs, in the frame log";
    FilterType "filter_type" Some("its frames"), "the frame log filtered to the selected type";
    ToggleLatency "toggle_latency" Some("replies"), "the reply column: time to the first / last reply of each sent frame";
    Send "send" Some("send"), "send the frame";
    ToggleOpcode "toggle_opcode" Some("text/binary"), "send as text / binary, whatever the content";
    ToggleToward "toggle_toward" Some("→ agent/client"), "a proxy client's session: inject toward the agent / toward the client";
    ControlFrame "control_frame" Some("ping/pong/close"), "ping → pong → close (CODE reason) → back to data";
    NextMode "next_mode" Some("mode"), "mode: text, JSON, hex, base64, file";
    Reformat "reformat" Some("pretty/compact"), "JSON pretty / compact";
    HistoryPrev "history_prev" Some("history"), "the previous frame sent";
    HistoryNext "history_next" None, "the next frame sent";
    HistorySearch "history_search" Some("search history"), "search the frames sent";
    NextField "next_field" Some("next field"), "next field";
    PrevField "prev_field" None, "previous field";
    CycleChoice "cycle_choice" Some("change kind"), "change a choice field (kind)";
    Submit "submit" Some("ok"), "accept";
    Choose "choose" Some("choose"), "take the selected item";
    Cancel "cancel" Some("cancel"), "close without acting (a draft is kept)";
    Yes "yes" Some("yes"), "yes";
    No "no" Some("no"), "no";
}

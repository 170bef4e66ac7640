//! The `:` command line: actions with arguments, parsed with the same clap definitions as the
//! command line, so `:add prod --endpoint … --agent …` validates exactly like `wsdeck sessions add`.

use crate::cli::args::TargetArgs;
use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    no_binary_name = true,
    disable_help_flag = true,
    disable_version_flag = true
)]
pub enum ConsoleCommand {
    /// :add NAME TARGET… — a new saved session
    Add {
        name: String,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// :edit TARGET… — a new target for the selected session (its agent_session_id stays)
    Edit {
        #[command(flatten)]
        target: TargetArgs,
    },
    /// :rename NAME
    Rename { name: String },
    /// :dup NAME — a copy with a new agent_session_id
    Dup { name: String },
    /// :rm — delete the selected session (closing it first)
    Rm,
    /// :connect
    Connect,
    /// :disconnect
    Disconnect,
    /// :reconnect [--new-id]
    Reconnect {
        #[arg(long)]
        new_id: bool,
    },
    /// :filter EXPR (empty clears)
    Filter {
        #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
        expr: Vec<String>,
    },
    /// :search TEXT
    Search { text: Vec<String> },
    /// :set NAME VALUE — a variable for composed frames ({{NAME}})
    Set { name: String, value: Vec<String> },
    /// :unset NAME
    Unset { name: String },
    /// :record [on|off] — record this session to a capture file (toggles without an argument)
    Record { state: Option<String> },
    /// :open FILE — a capture (or HAR) opened read-only
    Open { path: String },
    /// :replay FILE [original|fast|xN|step|wait] [IGNORE-PATH…] — or :replay pause|resume|stop|step
    Replay {
        what: String,
        timing: Option<String>,
        ignore: Vec<String>,
    },
    /// :snip [list] · :snip save NAME [--global] · :snip rm NAME · :snip NAME (load)
    Snip {
        #[arg(default_value = "list")]
        action: String,
        name: Option<String>,
        #[arg(long)]
        global: bool,
    },
    /// :like [TYPE] — a new frame like the last one of a message type seen
    Like { kind: Option<String> },
    /// :logs [start|stop|auto|azd|logstream|cmd:TEMPLATE] — the container logs of this session
    Logs {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        what: Vec<String>,
    },
    /// :ping SECS|off — keepalive pings for this session (round trips shown on the pongs)
    Ping { every: String },
    /// :pings hide|show — pings and pongs in the frame log (a -ping filter term)
    Pings { what: String },
    /// :autoreconnect on|off — reconnect by itself after an abnormal close, with backoff
    #[command(alias = "auto-reconnect")]
    Autoreconnect { state: String },
    /// :compare — the last replay's comparison
    Compare,
    /// :theme NAME
    Theme { name: String },
    /// :quit
    #[command(alias = "q")]
    Quit,
}

/// The commands for the help overlay.
pub const SUMMARY: &str = ":add NAME TARGET · :edit TARGET · :rename NAME · :dup NAME · :rm · :connect · :disconnect · :reconnect [--new-id] · :filter EXPR · :search TEXT · :set NAME VALUE · :unset NAME · :record [on|off] · :open FILE · :replay FILE [original|fast|xN|step] · :replay pause|resume|stop|step · :compare · :snip [save|rm] NAME · :like [TYPE] · :logs [start|stop|SOURCE] · :ping SECS|off · :pings hide|show · :autoreconnect on|off · :theme NAME · :q";

/// Parse a command line; the error is one line for the status bar.
pub fn parse(line: &str) -> Result<ConsoleCommand, String> {
    let words = shlex::split(line).ok_or_else(|| "unbalanced quotes".to_string())?;
    if words.is_empty() {
        return Err("empty command".into());
    }
    ConsoleCommand::try_parse_from(words).map_err(|e| {
        let text = e.to_string();
        let first = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("bad command")
            .trim_start_matches("error: ")
            .to_string();
        format!("{first} ({SUMMARY})")
    })
}

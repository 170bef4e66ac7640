//! Command-line arguments (SPEC.md's contract: these names are fixed).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// The commit this binary was built from (build.rs): 12 hex digits, `-dirty` when tracked files
/// differed from it, or `unknown` when built outside a git checkout.
pub const COMMIT: &str = env!("WSDECK_COMMIT");

/// What `wsdeck --version` says after the name, e.g. `0.1.0 (commit 1a2b3c4d5e6f, 2026-12-01)`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("WSDECK_VERSION_NOTE"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "wsdeck",
    version = VERSION,
    about = "A debugging console for duplex WebSocket agents (Azure AI Foundry invocations_ws and any ws:// or wss:// endpoint)",
    long_about = None,
)]
pub struct Cli {
    /// Config directory (default: $WSDECK_CONFIG_DIR, else the platform's config dir).
    #[arg(long, global = true, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    /// Log to stderr too (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Console theme: dark, light, high-contrast, or a themes/NAME.toml in the config dir.
    #[arg(long, global = true, value_name = "NAME")]
    pub theme: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Stdin lines become text frames; every frame and event goes to stdout as a JSON line.
    Connect {
        #[command(flatten)]
        target: TargetArgs,
        /// At end of input, wait until no frame has come for SECS, then close with 1000.
        #[arg(long, value_name = "SECS", default_value_t = 1.0)]
        linger: f64,
        /// Also record the session to a capture file.
        #[arg(long, value_name = "FILE")]
        record: Option<PathBuf>,
        #[command(flatten)]
        monitor: MonitorArgs,
    },
    /// Send frames in the order given, print what comes back as JSON lines.
    Send {
        #[command(flatten)]
        target: TargetArgs,
        /// A text frame.
        #[arg(long, value_name = "S", action = clap::ArgAction::Append)]
        text: Vec<String>,
        /// A text frame whose content must be valid JSON (sent as given).
        #[arg(long, value_name = "S", action = clap::ArgAction::Append)]
        json: Vec<String>,
        /// A binary frame from hex digits (spaces and colons allowed).
        #[arg(long, value_name = "H", action = clap::ArgAction::Append)]
        hex: Vec<String>,
        /// A binary frame from base64.
        #[arg(long, value_name = "B", action = clap::ArgAction::Append)]
        base64: Vec<String>,
        /// A binary frame with a file's bytes.
        #[arg(long, value_name = "F", action = clap::ArgAction::Append)]
        file: Vec<PathBuf>,
        /// Wait for N incoming data frames, then close (exit 1 if they do not come in time).
        #[arg(long, value_name = "N")]
        expect: Option<usize>,
        /// Bound on the wait for --expect, in seconds.
        #[arg(long, value_name = "SECS", default_value_t = 10.0)]
        timeout: f64,
        /// Without --expect: wait until no frame has come for SECS, then close with 1000.
        #[arg(long, value_name = "SECS", default_value_t = 1.0)]
        linger: f64,
        /// Also record the session to a capture file.
        #[arg(long, value_name = "FILE")]
        record: Option<PathBuf>,
        #[command(flatten)]
        monitor: MonitorArgs,
    },
    /// Record a session to a capture until the peer closes or Ctrl-C.
    Record {
        #[command(flatten)]
        target: TargetArgs,
        /// The capture file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Replay a capture's outgoing frames into a session; with --expect, compare the replies.
    Replay {
        /// The capture to replay (wsdeck capture or the JSON lines of connect/send).
        capture: PathBuf,
        #[command(flatten)]
        target: TargetArgs,
        /// original, fast, or xN (x2 = twice as fast, x0.5 = half speed).
        #[arg(long, value_name = "MODE", default_value = "original")]
        timing: String,
        /// Compare the replies with the capture's; exit 6 on a difference.
        #[arg(long)]
        expect: bool,
        /// A JSON path to ignore in the comparison (repeatable): .a.b, .items[*].id, or a bare
        /// key name (id, ts) at any depth.
        #[arg(long = "ignore-path", value_name = "P")]
        ignore_path: Vec<String>,
        /// Send each frame only after the previous one's replies went quiet for SECS.
        #[arg(long, value_name = "SECS", num_args = 0..=1, default_missing_value = "0.5")]
        wait_replies: Option<f64>,
        /// After the last frame, wait until no reply has come for SECS, then close with 1000.
        #[arg(long, value_name = "SECS", default_value_t = 1.0)]
        linger: f64,
        #[command(flatten)]
        monitor: MonitorArgs,
    },
    /// Write a capture as a HAR file (Chrome DevTools' WebSocket format, --har) or its audio as WAV (--wav).
    #[command(group(clap::ArgGroup::new("out").required(true).args(["har", "wav"])))]
    Export {
        /// The capture (or HAR) to read.
        capture: PathBuf,
        /// The HAR file to write.
        #[arg(long, value_name = "OUT")]
        har: Option<PathBuf>,
        /// A WAV file of the capture's 16-bit PCM, in order: binary frames of whole sample frames
        /// for the channel count, and base64 audio in JSON frames' `audio`/`delta` fields.
        #[arg(long, value_name = "OUT")]
        wav: Option<PathBuf>,
        /// With --wav: the frames of this direction.
        #[arg(long, value_name = "in|out", default_value = "in", requires = "wav")]
        dir: String,
        /// With --wav: the sample rate in Hz.
        #[arg(long, value_name = "HZ", default_value_t = 24000, requires = "wav")]
        rate: u32,
        /// With --wav: the channel count.
        #[arg(long, value_name = "N", default_value_t = 1, requires = "wav")]
        channels: u16,
    },
    /// Print a capture readably (or as JSON lines with --json).
    Inspect {
        /// The capture file.
        capture: PathBuf,
        /// One JSON object per line, as `connect` prints them.
        #[arg(long)]
        json: bool,
        /// Show at most this many bytes of each payload (0 = all).
        #[arg(long, value_name = "BYTES", default_value_t = 4096)]
        max_bytes: usize,
        /// How binary frames are shown: auto (a decoder that claims the whole frame, else hex),
        /// protobuf, msgpack, cbor, pcm or hex.
        #[arg(long, value_name = "DECODER", default_value = "auto")]
        decode: String,
        /// A .proto file giving protobuf frames field names and types (repeatable; imports
        /// resolve among the files given). Implies --decode protobuf when --decode is auto.
        #[arg(long = "proto", value_name = "FILE", action = clap::ArgAction::Append)]
        proto: Vec<PathBuf>,
        /// With --proto: read every binary frame as this message (full or unique short name).
        /// Without it, each frame is read as the first top-level message (files in the order
        /// given, then as written) that declares every field on the wire with its wire type,
        /// else as the closest fit (the fewest fields not as declared); a frame that no message
        /// reads is read without the schema.
        #[arg(long, value_name = "NAME", requires = "proto")]
        message: Option<String>,
    },
    /// The vocabulary a capture (or HAR) shows: message types per direction with their fields,
    /// the order they follow each other, and reply latencies.
    Vocab {
        /// The capture (or HAR) to read.
        capture: PathBuf,
        /// One JSON object per line: a message type each, then transitions and latencies.
        #[arg(long)]
        json: bool,
        /// Write one JSON Schema per message type into DIR.
        #[arg(long, value_name = "DIR")]
        schema: Option<PathBuf>,
    },
    /// What an agent publishes about itself: its AsyncAPI document (title, channels, messages).
    Discover {
        #[command(flatten)]
        target: TargetArgs,
    },
    /// A local WebSocket endpoint for your own client (a browser page, an app): each client's
    /// frames go to TARGET unchanged, with the token added, and both directions are printed as
    /// JSON lines (`out` = client to agent, each with `client`).
    Proxy {
        #[command(flatten)]
        target: TargetArgs,
        /// Where clients connect: ADDR:PORT (default 127.0.0.1:8089; port 0 takes any free one).
        /// Loopback only, unless --allow-remote.
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<String>,
        /// Let pages from ORIGIN in besides those on this machine (repeatable; `null` for pages
        /// opened from a file or in a sandboxed frame).
        #[arg(long = "allow-origin", value_name = "ORIGIN")]
        allow_origin: Vec<String>,
        /// Listen on a non-loopback address: anyone who can reach it talks to the agent with
        /// your token.
        #[arg(long)]
        allow_remote: bool,
        /// Also record every client to one capture file (lines carry `client`).
        #[arg(long, value_name = "FILE")]
        record: Option<PathBuf>,
        #[command(flatten)]
        monitor: MonitorArgs,
    },
    /// List, add and remove saved sessions.
    Sessions {
        #[command(subcommand)]
        action: SessionsAction,
    },
    /// Start the built-in demo agent on loopback and open the console on it.
    Demo {
        /// Run only the demo agent, headless, until interrupted.
        #[arg(long)]
        serve: bool,
        /// Port for the demo agent (default: any free port; with --serve, 8765).
        #[arg(long, value_name = "P")]
        port: Option<u16>,
    },
    /// Print the settings file with every default (a starting point for config.toml).
    ConfigTemplate,
    /// Print the console's effective key table (defaults plus keymap.toml in the config dir).
    Keys,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    ///
    /// Install it where the shell looks, e.g.
    /// wsdeck completions bash > ~/.local/share/bash-completion/completions/wsdeck
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write a page per command with --dir.
    ///
    /// wsdeck man > ~/.local/share/man/man1/wsdeck.1, or
    /// wsdeck man --dir ~/.local/share/man/man1 for wsdeck.1, wsdeck-connect.1 and the rest.
    Man {
        /// Write wsdeck.1 and a page per command (wsdeck-connect.1, …) into DIR.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

// Parsed once per run: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum SessionsAction {
    /// The saved sessions.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Save a session under NAME (its agent_session_id is kept for reconnects).
    Add {
        name: String,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Forget a saved session.
    Rm { name: String },
}

pub use crate::engine::target::TargetArgs;

/// On an abnormal close, read the container logs for the session and print them after the frames.
#[derive(Debug, Args, Clone, Default)]
pub struct MonitorArgs {
    /// After an abnormal close, print the agent's logs for this agent_session_id.
    #[arg(long)]
    pub monitor: bool,
    /// auto (azd when on PATH, else the platform log stream for Foundry targets), azd,
    /// logstream, or cmd:TEMPLATE ({session_id}, {agent}, {endpoint} are filled in).
    #[arg(long, value_name = "SOURCE")]
    pub monitor_source: Option<String>,
    /// Stop reading the logs after SECS.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub monitor_timeout: f64,
}

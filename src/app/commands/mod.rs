//! The `:` command line: one clap table of commands with their argument syntax (`on|off`,
//! seconds, timing words are parsed by clap, not by hand), the summary generated from it, and
//! dispatch to one file per group.

mod compose;
mod liveness;
mod replay;
pub mod sessions;
mod view;

use crate::app::{App, Effect};
use crate::capture::replay::Timing;
use crate::engine::target::TargetArgs;
use clap::{CommandFactory, Parser, ValueEnum};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    #[value(alias = "true", alias = "yes")]
    On,
    #[value(alias = "false", alias = "no")]
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Endian {
    Le,
    Be,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HideShow {
    Hide,
    Show,
}

/// `:ping` takes seconds (`2`, `0.5`, `2s`) or `off`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Every(pub Option<Duration>);

fn every(s: &str) -> Result<Every, String> {
    match s {
        "off" | "0" => Ok(Every(None)),
        n => match n.trim_end_matches('s').parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => {
                Ok(Every(Some(Duration::from_secs_f64(v.max(0.1)))))
            }
            _ => Err("seconds (2, 0.5, 2s) or off".into()),
        },
    }
}

/// How `:replay FILE` paces its frames.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pacing {
    Timed(Timing),
    /// Only `]` sends the next frame.
    Step,
    /// Each frame once the previous frame's replies went quiet.
    Wait,
}

fn pacing(s: &str) -> Result<Pacing, String> {
    match s {
        "step" => Ok(Pacing::Step),
        "wait" => Ok(Pacing::Wait),
        t => Timing::parse(t)
            .map(Pacing::Timed)
            .map_err(|_| "original, fast, xN, step or wait".to_string()),
    }
}

/// `wsdeck proxy`'s own options, for `:add` and `:edit`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ProxyArgs {
    /// listen here for your own client (browser page, app) and relay it with the token added
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// also let pages from this origin in (besides this machine's); `null` for file:// pages
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origin: Vec<String>,
    /// listen on a non-loopback address (anyone who reaches it talks to the agent as you)
    #[arg(long)]
    pub allow_remote: bool,
    /// make a proxy session a plain session again (:edit)
    #[arg(long, conflicts_with = "listen")]
    pub no_listen: bool,
}

#[derive(Debug, Parser)]
#[command(
    no_binary_name = true,
    disable_help_flag = true,
    disable_version_flag = true,
    disable_help_subcommand = true
)]
pub enum ColonCommand {
    /// a new saved session (with --listen ADDR:PORT, a proxy for your own client)
    Add {
        name: String,
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        proxy: ProxyArgs,
    },
    /// a new target for the selected session (its agent_session_id stays)
    Edit {
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        proxy: ProxyArgs,
    },
    /// rename the selected session
    Rename { name: String },
    /// a copy with a new agent_session_id
    Dup { name: String },
    /// delete the selected session (closing it first)
    Rm,
    /// connect the selected session
    Connect,
    /// close it with 1000
    Disconnect,
    /// reconnect, with the same or a new agent_session_id
    Reconnect {
        #[arg(long)]
        new_id: bool,
    },
    /// filter the frame log (empty clears)
    Filter {
        #[arg(
            allow_hyphen_values = true,
            trailing_var_arg = true,
            value_name = "EXPR"
        )]
        expr: Vec<String>,
    },
    /// search the payloads
    Search {
        #[arg(value_name = "TEXT")]
        text: Vec<String>,
    },
    /// a variable for composed frames ({{NAME}})
    Set { name: String, value: Vec<String> },
    /// remove a variable
    Unset { name: String },
    /// record this session to a capture file (toggles without an argument)
    Record {
        #[arg(value_name = "on|off")]
        state: Option<OnOff>,
    },
    /// a capture (or HAR) opened read-only
    Open {
        #[arg(value_name = "FILE")]
        path: String,
    },
    /// replay FILE's outgoing frames; or pause, resume, stop, step the replay running
    Replay {
        #[arg(value_name = "FILE|pause|resume|stop|step")]
        what: String,
        #[arg(value_name = "original|fast|xN|step|wait", value_parser = pacing)]
        timing: Option<Pacing>,
        /// JSON paths the comparison ignores
        #[arg(value_name = "IGNORE-PATH")]
        ignore: Vec<String>,
    },
    /// the last replay's comparison
    Compare,
    /// list snippets; save the composer's draft as one; remove one; or load one by name
    Snip {
        #[arg(default_value = "list", value_name = "list|save|rm|NAME")]
        action: String,
        name: Option<String>,
        #[arg(long)]
        global: bool,
    },
    /// a new frame like the last one of a message type seen
    Like {
        #[arg(value_name = "TYPE")]
        kind: Option<String>,
    },
    /// the container logs of this session: start, stop, or read them from SOURCE
    Logs {
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "start|stop|auto|azd|logstream|cmd:TEMPLATE"
        )]
        what: Vec<String>,
    },
    /// keepalive pings for this session (round trips shown on the pongs)
    Ping {
        #[arg(value_name = "SECS|off", value_parser = every)]
        every: Every,
    },
    /// pings and pongs in the frame log (a -ping filter term)
    Pings {
        #[arg(value_name = "hide|show")]
        what: HideShow,
    },
    /// reconnect by itself after an abnormal close, with backoff
    #[command(alias = "auto-reconnect")]
    Autoreconnect {
        #[arg(value_name = "on|off")]
        state: OnOff,
    },
    /// the session's vocabulary: message types, fields, what follows what, reply latency
    Vocab,
    /// fetch the agent's AsyncAPI document: its messages become templates, frames are checked
    Discover,
    /// the frame log's reply column
    Latency {
        #[arg(value_name = "on|off")]
        state: Option<OnOff>,
    },
    /// how binary frames read as audio: rate in Hz, channels, byte order (default 24000 1 le)
    Pcm {
        #[arg(value_name = "RATE")]
        rate: u32,
        #[arg(value_name = "CHANNELS", default_value_t = 1)]
        channels: u16,
        #[arg(value_name = "le|be", default_value = "le")]
        order: Endian,
    },
    /// read protobuf frames with these .proto files (field names and types), as MESSAGE if given
    Proto {
        #[arg(value_name = "FILE", required = true)]
        files: Vec<String>,
        #[arg(long, value_name = "NAME")]
        message: Option<String>,
    },
    /// the audio of the marked range (m marks; else the frames in view) as a WAV file
    Wav {
        #[arg(value_name = "FILE")]
        path: String,
    },
    /// switch the console's theme
    Theme { name: String },
    /// quit (asks first when something would be cut off)
    #[command(alias = "q")]
    Quit,
}

/// Each command's syntax and what it does, in table order (the help's `:` section). Built once:
/// the prompt and the help draw it every frame.
pub fn table() -> &'static [(String, String)] {
    static TABLE: std::sync::LazyLock<Vec<(String, String)>> =
        std::sync::LazyLock::new(build_table);
    &TABLE
}

fn build_table() -> Vec<(String, String)> {
    let mut cmd = ColonCommand::command();
    cmd.build();
    cmd.get_subcommands()
        .map(|sub| {
            let name = sub.get_name();
            let usage = sub.clone().render_usage().to_string();
            // "Usage: wsdeck add [OPTIONS] <NAME>": keep what follows the command's name.
            let args = usage
                .split_once(&format!(" {name}"))
                .map(|(_, rest)| rest.trim())
                .unwrap_or_default();
            // TARGET stands for the command line's target flags; other flags are spelled out.
            let options = if sub.get_arguments().any(|a| a.get_id() == "url") {
                "TARGET".to_string()
            } else {
                sub.get_arguments()
                    .filter_map(|a| a.get_long())
                    .map(|l| format!("[--{l}]"))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let mut words: Vec<String> = args
                .replace(['<', '>'], "")
                .split_whitespace()
                .filter(|w| *w != "[OPTIONS]" && !(options == "TARGET" && *w == "[URL]"))
                .map(str::to_string)
                .collect();
            words.insert(0, format!(":{name}"));
            if !options.is_empty() {
                words.push(options);
            }
            let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
            (words.join(" "), about)
        })
        .collect()
}

/// The one-line summary for errors and the status bar.
pub fn summary() -> String {
    table()
        .iter()
        .map(|(usage, _)| usage.as_str())
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Parse a command line; the error is one line for the status bar.
pub fn parse(line: &str) -> Result<ColonCommand, String> {
    let words = shlex::split(line).ok_or_else(|| "unbalanced quotes".to_string())?;
    if words.is_empty() {
        return Err("empty command".into());
    }
    ColonCommand::try_parse_from(words).map_err(|e| {
        let text = e.to_string();
        let first = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("bad command")
            .trim_start_matches("error: ")
            .to_string();
        format!("{first} ({})", summary())
    })
}

/// Run a `:` command; problems go to the status bar and change nothing.
pub fn run(app: &mut App, line: &str) -> Vec<Effect> {
    use ColonCommand as C;
    let cmd = match parse(line) {
        Ok(c) => c,
        Err(e) => {
            app.status = Some(e);
            return vec![];
        }
    };
    match cmd {
        C::Add {
            name,
            target,
            proxy,
        } => sessions::add(app, &name, &target, &proxy),
        C::Edit { target, proxy } => sessions::edit(app, &target, &proxy),
        C::Rename { name } => sessions::rename(app, &name),
        C::Dup { name } => sessions::dup(app, &name),
        C::Rm => sessions::remove_selected(app),
        C::Connect => sessions::connect(app),
        C::Disconnect => crate::app::actions::run(app, crate::keymap::Action::Disconnect),
        C::Reconnect { new_id } => sessions::reconnect(app, new_id),
        C::Filter { expr } => view::filter(app, &expr.join(" ")),
        C::Search { text } => view::search(app, text.join(" ")),
        C::Set { name, value } => compose::set(app, name, value.join(" ")),
        C::Unset { name } => compose::unset(app, &name),
        C::Record { state } => replay::record(app, state),
        C::Open { path } => vec![Effect::OpenCapture(path.into())],
        C::Replay {
            what,
            timing,
            ignore,
        } => replay::replay(app, &what, timing, ignore),
        C::Compare => replay::compare(app),
        C::Snip {
            action,
            name,
            global,
        } => compose::snip(app, &action, name, global),
        C::Like { kind } => compose::like(app, kind),
        C::Logs { what } => liveness::logs(app, &what),
        C::Ping { every } => liveness::ping(app, every.0),
        C::Pings { what } => liveness::pings(app, what),
        C::Autoreconnect { state } => liveness::autoreconnect(app, state == OnOff::On),
        C::Vocab => crate::app::vocab::toggle(app),
        C::Discover => crate::app::published::request(app),
        C::Latency { state } => {
            let on = state.map_or(!app.show_latency, |s| s == OnOff::On);
            if on != app.show_latency {
                return crate::app::actions::run(app, crate::keymap::Action::ToggleLatency);
            }
            vec![]
        }
        C::Pcm {
            rate,
            channels,
            order,
        } => replay::pcm(app, rate, channels, order == Endian::Be),
        C::Wav { path } => replay::wav(app, path),
        C::Proto { files, message } => match app.selected_id() {
            Some(id) => vec![Effect::LoadProto {
                id,
                files: files.into_iter().map(Into::into).collect(),
                message,
            }],
            None => vec![],
        },
        C::Theme { name } => vec![Effect::SetTheme(name)],
        C::Quit => crate::app::actions::run(app, crate::keymap::Action::Quit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_parsed_by_the_table() {
        assert!(matches!(
            parse("record on"),
            Ok(ColonCommand::Record {
                state: Some(OnOff::On)
            })
        ));
        assert!(matches!(
            parse("autoreconnect yes"),
            Ok(ColonCommand::Autoreconnect { state: OnOff::On })
        ));
        assert!(matches!(
            parse("ping 2s"),
            Ok(ColonCommand::Ping { every: Every(Some(d)) }) if d == Duration::from_secs(2)
        ));
        assert!(matches!(
            parse("replay cap.jsonl x2 a.b"),
            Ok(ColonCommand::Replay { timing: Some(Pacing::Timed(Timing::Scaled(f))), ref ignore, .. })
                if f == 2.0 && ignore == &["a.b".to_string()]
        ));
        let e = parse("ping soon").unwrap_err();
        assert!(e.contains("seconds (2, 0.5, 2s) or off"), "{e}");
        let e = parse("record maybe").unwrap_err();
        assert!(e.contains("maybe"), "{e}");
    }

    #[test]
    fn the_summary_comes_from_the_table() {
        let s = summary();
        for part in [
            ":add NAME TARGET",
            ":replay FILE|pause|resume|stop|step [original|fast|xN|step|wait] [IGNORE-PATH]...",
            ":record [on|off]",
            ":ping SECS|off",
            ":quit",
        ] {
            assert!(s.contains(part), "{part} not in {s}");
        }
        assert_eq!(
            table().len(),
            ColonCommand::command().get_subcommands().count()
        );
    }
}

//! The headless commands. Each is a frontend over the engine, the capture format and the config;
//! errors are reported here with context, and each command returns its exit code.

pub mod args;
pub mod completions;
pub mod discover;
pub mod inspect;
pub mod keys;
pub mod live;
pub mod payload;
pub mod proxy;
mod proxy_capture;
pub mod recording;
pub mod replay;
pub mod sessions;
pub mod target;
pub mod vocab;
pub mod wav;

use crate::config::{Paths, Settings};
use crate::exit;
use anyhow::Result;
use args::{Cli, Command};
use live::{Input, LiveOptions};
use std::time::Duration;

/// Run a parsed command line; `matches` gives the order of repeated `send` frame options.
pub async fn run(cli: Cli, matches: &clap::ArgMatches) -> Result<i32> {
    if let Some(done) = cli.command.as_ref().and_then(completions::run) {
        return done;
    }
    let paths = Paths::resolve(cli.config_dir.as_deref());
    // A broken config.toml stops a command with exit 2 (the console opens on the defaults).
    let settings = match &paths {
        Some(p) => Settings::load(&p.settings_file())?,
        None => Settings::default(),
    };
    let Some(command) = cli.command else {
        anyhow::bail!("internal: the console is opened by tui::console, not cli::run");
    };
    match command {
        Command::Connect {
            target,
            linger,
            record,
            monitor,
        } => {
            let resolved = target::resolve(&target, paths.as_ref(), &settings)?;
            let opts = LiveOptions {
                linger: secs(linger, "--linger")?,
                expect: None,
                expect_timeout: Duration::ZERO,
                record,
                print: true,
                monitor: monitor_opts(&monitor, &settings)?,
            };
            live::run_live(resolved, Input::Stdin, opts).await
        }
        Command::Send {
            target,
            expect,
            timeout,
            linger,
            record,
            monitor,
            ..
        } => {
            let sub = matches
                .subcommand_matches("send")
                .ok_or_else(|| anyhow::anyhow!("internal: no send matches"))?;
            let frames = match payload::frames_in_order(sub) {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("wsdeck: {e}");
                    return Ok(exit::USAGE);
                }
            };
            if frames.is_empty() {
                eprintln!(
                    "wsdeck: nothing to send: give --text, --json, --hex, --base64 or --file"
                );
                return Ok(exit::USAGE);
            }
            let resolved = target::resolve(&target, paths.as_ref(), &settings)?;
            let opts = LiveOptions {
                linger: secs(linger, "--linger")?,
                expect,
                expect_timeout: secs(timeout, "--timeout")?,
                record,
                print: true,
                monitor: monitor_opts(&monitor, &settings)?,
            };
            live::run_live(resolved, Input::Frames(frames), opts).await
        }
        Command::Record { target, out } => {
            let resolved = target::resolve(&target, paths.as_ref(), &settings)?;
            let opts = LiveOptions {
                linger: Duration::ZERO,
                expect: None,
                expect_timeout: Duration::ZERO,
                record: Some(out),
                print: false,
                monitor: None,
            };
            live::run_live(resolved, Input::Nothing, opts).await
        }
        Command::Replay {
            capture,
            target,
            timing,
            expect,
            ignore_path,
            wait_replies,
            linger,
            monitor,
        } => {
            let timing = replay::Timing::parse(&timing).map_err(|e| anyhow::anyhow!("--{e}"))?;
            let resolved = target::resolve(&target, paths.as_ref(), &settings)?;
            let opts = replay::ReplayOptions {
                timing,
                expect,
                ignore: ignore_path,
                wait_replies: wait_replies
                    .map(|s| secs(s, "--wait-replies"))
                    .transpose()?,
                linger: secs(linger, "--linger")?,
                monitor: monitor_opts(&monitor, &settings)?,
            };
            replay::run(&capture, resolved, opts).await
        }
        Command::Export {
            capture,
            wav: Some(wav),
            dir,
            rate,
            channels,
            ..
        } => wav::run(&capture, &wav, &dir, rate, channels),
        Command::Export {
            capture, har: None, ..
        } => {
            anyhow::bail!("export {}: --har OUT or --wav OUT", capture.display())
        }
        Command::Export {
            capture,
            har: Some(har),
            ..
        } => {
            let Some(cap) = read_capture_or_say(&capture) else {
                return Ok(exit::USAGE);
            };
            let doc = crate::capture::har::write_har(&cap);
            let text = serde_json::to_string_pretty(&doc)?;
            // Every payload of the capture: private, as the capture is.
            crate::private::create_file(&har)
                .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", har.display()))?;
            eprintln!(
                "wsdeck: wrote {} ({} frames)",
                har.display(),
                cap.frames()
                    .filter(|f| matches!(
                        f.opcode,
                        crate::engine::Opcode::Text | crate::engine::Opcode::Binary
                    ))
                    .count()
            );
            Ok(exit::OK)
        }
        Command::Inspect {
            capture,
            json,
            max_bytes,
            decode,
            proto,
            message,
        } => inspect::run(
            &capture,
            json,
            max_bytes,
            &decode,
            &proto,
            message.as_deref(),
        ),
        Command::Vocab {
            capture,
            json,
            schema,
        } => vocab::run(&capture, json, schema.as_deref()),
        Command::Discover { target } => {
            let resolved = target::resolve(&target, paths.as_ref(), &settings)?;
            discover::run(resolved).await
        }
        Command::Proxy {
            target,
            listen,
            allow_origin,
            allow_remote,
            record,
            monitor,
        } => {
            let resolved = target::resolve(&target, paths.as_ref(), &settings)?;
            let args = proxy::ProxyArgs {
                listen,
                allow_origins: allow_origin,
                allow_remote,
                record,
                monitor: monitor_opts(&monitor, &settings)?,
            };
            proxy::run(resolved, args).await
        }
        Command::Sessions { action } => sessions::run(action, paths.as_ref(), &settings),
        Command::Demo { port, .. } => {
            // `demo` without --serve is the console's (tui::console).
            demo_serve(port.unwrap_or(DEMO_PORT), demo_log_dir(paths.as_ref())).await
        }
        Command::Keys => keys::run(paths.as_ref()),
        Command::Completions { .. } | Command::Man { .. } => {
            completions::run(&command).unwrap_or(Ok(exit::OK))
        }
        Command::ConfigTemplate => {
            print!("{}", Settings::template());
            Ok(exit::OK)
        }
    }
}

/// Read a capture for a command, saying its warnings; a file that cannot be read is said on
/// stderr and gives `None` (the command then exits 2).
pub fn read_capture_or_say(path: &std::path::Path) -> Option<crate::capture::Capture> {
    match crate::capture::read_capture(path) {
        Ok(cap) => {
            for w in &cap.warnings {
                eprintln!("wsdeck: {}: {w}", path.display());
            }
            Some(cap)
        }
        Err(e) => {
            eprintln!("wsdeck: {e}");
            None
        }
    }
}

/// Where the demo keeps "container logs" for the logs pane (and --monitor) to read.
pub fn demo_log_dir(paths: Option<&Paths>) -> Option<std::path::PathBuf> {
    Some(
        paths
            .map(|p| p.data_dir.join("demo-logs"))
            .unwrap_or_else(|| std::env::temp_dir().join("wsdeck-demo-logs")),
    )
}

/// Whether a command line opens the console (no subcommand, or `demo` without `--serve`).
pub fn opens_console(cli: &Cli) -> bool {
    match &cli.command {
        None => true,
        Some(Command::Demo { serve, .. }) => !serve,
        Some(_) => false,
    }
}

/// Whether the command writes the log. Generating completions or the man page is packaging, run
/// by installers and shell start-up files: it leaves no file behind.
pub fn writes_log(cli: &Cli) -> bool {
    !matches!(
        &cli.command,
        Some(Command::Completions { .. } | Command::Man { .. })
    )
}

/// The demo agent's port under `--serve` when none is given.
pub const DEMO_PORT: u16 = 8765;

async fn demo_serve(port: u16, log_dir: Option<std::path::PathBuf>) -> Result<i32> {
    use anyhow::Context;
    let server = crate::demo::start_with_logs(port, log_dir)
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    eprintln!("wsdeck demo agent on {} (Ctrl-C stops it)", server.url());
    eprintln!(
        "  try: echo '{{\"type\":\"tone\",\"hz\":440,\"ms\":100}}' | wsdeck connect {}",
        server.url()
    );
    if let (Some(dir), Some(source)) = (&server.log_dir, server.log_source()) {
        eprintln!(
            "  container logs: {}/<agent_session_id>.log; after a close it raised:",
            dir.display()
        );
        eprintln!(
            "  wsdeck send {} --session-id s1 --json '{{\"type\":\"raise\"}}' --monitor --monitor-source {}",
            server.url(),
            shlex::try_quote(&source).unwrap_or_default()
        );
    }
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    Ok(exit::OK)
}

/// `--monitor`: the source (the config's, `auto` unless set, when not named) and its time bound.
fn monitor_opts(
    m: &args::MonitorArgs,
    settings: &Settings,
) -> Result<Option<(crate::monitor::MonitorSource, Duration)>> {
    if !m.monitor {
        if m.monitor_source.is_some() {
            anyhow::bail!("--monitor-source goes with --monitor");
        }
        return Ok(None);
    }
    let source = match &m.monitor_source {
        Some(s) => crate::monitor::MonitorSource::parse(s)?,
        None => crate::monitor::MonitorSource::parse(&settings.monitor.source)
            .map_err(|e| anyhow::anyhow!("config.toml [monitor] source: {e}"))?,
    };
    Ok(Some((
        source,
        secs(m.monitor_timeout, "--monitor-timeout")?,
    )))
}

fn secs(v: f64, flag: &str) -> Result<Duration> {
    if v.is_finite() && v >= 0.0 {
        Ok(Duration::from_secs_f64(v))
    } else {
        anyhow::bail!("{flag} must be a number of seconds ≥ 0")
    }
}

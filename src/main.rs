//! wsdeck: parse the command line, set up logging, run a command, exit with its code.

use clap::{CommandFactory, FromArgMatches};
use std::process::ExitCode;
use wsdeck::cli::args::Cli;
use wsdeck::config::Paths;
use wsdeck::exit;

// mimalloc: frames are allocated by the socket task and freed by whoever consumes them; glibc's
// malloc makes those cross-thread frees expensive (benches/ingest: 64 KiB ingest 0.65x -> 1.2x of
// a bare reader with mimalloc, engine only).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    let _log_guard = init_logging(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wsdeck: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = if wsdeck::cli::opens_console(&cli) {
        runtime.block_on(wsdeck::tui::console::run(&cli))
    } else {
        runtime.block_on(wsdeck::cli::run(cli, &matches))
    };
    // Tasks still reading stdin must not keep the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("wsdeck: {e:#}");
            error_exit_code(&e)
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Connection outcomes come back as exit codes; an error that reaches here is bad input: a
/// malformed target, a broken config, an unreadable file (SPEC.md: exit 2).
fn error_exit_code(_e: &anyhow::Error) -> i32 {
    exit::USAGE
}

/// The log directory is wsdeck's own: made (or, made by an older wsdeck, tightened to) `0700`,
/// as the appender creates its files with the umask. Logs name endpoints and sessions.
fn private_log_dir(dir: &std::path::Path) -> std::io::Result<()> {
    wsdeck::private::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir,
            std::fs::Permissions::from_mode(wsdeck::private::DIR_MODE),
        )?;
    }
    Ok(())
}

/// Logs go to a daily file in the data dir (`WSDECK_LOG` sets the filter); `-v` adds stderr.
fn init_logging(cli: &Cli) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::{EnvFilter, fmt, prelude::*};
    let filter = EnvFilter::try_from_env("WSDECK_LOG").unwrap_or_else(|_| {
        EnvFilter::new(match cli.verbose {
            0 => "wsdeck=info",
            1 => "wsdeck=info",
            _ => "wsdeck=debug",
        })
    });
    if !wsdeck::cli::writes_log(cli) {
        return None;
    }
    let paths = Paths::resolve(cli.config_dir.as_deref())?;
    let dir = paths.log_dir();
    let file_layer = private_log_dir(&dir).ok().map(|_| {
        let appender = tracing_appender::rolling::daily(&dir, "wsdeck.log");
        tracing_appender::non_blocking(appender)
    });
    let (writer, guard) = match file_layer {
        Some((w, g)) => (Some(w), Some(g)),
        None => (None, None),
    };
    // Never to the terminal while the console is up.
    let console = wsdeck::cli::opens_console(cli);
    let stderr_layer =
        (cli.verbose > 0 && !console).then(|| fmt::layer().with_writer(std::io::stderr));
    let file_layer = writer.map(|w| fmt::layer().with_ansi(false).with_writer(w));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(file_layer)
        .with(stderr_layer)
        .try_init();
    guard
}

//! `wsdeck completions SHELL` and `wsdeck man`: generated from the clap definition in
//! `args.rs`, so a new flag is completed and documented without a line here.

use super::args::{COMMIT, Cli};
use clap::CommandFactory;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The completion script for `shell`, as the shell sources it.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut Cli::command(), "wsdeck", out);
}

/// The man page of `wsdeck` itself (section 1): synopsis, global options, and every command
/// with its one-line description, each pointing at its own page (`wsdeck-connect(1)`, …).
pub fn man(out: &mut dyn Write) -> std::io::Result<()> {
    page(&man_command(), "WSDECK").render(out)
}

/// `wsdeck.1` and a page per command (`wsdeck-sessions-add.1` for nested ones) in `dir`; the
/// files written, the top page first.
pub fn man_pages(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    write_pages(&man_command(), dir, &mut written)?;
    Ok(written)
}

/// The command line as the pages describe it: built (so subcommands know their full names,
/// `wsdeck-connect`), without clap's implicit `help` command, which has no page of its own.
fn man_command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

fn write_pages(cmd: &clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let name = cmd.get_display_name().unwrap_or_else(|| cmd.get_name());
    let path = dir.join(format!("{name}.1"));
    let mut text = Vec::new();
    page(cmd, &name.to_ascii_uppercase()).render(&mut text)?;
    std::fs::write(&path, text).map_err(|e| {
        std::io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
    })?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir, written)?;
    }
    Ok(())
}

fn page(cmd: &clap::Command, title: &str) -> clap_mangen::Man {
    // The commit's date, not the build's: the same commit renders the same page.
    let date = env!("WSDECK_COMMIT_DATE");
    clap_mangen::Man::new(cmd.clone())
        .title(title)
        .date(date)
        .source(format!("wsdeck {}", env!("CARGO_PKG_VERSION")))
        .manual(format!("wsdeck manual (commit {COMMIT})"))
}

/// `completions` and `man`; `None` for every other command. They run before config.toml is
/// read, so a broken config cannot break a shell's startup file that sources the completions.
pub fn run(command: &super::args::Command) -> Option<anyhow::Result<i32>> {
    use super::args::Command;
    use anyhow::Context;
    // Rendered whole first: clap_complete panics on a failed write, and `| head` is one.
    let mut text = Vec::new();
    match command {
        Command::Completions { shell } => completions(*shell, &mut text),
        Command::Man { dir: None } => {
            if let Err(e) = man(&mut text) {
                return Some(Err(e).context("rendering the man page"));
            }
        }
        Command::Man { dir: Some(dir) } => {
            return Some(
                man_pages(dir)
                    .with_context(|| format!("man pages into {}", dir.display()))
                    .map(|written| {
                        eprintln!(
                            "wsdeck: wrote {} man pages into {}",
                            written.len(),
                            dir.display()
                        );
                        crate::exit::OK
                    }),
            );
        }
        _ => return None,
    }
    let mut stdout = std::io::stdout().lock();
    Some(
        match stdout.write_all(&text).and_then(|()| stdout.flush()) {
            // A reader that stopped early (`| head`) took what it wanted.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(crate::exit::OK),
            other => other.context("stdout").map(|()| crate::exit::OK),
        },
    )
}

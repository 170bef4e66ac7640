//! Opening the console: config, keys and saved sessions (plus the demo agent and its session for
//! `wsdeck demo`), then the loop. Problems with a file open the console on the defaults and say
//! so in the status bar; the file is left alone.

use crate::app::proxy::ProxySetup;
use crate::app::{App, ConsoleConfig, Origin, Session};
use crate::cli::args::{Cli, Command};
use crate::config::{Paths, SessionStore, Settings};
use crate::engine::target::{ConnectSpec, Target};
use crate::exit;
use crate::keymap::Keymap;
use crate::monitor::MonitorSource;
use crate::ui::theme::Theme;
use anyhow::{Context, Result};

/// The demo's first exchange, so every screen has something on it: JSON replies, a stream,
/// PCM audio, and the malformed frames a real agent sends on a bad day.
const DEMO_FIRST_FRAMES: [&str; 4] = [
    r#"{"type":"ping","id":"c_1"}"#,
    r#"{"type":"count","id":"c_2","to":3}"#,
    r#"{"type":"tone","id":"c_3","hz":440,"ms":100}"#,
    r#"{"type":"malformed","id":"c_4"}"#,
];

pub async fn run(cli: &Cli) -> Result<i32> {
    let paths = Paths::resolve(cli.config_dir.as_deref());
    let paths = paths.as_ref();
    let mut problems: Vec<String> = Vec::new();
    let settings = match paths.map(|p| Settings::load(&p.settings_file())) {
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            problems.push(format!("{e} (using defaults)"));
            Settings::default()
        }
        None => Settings::default(),
    };
    let theme = pick_theme(paths, &settings, cli.theme.as_deref())?;
    let keymap = match load_keymap(paths) {
        Ok(k) => k,
        Err(e) => {
            problems.push(format!("{e} (using the default keys)"));
            Keymap::default()
        }
    };
    let resolve_env = crate::cli::target::env(&settings);
    let mut sessions = Vec::new();
    let mut options = crate::tui::LoopOptions {
        sessions_file: paths.map(|p| p.sessions_file()),
        theme_dir: paths.map(|p| p.config_dir.join("themes")),
        capture_dir: settings
            .capture
            .dir
            .clone()
            .or_else(|| paths.map(|p| p.capture_dir())),
        record_by_default: settings.capture.record_by_default,
        snippets_file: paths.map(|p| p.snippets_file()),
        ..Default::default()
    };
    // `wsdeck demo`: the demo agent on loopback, and its own session, connected at once.
    let _demo = if let Some(Command::Demo { port, .. }) = &cli.command {
        let server =
            crate::demo::start_with_logs(port.unwrap_or(0), crate::cli::demo_log_dir(paths))
                .await
                .context("cannot start the demo agent")?;
        let mut spec = ConnectSpec::new(Target::url(&server.url())?);
        resolve_env.defaults.apply_limits(&mut spec);
        spec.session_id = Some(crate::engine::target::new_session_id());
        let mut s = Session::new("demo", spec).with_origin(Origin::Demo);
        // The demo's tone is 16 kHz mono (its audio.start says so).
        s.pcm.rate = 16_000;
        // The demo session reads the demo agent's own container logs.
        s.container_logs_source = server
            .log_source()
            .and_then(|src| MonitorSource::parse(&src).ok());
        sessions.push(s);
        options.connect_now.push(0);
        for text in DEMO_FIRST_FRAMES {
            options.first_frames.push((
                0,
                crate::engine::SessionCommand::Send {
                    opcode: crate::engine::Opcode::Text,
                    payload: bytes::Bytes::from_static(text.as_bytes()),
                },
            ));
        }
        Some(server)
    } else {
        None
    };
    if let Some(p) = paths {
        match SessionStore::load(&p.sessions_file()) {
            Ok(store) => {
                for s in &store.sessions {
                    if let Ok(mut spec) = s.to_spec() {
                        // As `--session NAME` on the command line: [connect] applies (its CA
                        // when connecting, so it is not written back into sessions.toml).
                        resolve_env.defaults.apply_limits(&mut spec);
                        let mut v = Session::new(s.name.clone(), spec).with_origin(Origin::Saved);
                        v.vars = s.vars.clone();
                        v.auto_reconnect.enabled = s.auto_reconnect;
                        v.proxy = s.listen.as_ref().map(|listen| ProxySetup {
                            listen: listen.clone(),
                            allow_origins: s.allow_origins.clone(),
                            allow_remote: s.allow_remote,
                        });
                        sessions.push(v);
                    }
                }
            }
            Err(e) => problems.push(format!("sessions not loaded: {e}")),
        }
    }
    // A console that died (kill -9) left its spill files: nobody can read them any more.
    if let Some(p) = paths {
        crate::store::remove_stale_spill_files(&p.spill_dir());
    }
    let store =
        crate::store::Budget::from_mb(settings.store.memory_mb, paths.map(|p| p.spill_dir()));
    let mut config = ConsoleConfig {
        store,
        resolve: resolve_env,
        container_logs_on_abnormal_close: settings.monitor.on_abnormal_close,
        container_logs_quiet_codes: settings.monitor.quiet_codes.clone(),
        azd_on_path: crate::monitor::on_path("azd"),
        ..Default::default()
    };
    match MonitorSource::parse(&settings.monitor.source) {
        Ok(src) => config.container_logs_source = src,
        Err(e) => problems.push(format!("config.toml [monitor] source: {e}; using auto")),
    }
    let empty = sessions.is_empty();
    let mut app = App::new(sessions).with_config(config).with_keymap(keymap);
    if let Some(p) = paths {
        match crate::config::snippets::load(&p.snippets_file()) {
            Ok(s) => app.snippets = s,
            Err(e) => problems.push(format!("snippets not loaded: {e}")),
        }
    }
    app.status = if !problems.is_empty() {
        Some(problems.join(" · "))
    } else if empty {
        Some("no saved sessions: wsdeck sessions add NAME TARGET, or try wsdeck demo".into())
    } else {
        None
    };
    crate::tui::run(app, theme, paths.map(|p| p.log_dir()), options).await?;
    Ok(exit::OK)
}

/// The defaults with keymap.toml applied, or what is wrong with it (`keymap.toml:LINE:COL: …`).
fn load_keymap(paths: Option<&Paths>) -> Result<Keymap, String> {
    let Some(file) = paths.map(Paths::keymap_file).filter(|f| f.exists()) else {
        return Ok(Keymap::default());
    };
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Keymap::with_overrides(&text, &name).map_err(|e| e.to_string())
}

fn pick_theme(paths: Option<&Paths>, settings: &Settings, flag: Option<&str>) -> Result<Theme> {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return Ok(Theme::monochrome());
    }
    let name = flag.unwrap_or(&settings.theme);
    let user = paths.map(|p| p.config_dir.join("themes"));
    Ok(Theme::load(name, user.as_deref())?)
}

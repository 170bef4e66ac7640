//! Opening the console: saved sessions (plus the demo agent's session for `wsdeck demo`).

use crate::app::{App, SessionView};
use crate::config::{Paths, SessionStore, Settings};
use crate::engine::target::{ConnectSpec, Target};
use crate::exit;
use crate::ui::theme::Theme;
use anyhow::Result;

pub async fn run(
    paths: Option<&Paths>,
    settings: &Settings,
    theme: Option<&str>,
    demo: Option<(String, Option<String>)>,
    config_problem: Option<String>,
) -> Result<i32> {
    let theme = pick_theme(paths, settings, theme)?;
    let mut sessions = Vec::new();
    let mut connect_now = Vec::new();
    let mut first_frames = Vec::new();
    let mut demo_logs = None;
    if let Some((url, log_source)) = demo {
        demo_logs = log_source;
        let mut spec = ConnectSpec::new(Target::url(&url)?);
        spec.session_id = Some(crate::engine::target::new_session_id());
        sessions.push(SessionView::new("demo", spec));
        connect_now.push(0);
        // A first exchange, so every screen has something on it: JSON replies, a stream,
        // PCM audio, and the malformed frames a real agent sends on a bad day.
        for text in [
            r#"{"type":"ping","id":"c_1"}"#,
            r#"{"type":"count","id":"c_2","to":3}"#,
            r#"{"type":"tone","id":"c_3","hz":440,"ms":100}"#,
            r#"{"type":"malformed","id":"c_4"}"#,
        ] {
            first_frames.push((
                0,
                crate::engine::SessionCommand::Send {
                    opcode: crate::engine::Opcode::Text,
                    payload: bytes::Bytes::from_static(text.as_bytes()),
                },
            ));
        }
    }
    let mut status = config_problem;
    if let Some(p) = paths {
        // A broken sessions file: the console opens without it and says so; the file is left alone.
        match SessionStore::load(&p.sessions_file()) {
            Ok(store) => {
                for s in &store.sessions {
                    if let Ok(spec) = s.to_spec() {
                        let mut v = SessionView::new(s.name.clone(), spec);
                        v.saved = true;
                        v.vars = s.vars.clone();
                        v.auto_reconnect.enabled = s.auto_reconnect;
                        sessions.push(v);
                    }
                }
            }
            Err(e) => status = Some(format!("sessions not loaded: {e}")),
        }
    }
    let mut app = App::new(sessions);
    if let Some(p) = paths {
        match crate::config::snippets::load(&p.snippets_file()) {
            Ok(s) => app.snippets = s,
            Err(e) => status = Some(format!("snippets not loaded: {e}")),
        }
    }
    match crate::monitor::MonitorSource::parse(&settings.monitor.source) {
        Ok(src) => app.logs_source = src,
        Err(e) => status = Some(format!("config.toml [monitor] source: {e}; using auto")),
    }
    app.logs_on_abnormal_close = settings.monitor.on_abnormal_close;
    // The demo session reads the demo agent's own container logs.
    if let Some(src) = demo_logs
        && let Ok(src) = crate::monitor::MonitorSource::parse(&src)
        && let Some(s) = app.sessions.first_mut()
    {
        s.logs_source = Some(src);
    }
    app.logs_quiet_codes = settings.monitor.quiet_codes.clone();
    app.status = status;
    if app.sessions.is_empty() {
        app.status =
            Some("no saved sessions: wsdeck sessions add NAME TARGET, or try wsdeck demo".into());
    }
    let log = paths.map(|p| p.log_dir());
    let options = crate::tui::LoopOptions {
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
    crate::tui::run(app, theme, connect_now, first_frames, log, options).await?;
    Ok(exit::OK)
}

fn pick_theme(paths: Option<&Paths>, settings: &Settings, flag: Option<&str>) -> Result<Theme> {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return Ok(Theme::monochrome());
    }
    let name = flag.unwrap_or(&settings.theme);
    let user = paths.map(|p| p.config_dir.join("themes"));
    Theme::load(name, user.as_deref()).map_err(anyhow::Error::msg)
}

//! The console's state and its update: a pure function of (state, event). No I/O, no clock and
//! no randomness: time and I/O results arrive inside events, fresh ids come from the `IdSource`
//! handed in at construction, and effects leave as values for the runtime to carry out.

pub mod actions;
pub mod commands;
pub mod composer;
pub mod container_logs;
pub mod event;
pub mod form;
pub mod frames;
pub mod layers;
pub mod layout;
pub mod memo;
pub mod opening;
pub mod picker;
pub mod proxy;
pub mod published;
pub mod reconnect;
pub mod replay;
pub mod search;
pub mod session;
mod session_events;
pub mod vars;
pub mod vocab;

pub use container_logs::ContainerLogs;
pub use event::{Composed, ContainerLogsEvent, Effect, Event, ReplayEvent};
pub use frames::FILTER_SLICE;
pub use layers::{Layers, Overlay, Prompt, PromptKind};
pub use replay::{ReplayCtl, ReplayState};
pub use session::{ConnState, Counters, Failure, Origin, Session};

use crate::engine::session::SessionCommand;
use crate::engine::target::{IdSource, RandomIds, ResolveEnv};
use crate::keymap::Action;
use crate::keymap::Keymap;
use crate::monitor::MonitorSource;
use crossterm::event::{KeyEventKind, MouseEventKind};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Sessions,
    Frames,
    Detail,
    /// The container logs (only while the session's pane is shown).
    Logs,
    /// The vocabulary (only while the session's pane is shown).
    Vocab,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeMode {
    Relative,
    Absolute,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailView {
    /// JSON when the payload parses, a decoder that claims a binary frame, hex otherwise.
    Auto,
    Hex,
    /// 16-bit PCM in the session's format: level and waveform.
    Pcm,
    Protobuf,
    MsgPack,
    Cbor,
}

impl DetailView {
    /// The views `v` steps through, in order.
    pub const CYCLE: [DetailView; 6] = [
        DetailView::Auto,
        DetailView::Hex,
        DetailView::Pcm,
        DetailView::Protobuf,
        DetailView::MsgPack,
        DetailView::Cbor,
    ];

    /// The decoder this view asks for.
    pub fn decoder(self) -> crate::decode::DecoderKind {
        use crate::decode::DecoderKind as D;
        match self {
            DetailView::Auto => D::Auto,
            DetailView::Hex => D::Hex,
            DetailView::Pcm => D::Pcm,
            DetailView::Protobuf => D::Protobuf,
            DetailView::MsgPack => D::MsgPack,
            DetailView::Cbor => D::Cbor,
        }
    }
}

/// How the detail pane shows the selected row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetailState {
    pub view: DetailView,
    pub scroll: usize,
    pub wrap: bool,
}

/// What the console was started with from config.toml and the environment.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// Connect defaults and `$FOUNDRY_PROJECT_ENDPOINT`, for sessions made in the console.
    pub resolve: ResolveEnv,
    /// Where container logs come from unless a session names its own.
    pub container_logs_source: MonitorSource,
    /// Whether an abnormal close starts reading them.
    pub container_logs_on_abnormal_close: bool,
    /// Close codes that do not start them (besides a clean 1000/1001).
    pub container_logs_quiet_codes: Vec<u16>,
    /// Whether `azd` was on PATH when the console started (the `auto` source's choice).
    pub azd_on_path: bool,
    /// The memory every session's frame log shares (`[store] memory_mb`) and where they spill.
    pub store: crate::store::Budget,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            resolve: ResolveEnv::default(),
            container_logs_source: MonitorSource::Auto,
            container_logs_on_abnormal_close: true,
            container_logs_quiet_codes: Vec::new(),
            azd_on_path: false,
            store: crate::store::Budget::default(),
        }
    }
}

pub struct App {
    pub sessions: Vec<Session>,
    pub selected: usize,
    pub focus: Pane,
    /// Overlays and editors over the panes.
    pub layers: Layers,
    pub composer: composer::Composer,
    pub detail: DetailState,
    pub time_mode: TimeMode,
    pub status: Option<String>,
    pub size: (u16, u16),
    /// Elapsed time of the console clock (from ticks).
    pub now: Duration,
    /// Saved snippets, global and per session (snippets.toml).
    pub snippets: Vec<crate::config::Snippet>,
    /// The last search, for n/N.
    pub search: Option<String>,
    pub keymap: Keymap,
    pub config: ConsoleConfig,
    /// The frame log's reply column (time to the first and last reply of a sent frame).
    pub show_latency: bool,
    /// The view's cache of costly derived text (never read by the update).
    pub view_memo: memo::ViewMemo,
    ids: Box<dyn IdSource>,
    next_id: usize,
    /// Paths the next replay's comparison ignores (from `:replay FILE TIMING PATH…`).
    pending_ignore: Vec<String>,
}

impl App {
    /// A console over these sessions, with the default keys and config and random ids (tests
    /// that want reproducible ones hand in `CountingIds` with `with_ids`).
    pub fn new(mut sessions: Vec<Session>) -> Self {
        for (i, s) in sessions.iter_mut().enumerate() {
            s.id = i;
        }
        App {
            next_id: sessions.len(),
            sessions,
            selected: 0,
            focus: Pane::Frames,
            layers: Layers::default(),
            composer: composer::Composer::default(),
            detail: DetailState {
                view: DetailView::Auto,
                scroll: 0,
                wrap: false,
            },
            time_mode: TimeMode::Relative,
            status: None,
            size: (80, 24),
            now: Duration::ZERO,
            snippets: Vec::new(),
            search: None,
            keymap: Keymap::default(),
            config: ConsoleConfig::default(),
            show_latency: false,
            view_memo: memo::ViewMemo::default(),
            ids: Box::new(RandomIds),
            pending_ignore: Vec::new(),
        }
    }

    pub fn with_ids(mut self, ids: Box<dyn IdSource>) -> Self {
        self.ids = ids;
        self
    }

    pub fn with_config(mut self, config: ConsoleConfig) -> Self {
        self.config = config;
        for s in &mut self.sessions {
            s.use_budget(&self.config.store);
        }
        self
    }

    pub fn with_keymap(mut self, keymap: Keymap) -> Self {
        self.keymap = keymap;
        self
    }

    /// A fresh `agent_session_id`.
    pub fn new_session_id(&mut self) -> String {
        self.ids.session_id()
    }

    /// Whether a filter, a vocabulary or a search still scans (the runtime then sends `Event::ScanSlice`).
    pub fn has_work(&self) -> bool {
        self.sessions
            .iter()
            .any(|s| s.filter_pending() || s.vocab_pending() || s.search_pending())
    }

    pub fn current(&self) -> Option<&Session> {
        self.sessions.get(self.selected)
    }

    pub fn current_mut(&mut self) -> Option<&mut Session> {
        self.sessions.get_mut(self.selected)
    }

    pub fn by_id(&self, id: usize) -> Option<&Session> {
        self.sessions.iter().find(|s| s.id == id)
    }

    pub fn by_id_mut(&mut self, id: usize) -> Option<&mut Session> {
        self.sessions.iter_mut().find(|s| s.id == id)
    }

    pub fn selected_id(&self) -> Option<usize> {
        self.current().map(|s| s.id)
    }

    /// The spec session `id` connects with: its own, with the settings' CA where it has none.
    pub fn connect_spec(&self, id: usize) -> Option<crate::engine::ConnectSpec> {
        let mut spec = self.by_id(id)?.spec.clone();
        self.config.resolve.defaults.apply_ca(&mut spec);
        Some(spec)
    }

    /// What sessions made here are resolved with: the settings' CA is left out of the spec kept
    /// (and saved); `connect_spec` adds it when connecting.
    pub(crate) fn resolve_env_for_kept(&self) -> ResolveEnv {
        ResolveEnv {
            defaults: self.config.resolve.defaults.without_ca(),
            foundry_endpoint: self.config.resolve.foundry_endpoint.clone(),
        }
    }

    /// Add a session at `at` (the end when `None`) with the next id, and select it.
    pub fn add_session(&mut self, mut s: Session, at: Option<usize>) {
        s.use_budget(&self.config.store);
        s.id = self.next_id;
        self.next_id += 1;
        let at = at.unwrap_or(self.sessions.len()).min(self.sessions.len());
        self.sessions.insert(at, s);
        self.selected = at;
    }

    /// The saved sessions as they should be on disk now.
    pub fn saved_sessions(&self) -> Vec<crate::config::SavedSession> {
        self.sessions
            .iter()
            .filter(|s| s.saved())
            .filter_map(|s| {
                let mut saved = crate::config::SavedSession::from_spec(&s.name, &s.spec).ok()?;
                saved.vars = s.vars.clone();
                saved.auto_reconnect = s.auto_reconnect.enabled;
                if let Some(p) = &s.proxy {
                    saved.listen = Some(p.listen.clone());
                    saved.allow_origins = p.allow_origins.clone();
                    saved.allow_remote = p.allow_remote;
                }
                Some(saved)
            })
            .collect()
    }

    /// The effect that writes sessions.toml as it should be now.
    pub fn save(&self) -> Vec<Effect> {
        vec![Effect::SaveSessions(self.saved_sessions())]
    }

    /// Rows of the frame log on screen (the layout's arithmetic, shared with the view).
    pub fn frame_rows(&self) -> usize {
        layout::frame_rows(self.size.0, self.size.1)
    }

    /// Lines the container logs pane shows.
    pub fn container_log_rows(&self) -> usize {
        layout::container_log_rows(self.size.0, self.size.1)
    }

    /// Whether the selected session's vocabulary pane is on screen.
    pub fn vocab_shown(&self) -> bool {
        self.current()
            .and_then(|s| s.vocab_pane.as_ref())
            .is_some_and(|p| !p.hidden)
    }

    /// Whether the selected session's container logs are on screen.
    pub fn container_logs_shown(&self) -> bool {
        self.current()
            .and_then(|s| s.container_logs.as_ref())
            .is_some_and(|l| !l.hidden)
    }

    /// Whether quitting would cut off something the user started.
    pub fn something_to_lose(&self) -> bool {
        !self.what_would_be_lost().is_empty()
    }

    /// What quitting would cut off, a line each (the quit question lists them).
    pub fn what_would_be_lost(&self) -> Vec<String> {
        let mut out = Vec::new();
        for s in &self.sessions {
            if s.origin != Origin::Demo
                && matches!(s.state, ConnState::Open | ConnState::Connecting)
            {
                out.push(format!("the connection of {}", s.name));
            }
            if let Some(p) = &s.recording {
                out.push(format!("the recording of {} to {}", s.name, p.display()));
            }
            if s.state == ConnState::Listening {
                out.push(format!("the proxy of {} (its clients are closed)", s.name));
            }
            if s.replay.as_ref().is_some_and(|r| !r.finished) {
                out.push(format!("the replay into {}", s.name));
            }
        }
        out
    }
}

/// Apply one event; return what the runtime must do.
pub fn update(app: &mut App, event: Event) -> Vec<Effect> {
    let effects = apply(app, event);
    // A filter given up while it scanned (any session's) says why on the status line.
    for i in 0..app.sessions.len() {
        if let Some(why) = app.sessions[i].filter_dropped.take() {
            let why = if i == app.selected {
                why
            } else {
                format!("{}: {why}", app.sessions[i].name)
            };
            app.status = Some(match app.status.take() {
                Some(before)
                    if before.starts_with("filter removed")
                        || before.contains(": filter removed") =>
                {
                    format!("{before}; {why}")
                }
                _ => why,
            });
        }
    }
    effects
}

fn apply(app: &mut App, event: Event) -> Vec<Effect> {
    match event {
        Event::Key(key) => {
            if key.kind == KeyEventKind::Release {
                return vec![];
            }
            // A status message lasts until the next key.
            app.status = None;
            layers::on_key(app, key)
        }
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollDown => layers::on_scroll(app, Action::Down),
            MouseEventKind::ScrollUp => layers::on_scroll(app, Action::Up),
            _ => vec![],
        },
        Event::Resize { width, height } => {
            app.size = (width, height);
            let rows = app.frame_rows();
            for s in &mut app.sessions {
                s.keep_cursor_visible(rows);
            }
            vec![]
        }
        Event::Tick(now) => {
            app.now = now;
            let mut effects = Vec::new();
            for s in &mut app.sessions {
                if s.auto_reconnect.take_due(now.saturating_sub(s.clock_base)) {
                    effects.push(if s.running {
                        Effect::ToSession(s.id, SessionCommand::Reconnect { new_id: false })
                    } else {
                        Effect::Connect(s.id)
                    });
                }
            }
            effects
        }
        Event::Started { id, at } => {
            if let Some(s) = app.by_id_mut(id) {
                s.clock_base = at;
                s.running = true;
            }
            vec![]
        }
        Event::Session { id, event } => session_events::on_event(app, id, event),
        Event::ScanSlice => {
            let rows = app.frame_rows();
            for s in &mut app.sessions {
                if s.filter_pending() {
                    s.scan(FILTER_SLICE);
                    s.keep_cursor_visible(rows);
                }
                if s.vocab_pending() {
                    s.learn(vocab::VOCAB_SLICE);
                }
            }
            for i in 0..app.sessions.len() {
                if app.sessions[i].search_pending() {
                    search::run_slice(app, i);
                }
            }
            vec![]
        }
        Event::Recording { id, path, error } => {
            let rows = app.frame_rows();
            if let Some(s) = app.by_id_mut(id) {
                s.recording = path.clone();
                if let Some(e) = &error {
                    s.recording_failed(e, rows);
                }
            }
            app.status = Some(match (path, error) {
                (_, Some(e)) => format!("recording failed: {e}"),
                (Some(p), None) => format!("recording to {}", p.display()),
                (None, None) => "recording stopped".into(),
            });
            vec![]
        }
        Event::Replay { id, event } => {
            replay::on_event(app, id, event);
            vec![]
        }
        Event::ContainerLogs { id, event } => {
            match event {
                ContainerLogsEvent::Lines(lines) => container_logs::lines(app, id, lines),
                ContainerLogsEvent::Ended { message } => container_logs::ended(app, id, message),
            }
            vec![]
        }
        Event::CaptureIndexing { ticket, name, step } => opening::on_step(app, ticket, name, step),
        Event::CaptureOpened { name, result } => {
            session_events::capture_opened(app, name, result);
            vec![]
        }
        Event::ProtoLoaded { id, result } => {
            let name = app.by_id(id).map(|s| s.name.clone()).unwrap_or_default();
            app.status = Some(match result {
                Ok(view) => {
                    let word = format!(
                        "{name}: protobuf frames read with {} ({} messages{})",
                        view.files.join(", "),
                        view.schema.messages().len(),
                        view.message
                            .as_deref()
                            .map(|m| format!(", as {m}"))
                            .unwrap_or_default()
                    );
                    if let Some(s) = app.by_id_mut(id) {
                        s.proto = Some(view);
                    }
                    word
                }
                Err(e) => format!(":proto: {e}"),
            });
            vec![]
        }
        Event::Discovered { id, result } => {
            published::discovered(app, id, result);
            vec![]
        }
        Event::Proxy { id, note } => proxy::on_note(app, id, note),
        Event::Notice(message) => {
            app.status = Some(message);
            vec![]
        }
    }
}

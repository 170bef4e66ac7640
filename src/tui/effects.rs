//! Carrying out the update's effects. The runtime holds one `SessionTasks` per session (its
//! actor's handle, recorder, replay and container logs reader) and never writes the `App`: what
//! an effect has to say comes back as events for the update.

use crate::app::{App, Composed, Effect, Event, ReplayCtl};
use crate::capture::replay::Pace;
use crate::capture::writer::CaptureMeta;
use crate::engine::auth::TokenProvider;
use crate::engine::session::{SessionCommand, SessionEvent, SessionHandle, spawn_session};
use crate::engine::{Direction, Opcode};
use crate::tui::forward::{Activity, RecordCmd, forward};
use crate::tui::proxy_task::{ProxyCtl, ProxyLink, run_proxy};
use crate::tui::task_watch::{watch_actor, watch_forwarder};
use crate::tui::{LoopOptions, container_logs_task, replay_task};
use crate::ui::theme::Theme;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Everything running for one session.
#[derive(Default)]
pub struct SessionTasks {
    pub handle: Option<SessionHandle>,
    recorder: Option<mpsc::UnboundedSender<RecordCmd>>,
    replay: Option<mpsc::UnboundedSender<ReplayCtl>>,
    /// The sender stops the reader, which kills its child and waits for it.
    container_logs: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
    /// When its last incoming frame arrived (a replay waits on it).
    activity: Activity,
    /// A proxy session's task, or (with its client number) the proxy a client's session is of.
    proxy: Option<(ProxyLink, Option<u64>)>,
}

pub struct Runtime {
    pub tasks: HashMap<usize, SessionTasks>,
    pub theme: Theme,
    pub options: LoopOptions,
    to_loop: mpsc::Sender<Event>,
    t0: Instant,
    /// Captures being opened, by ticket: setting the flag stops the reading.
    openings: HashMap<u64, Arc<std::sync::atomic::AtomicBool>>,
    next_ticket: u64,
}

const NOT_RUNNING: &str = "that session is not running";

impl Runtime {
    pub fn new(
        theme: Theme,
        options: LoopOptions,
        to_loop: mpsc::Sender<Event>,
        t0: Instant,
    ) -> Self {
        Runtime {
            tasks: HashMap::new(),
            theme,
            options,
            to_loop,
            t0,
            openings: HashMap::new(),
            next_ticket: 1,
        }
    }

    fn notice(text: impl Into<String>) -> Vec<Event> {
        vec![Event::Notice(text.into())]
    }

    /// Carry out one effect (not `Quit`: the loop ends on that); the events are for the update.
    pub fn apply(&mut self, app: &App, effect: Effect) -> (Vec<Event>, Vec<Effect>) {
        let mut later = Vec::new();
        let events = match effect {
            Effect::Quit => vec![],
            Effect::Connect(id) if app.by_id(id).is_some_and(|s| s.proxy.is_some()) => {
                self.start_proxy(app, id)
            }
            Effect::AttachProxyClient {
                parent,
                client,
                child,
            } => {
                let Some(link) = self
                    .tasks
                    .get(&parent)
                    .and_then(|t| t.proxy.as_ref())
                    .map(|(l, _)| l.clone())
                else {
                    return (vec![], later);
                };
                let (etx, erx) = mpsc::channel::<SessionEvent>(1024);
                let (rec_tx, rec_rx) = mpsc::unbounded_channel();
                let t = self.tasks.entry(child).or_default();
                t.recorder = Some(rec_tx);
                t.activity = Activity::default();
                let seen = t.activity.clone();
                let _ = link.ctl.send(ProxyCtl::Attach {
                    client,
                    events: etx,
                });
                t.proxy = Some((link, Some(client)));
                let fwd = tokio::spawn(forward(child, erx, rec_rx, self.to_loop.clone(), seen));
                watch_forwarder(child, fwd, None, self.to_loop.clone(), self.t0);
                if self.options.record_by_default {
                    later.push(Effect::Record {
                        id: child,
                        on: true,
                    });
                }
                vec![]
            }
            Effect::ToSession(id, cmd) if self.proxy_of(id).is_some() => self.to_proxy(id, cmd),
            Effect::Connect(id) => {
                let Some(spec) = app.connect_spec(id) else {
                    return (vec![], later);
                };
                let (etx, erx) = mpsc::channel::<SessionEvent>(1024);
                let (h, join) = spawn_session(spec, etx.clone());
                watch_actor(join, etx, self.t0);
                let t = self.tasks.entry(id).or_default();
                let first = t.recorder.is_none();
                t.handle = Some(h.clone());
                let (rec_tx, rec_rx) = mpsc::unbounded_channel();
                t.recorder = Some(rec_tx);
                t.activity = Activity::default();
                let seen = t.activity.clone();
                let fwd = tokio::spawn(forward(id, erx, rec_rx, self.to_loop.clone(), seen));
                watch_forwarder(id, fwd, Some(h), self.to_loop.clone(), self.t0);
                if self.options.record_by_default && first {
                    later.push(Effect::Record { id, on: true });
                }
                vec![Event::Started {
                    id,
                    at: self.t0.elapsed(),
                }]
            }
            Effect::ToSession(id, cmd) => match self.handle(id) {
                Some(h) if h.send(cmd) => vec![],
                _ => Self::notice(NOT_RUNNING),
            },
            Effect::Record { id, on } => self.record(app, id, on),
            Effect::StartReplay {
                id,
                path,
                timing,
                step,
                wait_replies,
            } => {
                let Some(handle) = self.handle(id).cloned() else {
                    return (Self::notice(NOT_RUNNING), later);
                };
                let (ctl_tx, ctl_rx) = mpsc::unbounded_channel();
                let t = self.tasks.entry(id).or_default();
                t.replay = Some(ctl_tx);
                let pace = Pace {
                    timing,
                    wait_replies,
                    step,
                };
                let seen = t.activity.clone();
                let to_loop = self.to_loop.clone();
                tokio::spawn(replay_task::replay(
                    id, path, pace, seen, handle, ctl_rx, to_loop,
                ));
                vec![]
            }
            Effect::ReplayControl { id, ctl } => {
                let sent = self
                    .tasks
                    .get(&id)
                    .and_then(|t| t.replay.as_ref())
                    .is_some_and(|r| r.send(ctl).is_ok());
                if sent {
                    vec![]
                } else {
                    Self::notice("no replay running in this session")
                }
            }
            Effect::StartContainerLogs { id, plan } => {
                self.stop_container_logs(id);
                // The log stream sends the session's own token; a session that never connected
                // gets a provider of its own.
                let tokens = self.handle(id).map(SessionHandle::tokens).or_else(|| {
                    app.by_id(id)
                        .map(|s| Arc::new(TokenProvider::new(s.spec.auth.clone())))
                });
                let (stop_tx, stop_rx) = oneshot::channel();
                let to_loop = self.to_loop.clone();
                let task = tokio::spawn(container_logs_task::read_container_logs(
                    id, plan, tokens, to_loop, stop_rx,
                ));
                self.tasks.entry(id).or_default().container_logs = Some((stop_tx, task));
                vec![]
            }
            Effect::StopContainerLogs { id } => {
                self.stop_container_logs(id);
                vec![]
            }
            Effect::OpenCapture(path) => {
                let ticket = self.next_ticket;
                self.next_ticket += 1;
                let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
                self.openings.insert(ticket, stop.clone());
                let to_loop = self.to_loop.clone();
                tokio::task::spawn_blocking(move || {
                    crate::tui::open_task::open_capture(ticket, path, stop, to_loop)
                });
                vec![]
            }
            Effect::StopOpening { ticket } => {
                if let Some(stop) = self.openings.remove(&ticket) {
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                vec![]
            }
            Effect::Copy(text) => {
                // OSC 52: the terminal (even over SSH) puts it on the clipboard.
                use std::io::Write;
                let b64 = base64_simd::STANDARD.encode_to_string(text.as_bytes());
                let mut out = std::io::stdout();
                let _ = write!(out, "\x1b]52;c;{b64}\x07");
                let _ = out.flush();
                vec![]
            }
            Effect::SendComposed { id, frame } => self.send_composed(id, frame),
            Effect::SaveSnippets(snippets) => match &self.options.snippets_file {
                Some(path) => Self::notice(match crate::config::snippets::save(path, &snippets) {
                    Ok(()) => format!("saved {}", path.display()),
                    Err(e) => format!("not saved: {e}"),
                }),
                None => vec![],
            },
            Effect::SaveSessions(sessions) => match &self.options.sessions_file {
                Some(path) => {
                    let result = crate::config::SessionStore::load(path).and_then(|mut store| {
                        store.sessions = sessions;
                        store.save()
                    });
                    Self::notice(match result {
                        Ok(()) => format!("saved {}", path.display()),
                        Err(e) => format!("not saved: {e}"),
                    })
                }
                None => vec![],
            },
            Effect::LoadProto { id, files, message } => {
                let result = crate::decode::proto_schema::load_proto_files(&files)
                    .map_err(|e| e.to_string())
                    .and_then(|schema| {
                        // A named message must be one of theirs; the error lists them.
                        if let Some(m) = &message {
                            schema.lookup(m).map_err(|e| e.to_string())?;
                        }
                        Ok(crate::app::session::ProtoView {
                            schema,
                            message,
                            files: files.iter().map(|f| f.display().to_string()).collect(),
                        })
                    });
                vec![Event::ProtoLoaded { id, result }]
            }
            Effect::Discover { id } => {
                let Some(spec) = app.connect_spec(id) else {
                    return (vec![], later);
                };
                // The session's own token provider when it is connected (one cache, one refresh).
                let tokens = self.handle(id).map(SessionHandle::tokens).or_else(|| {
                    (spec.auth != crate::engine::auth::AuthSource::None)
                        .then(|| Arc::new(TokenProvider::new(spec.auth.clone())))
                });
                let to_loop = self.to_loop.clone();
                tokio::spawn(async move {
                    let result = crate::vocab::asyncapi::discover(&spec, tokens)
                        .await
                        .map_err(|e| e.to_string());
                    let _ = to_loop.send(Event::Discovered { id, result }).await;
                });
                vec![]
            }
            Effect::ExportWav {
                path,
                format,
                chunks,
            } => {
                // A few MB at most for a marked range: written here, and said when done.
                Self::notice(
                    match crate::decode::wav::write_wav(&path, format, chunks.iter()) {
                        Ok(st) => format!(
                            "wrote {} ({} frames, {:.2} s of {})",
                            path.display(),
                            st.frames,
                            st.seconds,
                            format.describe()
                        ),
                        Err(e) => format!("not written: {e}"),
                    },
                )
            }
            Effect::SetTheme(name) => match Theme::load(&name, self.options.theme_dir.as_deref()) {
                Ok(t) => {
                    self.theme = t;
                    vec![]
                }
                Err(e) => Self::notice(e.to_string()),
            },
        };
        (events, later)
    }

    fn proxy_of(&self, id: usize) -> Option<&(ProxyLink, Option<u64>)> {
        self.tasks.get(&id).and_then(|t| t.proxy.as_ref())
    }

    /// Start proxy session `id`'s listener; what it reports comes back as `Event::Proxy`.
    fn start_proxy(&mut self, app: &App, id: usize) -> Vec<Event> {
        let Some(opts) = app.proxy_options(id) else {
            return Self::notice("this proxy session's listen address is not valid: :edit it");
        };
        if let Some((link, None)) = self.proxy_of(id) {
            // Still running from before (stopping, say): stop it for good first.
            let _ = link.ctl.send(ProxyCtl::Stop);
        }
        let (ctl, ctl_rx) = mpsc::unbounded_channel();
        let link = ProxyLink {
            ctl,
            injectors: Default::default(),
        };
        let injectors = link.injectors.clone();
        self.tasks.entry(id).or_default().proxy = Some((link, None));
        tokio::spawn(run_proxy(id, opts, self.to_loop.clone(), ctl_rx, injectors));
        vec![Event::Started {
            id,
            at: self.t0.elapsed(),
        }]
    }

    /// A session command for a proxy session (stop listening) or a client's (close it, on both
    /// sides, as an injected close does).
    fn to_proxy(&self, id: usize, cmd: SessionCommand) -> Vec<Event> {
        let Some((link, client)) = self.proxy_of(id) else {
            return Self::notice(NOT_RUNNING);
        };
        match (client, cmd) {
            (None, SessionCommand::Shutdown | SessionCommand::Close { .. }) => {
                let _ = link.ctl.send(ProxyCtl::Stop);
                vec![]
            }
            (None, _) => Self::notice(
                "a proxy session sends nothing itself: select one of its clients (under it)",
            ),
            (Some(client), cmd) => {
                let (code, reason) = match cmd {
                    SessionCommand::Close { code, reason } => (code, reason),
                    SessionCommand::Shutdown => (1001, "going away".to_string()),
                    SessionCommand::Send { opcode, payload } => {
                        return self.inject(link, *client, Direction::Out, opcode, payload);
                    }
                    SessionCommand::Reconnect { .. } | SessionCommand::Keepalive(_) => {
                        return Self::notice(
                            "a proxy client's connection is its client's: reconnect from the client",
                        );
                    }
                };
                let payload = crate::engine::frame::close_payload(code, &reason);
                self.inject(link, *client, Direction::Out, Opcode::Close, payload)
            }
        }
    }

    fn inject(
        &self,
        link: &ProxyLink,
        client: u64,
        toward: Direction,
        opcode: Opcode,
        payload: bytes::Bytes,
    ) -> Vec<Event> {
        let injector = link
            .injectors
            .lock()
            .ok()
            .and_then(|m| m.get(&client).cloned());
        match injector.map(|i| i.inject(toward, opcode, payload)) {
            Some(Ok(())) => vec![],
            Some(Err(e)) => Self::notice(e.to_string()),
            None => Self::notice(crate::proxy::InjectError::Ended.to_string()),
        }
    }

    fn handle(&self, id: usize) -> Option<&SessionHandle> {
        self.tasks.get(&id).and_then(|t| t.handle.as_ref())
    }

    fn stop_container_logs(&mut self, id: usize) {
        if let Some((stop, _)) = self
            .tasks
            .get_mut(&id)
            .and_then(|t| t.container_logs.take())
        {
            let _ = stop.send(());
        }
    }

    fn record(&mut self, app: &App, id: usize, on: bool) -> Vec<Event> {
        let Some(rec) = self.tasks.get(&id).and_then(|t| t.recorder.as_ref()) else {
            return Self::notice("connect first, then record");
        };
        if !on {
            let _ = rec.send(RecordCmd::Stop);
            return vec![];
        }
        let Some(dir) = &self.options.capture_dir else {
            return Self::notice("no capture directory (set WSDECK_DATA_DIR)");
        };
        let Some(s) = app.by_id(id) else {
            return vec![];
        };
        let stamp = time::OffsetDateTime::now_utc()
            .format(&time::macros::format_description!(
                "[year][month][day]-[hour][minute][second]"
            ))
            .unwrap_or_default();
        let safe: String = s
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{safe}-{stamp}.jsonl"));
        let meta = CaptureMeta {
            session_name: Some(s.name.clone()),
            target_kind: s.spec.target.kind().into(),
            target: s.spec.target.describe(),
            url: crate::engine::redact::url_for_display(&s.spec.request_url()),
            agent_session_id: s.spec.session_id.clone(),
        };
        let _ = rec.send(RecordCmd::Start(path, meta));
        vec![]
    }

    /// Expand a composed frame's variables (the clock and a uuid come from here), encode it in
    /// its mode, and send it.
    fn send_composed(&self, id: usize, frame: Composed) -> Vec<Event> {
        let now = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let uuid = uuid::Uuid::new_v4().to_string();
        let values = crate::app::vars::Values {
            session_id: &frame.session_id,
            uuid: &uuid,
            now: &now,
            seq: frame.seq,
            user: &frame.vars,
        };
        let payload = crate::app::vars::expand(&frame.template, &values)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                if frame.mode == crate::app::composer::Mode::File {
                    let path = text.trim();
                    return std::fs::read(path)
                        .map(bytes::Bytes::from)
                        .map_err(|e| format!("{path}: {e}"));
                }
                crate::app::composer::encode(frame.mode, frame.opcode, &text)
                    .map_err(|e| e.to_string())
            });
        match payload {
            Ok(payload) if let Some((link, Some(client))) = self.proxy_of(id) => {
                self.inject(link, *client, frame.toward, frame.opcode, payload)
            }
            Ok(payload) => {
                let cmd = SessionCommand::Send {
                    opcode: frame.opcode,
                    payload,
                };
                match self.handle(id) {
                    Some(h) if h.send(cmd) => vec![],
                    _ => Self::notice(NOT_RUNNING),
                }
            }
            Err(e) => Self::notice(format!("not sent: {e}")),
        }
    }

    /// Close open connections with 1000 and stop the readers, each in a bounded moment.
    pub async fn shutdown(self) {
        for t in self.tasks.values() {
            if let Some(h) = &t.handle {
                h.send(SessionCommand::Shutdown);
            }
            // Each proxy closes its clients on both sides with 1001.
            if let Some((link, None)) = &t.proxy {
                let _ = link.ctl.send(ProxyCtl::Stop);
            }
        }
        let readers: Vec<_> = self
            .tasks
            .into_values()
            .filter_map(|mut t| t.container_logs.take())
            .map(|(stop, task)| {
                let _ = stop.send(());
                task
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(150)).await;
        // Each reader kills its child and waits for it.
        for task in readers {
            let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
        }
    }
}

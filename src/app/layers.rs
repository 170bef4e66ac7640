//! The overlays and editors over the panes, and the one place that decides who takes a key:
//! the prompt, then the session form, the picker, a confirmation, an information overlay, the
//! composer, and last the focused pane (its keymap table, then the global one).

use crate::app::form::SessionForm;
use crate::app::picker::Picker;
use crate::app::{App, Effect, Pane, actions, commands, composer, form, picker};
use crate::keymap::typed_char;
use crate::keymap::{Action, Layer};
use crossterm::event::{KeyCode, KeyEvent};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    Help,
    Handshake,
    ConfirmQuit,
    /// Delete session `id` (by id: the selection may move while the question is open).
    ConfirmDelete {
        id: usize,
    },
    /// What a replay got against what its capture holds.
    Compare,
}

/// A one-line input at the bottom of the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Filter,
    Search,
    Command,
}

#[derive(Default)]
pub struct Layers {
    pub overlay: Option<Overlay>,
    pub prompt: Option<Prompt>,
    /// The session form (it takes every key).
    pub form: Option<SessionForm>,
    /// A picker over history, snippets or templates (it takes every key).
    pub picker: Option<Picker>,
    /// First line of the help on screen.
    pub help_scroll: usize,
    /// Whether the composer is open (the composer itself is kept while closed, so its history
    /// and draft stay).
    pub composing: bool,
}

/// Who has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Active {
    Prompt,
    Form,
    Picker,
    Confirm(Overlay),
    /// Help, handshake, comparison: read, then closed.
    Info(Overlay),
    Composer,
    Pane(Pane),
}

pub fn active(app: &App) -> Active {
    let l = &app.layers;
    if l.prompt.is_some() {
        Active::Prompt
    } else if l.form.is_some() {
        Active::Form
    } else if l.picker.is_some() {
        Active::Picker
    } else if let Some(o) = l.overlay {
        match o {
            Overlay::ConfirmQuit | Overlay::ConfirmDelete { .. } => Active::Confirm(o),
            _ => Active::Info(o),
        }
    } else if l.composing {
        Active::Composer
    } else {
        Active::Pane(app.focus)
    }
}

/// The keymap table of what has the keyboard (the help brightens it, the hints come from it).
pub fn keymap_layer(app: &App) -> Layer {
    match active(app) {
        Active::Prompt => Layer::Prompt,
        Active::Form => Layer::Form,
        Active::Picker => Layer::Picker,
        Active::Confirm(_) => Layer::Confirm,
        Active::Info(_) => Layer::Global,
        Active::Composer => Layer::Composer,
        Active::Pane(p) => pane_layer(p),
    }
}

pub fn pane_layer(p: Pane) -> Layer {
    match p {
        Pane::Sessions => Layer::Sessions,
        Pane::Frames => Layer::Frames,
        Pane::Detail => Layer::Detail,
        Pane::Logs => Layer::Logs,
        Pane::Vocab => Layer::Vocab,
    }
}

/// Route one key press.
pub fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let layer = keymap_layer(app);
    let action = app.keymap.action_in(layer, key);
    match active(app) {
        Active::Prompt => on_prompt_key(app, action, key),
        Active::Form => form::on_key(app, action, key),
        Active::Picker => picker::on_key(app, action, key),
        Active::Confirm(o) => on_confirm_key(app, o, action),
        Active::Info(o) => on_info_key(app, o, app.keymap.action_in(Layer::Global, key)),
        Active::Composer => composer::on_key(app, action, key),
        Active::Pane(_) => match action.or_else(|| app.keymap.action_in(Layer::Global, key)) {
            Some(a) => actions::run(app, a),
            None => vec![],
        },
    }
}

/// The mouse wheel: it scrolls the help, or the focused pane when nothing is over it.
pub fn on_scroll(app: &mut App, action: Action) -> Vec<Effect> {
    match active(app) {
        Active::Info(o @ Overlay::Help) => on_info_key(app, o, Some(action)),
        Active::Pane(_) => actions::run(app, action),
        _ => vec![],
    }
}

/// `y`/Enter yes, `n`/Esc no; any other key leaves the question open.
fn on_confirm_key(app: &mut App, o: Overlay, action: Option<Action>) -> Vec<Effect> {
    match action {
        Some(Action::QuitNow) => vec![Effect::Quit],
        Some(Action::Yes) => {
            app.layers.overlay = None;
            match o {
                Overlay::ConfirmDelete { id } => commands::sessions::remove(app, id),
                _ => vec![Effect::Quit],
            }
        }
        Some(Action::No) => {
            app.layers.overlay = None;
            vec![]
        }
        _ => vec![],
    }
}

fn on_info_key(app: &mut App, o: Overlay, action: Option<Action>) -> Vec<Effect> {
    let closes = matches!(
        (o, action),
        (_, Some(Action::Back | Action::Quit))
            | (Overlay::Help, Some(Action::Help))
            | (Overlay::Handshake, Some(Action::Handshake))
    );
    let room = help_rows(app);
    let last = help_len(app).saturating_sub(room);
    let page = room;
    let scroll = &mut app.layers.help_scroll;
    match action {
        Some(Action::QuitNow) => vec![Effect::Quit],
        Some(Action::Down) if o == Overlay::Help => {
            *scroll = (*scroll + 1).min(last);
            vec![]
        }
        Some(Action::Up) if o == Overlay::Help => {
            *scroll = scroll.saturating_sub(1);
            vec![]
        }
        Some(Action::PageDown) if o == Overlay::Help => {
            *scroll = (*scroll + page).min(last);
            vec![]
        }
        Some(Action::PageUp) if o == Overlay::Help => {
            *scroll = scroll.saturating_sub(page);
            vec![]
        }
        Some(Action::Top) if o == Overlay::Help => {
            *scroll = 0;
            vec![]
        }
        Some(Action::Bottom) if o == Overlay::Help => {
            *scroll = last;
            vec![]
        }
        _ if closes => {
            app.layers.overlay = None;
            vec![]
        }
        _ => vec![],
    }
}

/// Lines of the help: a heading per layer with keys, a row per binding, then the commands.
pub fn help_len(app: &App) -> usize {
    let b = app.keymap.bindings();
    let layers = Layer::ALL
        .iter()
        .filter(|l| b.iter().any(|x| x.layer == **l))
        .count();
    layers + b.len() + 1 + commands::table().len()
}

/// Help lines on screen: the terminal less the box and its footer.
pub fn help_rows(app: &App) -> usize {
    (app.size.1 as usize).saturating_sub(3).max(1)
}

fn on_prompt_key(app: &mut App, action: Option<Action>, key: KeyEvent) -> Vec<Effect> {
    let Some(p) = app.layers.prompt.as_mut() else {
        return vec![];
    };
    match action {
        Some(Action::QuitNow) => return vec![Effect::Quit],
        Some(Action::Cancel) => app.layers.prompt = None,
        Some(Action::Submit) => {
            let Prompt { kind, text } = p.clone();
            app.layers.prompt = None;
            return match kind {
                PromptKind::Filter => {
                    actions::apply_filter(app, &text);
                    vec![]
                }
                PromptKind::Command => commands::run(app, &text),
                PromptKind::Search => {
                    if text.trim().is_empty() {
                        app.search = None;
                    } else {
                        app.search = Some(text);
                        actions::search_step(app, true);
                    }
                    vec![]
                }
            };
        }
        _ => match key.code {
            KeyCode::Backspace => {
                p.text.pop();
            }
            _ if let Some(c) = typed_char(&key) => p.text.push(c),
            _ => {}
        },
    }
    vec![]
}

/// Open the one-line prompt with this text.
pub fn open_prompt(app: &mut App, kind: PromptKind, text: String) {
    app.layers.prompt = Some(Prompt { kind, text });
}

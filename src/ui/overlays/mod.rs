//! Windows drawn over the panes, in the order they stack: the session form, the picker, then the
//! open overlay.

mod compare;
mod confirm;
mod form;
mod handshake;
mod help;
mod picker;

pub use help::help_lines;

use crate::app::{App, Overlay};
use crate::ui::theme::Theme;
use ratatui::Frame as Canvas;
use ratatui::layout::Rect;

pub(super) fn draw(c: &mut Canvas, area: Rect, app: &App, t: &Theme) {
    if let Some(f) = &app.layers.form {
        form::draw_form(c, area, f, t);
    }
    if let Some(p) = &app.layers.picker {
        picker::draw_picker(c, area, p, t);
    }
    match app.layers.overlay {
        Some(Overlay::Help) => help::draw_help(c, area, app, t),
        Some(Overlay::Handshake) => handshake::draw_handshake(c, area, app, t),
        Some(Overlay::ConfirmQuit) => confirm::draw_confirm(c, area, app, t),
        Some(Overlay::ConfirmDelete { id }) => confirm::draw_confirm_delete(c, area, app, id, t),
        Some(Overlay::Compare) => compare::draw_compare(c, area, app, t),
        None => {}
    }
}

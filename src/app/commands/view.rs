//! `:filter` and `:search`: the frame log's view.

use crate::app::{App, Effect, actions};

pub fn filter(app: &mut App, expr: &str) -> Vec<Effect> {
    actions::apply_filter(app, expr);
    vec![]
}

pub fn search(app: &mut App, text: String) -> Vec<Effect> {
    app.search = Some(text);
    actions::search_step(app, true);
    vec![]
}

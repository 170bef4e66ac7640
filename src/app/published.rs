//! What an agent publishes about itself (its AsyncAPI document), as a session holds it: the
//! document, its compiled validator, and how it compares with the vocabulary seen on the wire.

use crate::app::{App, Effect, Session};
use crate::engine::Direction;
use crate::vocab::asyncapi::{Discovery, Document};
use crate::vocab::validate::{Validator, Verdict};

pub struct Published {
    pub url: String,
    pub document: Document,
    /// `None` when the document's schemas could not be compiled (`problem` says why).
    pub validator: Option<Validator>,
    pub problem: Option<String>,
}

/// `:discover`: ask the runtime to fetch the selected session's document.
pub fn request(app: &mut App) -> Vec<Effect> {
    let Some(s) = app.current() else {
        return vec![];
    };
    if s.read_only() {
        app.status = Some("a capture opened from a file has no agent to ask".into());
        return vec![];
    }
    let (id, word) = (
        s.id,
        format!("{}: asking the agent for its AsyncAPI document…", s.name),
    );
    app.status = Some(word);
    vec![Effect::Discover { id }]
}

/// The runtime's answer.
pub fn discovered(app: &mut App, id: usize, result: Result<Discovery, String>) {
    let Some(s) = app.by_id_mut(id) else { return };
    let word = match result {
        Ok(Discovery::Found { url, document }) => {
            let (validator, problem) = match Validator::new(&document) {
                Ok(v) => (Some(v), None),
                Err(e) => (None, Some(e.to_string())),
            };
            let word = format!(
                "{}: {} {} · {} messages (templates in :like{})",
                s.name,
                document.title,
                document.version,
                document.messages.len(),
                if validator.is_some() {
                    "; frames checked against their schemas"
                } else {
                    ""
                }
            );
            s.published = Some(Published {
                url,
                document,
                validator,
                problem: problem.clone(),
            });
            match problem {
                Some(p) => format!("{word}; schemas not usable: {p}"),
                None => word,
            }
        }
        Ok(Discovery::None { url }) => {
            format!("this agent publishes no AsyncAPI document (GET {url}: 404)")
        }
        Err(e) => format!("discover: {e}"),
    };
    app.status = Some(word);
}

impl Session {
    /// The published schema's verdict on a frame, when a document is known and names it.
    pub fn verdict(&self, f: &crate::engine::Frame) -> Option<Verdict> {
        if !matches!(
            f.opcode,
            crate::engine::Opcode::Text | crate::engine::Opcode::Binary
        ) {
            return None;
        }
        self.published
            .as_ref()?
            .validator
            .as_ref()?
            .check(f.dir, &f.payload)
    }

    /// Whether the document names this type (by its discriminator value) in this direction.
    pub fn documented(&self, dir: Direction, name: &str) -> Option<bool> {
        let doc = &self.published.as_ref()?.document;
        Some(
            doc.messages.iter().any(|m| {
                m.type_const.as_deref() == Some(name) && m.direction.is_none_or(|d| d == dir)
            }),
        )
    }

    /// The document's messages never seen on the wire (direction, type).
    pub fn documented_not_seen(&self) -> Vec<(Option<Direction>, String)> {
        let Some(p) = &self.published else {
            return vec![];
        };
        let seen = self.vocab.types();
        let mut out: Vec<(Option<Direction>, String)> = Vec::new();
        for m in &p.document.messages {
            let Some(name) = &m.type_const else { continue };
            let hit = seen
                .iter()
                .any(|t| &t.key.name == name && m.direction.is_none_or(|d| d == t.key.dir));
            if !hit && !out.iter().any(|(d, n)| n == name && *d == m.direction) {
                out.push((m.direction, name.clone()));
            }
        }
        out
    }
}

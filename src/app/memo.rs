//! What the view derives at a cost and would otherwise redo on every draw: the selected text
//! frame's JSON view (a 1 MiB frame is milliseconds to check and re-indent). Drawing takes
//! `&App`, so the memo sits behind a `RefCell`; it is a cache, never state the update reads.

use crate::decode::json::{JsonView, view};
use bytes::Bytes;
use std::cell::RefCell;
use std::sync::Arc;

#[derive(Default)]
pub struct ViewMemo {
    json: RefCell<Option<JsonMemo>>,
}

struct JsonMemo {
    session: usize,
    seq: u64,
    /// Compared whole on a hit, so a capture that repeats a seq cannot show another frame's view.
    payload: Bytes,
    view: Arc<JsonView>,
}

impl ViewMemo {
    /// The JSON view of `text`, the payload of frame `seq` of session `session`.
    pub fn json(&self, session: usize, seq: u64, payload: &Bytes, text: &str) -> Arc<JsonView> {
        if let Some(m) = self.json.borrow().as_ref()
            && m.session == session
            && m.seq == seq
            && m.payload == *payload
        {
            return m.view.clone();
        }
        let v = Arc::new(view(text));
        *self.json.borrow_mut() = Some(JsonMemo {
            session,
            seq,
            payload: payload.clone(),
            view: v.clone(),
        });
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hit_needs_the_same_frame_and_bytes() {
        let memo = ViewMemo::default();
        let a = Bytes::from_static(br#"{"a":1}"#);
        let b = Bytes::from_static(br#"{"b":2}"#);
        let first = memo.json(0, 1, &a, r#"{"a":1}"#);
        assert!(Arc::ptr_eq(&first, &memo.json(0, 1, &a, r#"{"a":1}"#)));
        // Same session and seq, other bytes (a capture that repeats a seq): recomputed.
        let other = memo.json(0, 1, &b, r#"{"b":2}"#);
        assert!(!Arc::ptr_eq(&first, &other));
        match &*other {
            JsonView::Pretty(p) => assert!(p.to_text().contains("\"b\": 2")),
            JsonView::Invalid { .. } => panic!("valid JSON"),
        }
        assert!(!Arc::ptr_eq(&other, &memo.json(1, 1, &b, r#"{"b":2}"#)));
    }
}

//! Integration tests: one binary (one link) for every suite.
#![allow(clippy::unwrap_used)]

mod engine;
mod support;

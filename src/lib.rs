//! wsdeck: a debugging console for duplex WebSocket agents.
//!
//! The library holds everything the binary's frontends share: the connection engine, the capture
//! format, the configuration store and the headless commands. Nothing under `engine`, `capture`
//! or `config` draws to a terminal.
#![deny(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod app;
pub mod capture;
pub mod cli;
pub mod config;
pub mod decode;
pub mod demo;
pub mod engine;
pub mod exit;
pub mod filter;
pub mod keymap;
pub mod monitor;
pub mod needle;
pub mod private;
pub mod proxy;
pub mod store;
#[cfg(test)]
mod test_rng;
pub mod tui;
pub mod ui;
pub mod vocab;

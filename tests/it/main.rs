//! Integration tests: one binary (one link) for every suite.
#![allow(clippy::unwrap_used)]
// tungstenite's accept callback returns its own large error type.
#![allow(clippy::result_large_err)]
// Event loops in tests read better as one match arm per event.
#![allow(clippy::collapsible_match)]

mod auth;
mod capture_index;
mod cli;
mod console;
mod console_logs;
mod console_loop;
mod console_proxy;
mod console_store;
mod console_support;
mod console_views;
mod console_vocab;
mod decode;
mod decode_proto;
mod demo;
mod discover;
mod engine;
mod faults_console;
mod faults_disk;
mod faults_handshake;
mod faults_peer;
mod faults_process;
mod faults_proxy;
mod faults_support;
mod faults_tls;
mod har;
mod hostile_files;
mod keys;
mod layering;
mod monitor;
mod panic_restore;
mod proxy;
mod proxy_browser;
mod proxy_guard;
mod proxy_inject;
mod release;
mod replay;
mod sdk;
mod secrets_canary;
mod support;
mod vocab;

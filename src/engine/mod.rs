//! The connection engine: targets, auth, one actor per session, diagnostics. No terminal code.

pub mod auth;
pub mod close;
pub mod diagnose;
pub mod frame;
pub mod redact;
pub mod rtt;
pub mod session;
pub mod target;
pub mod tls;

pub use frame::{Direction, Frame, Opcode};
pub use session::{SessionCommand, SessionEvent, SessionHandle, spawn_session};
pub use target::{ConnectSpec, Target};

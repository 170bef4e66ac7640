//! Process exit codes: the contract scripts rely on (SPEC.md, "Exit codes").

/// A clean end: close 1000/1001, or end of input followed by a clean close.
pub const OK: i32 = 0;
/// `send --expect N` ran out of time before N frames came back.
pub const EXPECT_UNMET: i32 = 1;
/// Bad usage or bad input: unreadable capture, broken config, bad hex.
pub const USAGE: i32 = 2;
/// The server answered the upgrade with an HTTP status other than 101.
pub const HANDSHAKE_REFUSED: i32 = 3;
/// No connection: DNS, TCP, TLS, or no auth token.
pub const CONNECT_FAILED: i32 = 4;
/// The connection ended with 1006 or any code other than 1000/1001.
pub const ABNORMAL_CLOSE: i32 = 5;
/// `replay --expect` found differences.
pub const REPLAY_DIFFERENCES: i32 = 6;
/// The capture is incomplete: a write to it failed (a full disk, say). Wins over 0, 1 and 5;
/// stderr still says how the connection ended.
pub const CAPTURE_INCOMPLETE: i32 = 7;

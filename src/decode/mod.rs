//! Turning payload bytes into something readable: pretty JSON and hex dumps.

pub mod hexdump;
pub mod json;
pub mod payload;
pub mod pcm;

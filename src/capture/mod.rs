//! The capture format (docs/capture-format.md): JSON lines, a header and then one line per frame
//! or lifecycle event. The same line encoding is the headless commands' stdout.

mod b64;
pub mod compare;
pub mod har;
pub mod index;
pub mod line;
pub mod reader;
pub mod replay;
pub mod source;
pub mod writer;

pub use line::{EventLine, LineEncoder};
pub use reader::{Capture, CaptureError, Entry, read_capture};
pub use writer::CaptureWriter;

/// The format version written in the header line.
pub const FORMAT_VERSION: u32 = 1;

//! `wsdeck vocab CAPTURE [--json] [--schema DIR]`: the vocabulary a capture shows.

use anyhow::Result;
use std::path::Path;

pub fn run(capture: &Path, json: bool, schema: Option<&Path>) -> Result<i32> {
    let _ = (json, schema);
    anyhow::bail!("vocab {}: not built yet", capture.display())
}

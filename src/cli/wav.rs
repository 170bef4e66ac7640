//! `wsdeck export CAPTURE --wav OUT`: a capture's PCM frames as a WAV file.

use anyhow::Result;
use std::path::Path;

pub fn run(capture: &Path, out: &Path, dir: &str, rate: u32, channels: u16) -> Result<i32> {
    let _ = (out, dir, rate, channels);
    anyhow::bail!("export {} --wav: not built yet", capture.display())
}

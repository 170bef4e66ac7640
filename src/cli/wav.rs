//! `wsdeck export CAPTURE --wav OUT`: a capture's PCM frames as a WAV file.

use crate::decode::pcm::{self, PcmFormat};
use crate::decode::wav::write_wav;
use crate::engine::frame::{Direction, Frame, Opcode};
use crate::exit;
use anyhow::Result;
use std::path::Path;

pub fn run(capture: &Path, out: &Path, dir: &str, rate: u32, channels: u16) -> Result<i32> {
    let Some(direction) = Direction::parse(dir) else {
        eprintln!("wsdeck: --dir {dir:?}: in (received, the default) or out (sent)");
        return Ok(exit::USAGE);
    };
    if rate == 0 || channels == 0 {
        eprintln!("wsdeck: --rate and --channels must be above 0");
        return Ok(exit::USAGE);
    }
    let format = PcmFormat {
        rate,
        channels,
        big_endian: false,
    };
    let Some(cap) = crate::cli::read_capture_or_say(capture) else {
        return Ok(exit::USAGE);
    };
    let mut skipped = 0usize;
    // Binary payloads are shared, not copied; only decoded base64 audio is new memory.
    let chunks: Vec<bytes::Bytes> = cap
        .frames()
        .filter(|f| f.dir == direction)
        .filter_map(|f| {
            let audio = audio_of(f, format);
            if audio.is_none() && f.opcode == Opcode::Binary {
                skipped += 1;
            }
            audio
        })
        .collect();
    if chunks.is_empty() {
        eprintln!(
            "wsdeck: {}: no PCM audio in the {} direction (binary frames of whole 16-bit \
             samples × {channels} channel(s), or JSON frames with base64 `audio`/`delta`); \
             nothing written",
            capture.display(),
            direction.as_str()
        );
        return Ok(exit::USAGE);
    }
    let stats = write_wav(out, format, chunks.iter())?;
    eprintln!(
        "wsdeck: wrote {}: {} frames, {} samples, {:.2} s at {}{}",
        out.display(),
        stats.frames,
        stats.samples,
        stats.seconds,
        format.describe(),
        if skipped > 0 {
            format!(" ({skipped} binary frames of other sizes left out)")
        } else {
            String::new()
        }
    );
    Ok(exit::OK)
}

/// The PCM a frame carries: a binary frame of whole sample frames as it is, or the base64
/// audio of a JSON text frame (when it too is whole sample frames).
fn audio_of(f: &Frame, format: PcmFormat) -> Option<bytes::Bytes> {
    match f.opcode {
        Opcode::Binary if pcm::fits_format(&f.payload, format) => Some(f.payload.clone()),
        Opcode::Text => {
            let v: serde_json::Value = serde_json::from_str(f.text()?).ok()?;
            pcm::base64_audio(&v)
                .filter(|a| pcm::fits_format(a, format))
                .map(bytes::Bytes::from)
        }
        _ => None,
    }
}

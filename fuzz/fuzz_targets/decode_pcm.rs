//! 16-bit PCM in a format the session or the command line chose (any rate, channel count and
//! byte order, 0 included): the tree, the level, the waveform envelope at any width, base64
//! audio inside JSON, and the frames written out as a WAV file (hound).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdeck::decode::pcm::{self, PcmFormat};
use wsdeck::decode::wav::write_wav;

fuzz_target!(|data: &[u8]| {
    if data.len() < 9 {
        return;
    }
    let (head, payload) = data.split_at(9);
    let fmt = PcmFormat {
        rate: u32::from_le_bytes([head[0], head[1], head[2], head[3]]),
        channels: u16::from_le_bytes([head[4], head[5]]),
        big_endian: head[6] & 1 == 1,
    };
    let columns = usize::from(u16::from_le_bytes([head[7], head[8]]));
    let _ = wsdeck::decode::decode_pcm(payload, fmt);
    let _ = pcm::fits_format(payload, fmt);
    let _ = pcm::stats_in(payload, fmt);
    let env = pcm::envelope_in(payload, fmt, columns);
    assert!(
        env.len() <= columns.max(1),
        "{} columns asked, {} given",
        columns,
        env.len()
    );
    let _ = pcm::summary(payload, fmt);
    let _ = pcm::lines(payload, fmt);
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(payload) {
        let _ = pcm::base64_audio(&v);
    }
    // The payload cut into frames at its zero bytes, as a capture's PCM frames come.
    let path = wsdeck_fuzz::scratch_path("out.wav");
    let _ = write_wav(&path, fmt, payload.split(|b| *b == 0));
});

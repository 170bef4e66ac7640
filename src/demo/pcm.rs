//! A sine tone as 16-bit little-endian mono PCM, in 20 ms chunks.

/// Samples per second.
pub const RATE: u32 = 16_000;
/// Milliseconds per chunk.
pub const CHUNK_MS: u64 = 20;
const SAMPLES: usize = (RATE as u64 * CHUNK_MS / 1000) as usize;

/// Chunk number `index` of a continuous tone at `hz` (phase carries over between chunks).
pub fn tone_chunk(hz: f64, index: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(SAMPLES * 2);
    let first = index as usize * SAMPLES;
    for i in 0..SAMPLES {
        let t = (first + i) as f64 / RATE as f64;
        let s = (t * hz * std::f64::consts::TAU).sin() * 0.3 * i16::MAX as f64;
        out.extend_from_slice(&(s as i16).to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_is_20ms_of_16bit_samples_at_a_third_of_full_scale() {
        let c = tone_chunk(440.0, 0);
        assert_eq!(c.len(), 640);
        let peak = c
            .chunks(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]).unsigned_abs())
            .max()
            .unwrap_or(0);
        assert!((9000..=9900).contains(&peak), "{peak}");
    }
}

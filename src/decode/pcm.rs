//! 16-bit little-endian PCM: level and a waveform envelope. Whether bytes "are" PCM cannot be
//! known from the bytes; this view is offered for any binary frame of even length and says what
//! it assumes.

/// Assumed sample rate for durations (the demo's, and a common one for voice agents).
pub const ASSUMED_RATE: u32 = 16_000;

#[derive(Debug, Clone, PartialEq)]
pub struct PcmStats {
    pub samples: usize,
    /// Peak level in dBFS (`-inf` for silence).
    pub peak_dbfs: f64,
    pub rms_dbfs: f64,
}

pub fn fits(payload: &[u8]) -> bool {
    payload.len() >= 4 && payload.len().is_multiple_of(2)
}

fn samples(payload: &[u8]) -> impl Iterator<Item = i16> + '_ {
    payload
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
}

fn dbfs(x: f64) -> f64 {
    if x <= 0.0 {
        f64::NEG_INFINITY
    } else {
        20.0 * (x / 32768.0).log10()
    }
}

pub fn stats(payload: &[u8]) -> PcmStats {
    let (mut n, mut peak, mut sum_sq) = (0usize, 0f64, 0f64);
    for s in samples(payload) {
        let v = (s as f64).abs();
        peak = peak.max(v);
        sum_sq += v * v;
        n += 1;
    }
    let rms = if n == 0 {
        0.0
    } else {
        (sum_sq / n as f64).sqrt()
    };
    PcmStats {
        samples: n,
        peak_dbfs: dbfs(peak),
        rms_dbfs: dbfs(rms),
    }
}

/// The peak of |sample| in each of `columns` equal slices, scaled to 0..=100.
pub fn envelope(payload: &[u8], columns: usize) -> Vec<u64> {
    let all: Vec<i16> = samples(payload).collect();
    if all.is_empty() || columns == 0 {
        return Vec::new();
    }
    let per = all.len().div_ceil(columns).max(1);
    all.chunks(per)
        .map(|c| {
            let peak = c.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
            (peak as u64 * 100) / 32768
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_of_a_tone_and_silence() {
        let tone = crate::demo::tone_chunk(440.0, 0);
        let s = stats(&tone);
        assert_eq!(s.samples, 320);
        assert!((s.peak_dbfs - (-10.46)).abs() < 0.2, "{s:?}");
        assert!((s.rms_dbfs - (-13.5)).abs() < 0.3, "{s:?}");
        assert_eq!(stats(&[0, 0, 0, 0]).peak_dbfs, f64::NEG_INFINITY);
        let env = envelope(&tone, 40);
        assert_eq!(env.len(), 40);
        assert!(env.iter().all(|v| *v <= 31));
        assert!(fits(&tone) && !fits(&[1, 2, 3]));
    }
}

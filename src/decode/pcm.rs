//! 16-bit PCM: level and a waveform envelope, for the rate, channel count and byte order the
//! session says ([`PcmFormat`]; 24 kHz mono little-endian unless told). Whether bytes "are" PCM
//! cannot be known from the bytes; this view is offered for any binary frame of whole samples
//! and says what it assumes. Also base64 audio inside JSON frames (`audio`, `delta`).

use super::tree::TreeLine;
use serde_json::Value;

/// The rate the console's PCM view assumed before formats were settings (the demo's).
/// [`stats`] and [`envelope`] keep it; new callers pass a [`PcmFormat`].
pub const ASSUMED_RATE: u32 = 16_000;

/// How 16-bit PCM bytes are laid out: samples per second, interleaved channels, byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcmFormat {
    pub rate: u32,
    pub channels: u16,
    pub big_endian: bool,
}

impl Default for PcmFormat {
    /// 24 kHz mono little-endian: what realtime voice APIs send (`pcm16`).
    fn default() -> Self {
        PcmFormat {
            rate: 24_000,
            channels: 1,
            big_endian: false,
        }
    }
}

impl PcmFormat {
    /// Bytes of one sample frame (one sample per channel).
    pub fn frame_bytes(self) -> usize {
        2 * self.channels.max(1) as usize
    }

    /// `s16le 24 kHz mono`, `s16be 44.1 kHz 2 ch`.
    pub fn describe(self) -> String {
        let khz = self.rate as f64 / 1000.0;
        let rate = if self.rate.is_multiple_of(1000) {
            format!("{} kHz", self.rate / 1000)
        } else {
            format!("{khz} kHz")
        };
        let ch = match self.channels {
            1 => "mono".to_string(),
            2 => "stereo".to_string(),
            n => format!("{n} ch"),
        };
        let order = if self.big_endian { "be" } else { "le" };
        format!("s16{order} {rate} {ch}")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PcmStats {
    /// 16-bit samples, all channels counted.
    pub samples: usize,
    /// Peak level in dBFS (`-inf` for silence).
    pub peak_dbfs: f64,
    pub rms_dbfs: f64,
    /// Sample frames (samples per channel) and what they last at the format's rate.
    pub frames: usize,
    pub seconds: f64,
}

/// At least two samples, whole 16-bit samples (the console's view, any channel count).
pub fn fits(payload: &[u8]) -> bool {
    payload.len() >= 4 && payload.len().is_multiple_of(2)
}

/// A whole number of sample frames of `fmt`, and at least one.
pub fn fits_format(payload: &[u8], fmt: PcmFormat) -> bool {
    !payload.is_empty() && payload.len().is_multiple_of(fmt.frame_bytes())
}

fn samples(payload: &[u8], big_endian: bool) -> impl Iterator<Item = i16> + '_ {
    payload.chunks_exact(2).map(move |b| {
        if big_endian {
            i16::from_be_bytes([b[0], b[1]])
        } else {
            i16::from_le_bytes([b[0], b[1]])
        }
    })
}

fn dbfs(x: f64) -> f64 {
    if x <= 0.0 {
        f64::NEG_INFINITY
    } else {
        20.0 * (x / 32768.0).log10()
    }
}

fn legacy() -> PcmFormat {
    PcmFormat {
        rate: ASSUMED_RATE,
        ..PcmFormat::default()
    }
}

/// Level of 16 kHz mono little-endian PCM (see [`stats_in`]).
pub fn stats(payload: &[u8]) -> PcmStats {
    stats_in(payload, legacy())
}

/// Peak and RMS level over all channels, and the duration at `fmt`'s rate.
pub fn stats_in(payload: &[u8], fmt: PcmFormat) -> PcmStats {
    let (mut n, mut peak, mut sum_sq) = (0usize, 0f64, 0f64);
    for s in samples(payload, fmt.big_endian) {
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
    let frames = n / fmt.channels.max(1) as usize;
    PcmStats {
        samples: n,
        peak_dbfs: dbfs(peak),
        rms_dbfs: dbfs(rms),
        frames,
        seconds: frames as f64 / fmt.rate.max(1) as f64,
    }
}

/// The envelope of 16 kHz mono little-endian PCM (see [`envelope_in`]).
pub fn envelope(payload: &[u8], columns: usize) -> Vec<u64> {
    envelope_in(payload, legacy(), columns)
}

/// The peak of |sample| (any channel) in each of `columns` equal slices of sample frames,
/// scaled to 0..=100.
pub fn envelope_in(payload: &[u8], fmt: PcmFormat, columns: usize) -> Vec<u64> {
    let all: Vec<i16> = samples(payload, fmt.big_endian).collect();
    let ch = fmt.channels.max(1) as usize;
    let frames = all.len() / ch;
    if frames == 0 || columns == 0 {
        return Vec::new();
    }
    let per = frames.div_ceil(columns).max(1) * ch;
    all[..frames * ch]
        .chunks(per)
        .map(|c| {
            let peak = c.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
            (peak as u64 * 100) / 32768
        })
        .collect()
}

fn db_text(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.1} dBFS")
    } else {
        "silence".to_string()
    }
}

/// One line for a chunk: `320 samples · 13.3 ms at s16le 24 kHz mono · peak -10.5 dBFS · rms …`.
pub fn summary(payload: &[u8], fmt: PcmFormat) -> String {
    let st = stats_in(payload, fmt);
    format!(
        "{} samples · {:.1} ms at {} (assumed) · peak {} · rms {}",
        st.frames,
        st.seconds * 1000.0,
        fmt.describe(),
        db_text(st.peak_dbfs),
        db_text(st.rms_dbfs)
    )
}

/// The PCM reading of a chunk as tree lines (what `decode(Pcm, …)` shows).
pub fn lines(payload: &[u8], fmt: PcmFormat) -> Vec<TreeLine> {
    let st = stats_in(payload, fmt);
    let line = |label: &str, value: String, note: &str| TreeLine {
        depth: 0,
        label: label.into(),
        value,
        note: note.into(),
    };
    vec![
        line("format", fmt.describe(), "assumed (session settings)"),
        line("samples", st.frames.to_string(), "per channel"),
        line("duration", format!("{:.1} ms", st.seconds * 1000.0), ""),
        line("peak", db_text(st.peak_dbfs), ""),
        line("rms", db_text(st.rms_dbfs), ""),
    ]
}

/// Base64 audio inside a JSON frame: the decoded bytes of every string field named `audio` or
/// `delta`, at any depth, in document order (`input_audio_buffer.append`, `response.audio.delta`).
/// A `delta` in an object whose `type` names text or a transcript is text, not audio; values that
/// are not standard base64 of at least two whole 16-bit samples are skipped.
pub fn base64_audio(json: &Value) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    collect_audio(json, &mut out);
    (!out.is_empty()).then_some(out)
}

fn collect_audio(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Object(m) => {
            let texty = m
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.contains("text") || t.contains("transcript"));
            for (k, val) in m {
                match val {
                    Value::String(s) if k == "audio" || (k == "delta" && !texty) => {
                        if let Some(b) = audio_b64(s) {
                            out.extend_from_slice(&b);
                        }
                    }
                    _ => collect_audio(val, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_audio(x, out)),
        _ => {}
    }
}

fn audio_b64(s: &str) -> Option<Vec<u8>> {
    if s.len() < 4 || !s.len().is_multiple_of(4) {
        return None;
    }
    let b = base64_simd::STANDARD.decode_to_vec(s).ok()?;
    (b.len() >= 4 && b.len().is_multiple_of(2)).then_some(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn levels_of_a_tone_and_silence() {
        let tone = crate::demo::tone_chunk(440.0, 0);
        let s = stats(&tone);
        assert_eq!(s.samples, 320);
        assert!((s.peak_dbfs - (-10.46)).abs() < 0.2, "{s:?}");
        assert!((s.rms_dbfs - (-13.5)).abs() < 0.3, "{s:?}");
        assert!((s.seconds - 0.020).abs() < 1e-9, "{s:?}");
        assert_eq!(stats(&[0, 0, 0, 0]).peak_dbfs, f64::NEG_INFINITY);
        let env = envelope(&tone, 40);
        assert_eq!(env.len(), 40);
        assert!(env.iter().all(|v| *v <= 31));
        assert!(fits(&tone) && !fits(&[1, 2, 3]));
    }

    #[test]
    fn formats_change_duration_order_and_channels() {
        let tone = crate::demo::tone_chunk(440.0, 0);
        let d = PcmFormat::default();
        assert_eq!(d.describe(), "s16le 24 kHz mono");
        let st = stats_in(&tone, d);
        assert!((st.seconds - 320.0 / 24_000.0).abs() < 1e-9);
        let stereo = PcmFormat {
            rate: 44_100,
            channels: 2,
            big_endian: true,
        };
        assert_eq!(stereo.describe(), "s16be 44.1 kHz stereo");
        let st2 = stats_in(&tone, stereo);
        assert_eq!((st2.samples, st2.frames), (320, 160));
        // The same bytes read big-endian are a different (louder, noisier) signal.
        assert!(st2.rms_dbfs > st.rms_dbfs);
        // A full-scale big-endian sample.
        assert!(stats_in(&[0x7f, 0xff, 0x7f, 0xff], stereo).peak_dbfs.abs() < 0.01);
        assert_eq!(envelope_in(&tone, stereo, 10).len(), 10);
        assert!(fits_format(&[0; 4], stereo) && !fits_format(&[0; 6], stereo));
        assert!(!fits_format(&[], d));
        assert_eq!(lines(&tone, d)[1].value, "320");
        assert!(summary(&tone, d).starts_with("320 samples · 13.3 ms at s16le 24 kHz mono"));
    }

    #[test]
    fn base64_audio_in_json() {
        let pcm = [1u8, 0, 2, 0];
        let b64 = base64_simd::STANDARD.encode_to_string(pcm);
        let v = json!({"type": "input_audio_buffer.append", "audio": b64});
        assert_eq!(base64_audio(&v), Some(pcm.to_vec()));
        let nested = json!({"type": "response.audio.delta", "item": {"delta": b64}, "other": [{"audio": b64}]});
        assert_eq!(base64_audio(&nested).map(|b| b.len()), Some(8));
        // Text deltas, odd lengths, non-base64 and non-strings are not audio.
        let texts = [
            json!({"type": "response.output_text.delta", "delta": "word"}),
            json!({"type": "response.audio_transcript.delta", "delta": "abcdefgh"}),
            json!({"delta": "Hello world"}),
            json!({"audio": "AAE="}),
            json!({"audio": {"format": "pcm16"}}),
            json!({"audio": 5}),
        ];
        for t in texts {
            assert_eq!(base64_audio(&t), None, "{t}");
        }
    }
}

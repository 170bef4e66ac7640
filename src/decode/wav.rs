//! 16-bit PCM chunks as one WAV file (hound), for `wsdeck export --wav` and the console's `:wav`.

use super::pcm::PcmFormat;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// WAV sizes are 32-bit; hound counts bytes in a `u32` that must not overflow (and leaves room
/// for its header).
const MAX_DATA_BYTES: u64 = u32::MAX as u64 - (1 << 20);

#[derive(Debug, Error)]
pub enum WavError {
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: hound::Error },
    #[error(
        "chunk {index} has {len} bytes, not a whole number of {channels}-channel 16-bit samples"
    )]
    Partial {
        index: usize,
        len: usize,
        channels: u16,
    },
    #[error("{0}")]
    Format(String),
    #[error("more audio than a WAV file holds (4 GiB)")]
    TooLong,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WavStats {
    /// Chunks written (frames, in the WebSocket sense).
    pub frames: usize,
    /// 16-bit samples written, all channels counted.
    pub samples: u64,
    pub seconds: f64,
}

/// Write 16-bit PCM chunks as one WAV file. Each chunk must hold whole sample frames of
/// `format` (a WAV cannot end inside one); on any error the partial file is removed.
pub fn write_wav(
    path: &Path,
    format: PcmFormat,
    chunks: impl Iterator<Item = impl AsRef<[u8]>>,
) -> Result<WavStats, WavError> {
    if format.rate == 0 || format.channels == 0 {
        return Err(WavError::Format(format!(
            "a WAV needs a rate and channels above 0 (got {} Hz, {} channels)",
            format.rate, format.channels
        )));
    }
    // The header holds bytes per second in 32 bits and bytes per sample frame in 16; hound
    // multiplies without checking (a panic in debug builds, a wrong header in release).
    let frame_bytes = 2 * u64::from(format.channels);
    if frame_bytes > u64::from(u16::MAX)
        || frame_bytes * u64::from(format.rate) > u64::from(u32::MAX)
    {
        return Err(WavError::Format(format!(
            "{} Hz × {} channels × 2 bytes is more bytes per second than a WAV header holds",
            format.rate, format.channels
        )));
    }
    let result = write_all(path, format, chunks);
    if result.is_err() {
        let _ = std::fs::remove_file(path);
    }
    result
}

fn write_all(
    path: &Path,
    format: PcmFormat,
    chunks: impl Iterator<Item = impl AsRef<[u8]>>,
) -> Result<WavStats, WavError> {
    let io = |source| WavError::Write {
        path: path.to_path_buf(),
        source,
    };
    let spec = hound::WavSpec {
        channels: format.channels,
        sample_rate: format.rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    // The audio is the conversation's: private, as captures are (crate::private).
    let file = std::io::BufWriter::new(
        crate::private::create_file(path).map_err(|e| io(hound::Error::IoError(e)))?,
    );
    let mut w = hound::WavWriter::new(file, spec).map_err(io)?;
    let (mut frames, mut bytes) = (0usize, 0u64);
    for (index, chunk) in chunks.enumerate() {
        let chunk = chunk.as_ref();
        if !chunk.len().is_multiple_of(format.frame_bytes()) {
            return Err(WavError::Partial {
                index,
                len: chunk.len(),
                channels: format.channels,
            });
        }
        bytes += chunk.len() as u64;
        if bytes > MAX_DATA_BYTES {
            return Err(WavError::TooLong);
        }
        for s in chunk.chunks_exact(2) {
            let v = if format.big_endian {
                i16::from_be_bytes([s[0], s[1]])
            } else {
                i16::from_le_bytes([s[0], s[1]])
            };
            w.write_sample(v).map_err(io)?;
        }
        frames += 1;
    }
    w.finalize().map_err(io)?;
    let samples = bytes / 2;
    Ok(WavStats {
        frames,
        samples,
        seconds: samples as f64 / format.channels as f64 / format.rate as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_become_one_wav_read_back_by_hound() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("a.wav");
        let fmt = PcmFormat {
            rate: 8000,
            channels: 2,
            big_endian: true,
        };
        let chunks = [vec![0x00, 0x01, 0xff, 0xff], vec![0x7f, 0xff, 0x80, 0x00]];
        let st = write_wav(&path, fmt, chunks.iter()).expect("written");
        assert_eq!((st.frames, st.samples), (2, 4));
        assert!((st.seconds - 2.0 / 8000.0).abs() < 1e-12);
        let mut r = hound::WavReader::open(&path).expect("read");
        assert_eq!(r.spec().channels, 2);
        assert_eq!(r.spec().sample_rate, 8000);
        let got: Vec<i16> = r.samples::<i16>().map(|s| s.expect("sample")).collect();
        assert_eq!(got, [1, -1, i16::MAX, i16::MIN]);
    }

    #[test]
    fn a_partial_chunk_or_a_bad_format_leaves_no_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("b.wav");
        let e = write_wav(
            &path,
            PcmFormat::default(),
            [vec![0u8; 4], vec![0u8; 3]].iter(),
        )
        .expect_err("partial");
        assert!(
            matches!(
                e,
                WavError::Partial {
                    index: 1,
                    len: 3,
                    ..
                }
            ),
            "{e}"
        );
        assert!(!path.exists());
        let bad = PcmFormat {
            rate: 0,
            ..PcmFormat::default()
        };
        assert!(matches!(
            write_wav(&path, bad, std::iter::empty::<Vec<u8>>()),
            Err(WavError::Format(_))
        ));
        // Found by fuzz/fuzz_targets/decode_pcm.rs: hound's byte rate overflowed.
        for (rate, channels) in [(1_094_213_056, 16_743), (48_000, 40_000), (u32::MAX, 1)] {
            let huge = PcmFormat {
                rate,
                channels,
                big_endian: false,
            };
            let e = write_wav(&path, huge, [[0u8; 2]].iter()).expect_err("too many bytes/s");
            assert!(e.to_string().contains("more bytes per second"), "{e}");
            assert!(!path.exists());
        }
        let most = PcmFormat {
            rate: 192_000,
            channels: 32,
            big_endian: false,
        };
        write_wav(&path, most, [vec![0u8; 64]].iter()).expect("192 kHz, 32 channels fit");
        std::fs::remove_file(&path).expect("rm");
        let e = write_wav(
            Path::new("/nonexistent/dir/x.wav"),
            PcmFormat::default(),
            [[0u8; 2]].iter(),
        )
        .expect_err("no dir");
        assert!(
            e.to_string()
                .contains("cannot write /nonexistent/dir/x.wav"),
            "{e}"
        );
    }
}

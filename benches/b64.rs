//! Base64 for capture lines: the AVX-512 VBMI encoder (src/capture/b64.rs) against base64-simd
//! alone, in GB/s of input, at the payload sizes of the ingest rows. Prints medians of several
//! runs and the ratio taken in each run.
//!
//! cargo bench --bench b64 [-- RUNS]

use std::hint::black_box;
use std::time::{Duration, Instant};

// The file itself: its functions are crate-private to wsdeck. Its tests are compiled but not run
// when clippy checks this bench with cfg(test), hence the allow.
#[path = "../src/capture/b64.rs"]
#[allow(dead_code, unused_imports)]
mod b64;

/// Bytes to encode in each timed pass, whatever the payload size.
const PASS_BYTES: usize = 256 << 20;

fn random_bytes(n: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

/// One pass: encode `data` again and again into a reused buffer, as the line encoder does.
fn pass(encode: fn(&[u8], &mut Vec<u8>), data: &[u8], out: &mut Vec<u8>) -> Duration {
    let reps = (PASS_BYTES / data.len()).max(1);
    let t0 = Instant::now();
    for _ in 0..reps {
        out.clear();
        encode(black_box(data), out);
        black_box(&*out);
    }
    t0.elapsed() / reps as u32
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    #[cfg(target_arch = "x86_64")]
    let vbmi = b64::vbmi::available();
    #[cfg(not(target_arch = "x86_64"))]
    let vbmi = false;
    println!(
        "AVX-512 VBMI: {}",
        if vbmi {
            "yes"
        } else {
            "no (both columns are base64-simd)"
        }
    );
    println!(
        "{:>8} | {:>14} | {:>14} | {:>10}",
        "size", "encode_append", "base64-simd", "ratio"
    );
    for size in [64usize, 1024, 64 << 10, 1 << 20] {
        let data = random_bytes(size, size as u64);
        let mut out = Vec::with_capacity(size.div_ceil(3) * 4 + 64);
        let (mut ours, mut theirs, mut ratio) = (vec![], vec![], vec![]);
        for run in 0..runs {
            // Alternate which goes first so neither always meets a cold cache or clock.
            let (a, b) = if run % 2 == 0 {
                let a = pass(b64::encode_append, &data, &mut out);
                (a, pass(b64::encode_append_fallback, &data, &mut out))
            } else {
                let b = pass(b64::encode_append_fallback, &data, &mut out);
                (pass(b64::encode_append, &data, &mut out), b)
            };
            let gbs = |d: Duration| size as f64 / d.as_secs_f64() / 1e9;
            ours.push(gbs(a));
            theirs.push(gbs(b));
            ratio.push(b.as_secs_f64() / a.as_secs_f64());
        }
        println!(
            "{:>8} | {:>9.2} GB/s | {:>9.2} GB/s | {:>9.2}x",
            size,
            median(ours),
            median(theirs),
            median(ratio)
        );
    }
}

//! Standard base64 (with `=` padding) for the `b64` field of capture lines, on AVX-512 VBMI where
//! the CPU has it. At 64 KiB binary frames base64 was most of the user-space CPU of `connect` and
//! `record`, and base64-simd stops at AVX2; Wojciech Muła's VBMI encoding turns 48 bytes into 64
//! characters with two byte permutes and a multishift, no arithmetic. Everything else (other
//! CPUs, short inputs, the last partial block with its padding) is base64-simd's, so the output
//! is byte-identical to it.

/// Append the standard base64 of `data` to `out`.
pub(crate) fn encode_append(data: &[u8], out: &mut Vec<u8>) {
    #[cfg(target_arch = "x86_64")]
    if data.len() >= vbmi::MIN_LEN && vbmi::available() {
        vbmi::encode_append(data, out);
        return;
    }
    encode_append_fallback(data, out);
}

/// base64-simd alone: the path of CPUs without VBMI and of short inputs.
pub(crate) fn encode_append_fallback(data: &[u8], out: &mut Vec<u8>) {
    base64_simd::STANDARD.encode_append(data, out);
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod vbmi {
    use std::arch::x86_64::{
        __m512i, _mm512_loadu_si512, _mm512_maskz_loadu_epi8, _mm512_multishift_epi64_epi8,
        _mm512_permutexvar_epi8, _mm512_set1_epi64, _mm512_setr_epi32, _mm512_storeu_si512,
    };
    use std::mem::MaybeUninit;
    use std::sync::OnceLock;

    /// Below this the setup and the call into base64-simd for the tail cost more than the blocks
    /// save.
    pub(crate) const MIN_LEN: usize = 64;
    const IN_BLOCK: usize = 48;
    const OUT_BLOCK: usize = 64;
    /// The first 48 of a register's 64 byte lanes: one block's input.
    const IN_MASK: u64 = (1 << IN_BLOCK) - 1;

    const ALPHABET: [u8; 64] = *b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    /// Whether this CPU runs the VBMI path (looked up once).
    pub(crate) fn available() -> bool {
        static AVAILABLE: OnceLock<bool> = OnceLock::new();
        *AVAILABLE.get_or_init(|| {
            is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512bw")
                && is_x86_feature_detected!("avx512vbmi")
        })
    }

    /// The VBMI path; the caller has checked `available()`.
    pub(crate) fn encode_append(data: &[u8], out: &mut Vec<u8>) {
        debug_assert!(available());
        let blocks = data.len() / IN_BLOCK;
        // Once for the whole output, so base64-simd's own reserve for the tail finds room.
        out.reserve(data.len().div_ceil(3) * 4);
        let (head, tail) = data.split_at(blocks * IN_BLOCK);
        let dst = &mut out.spare_capacity_mut()[..blocks * OUT_BLOCK];
        // SAFETY: callers reach this only after `available()` found avx512f, avx512bw and
        // avx512vbmi on this CPU, the features `encode_blocks` is compiled for.
        unsafe { encode_blocks(head, dst) };
        // SAFETY: `encode_blocks` wrote every byte of `dst`, the first `blocks * 64` bytes of the
        // spare capacity (the slice above would have panicked had the capacity been short).
        unsafe { out.set_len(out.len() + blocks * OUT_BLOCK) };
        // A multiple of 3 bytes went through the blocks, so the tail encodes on its own, padding
        // included.
        base64_simd::STANDARD.encode_append(tail, out);
    }

    /// Encode `src` (a multiple of 48 bytes) into `dst` (64 characters for each 48 bytes).
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    fn encode_blocks(src: &[u8], dst: &mut [MaybeUninit<u8>]) {
        debug_assert_eq!(src.len() % IN_BLOCK, 0);
        debug_assert_eq!(src.len() / IN_BLOCK * OUT_BLOCK, dst.len());
        // Each 3 input bytes a, b, c into one 32-bit lane as b, a, c, b: the lane's low half is
        // `ab` and its high half `bc`, both big-endian, so each 6-bit field is 8 contiguous bits.
        let spread = _mm512_setr_epi32(
            0x0102_0001,
            0x0405_0304,
            0x0708_0607,
            0x0a0b_090a,
            0x0d0e_0c0d,
            0x1011_0f10,
            0x1314_1213,
            0x1617_1516,
            0x191a_1819,
            0x1c1d_1b1c,
            0x1f20_1e1f,
            0x2223_2122,
            0x2526_2425,
            0x2829_2728,
            0x2b2c_2a2b,
            0x2e2f_2d2e,
        );
        // Bit offsets of the four fields in each lane (10, 4, 22, 16; +32 for the second lane):
        // the multishift's byte k starts at that bit, and the lookup reads only its low 6 bits.
        let fields = _mm512_set1_epi64(0x3036_242a_1016_040a);
        // SAFETY: ALPHABET is 64 bytes, exactly the 512 bits read (unaligned loads allowed).
        let alphabet: __m512i = unsafe { _mm512_loadu_si512(ALPHABET.as_ptr().cast()) };
        for (input, output) in src
            .chunks_exact(IN_BLOCK)
            .zip(dst.chunks_exact_mut(OUT_BLOCK))
        {
            // SAFETY: the mask enables the first 48 byte lanes only, and `input` is 48 readable
            // bytes; masked-off lanes are neither read nor faulted on.
            let bytes = unsafe { _mm512_maskz_loadu_epi8(IN_MASK, input.as_ptr().cast()) };
            let lanes = _mm512_permutexvar_epi8(spread, bytes);
            let indices = _mm512_multishift_epi64_epi8(fields, lanes);
            let chars = _mm512_permutexvar_epi8(indices, alphabet);
            // SAFETY: `output` is 64 writable bytes, the 512 bits stored (unaligned allowed);
            // writing into MaybeUninit bytes needs no initialised contents.
            unsafe { _mm512_storeu_si512(output.as_mut_ptr().cast(), chars) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seeded xorshift64: the same bytes every run, no dependency.
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

    fn reference(data: &[u8], prefix: &[u8]) -> Vec<u8> {
        let mut out = prefix.to_vec();
        base64_simd::STANDARD.encode_append(data, &mut out);
        out
    }

    /// `encode` appended after a prefix matches base64-simd, and decodes back to `data`.
    fn check(encode: fn(&[u8], &mut Vec<u8>), data: &[u8]) {
        let prefix = b"{\"b64\":\"";
        let mut out = prefix.to_vec();
        encode(data, &mut out);
        assert_eq!(out, reference(data, prefix), "length {}", data.len());
        let decoded = base64_simd::STANDARD
            .decode_to_vec(&out[prefix.len()..])
            .expect("valid base64");
        assert_eq!(decoded, data, "length {}", data.len());
    }

    fn every_length_and_offset(encode: fn(&[u8], &mut Vec<u8>)) {
        let buf = random_bytes(400 + 64, 0x9e37_79b9_7f4a_7c15);
        for start in 0..64 {
            for len in 0..=400 {
                check(encode, &buf[start..start + len]);
            }
        }
    }

    fn large(encode: fn(&[u8], &mut Vec<u8>)) {
        for (len, seed) in [
            (64 << 10, 1),
            ((1 << 20) + 7, 2),
            ((64 << 10) + 48 * 3 + 2, 3),
        ] {
            let data = random_bytes(len, seed);
            check(encode, &data);
            check(encode, &data[1..]);
        }
    }

    #[test]
    fn dispatch_matches_base64_simd_at_every_length_and_offset() {
        every_length_and_offset(encode_append);
    }

    #[test]
    fn dispatch_matches_base64_simd_on_large_inputs() {
        large(encode_append);
    }

    #[test]
    fn fallback_matches_base64_simd() {
        every_length_and_offset(encode_append_fallback);
        large(encode_append_fallback);
    }

    /// Every byte value in every position of a 3-byte group, through the blocks.
    #[test]
    fn dispatch_covers_every_byte_value() {
        let data: Vec<u8> = (0..=255u8).cycle().take(256 * 3 + 1).collect();
        check(encode_append, &data);
    }

    /// The VBMI path itself, without the length threshold, where the CPU has it.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn vbmi_path_matches_base64_simd() {
        if !vbmi::available() {
            eprintln!("no AVX-512 VBMI on this CPU: only the fallback is checked");
            return;
        }
        every_length_and_offset(vbmi::encode_append);
        large(vbmi::encode_append);
    }

    /// An output buffer with no spare capacity yet, and one whose spare capacity already holds
    /// bytes: neither shows through.
    #[test]
    fn reserves_and_overwrites_spare_capacity() {
        let data = random_bytes(1000, 4);
        let mut out = Vec::new();
        encode_append(&data, &mut out);
        assert_eq!(out, reference(&data, b""));
        let mut out = vec![b'!'; 4096];
        out.truncate(3);
        encode_append(&data, &mut out);
        assert_eq!(out, reference(&data, b"!!!"));
    }
}

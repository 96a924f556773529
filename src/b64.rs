//! base64url (no padding) decoding of access-token segments, 16 characters a step with SSSE3.
//! On a cache miss every call decodes a whole token, and the `base64` crate's decoder does a
//! table lookup per character, a visible share of the call. Whole 16-character blocks are
//! decoded here; the rest (under 16 characters, which holds the final quantum and so every
//! rule about the end of the input: length, trailing bits) goes to the `base64` crate, so
//! what is accepted and what it decodes to are exactly the crate's (a test compares them).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Decodes `input` into `out`; the number of bytes written, or `None` when `input` is not
/// base64url without padding or `out` is too small.
pub fn decode(input: &[u8], out: &mut [u8]) -> Option<usize> {
    let (mut read, mut written) = (0, 0);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("ssse3") {
        // SAFETY: the CPU has SSSE3 (checked just above).
        (read, written) = unsafe { x86::decode_blocks(input, out)? };
    }
    URL_SAFE_NO_PAD
        .decode_slice(&input[read..], out.get_mut(written..)?)
        .ok()
        .map(|n| written + n)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Decodes the whole 16-character blocks of `input` that leave at least one character
    /// after them (the last quantum stays for the caller): (characters read, bytes written),
    /// `None` at any character outside the alphabet.
    ///
    /// # Safety
    /// The CPU must have SSSE3.
    #[target_feature(enable = "ssse3")]
    pub unsafe fn decode_blocks(input: &[u8], out: &mut [u8]) -> Option<(usize, usize)> {
        let (mut read, mut written) = (0, 0);
        let range = |c: __m128i, lo: u8, hi: u8| {
            _mm_and_si128(
                _mm_cmpgt_epi8(c, _mm_set1_epi8(lo as i8 - 1)),
                _mm_cmplt_epi8(c, _mm_set1_epi8(hi as i8 + 1)),
            )
        };
        // Each 32-bit lane ends up as s0 << 18 | s1 << 12 | s2 << 6 | s3: its 3 bytes in
        // reverse order, gathered to the front.
        let gather = _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
        while input.len() - read > 16 && out.len() - written >= 12 {
            // SAFETY: 16 bytes from `read` are in `input` (checked by the loop).
            let c = _mm_loadu_si128(input.as_ptr().add(read).cast());
            // Bytes above 0x7F are negative as i8: in no range, so invalid.
            let upper = range(c, b'A', b'Z');
            let lower = range(c, b'a', b'z');
            let digit = range(c, b'0', b'9');
            let dash = _mm_cmpeq_epi8(c, _mm_set1_epi8(b'-' as i8));
            let underscore = _mm_cmpeq_epi8(c, _mm_set1_epi8(b'_' as i8));
            let valid = _mm_or_si128(
                _mm_or_si128(_mm_or_si128(upper, lower), _mm_or_si128(digit, dash)),
                underscore,
            );
            if _mm_movemask_epi8(valid) != 0xFFFF {
                return None;
            }
            // What to add to each character for its 6-bit value: 'A' → 0, 'a' → 26, '0' → 52,
            // '-' → 62, '_' → 63 (the byte additions wrap).
            let offset = _mm_or_si128(
                _mm_or_si128(
                    _mm_and_si128(upper, _mm_set1_epi8(-65)),
                    _mm_and_si128(lower, _mm_set1_epi8(-71)),
                ),
                _mm_or_si128(
                    _mm_or_si128(
                        _mm_and_si128(digit, _mm_set1_epi8(4)),
                        _mm_and_si128(dash, _mm_set1_epi8(17)),
                    ),
                    _mm_and_si128(underscore, _mm_set1_epi8(-32)),
                ),
            );
            let sextets = _mm_add_epi8(c, offset);
            // Pairs to 12 bits (s0 * 64 + s1), then pairs of those to 24 bits.
            let pairs = _mm_maddubs_epi16(sextets, _mm_set1_epi32(0x0140_0140));
            let lanes = _mm_madd_epi16(pairs, _mm_set1_epi32(0x0001_1000));
            let bytes = _mm_shuffle_epi8(lanes, gather);
            let mut block = [0u8; 16];
            _mm_storeu_si128(block.as_mut_ptr().cast(), bytes);
            out[written..written + 12].copy_from_slice(&block[..12]);
            read += 16;
            written += 12;
        }
        Some((read, written))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Against the `base64` crate on random input: valid text of every length, with
    /// characters outside the alphabet (padding, '+', '/', non-ASCII, NUL) anywhere, and
    /// output buffers of every size around the needed one.
    #[test]
    fn agrees_with_the_base64_crate() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let foreign = [
            b'=', b'+', b'/', 0, 0x80, 0xFF, b'.', b' ', b'@', b'[', b'`', b'{',
        ];
        let mut accepted = 0;
        for i in 0..200_000 {
            let len = rng.random_range(0..120);
            let mut text: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            if i % 3 == 0 && len > 0 {
                let at = rng.random_range(0..len);
                text[at] = foreign[rng.random_range(0..foreign.len())];
            }
            let size = (len * 3 / 4 + 3).saturating_sub(rng.random_range(0..6));
            let mut ours = vec![0u8; size];
            let mut theirs = vec![0u8; size];
            let expected = URL_SAFE_NO_PAD.decode_slice(&text, &mut theirs).ok();
            let got = decode(&text, &mut ours);
            assert_eq!(got, expected, "{:?}", String::from_utf8_lossy(&text));
            if let Some(n) = got {
                assert_eq!(ours[..n], theirs[..n]);
                accepted += 1;
            }
        }
        assert!(accepted > 25_000, "{accepted} accepted");
    }

    #[test]
    fn decodes_every_character_in_every_position() {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for shift in 0..64 {
            let text: Vec<u8> = (0..68).map(|i| alphabet[(i + shift) % 64]).collect();
            let mut out = [0u8; 51];
            assert_eq!(decode(&text, &mut out), Some(51));
            assert_eq!(out[..], URL_SAFE_NO_PAD.decode(&text).unwrap()[..]);
        }
    }
}

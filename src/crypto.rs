//! Randomness from the OS, hashing, constant-time comparison and refresh-token sealing.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rand::rngs::OsRng;
use rand::TryRngCore;
use sha2::{Digest, Sha256};

use crate::error::{AuthError, Result};

/// Fills `buf` from the OS CSPRNG (getrandom), never from a user-space generator.
pub fn fill_random(buf: &mut [u8]) -> Result<()> {
    OsRng
        .try_fill_bytes(buf)
        .map_err(|e| AuthError::general(format!("OS randomness unavailable: {e}")))
}

/// A random RFC 4122 version-4 UUID, used for session handles and anti-CSRF / id tokens.
pub fn uuid_v4() -> Result<String> {
    let mut b = [0u8; 16];
    fill_random(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// A fresh 256-bit key, base64 (fits the key table's VARCHAR(255)).
pub fn new_key() -> Result<String> {
    let mut b = [0u8; 32];
    fill_random(&mut b)?;
    Ok(STANDARD.encode(b))
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Raw 32 bytes of a sha256 hex string (keeps refresh tokens short); `hex` reverses it.
pub fn hash_to_bytes(s: &str) -> Option<[u8; 32]> {
    let bytes = s.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = nibble(bytes[2 * i])? << 4 | nibble(bytes[2 * i + 1])?;
    }
    Some(out)
}

/// Lowercase hex SHA-256, the scheme the original library used for refresh-token hashes.
pub fn sha256_hex(s: &str) -> String {
    hex(&Sha256::digest(s.as_bytes()))
}

/// Constant-time equality for secrets (anti-CSRF tokens, refresh-token hashes). The
/// `constant_time_eq` crate compares 16 bytes per step (SSE2), where `subtle` puts a barrier
/// after every byte; this runs on every request.
pub fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && constant_time_eq::constant_time_eq(a.as_bytes(), b.as_bytes())
}

/// AES-256-GCM under a key derived from the stored key text: seals refresh-token contents so
/// they are unreadable and unforgeable without the database's refresh key.
pub struct Sealer(Aes256Gcm);

const NONCE_LEN: usize = 12;

impl Sealer {
    pub fn new(key_text: &str) -> Self {
        let key = Sha256::digest(key_text.as_bytes());
        Sealer(Aes256Gcm::new(&key))
    }

    /// `base64url(nonce || ciphertext || tag)`: cookie-safe without escaping.
    pub fn seal(&self, plain: &[u8]) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        let sealed = self
            .0
            .encrypt(Nonce::from_slice(&nonce), plain)
            .map_err(|_| AuthError::general("refresh token sealing failed"))?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// None for anything not sealed by this key (forged, truncated, altered, foreign).
    pub fn open(&self, token: &str) -> Option<Vec<u8>> {
        // Our tokens are far below this; refuse huge input before decoding it.
        if token.len() > 1024 {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
        if raw.len() < NONCE_LEN + 16 {
            return None;
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        self.0.decrypt(Nonce::from_slice(nonce), sealed).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_has_v4_shape() {
        let u = uuid_v4().unwrap();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(u, uuid_v4().unwrap());
    }

    #[test]
    fn sha256_matches_known_vector() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let h = sha256_hex("x");
        assert_eq!(hex(&hash_to_bytes(&h).unwrap()), h);
        assert!(hash_to_bytes("zz").is_none());
    }

    #[test]
    fn ct_eq_compares_exactly() {
        assert!(ct_eq("abc", "abc"));
        assert!(!ct_eq("abc", "abd"));
        assert!(!ct_eq("abc", "abcd"));
        assert!(!ct_eq("", "a"));
    }

    #[test]
    fn sealed_tokens_open_only_with_their_key_and_unaltered() {
        let s = Sealer::new("key-one");
        let t = s.seal(b"hello").unwrap();
        assert_eq!(s.open(&t).unwrap(), b"hello");
        assert_ne!(t, s.seal(b"hello").unwrap(), "fresh nonce each time");
        assert!(Sealer::new("key-two").open(&t).is_none());
        let mut altered = t.clone().into_bytes();
        let last = altered.len() - 2;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert!(s.open(std::str::from_utf8(&altered).unwrap()).is_none());
        assert!(s.open(&t[..t.len() - 4]).is_none());
        assert!(s.open("not base64 !").is_none());
        assert!(s.open("").is_none());
    }
}

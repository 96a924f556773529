//! Access tokens: HS256 JWTs with a `kid` header naming the signing key. Expiry is checked
//! in milliseconds against our own clock (so tests can move it), not with `exp` seconds.
//!
//! Signing uses `jsonwebtoken`. Verification is the hot path of every request, so it is done
//! here in one pass (`jsonwebtoken::decode` parses the header twice and the claims twice):
//! only the exact header our key writes is accepted (which pins HS256 and the key id), the
//! HMAC is keyed once per key, and the claims are parsed once.

use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use sha2::Sha256;

use crate::b64;
use crate::error::{AuthError, Result};

mod claims;
mod parse;

pub use claims::{Claims, VerifiedClaims};
pub use parse::parse_claims;
#[cfg(any(test, fuzzing))]
pub(crate) use parse::parse_claims_as_signed;

/// Far above any token we mint (cookies stop at 4096 bytes); refuse bigger input unread.
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Decoded claims up to this size (all we mint but those with big app payloads) are decoded
/// into a stack buffer.
const PAYLOAD_ON_STACK: usize = 1024;

/// One HMAC key with its id, prepared once: the encoding key, the keyed HMAC state and the
/// encoded header every token signed with it starts with.
pub struct SigningKey {
    /// Unique in the process, never reused: names this very key object in the verified-token
    /// cache without holding an `Arc` there (a clone and a drop are two atomic operations
    /// per cache miss, each waiting for the miss's writes to cold memory).
    pub instance: u64,
    pub kid: String,
    pub created_at: u64,
    encoding: EncodingKey,
    mac: Hmac<Sha256>,
    header_b64: String,
    /// The header of tokens minted before key ids came from the key (`k<created_at>`), so
    /// they keep verifying until they expire.
    legacy_header_b64: Option<String>,
}

fn header_for(kid: &str) -> Header {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_string());
    header
}

/// The first segment of any token signed under `kid` (serialisation is deterministic).
fn header_b64(kid: &str, encoding: &EncodingKey) -> String {
    let sample = jsonwebtoken::encode(&header_for(kid), &(), encoding).unwrap_or_default();
    sample.split('.').next().unwrap_or_default().to_string()
}

impl SigningKey {
    /// `legacy_kid`: an older id of the same key whose tokens still verify.
    pub fn new(kid: String, legacy_kid: Option<&str>, created_at: u64, secret: &str) -> Self {
        let encoding = EncodingKey::from_secret(secret.as_bytes());
        static INSTANCES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        SigningKey {
            instance: INSTANCES.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            header_b64: header_b64(&kid, &encoding),
            legacy_header_b64: legacy_kid.map(|k| header_b64(k, &encoding)),
            kid,
            created_at,
            mac: Hmac::<Sha256>::new_from_slice(secret.as_bytes())
                .expect("HMAC takes any key length"),
            encoding,
        }
    }

    /// The keyed HMAC state, for tokens of the original library's form (see `legacy`).
    pub(crate) fn mac(&self) -> &Hmac<Sha256> {
        &self.mac
    }

    /// True when `token_header` (the first segment) is exactly one this key writes or wrote.
    pub fn wrote_header(&self, token_header: &str) -> bool {
        self.header_b64 == token_header || self.legacy_header_b64.as_deref() == Some(token_header)
    }
}

/// The three segments of a compact JWT.
pub struct Parts<'a> {
    pub token: &'a str,
    pub header: &'a str,
    payload: &'a str,
    pub signature: &'a str,
    signed: &'a str,
}

/// Splits a token at its first and last dot (`verify` rejects a payload holding more dots);
/// anything else is TRY_REFRESH_TOKEN, like every other bad access token.
pub fn split(token: &str) -> Result<Parts<'_>> {
    let bad = || AuthError::try_refresh("access token is malformed");
    if token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::try_refresh("access token is too long"));
    }
    let (signed, signature) = token.rsplit_once('.').ok_or_else(bad)?;
    let (header, payload) = signed.split_once('.').ok_or_else(bad)?;
    Ok(Parts {
        token,
        header,
        payload,
        signature,
        signed,
    })
}

fn present_raw<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(d).map(Some)
}

pub fn sign(key: &SigningKey, claims: &Claims) -> Result<String> {
    jsonwebtoken::encode(&header_for(&key.kid), claims, &key.encoding)
        .map_err(|e| AuthError::general(format!("could not sign access token: {e}")))
}

/// The key id a token's header names (the slow path, for headers no cached key wrote).
pub fn kid(parts: &Parts) -> Result<String> {
    let header = jsonwebtoken::decode_header(parts.token)
        .map_err(|_| AuthError::try_refresh("access token is malformed"))?;
    header
        .kid
        .ok_or_else(|| AuthError::try_refresh("access token names no key"))
}

/// Checks header, signature (constant time) and expiry. Every failure is TRY_REFRESH_TOKEN.
pub fn verify(parts: &Parts, key: &SigningKey, now_ms: u64) -> Result<VerifiedClaims> {
    let invalid = || AuthError::try_refresh("access token is invalid");
    if !key.wrote_header(parts.header) || parts.payload.contains('.') {
        return Err(invalid());
    }
    // Decoded on the stack (a too-long segment does not fit: invalid), not into two `Vec`s:
    // on a cache miss two allocations and frees would be a visible share of the call.
    let mut signature = [0u8; 48];
    let signature_len =
        b64::decode(parts.signature.as_bytes(), &mut signature).ok_or_else(invalid)?;
    let mut mac = key.mac.clone();
    mac.update(parts.signed.as_bytes());
    // Constant time like `verify_slice`, without `subtle`'s per-byte optimisation barrier.
    let expected: [u8; 32] = mac.finalize().into_bytes().into();
    if !constant_time_eq::constant_time_eq(&expected, &signature[..signature_len]) {
        return Err(invalid());
    }
    let mut on_stack = [0u8; PAYLOAD_ON_STACK];
    let mut on_heap = Vec::new();
    let json = if parts.payload.len() / 4 * 3 + 3 <= PAYLOAD_ON_STACK {
        &mut on_stack[..]
    } else {
        on_heap.resize(parts.payload.len() / 4 * 3 + 3, 0);
        &mut on_heap[..]
    };
    let json_len = b64::decode(parts.payload.as_bytes(), json).ok_or_else(invalid)?;
    let claims = parse_claims(&json[..json_len]).ok_or_else(invalid)?;
    if claims.expiry_time <= now_ms {
        return Err(AuthError::try_refresh("access token has expired"));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod timing;

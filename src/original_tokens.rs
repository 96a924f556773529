//! Tokens minted by the original JavaScript library (5.x), accepted while an app migrates
//! (`tokens.acceptOriginalTokens`, on by default) so that switching logs nobody out. They
//! use the same key rows and the same refresh-token hashes as ours; only the encodings differ:
//! - access token: `H.base64(claims JSON).hex(HMAC-SHA256(H.payload))`, H the fixed header,
//!   standard padded base64, signed with the stored signing key;
//! - refresh token: `base64(salt[64] | iv[16] | tag[16] | ciphertext).nonce`, AES-256-GCM
//!   under PBKDF2-SHA512(refresh key text, salt, 100 rounds), the nonce repeated inside.
//!
//! The same rules as for our own tokens: the exact header, a constant-time HMAC check, expiry
//! enforced; any failure is TRY_REFRESH_TOKEN (access) or UNAUTHORISED (refresh).

use aes_gcm::aead::consts::U16;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::Mac;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use sha2::Sha512;

use crate::access_token::{Claims, SigningKey};
use crate::crypto::hash_to_bytes;
use crate::error::{AuthError, Result};
use crate::refresh_token::RefreshTokenInfo;

/// `base64({"alg":"HS256","typ":"JWT"})`: the only header the original wrote.
const HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
/// Far above any token the original minted into a cookie; refuse bigger input unread.
const MAX_TOKEN_LEN: usize = 16 * 1024;
const SALT_LEN: usize = 64;
const IV_LEN: usize = 16;
const TAG_LEN: usize = 16;
const PBKDF2_ROUNDS: u32 = 100;

/// True for a token in the original's access-token form (ours always name a key id).
pub fn is_access_token(token: &str) -> bool {
    token
        .strip_prefix(HEADER)
        .is_some_and(|rest| rest.starts_with('.'))
}

/// True for a token in the original's refresh-token form: `<base64>.<64 hex>`. Ours are
/// base64url without dots, so the two forms never overlap.
pub fn is_refresh_token(token: &str) -> bool {
    token
        .split_once('.')
        .is_some_and(|(_, nonce)| nonce.len() == 64 && nonce.bytes().all(is_lower_hex))
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

/// The user id as the original wrote it into a token: a string, or a JS number, which is
/// the number's JSON text here (our user ids are strings).
#[derive(Deserialize)]
#[serde(transparent)]
struct UserId(Box<RawValue>);

impl UserId {
    fn into_text(self) -> Option<String> {
        let raw = self.0.get();
        if raw.starts_with('"') {
            serde_json::from_str(raw).ok()
        } else {
            is_number_text(raw).then(|| raw.to_string())
        }
    }
}

/// A JS number's text as JSON.stringify writes a plain one (`12`, `-3`, `1.5`).
fn is_number_text(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(int) && all_digits(frac) && (int == "0" || !int.starts_with('0'))
}

/// How the original stored a numeric user id N in the session table: `{"i":N}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredNumericUserId<'a> {
    #[serde(borrow)]
    i: &'a RawValue,
}

/// The user id of a session row as our API gives it: the original's `{"i":N}` is `N`'s
/// text, anything else the stored text itself.
pub fn user_id_from_row(stored: String) -> String {
    match serde_json::from_str::<StoredNumericUserId>(&stored) {
        Ok(n) if is_number_text(n.i.get()) => n.i.get().to_string(),
        _ => stored,
    }
}

/// The original's stored form of `user_id` when it reads as a number, so user-keyed
/// statements find the sessions the original created for a numeric id as well.
pub fn stored_numeric_user_id(user_id: &str) -> Option<String> {
    is_number_text(user_id).then(|| format!("{{\"i\":{user_id}}}"))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OriginalClaims {
    session_handle: String,
    user_id: UserId,
    rt: String,
    #[serde(default)]
    prt: Option<String>,
    #[serde(default)]
    anti_csrf_token: Option<String>,
    expiry_time: u64,
    /// Absent when the app passed `undefined`; JSON `null` stays `null`.
    #[serde(default, deserialize_with = "present_raw")]
    user_payload: Option<Box<RawValue>>,
}

fn present_raw<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(d).map(Some)
}

/// Verifies an access token of the original's form against `keys` (the stored keys still
/// valid, or the app's key) and returns its claims.
pub fn verify_access_token(token: &str, keys: &[&SigningKey], now_ms: u64) -> Result<Claims> {
    let invalid = || AuthError::try_refresh("access token is invalid");
    if token.len() > MAX_TOKEN_LEN || !is_access_token(token) {
        return Err(invalid());
    }
    let (signed, signature_hex) = token.rsplit_once('.').ok_or_else(invalid)?;
    let payload = &signed[HEADER.len() + 1..];
    if payload.contains('.') {
        return Err(invalid());
    }
    // Node's `digest("hex")`: 64 lowercase hex digits.
    let signature = hash_to_bytes(signature_hex).ok_or_else(invalid)?;
    let signed_by_a_key = keys.iter().any(|key| {
        let mut mac = key.mac().clone();
        mac.update(signed.as_bytes());
        mac.verify_slice(&signature).is_ok()
    });
    if !signed_by_a_key {
        return Err(invalid());
    }
    let json = STANDARD.decode(payload).map_err(|_| invalid())?;
    let c: OriginalClaims = serde_json::from_slice(&json).map_err(|_| invalid())?;
    if c.expiry_time <= now_ms {
        return Err(AuthError::try_refresh("access token has expired"));
    }
    Ok(Claims {
        session_handle: c.session_handle,
        user_id: c.user_id.into_text().ok_or_else(invalid)?,
        rt: c.rt,
        prt: c.prt,
        anti_csrf_token: c.anti_csrf_token,
        expiry_time: c.expiry_time,
        user_payload: c.user_payload,
    })
}

/// The refresh key's text, from which the original derived a key per token.
pub struct RefreshKey(String);

impl RefreshKey {
    pub fn new(key_text: &str) -> Self {
        RefreshKey(key_text.to_string())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OriginalRefreshClaims {
    session_handle: String,
    user_id: UserId,
    #[serde(default)]
    prt: Option<String>,
    nonce: String,
}

/// Opens a refresh token of the original's form; anything else is UNAUTHORISED.
pub fn open_refresh_token(key: &RefreshKey, token: &str) -> Result<RefreshTokenInfo> {
    let bad = || AuthError::unauthorised("refresh token is invalid");
    if token.len() > MAX_TOKEN_LEN || !is_refresh_token(token) {
        return Err(bad());
    }
    let (sealed_b64, nonce) = token.split_once('.').ok_or_else(bad)?;
    let sealed = STANDARD.decode(sealed_b64).map_err(|_| bad())?;
    if sealed.len() <= SALT_LEN + IV_LEN + TAG_LEN {
        return Err(bad());
    }
    let (salt, rest) = sealed.split_at(SALT_LEN);
    let (iv, rest) = rest.split_at(IV_LEN);
    let (tag, ciphertext) = rest.split_at(TAG_LEN);
    let mut derived = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha512>(key.0.as_bytes(), salt, PBKDF2_ROUNDS, &mut derived);
    let cipher = AesGcm::<Aes256, U16>::new(&derived.into());
    let mut input = Vec::with_capacity(ciphertext.len() + TAG_LEN);
    input.extend_from_slice(ciphertext);
    input.extend_from_slice(tag);
    let plain = cipher
        .decrypt(Nonce::<U16>::from_slice(iv), input.as_slice())
        .map_err(|_| bad())?;
    let c: OriginalRefreshClaims = serde_json::from_slice(&plain).map_err(|_| bad())?;
    // The nonce outside must be the one sealed inside (the original's own check).
    if c.nonce != nonce || c.session_handle.is_empty() {
        return Err(bad());
    }
    Ok(RefreshTokenInfo {
        session_handle: c.session_handle,
        parent_hash1: c.prt,
        user_id: Some(c.user_id.into_text().ok_or_else(bad)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_the_originals() {
        assert_eq!(HEADER, STANDARD.encode(br#"{"alg":"HS256","typ":"JWT"}"#));
    }

    #[test]
    fn the_forms_are_told_apart() {
        assert!(is_access_token(&format!("{HEADER}.e30=.00")));
        assert!(!is_access_token(HEADER));
        assert!(!is_access_token(&format!("{HEADER}x.e30=.00")));
        let nonce = "a".repeat(64);
        assert!(is_refresh_token(&format!("abc+/=.{nonce}")));
        assert!(!is_refresh_token(&format!("abc.{}", "A".repeat(64))));
        assert!(!is_refresh_token("abc_-"));
    }

    #[test]
    fn numeric_user_ids_read_as_their_text() {
        assert_eq!(user_id_from_row(r#"{"i":1000}"#.into()), "1000");
        assert_eq!(user_id_from_row(r#"{"i":-1.5}"#.into()), "-1.5");
        for kept in [
            r#"{"i":"x"}"#,
            r#"{"i":1,"j":2}"#,
            "1000",
            r#"{"i":01}"#,
            "alice",
        ] {
            assert_eq!(user_id_from_row(kept.into()), kept);
        }
        assert_eq!(
            stored_numeric_user_id("1000").as_deref(),
            Some(r#"{"i":1000}"#)
        );
        for not_a_number in ["", "-", "1e3", "01", "1.", " 1", "0x10", "alice"] {
            assert_eq!(stored_numeric_user_id(not_a_number), None, "{not_a_number}");
        }
    }

    #[test]
    fn signatures_must_be_lowercase_hex_of_32_bytes() {
        assert!(hash_to_bytes(&"0f".repeat(32)).is_some());
        assert!(hash_to_bytes(&"0F".repeat(32)).is_none());
        assert!(hash_to_bytes(&"0f".repeat(31)).is_none());
    }
}

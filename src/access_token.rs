//! Access tokens: HS256 JWTs with a `kid` header naming the signing key. Expiry is checked
//! in milliseconds against our own clock (so tests can move it), not with `exp` seconds.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use crate::error::{AuthError, Result};

/// Far above any token we mint (cookies stop at 4096 bytes); refuse bigger input unread.
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// One HMAC key with its id; the `jsonwebtoken` key objects are built once, not per call.
pub struct SigningKey {
    pub kid: String,
    pub created_at: u64,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl SigningKey {
    pub fn new(kid: String, created_at: u64, secret: &str) -> Self {
        SigningKey {
            kid,
            created_at,
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
        }
    }
}

/// What an access token says. `rt` is the sha256 of its refresh token; `prt` the sha256 of
/// that token's parent while the refresh token is still a child (not yet promoted).
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    pub session_handle: String,
    pub user_id: String,
    pub rt: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub prt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub anti_csrf_token: Option<String>,
    pub expiry_time: u64,
    /// The app's JWT payload as raw JSON text, embedded without re-encoding; absent when the
    /// app passed `undefined` (JSON `null` stays `null`).
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "present_raw"
    )]
    pub user_payload: Option<Box<RawValue>>,
}

fn present_raw<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(d).map(Some)
}

pub fn sign(key: &SigningKey, claims: &Claims) -> Result<String> {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding)
        .map_err(|e| AuthError::general(format!("could not sign access token: {e}")))
}

/// The key id a token names, read before the signature is checked so the right key can be
/// picked. Anything unreadable is TRY_REFRESH_TOKEN, like every other bad access token.
pub fn kid(token: &str) -> Result<String> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::try_refresh("access token is too long"));
    }
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| AuthError::try_refresh("access token is malformed"))?;
    header
        .kid
        .ok_or_else(|| AuthError::try_refresh("access token names no key"))
}

fn validation() -> &'static Validation {
    static V: std::sync::OnceLock<Validation> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        let mut v = Validation::new(Algorithm::HS256);
        v.validate_exp = false;
        v.required_spec_claims.clear();
        v
    })
}

/// Checks signature (HS256 only) and expiry. Every failure is TRY_REFRESH_TOKEN.
pub fn verify(token: &str, key: &SigningKey, now_ms: u64) -> Result<Claims> {
    let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, validation())
        .map_err(|_| AuthError::try_refresh("access token is invalid"))?;
    if data.claims.expiry_time <= now_ms {
        return Err(AuthError::try_refresh("access token has expired"));
    }
    Ok(data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(expiry: u64, payload: Option<&str>) -> Claims {
        Claims {
            session_handle: "h".into(),
            user_id: "u".into(),
            rt: "rt".into(),
            prt: None,
            anti_csrf_token: Some("csrf".into()),
            expiry_time: expiry,
            user_payload: payload.map(|p| RawValue::from_string(p.into()).unwrap()),
        }
    }

    #[test]
    fn round_trip_keeps_payload_text_and_null() {
        let key = SigningKey::new("k1".into(), 1, "secret");
        for p in [
            Some(r#"{"a":[1,2,{"b":null}]}"#),
            Some("null"),
            Some("\"s\""),
            None,
        ] {
            let t = sign(&key, &claims(2000, p)).unwrap();
            assert_eq!(kid(&t).unwrap(), "k1");
            let c = verify(&t, &key, 1000).unwrap();
            assert_eq!(c.user_payload.as_deref().map(RawValue::get), p);
            assert_eq!(c.anti_csrf_token.as_deref(), Some("csrf"));
        }
    }

    #[test]
    fn rejects_expired_foreign_and_altered_tokens() {
        let key = SigningKey::new("k1".into(), 1, "secret");
        let t = sign(&key, &claims(2000, None)).unwrap();
        assert_eq!(verify(&t, &key, 2000).unwrap_err().code(), 3000);
        let other = SigningKey::new("k1".into(), 1, "other");
        assert_eq!(verify(&t, &other, 1000).unwrap_err().code(), 3000);
        let mut parts: Vec<&str> = t.split('.').collect();
        parts[2] = "AAAA";
        assert!(verify(&parts.join("."), &key, 1000).is_err());
        assert!(kid("nonsense").is_err());
        assert!(kid(&"a".repeat(MAX_TOKEN_LEN + 1)).is_err());
    }

    #[test]
    fn rejects_alg_none() {
        use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
        let key = SigningKey::new("k1".into(), 1, "secret");
        let t = sign(&key, &claims(2000, None)).unwrap();
        let body = t.split('.').nth(1).unwrap();
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k1"}"#);
        assert!(verify(&format!("{header}.{body}."), &key, 1000).is_err());
    }
}

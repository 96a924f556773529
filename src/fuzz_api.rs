//! Entry points for the cargo-fuzz targets in `fuzz/` (compiled only with `--cfg fuzzing`,
//! which cargo-fuzz sets; never part of the addon). Each one runs a parser of untrusted input
//! the way the session code does, with fixed keys, and asserts the documented error kind, so
//! a wrong error code is a crash the fuzzer reports just like a panic.

use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::access_token::{self, Claims, SigningKey};
use crate::crypto::Sealer;
use crate::token_cache::TokenCache;
use crate::{config, refresh_token};

/// The HMAC secret of the fixed signing key (as if read from the key table).
pub const SIGNING_SECRET: &str = "fuzz-signing-secret";
/// The fixed signing key's id, as `keys` names keys (`k<created_at>`).
pub const SIGNING_KID: &str = "k1";
/// The fixed refresh key text (as if read from the key table).
pub const REFRESH_KEY: &str = "fuzz-refresh-key";
/// "Now" for expiry checks: fixed, so a run is reproducible.
pub const NOW_MS: u64 = 1_700_000_000_000;

fn signing_key() -> &'static Arc<SigningKey> {
    static K: OnceLock<Arc<SigningKey>> = OnceLock::new();
    K.get_or_init(|| Arc::new(SigningKey::new(SIGNING_KID.into(), None, 1, SIGNING_SECRET)))
}

/// One cache for the whole run, like the engine's: inputs that verified stay in it (up to its
/// capacity), so later inputs are checked against it.
fn token_cache() -> &'static TokenCache {
    static C: OnceLock<TokenCache> = OnceLock::new();
    C.get_or_init(TokenCache::default)
}

fn sealer() -> &'static Sealer {
    static S: OnceLock<Sealer> = OnceLock::new();
    S.get_or_init(|| Sealer::new(REFRESH_KEY))
}

/// What a parser made of one input.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    /// Rejected with this documented error code.
    Rejected(u32),
}

/// An access token as `session::verify_claims` reads it with a stored key: `split` (length
/// and segments), the key lookup's parse of the header's key id (`keys::lookup` parses it for
/// any header the cached keys did not write; here always, to fuzz it), the verified-token
/// cache, then header, signature and expiry. Every rejection must be TRY_REFRESH_TOKEN
/// (3000). The cache must never return claims for a token that does not verify, nor other
/// claims than verification gives. An accepted token's claims must survive being signed again.
pub fn access_token(token: &str) -> Outcome {
    let key = signing_key();
    // The direct claims reader `verify` uses must agree with serde wherever it reads.
    if let Some(json) = token
        .split('.')
        .nth(1)
        .and_then(|segment| URL_SAFE_NO_PAD.decode(segment).ok())
    {
        if let Some(direct) = access_token::parse_claims_as_signed(&json) {
            let serde: Claims = serde_json::from_slice(&json)
                .expect("serde reads the claims the direct reader accepts");
            assert_eq!(direct.view(), serde.view(), "the claims readers disagree");
        }
    }
    let result = access_token::split(token).and_then(|parts| {
        if let Err(e) = access_token::kid(&parts) {
            assert_eq!(e.code(), 3000, "key-id rejection of the wrong kind: {e}");
        }
        let cached = token_cache().get(&parts, key, NOW_MS);
        let fresh = access_token::verify(&parts, key, NOW_MS);
        match (&cached, &fresh) {
            (Some(c), Ok(f)) => assert_eq!(c.view(), f.view(), "token cache returned other claims"),
            (Some(_), Err(e)) => panic!("token cache accepted a token that does not verify: {e}"),
            _ => {}
        }
        if fresh.is_ok() {
            let copy = access_token::verify(&parts, key, NOW_MS).expect("verifies twice");
            token_cache().put(&parts, key, copy);
        }
        fresh
    });
    match result {
        Ok(claims) => {
            assert!(claims.expiry_time > NOW_MS);
            let again =
                access_token::sign(key, &claims.to_claims()).expect("accepted claims must re-sign");
            let back = access_token::split(&again)
                .and_then(|p| access_token::verify(&p, key, NOW_MS))
                .expect("re-signed token verifies");
            assert_eq!(
                back.view(),
                claims.view(),
                "claims changed through sign and verify"
            );
            Outcome::Accepted
        }
        Err(e) => {
            assert_eq!(
                e.code(),
                3000,
                "access-token rejection of the wrong kind: {e}"
            );
            Outcome::Rejected(e.code())
        }
    }
}

fn encoding_key() -> EncodingKey {
    EncodingKey::from_secret(SIGNING_SECRET.as_bytes())
}

fn sign_segments(header_b64: &str, payload: &[u8]) -> String {
    let message = format!("{header_b64}.{}", URL_SAFE_NO_PAD.encode(payload));
    let sig = jsonwebtoken::crypto::sign(message.as_bytes(), &encoding_key(), Algorithm::HS256)
        .expect("HS256 signing cannot fail");
    format!("{message}.{sig}")
}

/// `base64url(header).base64url(payload).HS256(…)` under the fixed signing key, for arbitrary
/// header bytes: reaches the key-id parser with headers that are correctly signed.
pub fn sign_parts(header: &[u8], payload: &[u8]) -> String {
    sign_segments(&URL_SAFE_NO_PAD.encode(header), payload)
}

/// A token with the exact header the fixed key writes and an arbitrary payload, signed: the
/// only way past the header and signature checks to the claims parser.
pub fn sign_payload(payload: &[u8]) -> String {
    static HEADER: OnceLock<String> = OnceLock::new();
    let header = HEADER.get_or_init(|| {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(SIGNING_KID.into());
        let sample = jsonwebtoken::encode(&h, &(), &encoding_key()).expect("header encodes");
        sample
            .split('.')
            .next()
            .expect("three segments")
            .to_string()
    });
    sign_segments(header, payload)
}

/// A refresh token as `session::refresh` reads it: `refresh_token::open` with the refresh key.
/// Every rejection must be UNAUTHORISED (2000). An accepted token must name a non-empty handle
/// and open to the same contents when created again.
pub fn refresh_token(token: &str) -> Outcome {
    let s = sealer();
    match refresh_token::open(s, token) {
        Ok(info) => {
            assert!(!info.session_handle.is_empty());
            let again =
                refresh_token::create(s, &info.session_handle, info.parent_hash1.as_deref())
                    .expect("accepted contents must seal again");
            assert_eq!(
                refresh_token::open(s, &again).expect("re-sealed token opens"),
                info
            );
            Outcome::Accepted
        }
        Err(e) => {
            assert_eq!(
                e.code(),
                2000,
                "refresh-token rejection of the wrong kind: {e}"
            );
            Outcome::Rejected(e.code())
        }
    }
}

/// Seals arbitrary contents under the fixed refresh key with a nonce taken from the input
/// (deterministic, unlike `Sealer::seal`): lets a target reach the contents parser of
/// `refresh_token::open`. Same format as `Sealer`: base64url(nonce || ciphertext || tag).
pub fn seal_with_nonce(nonce: [u8; 12], plain: &[u8]) -> String {
    let cipher = Aes256Gcm::new(&Sha256::digest(REFRESH_KEY.as_bytes()));
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce), plain)
        .expect("AES-GCM sealing cannot fail for short input");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    let token = URL_SAFE_NO_PAD.encode(out);
    if token.len() <= 1024 {
        // The harness's format must be the one `Sealer` opens, or mode 1 tests nothing.
        assert_eq!(sealer().open(&token).as_deref(), Some(plain));
    }
    token
}

/// The `init` config as the addon receives it: JSON text (from `JSON.stringify` in lib/),
/// parsed with serde_json as `api::init` does, then `config::parse`. Every rejection must be
/// GENERAL_ERROR (1000). For an accepted config, also computes the removal job's first run
/// from its cron expression, as `cleanup::spawn` does.
pub fn config(json: &[u8]) -> Outcome {
    let Ok(text) = std::str::from_utf8(json) else {
        // A JS string always arrives as UTF-8; not reachable from the boundary.
        return Outcome::Rejected(1000);
    };
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return Outcome::Rejected(1000);
    };
    match config::parse(&value) {
        Ok(c) => {
            assert!(!c.mysql.database.is_empty());
            assert_ne!(c.mysql.signing_key_table, c.mysql.refresh_token_table);
            assert!(!c.mysql.hosts.is_empty() && c.mysql.hosts.iter().all(|h| h.port >= 1));
            assert!(c.access_token.path.starts_with('/'));
            assert!(c.refresh_token.path.starts_with('/'));
            let schedule = cron::Schedule::from_str(&c.refresh_token.removal_cron)
                .expect("a validated cron expression parses");
            let _ = schedule.upcoming(chrono::Utc).next();
            Outcome::Accepted
        }
        Err(e) => {
            assert_eq!(e.code(), 1000, "config rejection of the wrong kind: {e}");
            Outcome::Rejected(e.code())
        }
    }
}

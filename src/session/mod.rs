//! The session protocol (SPEC §3/§4): create, verify, refresh with theft detection, revoke,
//! session data; one file per operation family. Token values and hashes never leave these
//! modules in an error message.

mod create;
mod data;
mod refresh;
mod users;
mod verify;

use std::sync::Arc;

use serde_json::value::RawValue;

use crate::access_token::{self, Claims, SigningKey};
use crate::clock::now_ms;
use crate::crypto::{ct_eq, uuid_v4};
use crate::engine::Engine;
use crate::error::{AuthError, Result};
use crate::keys;
use crate::store::Rotation;

pub use create::create;
pub use data::{get_data, merge_data, update_data};
pub use refresh::refresh;
pub use users::{handles_for_user, revoke, revoke_all_for_user, revoke_others, sessions_for_user};
pub use verify::{get_with_db, get_without_db, Checked, FirstCheck};

/// user_id is VARCHAR(128); session_info / jwt_user_payload are TEXT (65,535 bytes).
pub(super) const MAX_USER_ID_CHARS: usize = 128;
pub(super) const MAX_JSON_BYTES: usize = crate::store::MAX_DATA_BYTES;

/// A session's new tokens (a login's, or a refresh's); times are ms since the epoch.
pub struct NewSession {
    pub handle: String,
    pub access_token: String,
    pub access_token_expires: u64,
    pub refresh_token: String,
    pub refresh_token_expires: u64,
    pub id_refresh_token: String,
    pub anti_csrf_token: Option<String>,
}

/// A refresh's answer: the new tokens and the session's user and payload, which the caller
/// of a refresh does not know yet.
pub struct Refreshed {
    pub tokens: NewSession,
    pub user_id: String,
    pub jwt_payload: Option<String>,
}

pub struct VerifiedSession {
    pub handle: String,
    pub user_id: String,
    pub jwt_payload: Option<String>,
    /// Set when a child token was promoted: the replacement without the parent link.
    pub new_access_token: Option<(String, u64)>,
}

/// The app's key for this call when it supplies keys, else the stored one.
pub enum KeySource<'a> {
    Stored,
    App(&'a str),
}

pub(super) fn check_user_id(user_id: &str) -> Result<()> {
    if user_id.chars().count() > MAX_USER_ID_CHARS {
        return Err(AuthError::general(format!(
            "userId is longer than {MAX_USER_ID_CHARS} characters"
        )));
    }
    Ok(())
}

/// JSON text from the JS layer, size-checked; `None` stands for `undefined`.
pub(super) fn check_json(name: &str, json: Option<&str>) -> Result<()> {
    let Some(text) = json else { return Ok(()) };
    if text.len() > MAX_JSON_BYTES {
        return Err(AuthError::general(format!(
            "{name} is {} bytes of JSON; at most {MAX_JSON_BYTES} fit",
            text.len()
        )));
    }
    serde_json::from_str::<&RawValue>(text)
        .map(|_| ())
        .map_err(|_| AuthError::general(format!("{name} is not valid JSON")))
}

/// The stored form: JSON text, `""` for undefined (the original library's convention).
pub(super) fn stored_json(json: Option<&str>) -> &str {
    json.unwrap_or("")
}

pub(super) fn json_from_store(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

pub(super) fn raw_payload(json: Option<&str>) -> Result<Option<Box<RawValue>>> {
    json.map(|t| {
        RawValue::from_string(t.to_string())
            .map_err(|_| AuthError::general("jwtPayload is not valid JSON"))
    })
    .transpose()
}

pub(super) async fn signing_key(e: &Engine, source: &KeySource<'_>) -> Result<Arc<SigningKey>> {
    match source {
        KeySource::App(secret) => Ok(Arc::new(keys::app_key(secret)?)),
        KeySource::Stored => e.keys.for_signing(&e.store, &e.log).await,
    }
}

/// Tokens for a session whose current refresh token hashes to `rt_hash1`.
pub(super) struct AccessTokenFor<'a> {
    pub handle: &'a str,
    pub user_id: &'a str,
    pub rt_hash1: String,
    pub parent_hash1: Option<String>,
    pub anti_csrf: Option<String>,
    pub payload: Option<&'a str>,
}

pub(super) async fn mint_access_token(
    e: &Engine,
    source: &KeySource<'_>,
    t: AccessTokenFor<'_>,
) -> Result<(String, u64)> {
    let key = signing_key(e, source).await?;
    let expiry = now_ms() + e.config.access_token.validity_ms;
    let claims = Claims {
        session_handle: t.handle.to_string(),
        user_id: t.user_id.to_string(),
        rt: t.rt_hash1,
        prt: t.parent_hash1,
        anti_csrf_token: t.anti_csrf,
        expiry_time: expiry,
        user_payload: raw_payload(t.payload)?,
    };
    Ok((access_token::sign(&key, &claims)?, expiry))
}

pub(super) fn new_anti_csrf(e: &Engine) -> Result<Option<String>> {
    e.config.anti_csrf.then(uuid_v4).transpose()
}

/// When a refresh token issued at `now` for a session created at `created_at` expires: one
/// refresh-token validity, but never past the absolute lifetime.
pub(super) fn refresh_expiry(e: &Engine, now: u64, created_at: u64) -> u64 {
    let rolling = now + e.config.refresh_token.validity_ms;
    match e.config.refresh_token.absolute_validity_ms {
        Some(absolute) => rolling.min(created_at + absolute),
        None => rolling,
    }
}

/// With `reuseGraceSeconds`: the current parent's hash1 when `hash2` is the parent the last
/// rotation replaced and that rotation is less than the window old. The window is counted
/// from the rotation only, so reusing the old token never extends it.
pub(super) fn in_grace<'r>(
    e: &Engine,
    rotation: Option<&'r Rotation>,
    hash2: &str,
    now: u64,
) -> Option<&'r str> {
    let window = e.config.refresh_token.reuse_grace_ms;
    rotation
        .filter(|r| window > 0 && now < r.at + window && ct_eq(&r.previous_hash2, hash2))
        .map(|r| r.parent_hash1.as_str())
}

pub(super) fn revoked() -> AuthError {
    AuthError::unauthorised("session has been revoked")
}

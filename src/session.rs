//! The session protocol (SPEC §3/§4): create, verify, refresh with theft detection, revoke,
//! session data. Token values and hashes never leave this module in an error message.

use std::sync::Arc;

use serde_json::value::RawValue;

use crate::access_token::{self, Claims, SigningKey, VerifiedClaims};
use crate::clock::now_ms;
use crate::crypto::{ct_eq, sha256_hex, uuid_v4};
use crate::engine::Engine;
use crate::error::{AuthError, Result};
use crate::keys::{self, Lookup};
use crate::metrics::METRICS;
use crate::original_tokens;
use crate::refresh_token::{self, RefreshTokenInfo};
use crate::store::{Client, NewRow, Promotion, Rotation, SessionInfo, Touch};

/// user_id is VARCHAR(128); session_info / jwt_user_payload are TEXT (65,535 bytes).
const MAX_USER_ID_CHARS: usize = 128;
const MAX_JSON_BYTES: usize = crate::store::MAX_DATA_BYTES;
/// Browsers silently drop a cookie whose name and value exceed 4096 bytes.
const MAX_COOKIE_BYTES: usize = 4096;
const ACCESS_COOKIE_NAME: &str = "sAccessToken";

pub struct NewSession {
    pub handle: String,
    pub user_id: String,
    pub jwt_payload: Option<String>,
    pub access_token: String,
    pub access_token_expires: u64,
    pub refresh_token: String,
    pub refresh_token_expires: u64,
    pub id_refresh_token: String,
    pub anti_csrf_token: Option<String>,
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

fn check_user_id(user_id: &str) -> Result<()> {
    if user_id.chars().count() > MAX_USER_ID_CHARS {
        return Err(AuthError::general(format!(
            "userId is longer than {MAX_USER_ID_CHARS} characters"
        )));
    }
    Ok(())
}

/// JSON text from the JS layer, size-checked; `None` stands for `undefined`.
fn check_json(name: &str, json: Option<&str>) -> Result<()> {
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
fn stored_json(json: Option<&str>) -> &str {
    json.unwrap_or("")
}

fn json_from_store(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

fn raw_payload(json: Option<&str>) -> Result<Option<Box<RawValue>>> {
    json.map(|t| {
        RawValue::from_string(t.to_string())
            .map_err(|_| AuthError::general("jwtPayload is not valid JSON"))
    })
    .transpose()
}

async fn signing_key(e: &Engine, source: &KeySource<'_>) -> Result<Arc<SigningKey>> {
    match source {
        KeySource::App(secret) => Ok(Arc::new(keys::app_key(secret)?)),
        KeySource::Stored => e.keys.for_signing(&e.store, &e.log).await,
    }
}

/// Tokens for a session whose current refresh token hashes to `rt_hash1`.
struct AccessTokenFor<'a> {
    handle: &'a str,
    user_id: &'a str,
    rt_hash1: String,
    parent_hash1: Option<String>,
    anti_csrf: Option<String>,
    payload: Option<&'a str>,
}

async fn mint_access_token(
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

fn new_anti_csrf(e: &Engine) -> Result<Option<String>> {
    e.config.anti_csrf.then(uuid_v4).transpose()
}

pub async fn create(
    e: &Engine,
    user_id: String,
    jwt_payload: Option<String>,
    session_data: Option<String>,
    for_cookie: bool,
    source: KeySource<'_>,
    client: Client,
) -> Result<NewSession> {
    check_user_id(&user_id)?;
    check_json("jwtPayload", jwt_payload.as_deref())?;
    check_json("sessionData", session_data.as_deref())?;
    let handle = uuid_v4()?;
    let refresh_token = refresh_token::create(&e.keys.sealer, &handle, None)?;
    let rt_hash1 = sha256_hex(&refresh_token);
    let rt_hash2 = sha256_hex(&rt_hash1);
    let anti_csrf = new_anti_csrf(e)?;
    let (access_token, access_token_expires) = mint_access_token(
        e,
        &source,
        AccessTokenFor {
            handle: &handle,
            user_id: &user_id,
            rt_hash1,
            parent_hash1: None,
            anti_csrf: anti_csrf.clone(),
            payload: jwt_payload.as_deref(),
        },
    )
    .await?;
    if for_cookie && ACCESS_COOKIE_NAME.len() + 1 + access_token.len() > MAX_COOKIE_BYTES {
        return Err(AuthError::general(format!(
            "the access token would be {} bytes, over the {MAX_COOKIE_BYTES}-byte cookie limit \
             browsers enforce: make jwtPayload smaller",
            access_token.len()
        )));
    }
    let now = now_ms();
    let refresh_token_expires = refresh_expiry(e, now, now);
    let inserted = e
        .store
        .insert_session(
            &NewRow {
                handle: &handle,
                user_id: &user_id,
                refresh_token_hash2: &rt_hash2,
                session_data: stored_json(session_data.as_deref()),
                expires_at: refresh_token_expires,
                jwt_payload: stored_json(jwt_payload.as_deref()),
                created_at: now,
                client: &client,
            },
            e.config.max_sessions_per_user,
        )
        .await;
    match inserted {
        Ok(capped) => {
            METRICS.sessions_revoked.add(capped.len() as u64);
            e.revoked.add(capped.iter().map(String::as_str), now);
        }
        Err(err) => {
            forget_later(e, handle);
            return Err(err);
        }
    }
    METRICS.sessions_created.inc();
    Ok(NewSession {
        handle,
        user_id,
        jwt_payload,
        access_token,
        access_token_expires,
        refresh_token,
        refresh_token_expires,
        id_refresh_token: uuid_v4()?,
        anti_csrf_token: anti_csrf,
    })
}

/// When a refresh token issued at `now` for a session created at `created_at` expires: one
/// refresh-token validity, but never past the absolute lifetime.
fn refresh_expiry(e: &Engine, now: u64, created_at: u64) -> u64 {
    let rolling = now + e.config.refresh_token.validity_ms;
    match e.config.refresh_token.absolute_validity_ms {
        Some(absolute) => rolling.min(created_at + absolute),
        None => rolling,
    }
}

/// A failed INSERT may still have been committed (the answer lost with the connection):
/// delete the row once the database answers again, so a rejected login leaves nothing.
fn forget_later(e: &Engine, handle: String) {
    let store = e.store.clone();
    let started = e.orphans.forget(move || {
        let (store, handle) = (store.clone(), handle.clone());
        async move { store.delete_session(&handle).await.is_ok() }
    });
    if !started {
        e.log.error(
            "too many rejected logins are being cleaned up; this one's row, if it was \
             written, is left to the expired-session removal",
        );
    }
}

/// Claims that passed every check, and whether they came from the verified-token cache
/// (false: verified in full by this call).
pub struct Checked {
    pub claims: Arc<VerifiedClaims>,
    pub cache_hit: bool,
}

/// The checks every access token goes through; `None` from the key lookup means the key
/// must be reloaded from the database first.
fn verify_claims(
    e: &Engine,
    token: &str,
    anti_csrf: Option<&str>,
    source: &KeySource<'_>,
) -> Result<Option<Checked>> {
    // Every token this library issues is ASCII; refusing anything else first makes every
    // path (fast, database, Express) answer alike for look-alike characters.
    if !token.is_ascii() {
        return Err(AuthError::try_refresh("access token is malformed"));
    }
    let checked = if original_tokens::is_access_token(token) {
        verify_original(e, token, source)?
    } else {
        match verify_ours(e, token, source)? {
            Some(checked) => checked,
            None => return Ok(None),
        }
    };
    if let (true, Some(header)) = (e.config.anti_csrf, anti_csrf) {
        let matches = checked
            .claims
            .anti_csrf_token()
            .is_some_and(|t| ct_eq(t, header));
        if !matches {
            return Err(AuthError::try_refresh("anti-csrf check failed"));
        }
    }
    Ok(Some(checked))
}

/// An access token the original library minted, while the app still accepts them: checked
/// with every stored key still valid (its tokens name none), not cached (they die out).
fn verify_original(e: &Engine, token: &str, source: &KeySource<'_>) -> Result<Checked> {
    if !e.config.accept_original_tokens {
        return Err(AuthError::try_refresh(
            "access token is of the original library's form, which tokens.acceptOriginalTokens turned off",
        ));
    }
    let now = now_ms();
    let claims = match source {
        KeySource::App(secret) => {
            original_tokens::verify_access_token(token, &[&keys::app_key(secret)?], now)?
        }
        KeySource::Stored => {
            let keys = e.keys.verifying();
            let keys: Vec<&access_token::SigningKey> = keys.iter().map(|k| k.as_ref()).collect();
            original_tokens::verify_access_token(token, &keys, now)?
        }
    };
    Ok(Checked {
        claims: Arc::new(claims.into()),
        cache_hit: false,
    })
}

/// One of our own access tokens; `None` when its key must be reloaded first.
fn verify_ours(e: &Engine, token: &str, source: &KeySource<'_>) -> Result<Option<Checked>> {
    let parts = access_token::split(token)?;
    let now = now_ms();
    let (claims, cache_hit) = match source {
        KeySource::App(secret) => (
            Arc::new(access_token::verify(&parts, &keys::app_key(secret)?, now)?),
            false,
        ),
        KeySource::Stored => match e.keys.lookup(&parts) {
            Lookup::Found(key) => match e.verified_tokens.get(&parts, &key, now) {
                Some(claims) => (claims, true),
                None => {
                    let claims = access_token::verify(&parts, &key, now)?;
                    (e.verified_tokens.put(&parts, &key, claims), false)
                }
            },
            Lookup::Reload => return Ok(None),
            Lookup::Unknown => {
                return Err(AuthError::try_refresh(
                    "access token is signed by an unknown or retired key",
                ))
            }
        },
    };
    Ok(Some(Checked { claims, cache_hit }))
}

fn verified(claims: &VerifiedClaims, new_access_token: Option<(String, u64)>) -> VerifiedSession {
    VerifiedSession {
        handle: claims.session_handle().to_owned(),
        user_id: claims.user_id().to_owned(),
        jwt_payload: claims.user_payload().map(str::to_owned),
        new_access_token,
    }
}

/// With `reuseGraceSeconds`: the current parent's hash1 when `hash2` is the parent the last
/// rotation replaced and that rotation is less than the window old. The window is counted
/// from the rotation only, so reusing the old token never extends it.
fn in_grace<'r>(
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

fn revoked() -> AuthError {
    AuthError::unauthorised("session has been revoked")
}

/// The no-I/O path: `Ok(None)` when the database is needed (blacklisting, a child token to
/// promote, or a key id this process has not loaded yet). The claims are shared with the
/// verified-token cache, so the caller reads them without copying.
pub fn get_without_db(
    e: &Engine,
    token: &str,
    anti_csrf: Option<&str>,
    source: KeySource<'_>,
) -> Result<Option<Checked>> {
    match verify_claims(e, token, anti_csrf, &source)? {
        Some(c) if e.revoked.is_revoked(c.claims.session_handle()) => Err(revoked()),
        Some(c) if c.claims.prt().is_none() && !e.config.access_token.blacklisting => {
            METRICS.sessions_verified.inc();
            Ok(Some(c))
        }
        _ => Ok(None),
    }
}

pub async fn get(
    e: &Engine,
    token: &str,
    anti_csrf: Option<&str>,
    source: KeySource<'_>,
) -> Result<VerifiedSession> {
    let claims = match verify_claims(e, token, anti_csrf, &source)? {
        Some(c) => c,
        None => {
            if let Err(err) = e.keys.reload(&e.store).await {
                // Unverified input must not turn into a database error: log it, and treat
                // the key as unknown.
                e.log
                    .error(&format!("reloading the signing keys failed: {err}"));
                return Err(AuthError::try_refresh(
                    "access token is signed by an unknown key",
                ));
            }
            verify_claims(e, token, anti_csrf, &source)?
                .ok_or_else(|| AuthError::try_refresh("access token is signed by an unknown key"))?
        }
    }
    .claims;
    if e.revoked.is_revoked(claims.session_handle()) {
        return Err(revoked());
    }
    let Some(parent_hash1) = claims.prt() else {
        if e.config.access_token.blacklisting
            && !e
                .store
                .session_alive(claims.session_handle(), now_ms())
                .await?
        {
            return Err(AuthError::unauthorised(
                "session has been revoked or has expired",
            ));
        }
        METRICS.sessions_verified.inc();
        return Ok(verified(&claims, None));
    };
    // A child token's first use: make its refresh token the parent (one atomic UPDATE).
    let child_hash2 = sha256_hex(claims.rt());
    let handle = claims.session_handle();
    let now = now_ms();
    let expires = now + e.config.refresh_token.validity_ms;
    let parent_hash2 = sha256_hex(parent_hash1);
    let promotion = Promotion {
        handle,
        parent_hash2: &parent_hash2,
        child_hash1: claims.rt(),
        child_hash2: &child_hash2,
        now,
        expires_at: expires,
    };
    if !e.store.promote(&promotion).await? {
        match e.store.session(handle).await? {
            Some(row) if row.expires_at <= now => {
                return Err(AuthError::unauthorised("session has expired"))
            }
            None => return Err(AuthError::unauthorised("session does not exist anymore")),
            // A concurrent request promoted it already.
            Some(row) if ct_eq(&row.refresh_token_hash2, &child_hash2) => {}
            // A sibling (another tab's refresh of the same parent) was promoted a moment ago:
            // within the grace window this token still works, without a replacement; its
            // refresh then answers a child of the current parent.
            Some(row) if in_grace(e, row.rotation.as_ref(), &parent_hash2, now).is_some() => {
                METRICS.sessions_verified.inc();
                return Ok(verified(&claims, None));
            }
            Some(_) => {
                return Err(AuthError::unauthorised(
                    "the refresh token of this access token has been rotated out",
                ))
            }
        }
    }
    let payload = claims.user_payload();
    let new_token = mint_access_token(
        e,
        &source,
        AccessTokenFor {
            handle,
            user_id: claims.user_id(),
            rt_hash1: claims.rt().to_owned(),
            parent_hash1: None,
            anti_csrf: claims.anti_csrf_token().map(str::to_owned),
            payload,
        },
    )
    .await?;
    METRICS.sessions_verified.inc();
    Ok(verified(&claims, Some(new_token)))
}

/// Our refresh token, or one the original library minted while the app still accepts them.
fn open_refresh_token(e: &Engine, token: &str) -> Result<RefreshTokenInfo> {
    if !original_tokens::is_refresh_token(token) {
        return refresh_token::open(&e.keys.sealer, token);
    }
    if !e.config.accept_original_tokens {
        return Err(AuthError::unauthorised(
            "refresh token is of the original library's form, which tokens.acceptOriginalTokens turned off",
        ));
    }
    original_tokens::open_refresh_token(&e.keys.original_refresh, token)
}

pub async fn refresh(
    e: &Engine,
    token: &str,
    source: KeySource<'_>,
    client: Client,
) -> Result<NewSession> {
    let info = open_refresh_token(e, token)?;
    let handle = info.session_handle.as_str();
    let hash1 = sha256_hex(token);
    let hash2 = sha256_hex(&hash1);
    let parent_hash2 = info.parent_hash1.as_deref().map(sha256_hex);
    // The refresh's bookkeeping runs beside the first read rather than after it: it only
    // touches a row this token may refresh, so it needs none of the read's answers.
    let touch = Touch {
        handle,
        hashes2: [&hash2, parent_hash2.as_deref().unwrap_or(&hash2)],
        now: now_ms(),
        client: &client,
    };
    let (first_read, touched) =
        tokio::join!(e.store.session(handle), e.store.touch_session(&touch));
    touched?;
    let mut read = Some(first_read);
    // Two rounds at most: a lost promotion race re-reads the row once.
    for _ in 0..2 {
        let current = match read.take() {
            Some(first) => first,
            None => e.store.session(handle).await,
        };
        let row = match current? {
            Some(row) if row.expires_at > now_ms() => row,
            _ => {
                return Err(AuthError::unauthorised(
                    "session does not exist or has expired",
                ))
            }
        };
        let user_id = original_tokens::user_id_from_row(row.user_id);
        if info.user_id.as_ref().is_some_and(|u| *u != user_id) {
            return Err(AuthError::unauthorised(
                "the refresh token's user id does not match its session",
            ));
        }
        // A row from before the migration starts its absolute lifetime now.
        let created_at = row.created_at.unwrap_or_else(now_ms);
        if let Some(absolute) = e.config.refresh_token.absolute_validity_ms {
            if now_ms() >= created_at + absolute {
                let now = now_ms();
                if e.store.revoke_session(handle, now).await? {
                    e.revoked.add([handle], now);
                }
                return Err(AuthError::unauthorised(
                    "session has reached its absolute lifetime (tokens.refreshToken.absoluteValidity)",
                ));
            }
        }
        // The parent hash1 the new child will carry: normally this token's.
        let mut parent_of_child = hash1.clone();
        let is_parent = ct_eq(&row.refresh_token_hash2, &hash2);
        if !is_parent {
            let now = now_ms();
            // Rotated out a moment ago (this token, or its parent, was the replaced parent):
            // within the grace window, a child of the current parent instead of theft.
            let grace = in_grace(e, row.rotation.as_ref(), &hash2, now).or_else(|| {
                parent_hash2
                    .as_deref()
                    .and_then(|p| in_grace(e, row.rotation.as_ref(), p, now))
            });
            match (parent_hash2.as_deref(), grace) {
                (Some(p), _) if ct_eq(&row.refresh_token_hash2, p) => {
                    let expires = now + e.config.refresh_token.validity_ms;
                    let promotion = Promotion {
                        handle,
                        parent_hash2: p,
                        child_hash1: &hash1,
                        child_hash2: &hash2,
                        now,
                        expires_at: expires,
                    };
                    if !e.store.promote(&promotion).await? {
                        continue;
                    }
                }
                (_, Some(current_parent_hash1)) => {
                    parent_of_child = current_parent_hash1.to_string()
                }
                _ => {
                    METRICS.token_theft_detected.inc();
                    return Err(AuthError::TokenTheft {
                        session_handle: handle.to_string(),
                        user_id,
                    });
                }
            }
        }
        let refreshed = issue_child(
            e,
            &source,
            handle,
            user_id,
            json_from_store(row.jwt_payload),
            parent_of_child,
            created_at,
        )
        .await?;
        METRICS.sessions_refreshed.inc();
        return Ok(refreshed);
    }
    Err(AuthError::unauthorised(
        "session is being refreshed concurrently; try again",
    ))
}

/// New tokens whose refresh token is a child of the parent hashing to `parent_hash1`.
async fn issue_child(
    e: &Engine,
    source: &KeySource<'_>,
    handle: &str,
    user_id: String,
    jwt_payload: Option<String>,
    parent_hash1: String,
    created_at: u64,
) -> Result<NewSession> {
    let refresh_token = refresh_token::create(&e.keys.sealer, handle, Some(&parent_hash1))?;
    let anti_csrf = new_anti_csrf(e)?;
    let (access_token, access_token_expires) = mint_access_token(
        e,
        source,
        AccessTokenFor {
            handle,
            user_id: &user_id,
            rt_hash1: sha256_hex(&refresh_token),
            parent_hash1: Some(parent_hash1),
            anti_csrf: anti_csrf.clone(),
            payload: jwt_payload.as_deref(),
        },
    )
    .await?;
    Ok(NewSession {
        handle: handle.to_string(),
        user_id,
        jwt_payload,
        access_token,
        access_token_expires,
        refresh_token,
        refresh_token_expires: refresh_expiry(e, now_ms(), created_at),
        id_refresh_token: uuid_v4()?,
        anti_csrf_token: anti_csrf,
    })
}

pub async fn revoke(e: &Engine, handle: &str) -> Result<bool> {
    let now = now_ms();
    let removed = e.store.revoke_session(handle, now).await?;
    if removed {
        e.revoked.add([handle], now);
    }
    METRICS.sessions_revoked.add(u64::from(removed));
    Ok(removed)
}

/// The user id as the session table may hold it: as given, and for a numeric one while the
/// original's sessions are accepted, the original's `{"i":N}` form.
fn stored_user_ids(e: &Engine, user_id: &str) -> Vec<String> {
    let mut forms = vec![user_id.to_string()];
    if e.config.accept_original_tokens {
        forms.extend(original_tokens::stored_numeric_user_id(user_id));
    }
    forms
}

pub async fn revoke_all_for_user(e: &Engine, user_id: &str) -> Result<()> {
    revoke_user(e, user_id, None).await.map(|_| ())
}

/// Revokes the user's sessions (all, or all but `keep`) in every stored form of the id;
/// returns how many went.
async fn revoke_user(e: &Engine, user_id: &str, keep: Option<&str>) -> Result<u64> {
    let mut removed = 0;
    for form in stored_user_ids(e, user_id) {
        let now = now_ms();
        let handles = e.store.revoke_user_sessions(&form, keep, now).await?;
        e.revoked.add(handles.iter().map(String::as_str), now);
        removed += handles.len() as u64;
    }
    METRICS.sessions_revoked.add(removed);
    Ok(removed)
}

/// The user's live sessions, newest first (rows without a creation time last).
pub async fn sessions_for_user(e: &Engine, user_id: &str) -> Result<Vec<SessionInfo>> {
    let mut sessions = Vec::new();
    for form in stored_user_ids(e, user_id) {
        sessions.extend(e.store.user_sessions(&form, now_ms()).await?);
    }
    sessions.sort_by(|a, b| match (a.created_at, b.created_at) {
        (Some(x), Some(y)) => y.cmp(&x).then_with(|| a.handle.cmp(&b.handle)),
        (x, y) => y
            .is_some()
            .cmp(&x.is_some())
            .then_with(|| a.handle.cmp(&b.handle)),
    });
    Ok(sessions)
}

/// Removes the user's sessions other than `keep` ("log out everywhere else").
pub async fn revoke_others(e: &Engine, user_id: &str, keep: &str) -> Result<u64> {
    revoke_user(e, user_id, Some(keep)).await
}

pub async fn handles_for_user(e: &Engine, user_id: &str) -> Result<Vec<String>> {
    let mut handles = Vec::new();
    for form in stored_user_ids(e, user_id) {
        handles.extend(e.store.user_session_handles(&form).await?);
    }
    Ok(handles)
}

pub async fn get_data(e: &Engine, handle: &str) -> Result<Option<String>> {
    match e.store.session_data(handle).await? {
        Some(text) => Ok(json_from_store(text)),
        None => Err(AuthError::unauthorised("session does not exist anymore")),
    }
}

/// Merges `patch` (a JSON object, RFC 7386) into the session data on the server.
pub async fn merge_data(e: &Engine, handle: &str, patch: &str) -> Result<()> {
    check_json("patch", Some(patch))?;
    if !patch.trim_start().starts_with('{') {
        return Err(AuthError::general(
            "patch must be an object (a JSON merge patch); use updateSessionData to replace the data",
        ));
    }
    if e.store.merge_session_data(handle, patch).await? {
        return Ok(());
    }
    match e.store.session_data(handle).await? {
        None => Err(AuthError::unauthorised("session does not exist anymore")),
        Some(stored) if !stored.is_empty() && serde_json::from_str::<&RawValue>(&stored).is_err() => {
            Err(AuthError::general(
                "the stored session data is not JSON, so it cannot be merged into; replace it with updateSessionData",
            ))
        }
        Some(_) => Err(AuthError::general(format!(
            "the merged session data would be over {MAX_JSON_BYTES} bytes of JSON"
        ))),
    }
}

pub async fn update_data(e: &Engine, handle: &str, data: Option<String>) -> Result<()> {
    check_json("sessionData", data.as_deref())?;
    if e.store
        .update_session_data(handle, stored_json(data.as_deref()))
        .await?
    {
        Ok(())
    } else {
        Err(AuthError::unauthorised("session does not exist anymore"))
    }
}

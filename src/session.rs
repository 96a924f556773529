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
use crate::refresh_token;

/// user_id is VARCHAR(128); session_info / jwt_user_payload are TEXT (65,535 bytes).
const MAX_USER_ID_CHARS: usize = 128;
const MAX_JSON_BYTES: usize = 65_535;
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
    let refresh_token_expires = now_ms() + e.config.refresh_token.validity_ms;
    let inserted = e
        .store
        .insert_session(
            &handle,
            &user_id,
            &rt_hash2,
            stored_json(session_data.as_deref()),
            refresh_token_expires,
            stored_json(jwt_payload.as_deref()),
        )
        .await;
    if let Err(err) = inserted {
        forget_later(e, handle);
        return Err(err);
    }
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
    if let (true, Some(header)) = (e.config.anti_csrf, anti_csrf) {
        let matches = claims.anti_csrf_token().is_some_and(|t| ct_eq(t, header));
        if !matches {
            return Err(AuthError::try_refresh("anti-csrf check failed"));
        }
    }
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
        Some(c) if c.claims.prt().is_none() && !e.config.access_token.blacklisting => Ok(Some(c)),
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
        return Ok(verified(&claims, None));
    };
    // A child token's first use: make its refresh token the parent (one atomic UPDATE).
    let child_hash2 = sha256_hex(claims.rt());
    let handle = claims.session_handle();
    let now = now_ms();
    let expires = now + e.config.refresh_token.validity_ms;
    if !e
        .store
        .promote(
            handle,
            &sha256_hex(parent_hash1),
            &child_hash2,
            now,
            expires,
        )
        .await?
    {
        match e.store.session(handle).await? {
            Some(row) if row.expires_at <= now => {
                return Err(AuthError::unauthorised("session has expired"))
            }
            None => return Err(AuthError::unauthorised("session does not exist anymore")),
            // A concurrent request promoted it already.
            Some(row) if ct_eq(&row.refresh_token_hash2, &child_hash2) => {}
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
    Ok(verified(&claims, Some(new_token)))
}

pub async fn refresh(e: &Engine, token: &str, source: KeySource<'_>) -> Result<NewSession> {
    let info = refresh_token::open(&e.keys.sealer, token)?;
    let handle = info.session_handle.as_str();
    let hash1 = sha256_hex(token);
    let hash2 = sha256_hex(&hash1);
    // Two rounds at most: a lost promotion race re-reads the row once.
    for _ in 0..2 {
        let row = match e.store.session(handle).await? {
            Some(row) if row.expires_at > now_ms() => row,
            _ => {
                return Err(AuthError::unauthorised(
                    "session does not exist or has expired",
                ))
            }
        };
        let is_parent = ct_eq(&row.refresh_token_hash2, &hash2);
        if !is_parent {
            let parent_hash2 = info.parent_hash1.as_deref().map(sha256_hex);
            match parent_hash2 {
                Some(p) if ct_eq(&row.refresh_token_hash2, &p) => {
                    let now = now_ms();
                    let expires = now + e.config.refresh_token.validity_ms;
                    if !e.store.promote(handle, &p, &hash2, now, expires).await? {
                        continue;
                    }
                }
                _ => {
                    return Err(AuthError::TokenTheft {
                        session_handle: handle.to_string(),
                        user_id: row.user_id,
                    })
                }
            }
        }
        return issue_child(
            e,
            &source,
            handle,
            row.user_id,
            json_from_store(row.jwt_payload),
            hash1,
        )
        .await;
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
        refresh_token_expires: now_ms() + e.config.refresh_token.validity_ms,
        id_refresh_token: uuid_v4()?,
        anti_csrf_token: anti_csrf,
    })
}

pub async fn revoke(e: &Engine, handle: &str) -> Result<bool> {
    e.store.delete_session(handle).await
}

pub async fn revoke_all_for_user(e: &Engine, user_id: &str) -> Result<()> {
    e.store.delete_user_sessions(user_id).await.map(|_| ())
}

pub async fn handles_for_user(e: &Engine, user_id: &str) -> Result<Vec<String>> {
    e.store.user_session_handles(user_id).await
}

pub async fn get_data(e: &Engine, handle: &str) -> Result<Option<String>> {
    match e.store.session_data(handle).await? {
        Some(text) => Ok(json_from_store(text)),
        None => Err(AuthError::unauthorised("session does not exist anymore")),
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

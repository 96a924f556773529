//! Login: a new session row and its first tokens.

use crate::clock::now_ms;
use crate::crypto::{sha256_hex, uuid_v4};
use crate::engine::Engine;
use crate::error::{AuthError, Result};
use crate::metrics::METRICS;
use crate::refresh_token;
use crate::store::{Client, NewRow};

use super::{
    check_json, check_user_id, mint_access_token, new_anti_csrf, refresh_expiry, stored_json,
    AccessTokenFor, KeySource, NewSession,
};

pub async fn create(
    e: &Engine,
    user_id: String,
    jwt_payload: Option<String>,
    session_data: Option<String>,
    max_access_token_bytes: Option<u32>,
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
    // The caller's limit (the HTTP layer's cookie budget), checked before anything is written.
    if let Some(max) = max_access_token_bytes.filter(|&m| access_token.len() > m as usize) {
        return Err(AuthError::general(format!(
            "the access token would be {} bytes, over the {max} bytes its cookie can hold: \
             make jwtPayload smaller",
            access_token.len()
        )));
    }
    let now = now_ms();
    let refresh_token_expires = refresh_expiry(e, now, now);
    // A capped login evicts the least recently refreshed: this process's refreshes first.
    if e.config.max_sessions_per_user.is_some() {
        e.refreshes.flush(&e.store).await?;
    }
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

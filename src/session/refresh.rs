//! Refreshing: rotation of the refresh token, promotion of a child, theft detection.

use crate::clock::now_ms;
use crate::crypto::{ct_eq, sha256_hex, uuid_v4};
use crate::engine::Engine;
use crate::error::{AuthError, Result};
use crate::metrics::METRICS;
use crate::original_tokens;
use crate::refresh_token::{self, RefreshTokenInfo};
use crate::store::{Client, Promotion};

use super::{
    in_grace, json_from_store, mint_access_token, new_anti_csrf, refresh_expiry, AccessTokenFor,
    KeySource, NewSession, Refreshed,
};

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
) -> Result<Refreshed> {
    let info = open_refresh_token(e, token)?;
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
        let user_id = original_tokens::user_id_from_row(row.user_id);
        if info.user_id.as_ref().is_some_and(|u| *u != user_id) {
            return Err(AuthError::unauthorised(
                "the refresh token's user id does not match its session",
            ));
        }
        // A row from before the migration starts its absolute lifetime now.
        let undated = row.created_at.is_none();
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
            let parent_hash2 = info.parent_hash1.as_deref().map(sha256_hex);
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
        let jwt_payload = json_from_store(row.jwt_payload);
        let tokens = issue_child(
            e,
            &source,
            handle,
            &user_id,
            jwt_payload.as_deref(),
            parent_of_child,
            created_at,
        )
        .await?;
        let full = e.refreshes.record(handle, now_ms(), client);
        if undated {
            // This refresh dates a row from before the migration (its absolute lifetime
            // starts now): written at once, so the next refresh, anywhere, counts from it.
            e.refreshes.flush(&e.store).await?;
        } else if full {
            // The log is full because its writes are failing: the refresh has succeeded all
            // the same, and what is not written stays for the flush job.
            if let Err(err) = e.refreshes.flush(&e.store).await {
                e.log.error(&format!("recording refreshes failed: {err}"));
            }
        }
        METRICS.sessions_refreshed.inc();
        return Ok(Refreshed {
            tokens,
            user_id,
            jwt_payload,
        });
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
    user_id: &str,
    jwt_payload: Option<&str>,
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
            user_id,
            rt_hash1: sha256_hex(&refresh_token),
            parent_hash1: Some(parent_hash1),
            anti_csrf: anti_csrf.clone(),
            payload: jwt_payload,
        },
    )
    .await?;
    Ok(NewSession {
        handle: handle.to_string(),
        access_token,
        access_token_expires,
        refresh_token,
        refresh_token_expires: refresh_expiry(e, now_ms(), created_at),
        id_refresh_token: uuid_v4()?,
        anti_csrf_token: anti_csrf,
    })
}

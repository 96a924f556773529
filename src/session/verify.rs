//! Verifying an access token: without the database when it can, and with it for
//! blacklisting, a child token's promotion or a key this process has not loaded.

use std::sync::Arc;

use crate::access_token::{self, VerifiedClaims};
use crate::clock::now_ms;
use crate::crypto::{ct_eq, sha256_hex};
use crate::engine::Engine;
use crate::error::{AuthError, Result};
use crate::keys::{self, Lookup};
use crate::metrics::METRICS;
use crate::original_tokens;
use crate::store::Promotion;

use super::{in_grace, mint_access_token, revoked, AccessTokenFor, KeySource, VerifiedSession};

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

/// What the check without I/O found.
pub enum FirstCheck {
    /// Verified; nothing more to do. The claims are shared with the verified-token cache,
    /// so the caller reads them without copying.
    Verified(Checked),
    /// The database is needed: for blacklisting or a child token to promote (the token is
    /// checked already), or, `None`, for a key id this process has not loaded yet.
    NeedsDatabase(Option<Checked>),
}

/// Every request's path: no I/O, and for most tokens the whole verification.
pub fn get_without_db(
    e: &Engine,
    token: &str,
    anti_csrf: Option<&str>,
    source: KeySource<'_>,
) -> Result<FirstCheck> {
    match verify_claims(e, token, anti_csrf, &source)? {
        Some(c) if e.revoked.is_revoked(c.claims.session_handle()) => Err(revoked()),
        Some(c) if c.claims.prt().is_none() && !e.config.access_token.blacklisting => {
            METRICS.sessions_verified.inc();
            Ok(FirstCheck::Verified(c))
        }
        checked => Ok(FirstCheck::NeedsDatabase(checked)),
    }
}

/// The rest of a verification that `get_without_db` found needs the database; `checked` is
/// what it found, revocation included (`None`: the keys are reloaded and the token checked
/// again, in full).
pub async fn get_with_db(
    e: &Engine,
    checked: Option<Checked>,
    token: &str,
    anti_csrf: Option<&str>,
    source: KeySource<'_>,
) -> Result<VerifiedSession> {
    let claims = match checked {
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
            let c = verify_claims(e, token, anti_csrf, &source)?.ok_or_else(|| {
                AuthError::try_refresh("access token is signed by an unknown key")
            })?;
            if e.revoked.is_revoked(c.claims.session_handle()) {
                return Err(revoked());
            }
            c
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

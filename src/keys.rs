//! Signing keys: created once across every process sharing the database, rotated every
//! `updateInterval` (one process wins, the others pick the winner's key up), cached here.
//! After a rotation the previous key keeps verifying for one access-token validity.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::access_token::{self, Parts, SigningKey};
use crate::clock::now_ms;
use crate::config::Config;
use crate::crypto::{new_key, sha256_hex, Sealer};
use crate::error::{AuthError, Result};
use crate::logger::Logger;
use crate::original_tokens::RefreshKey;
use crate::store::{KeyRow, Store};

const CURRENT: &str = "access_token_signing_key";
const PREVIOUS: &str = "access_token_signing_key_previous";
const REFRESH: &str = "refresh_token_key";

/// A token naming an unknown, newer key triggers at most one reload per this interval, so a
/// flood of forged key ids cannot turn into a flood of queries.
const RELOAD_INTERVAL_MS: u64 = 1000;

/// The keys a process verifies with; swapped as a whole on reload.
struct KeySet {
    current: Arc<SigningKey>,
    previous: Option<Arc<SigningKey>>,
}

/// How a token's key id resolved.
pub enum Lookup {
    Found(Arc<SigningKey>),
    /// A key id of ours that is not cached: reload from the database, then look again.
    Reload,
    Unknown,
}

pub struct Keys {
    /// None when the app supplies the key (`signingKey.get`).
    signing: Option<RwLock<Arc<KeySet>>>,
    pub sealer: Sealer,
    /// Opens refresh tokens the original library minted under the same key row.
    pub original_refresh: RefreshKey,
    dynamic: bool,
    update_interval_ms: u64,
    validity_ms: u64,
    /// Serialises rotation and reloads within this process.
    refresh_lock: tokio::sync::Mutex<()>,
    last_reload_ms: AtomicU64,
}

/// A key's id, derived from the key itself (never from `created_at_time`, which a restore or
/// a DBA may change): `s` and 24 hex digits of a domain-separated SHA-256 of the key value.
/// It names the key without revealing it (the keys are 256 random bits).
fn kid_of(value: &str) -> String {
    let digest = sha256_hex(&format!("supertokens access-token key id\0{value}"));
    format!("s{}", &digest[..KID_HEX])
}

const KID_HEX: usize = 24;

/// Whether `kid` has the form of a key id this package writes: an unknown one may be a key
/// another process created since this one loaded its keys, worth one reload.
fn looks_like_ours(kid: &str) -> bool {
    kid.len() == 1 + KID_HEX
        && kid.starts_with('s')
        && kid[1..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// An older-form id `k<created_at>` newer than `current` and not in the future: a key a
/// process of an earlier version rotated in (rolling upgrades).
fn newer_legacy(kid: &str, current: &SigningKey) -> bool {
    kid.strip_prefix('k')
        .and_then(|t| t.parse::<u64>().ok())
        .is_some_and(|t| t > current.created_at && t <= now_ms() + RELOAD_INTERVAL_MS)
}

fn signing_key(row: &KeyRow) -> Arc<SigningKey> {
    // Tokens minted before ids came from the key named it `k<created_at>`.
    let legacy = format!("k{}", row.created_at);
    Arc::new(SigningKey::new(
        kid_of(&row.value),
        Some(&legacy),
        row.created_at,
        &row.value,
    ))
}

/// The key the app supplied for this call (`signingKey.get`).
pub fn app_key(secret: &str) -> Result<SigningKey> {
    if secret.is_empty() {
        return Err(AuthError::general(
            "tokens.accessToken.signingKey.get must resolve to a non-empty string",
        ));
    }
    Ok(SigningKey::new("app".into(), None, 0, secret))
}

impl Keys {
    /// Creates missing keys (INSERT IGNORE: concurrent processes agree on one) and loads them.
    pub async fn load(store: &Store, config: &Config, log: &Logger) -> Result<Keys> {
        let now = now_ms();
        if store
            .insert_key_if_absent(REFRESH, &new_key()?, now)
            .await?
        {
            log.info("created the refresh-token key");
        }
        let app_supplied = config.access_token.app_key;
        if !app_supplied
            && store
                .insert_key_if_absent(CURRENT, &new_key()?, now)
                .await?
        {
            log.info("created the access-token signing key");
        }
        let rows = store.keys([CURRENT, PREVIOUS, REFRESH]).await?;
        let refresh = rows.iter().find(|r| r.name == REFRESH).ok_or_else(|| {
            AuthError::general("the refresh-token key is missing from the key table")
        })?;
        let signing = if app_supplied {
            None
        } else {
            Some(RwLock::new(Arc::new(key_set(&rows)?)))
        };
        Ok(Keys {
            signing,
            sealer: Sealer::new(&refresh.value),
            original_refresh: RefreshKey::new(&refresh.value),
            dynamic: config.access_token.dynamic,
            update_interval_ms: config.access_token.update_interval_ms,
            validity_ms: config.access_token.validity_ms,
            refresh_lock: tokio::sync::Mutex::new(()),
            last_reload_ms: AtomicU64::new(0),
        })
    }

    fn cached(&self) -> Option<Arc<KeySet>> {
        self.signing
            .as_ref()
            .map(|s| s.read().unwrap_or_else(|p| p.into_inner()).clone())
    }

    fn replace(&self, set: KeySet) {
        if let Some(s) = &self.signing {
            *s.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(set);
        }
    }

    fn expired(&self, key: &SigningKey, now: u64) -> bool {
        self.dynamic && now >= key.created_at + self.update_interval_ms
    }

    /// The key to sign with now, rotating it first when its interval has passed.
    pub async fn for_signing(&self, store: &Store, log: &Logger) -> Result<Arc<SigningKey>> {
        let set = self
            .cached()
            .ok_or_else(|| AuthError::general("no stored signing key"))?;
        if !self.expired(&set.current, now_ms()) {
            return Ok(set.current.clone());
        }
        let _guard = self.refresh_lock.lock().await;
        let set = self
            .cached()
            .ok_or_else(|| AuthError::general("no stored signing key"))?;
        if !self.expired(&set.current, now_ms()) {
            return Ok(set.current.clone()); // another task of ours rotated meanwhile
        }
        // Re-read first: another process may have rotated already.
        let rows = store.keys([CURRENT, PREVIOUS, REFRESH]).await?;
        let stored = key_set(&rows)?;
        if stored.current.kid == set.current.kid {
            let old_row = rows
                .into_iter()
                .find(|r| r.name == CURRENT)
                .ok_or_else(|| AuthError::general("no stored signing key"))?;
            let now = now_ms();
            if store
                .rotate_key(CURRENT, PREVIOUS, &old_row, &new_key()?, now)
                .await?
            {
                log.info("rotated the access-token signing key");
            }
            let rows = store.keys([CURRENT, PREVIOUS, REFRESH]).await?;
            self.replace(key_set(&rows)?);
        } else {
            self.replace(stored);
        }
        self.last_reload_ms.store(now_ms(), Ordering::Relaxed);
        self.cached()
            .map(|s| s.current.clone())
            .ok_or_else(|| AuthError::general("no stored signing key"))
    }

    /// The stored keys a token may be signed with now: the current one, and the previous one
    /// for one access-token validity after a rotation (for tokens that name no key).
    pub fn verifying(&self) -> Vec<Arc<SigningKey>> {
        let Some(set) = self.cached() else {
            return Vec::new();
        };
        let mut keys = vec![set.current.clone()];
        if let Some(prev) = &set.previous {
            if now_ms() < set.current.created_at + self.validity_ms {
                keys.push(prev.clone());
            }
        }
        keys
    }

    /// Finds the key that wrote a token's header, from the cache only (no I/O: the fast
    /// path). A header no cached key wrote is parsed only to see whether it names a newer key.
    pub fn lookup(&self, parts: &Parts) -> Lookup {
        let Some(set) = self.cached() else {
            return Lookup::Unknown;
        };
        if set.current.wrote_header(parts.header) {
            return Lookup::Found(set.current.clone());
        }
        if let Some(prev) = &set.previous {
            if prev.wrote_header(parts.header) {
                // The previous key stays good for one access-token validity after rotation.
                return if now_ms() < set.current.created_at + self.validity_ms {
                    Lookup::Found(prev.clone())
                } else {
                    Lookup::Unknown
                };
            }
        }
        // A key this process has not loaded yet (another one rotated): reload, at most once
        // per RELOAD_INTERVAL_MS whatever the tokens say.
        // A cached key's own id under another header (alg HS512, extra fields) is forged.
        let cached = |kid: &str| {
            kid == set.current.kid || set.previous.as_ref().is_some_and(|p| kid == p.kid)
        };
        let maybe_new = access_token::kid(parts).is_ok_and(|kid| {
            (looks_like_ours(&kid) && !cached(&kid)) || newer_legacy(&kid, &set.current)
        });
        if maybe_new {
            Lookup::Reload
        } else {
            Lookup::Unknown
        }
    }

    /// Reloads the keys after another process rotated, at most once per RELOAD_INTERVAL_MS.
    pub async fn reload(&self, store: &Store) -> Result<()> {
        let _guard = self.refresh_lock.lock().await;
        let now = now_ms();
        if now < self.last_reload_ms.load(Ordering::Relaxed) + RELOAD_INTERVAL_MS {
            return Ok(());
        }
        self.last_reload_ms.store(now, Ordering::Relaxed);
        let rows = store.keys([CURRENT, PREVIOUS, REFRESH]).await?;
        self.replace(key_set(&rows)?);
        Ok(())
    }
}

fn key_set(rows: &[KeyRow]) -> Result<KeySet> {
    let current = rows.iter().find(|r| r.name == CURRENT).ok_or_else(|| {
        AuthError::general("the access-token signing key is missing from the key table")
    })?;
    Ok(KeySet {
        current: signing_key(current),
        previous: rows.iter().find(|r| r.name == PREVIOUS).map(signing_key),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_come_from_the_key_alone() {
        let a = kid_of("key-a");
        assert_eq!(a, kid_of("key-a"), "stable");
        assert_ne!(a, kid_of("key-b"));
        assert_eq!(a.len(), 25);
        assert!(looks_like_ours(&a));
        let row = |created_at| KeyRow {
            name: CURRENT.into(),
            value: "key-a".into(),
            created_at,
        };
        assert_eq!(signing_key(&row(1)).kid, signing_key(&row(999)).kid);
    }

    #[test]
    fn only_our_key_id_form_causes_a_reload() {
        assert!(looks_like_ours(&kid_of("x")));
        let long = "x".repeat(400);
        for other in [
            "",
            "k",
            "k1795879196131",
            "app",
            "S0123456789abcdef01234567",
            "s0123456789ABCDEF01234567",
            "s0123",
            &long,
        ] {
            assert!(!looks_like_ours(other), "{other}");
        }
    }
}

//! Access tokens already verified by this process, so a token used for many requests (the
//! normal case during its validity) is checked once: a hit skips base64, HMAC and JSON.
//! A hit needs the same token text, verified by the very key object the cache of keys
//! still accepts for it, and not yet expired; per-request checks (anti-CSRF) still run.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex};

use crate::access_token::{Claims, SigningKey};

/// Bounds memory (~1 KB an entry): when full, the cache starts over.
const CAPACITY: usize = 10_000;

struct Entry {
    token: Box<str>,
    key: Arc<SigningKey>,
    claims: Arc<Claims>,
}

/// Keys are signature segments, already uniformly spread (a MAC), so their first bytes
/// serve as the hash; only verified tokens are inserted, so nobody can choose collisions.
#[derive(Default)]
struct PrefixHasher(u64);

impl Hasher for PrefixHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().take(8) {
            self.0 = self.0 << 8 | u64::from(b);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Default)]
pub struct TokenCache {
    /// Keyed by the signature segment; the full token is compared on a hit.
    entries: Mutex<HashMap<Box<str>, Entry, BuildHasherDefault<PrefixHasher>>>,
}

fn signature(token: &str) -> &str {
    token.rsplit_once('.').map_or(token, |(_, s)| s)
}

impl TokenCache {
    pub fn get(&self, token: &str, key: &Arc<SigningKey>, now_ms: u64) -> Option<Arc<Claims>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let e = entries.get(signature(token))?;
        let valid = &*e.token == token && Arc::ptr_eq(&e.key, key) && e.claims.expiry_time > now_ms;
        valid.then(|| e.claims.clone())
    }

    pub fn put(&self, token: &str, key: &Arc<SigningKey>, claims: Arc<Claims>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(
            signature(token).into(),
            Entry {
                token: token.into(),
                key: key.clone(),
                claims,
            },
        );
    }
}

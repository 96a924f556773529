//! Access tokens already verified by this process, so a token used for many requests (the
//! normal case during its validity) is checked once: a hit skips base64, HMAC and JSON.
//! A hit needs the same token text, verified by the very key object the cache of keys
//! still accepts for it, and not yet expired; per-request checks (anti-CSRF) still run.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::access_token::{Claims, Parts, SigningKey};

/// Bounds memory (~1 KB an entry): when full, the cache starts over.
const CAPACITY: usize = 10_000;

struct Entry {
    token: Box<str>,
    key: Arc<SigningKey>,
    claims: Arc<Claims>,
}

static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

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

impl TokenCache {
    pub fn get(&self, token: &Parts, key: &Arc<SigningKey>, now_ms: u64) -> Option<Arc<Claims>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let e = entries.get(token.signature)?;
        let valid =
            &*e.token == token.token && Arc::ptr_eq(&e.key, key) && e.claims.expiry_time > now_ms;
        valid.then(|| e.claims.clone())
    }

    /// Caches a verification under the next serial (see `Claims::serial`) and returns it.
    pub fn put(&self, token: &Parts, key: &Arc<SigningKey>, mut claims: Claims) -> Arc<Claims> {
        // Never reused within the process (u64), so a serial always means the same payload.
        claims.serial = NEXT_SERIAL.fetch_add(1, Ordering::Relaxed);
        let claims = Arc::new(claims);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(
            token.signature.into(),
            Entry {
                token: token.token.into(),
                key: key.clone(),
                claims: claims.clone(),
            },
        );
        claims
    }
}

//! Access tokens already verified by this process, so a token used for many requests (the
//! normal case during its validity) is checked once: a hit skips base64, HMAC and JSON.
//! A hit needs the same token text, verified by the very key object the cache of keys
//! still accepts for it, and not yet expired; per-request checks (anti-CSRF) still run.
//!
//! When full, entries are evicted one at a time by CLOCK (second chance): a hit marks its
//! entry, and the hand that picks the entry to replace skips (and unmarks) marked ones, so
//! tokens in use stay while unused and expired ones go. A hit only sets a flag in the entry
//! it has just read: no list to relink, no allocation.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use hashbrown::HashTable;
use napi_derive::napi;

use crate::access_token::{Parts, SigningKey, VerifiedClaims};

/// Bounds memory (~1 KB an entry). lib/fast-session.js keeps the decoded sessions by the
/// same positions (see `next_serial`), so it reads this number from the addon.
#[napi]
pub const VERIFIED_TOKEN_CACHE_CAPACITY: u32 = 10_000;
pub const CAPACITY: usize = VERIFIED_TOKEN_CACHE_CAPACITY as usize;

struct Entry {
    /// Its buffer is reused by the entry that replaces this one (see `put`).
    token: String,
    /// Of the signature segment (see `TokenCache::hash`), kept so the index never rehashes.
    hash: u64,
    /// `SigningKey::instance` of the key that verified it.
    key: u64,
    claims: Arc<VerifiedClaims>,
    /// Set by a hit, cleared when the hand passes: the entry's second chance.
    referenced: bool,
}

struct Inner {
    /// Positions in `entries`, by `Entry::hash`; an entry is found by its whole token text.
    index: HashTable<u32>,
    /// Up to CAPACITY entries, the CLOCK's ring.
    entries: Vec<Entry>,
    /// The next position the CLOCK looks at when the cache is full.
    hand: usize,
}

impl Inner {
    fn find(&self, hash: u64, token: &str) -> Option<usize> {
        let entries = &self.entries;
        self.index
            .find(hash, |&i| {
                let e = &entries[i as usize];
                e.hash == hash && *e.token == *token
            })
            .map(|&i| i as usize)
    }

    /// On a miss, while the caller verifies the token (an HMAC, no memory traffic), brings
    /// the entry `put` will most likely replace into the CPU cache: with more tokens in use
    /// than the cache holds it is cold, and `put` would wait for it to copy into its token
    /// buffer and drop its claims. Only a hint: no effect on what is replaced.
    fn prefetch_victim(&self) {
        if self.entries.len() < CAPACITY {
            return;
        }
        let e = &self.entries[self.hand];
        prefetch(Arc::as_ptr(&e.claims).cast());
        for line in (0..e.token.len()).step_by(64) {
            prefetch(e.token.as_ptr().wrapping_add(line));
        }
    }

    /// The position to reuse when full: the first unmarked entry from the hand on, unmarking
    /// the ones passed over (at most one full turn, when every entry was marked).
    fn victim(&mut self) -> usize {
        loop {
            let i = self.hand;
            self.hand = if i + 1 == self.entries.len() {
                0
            } else {
                i + 1
            };
            let e = &mut self.entries[i];
            if !e.referenced {
                return i;
            }
            e.referenced = false;
        }
    }
}

fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and changes no state but the CPU cache.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// How often each position was filled, by any cache of this process (there is one per init).
static FILLS: [AtomicU64; CAPACITY] = [const { AtomicU64::new(0) }; CAPACITY];

/// The serial of a new verification kept at position `at` (see `VerifiedClaims::serial`): unique in
/// the process, never 0, and `at` is the serial modulo CAPACITY, so lib/fast-session.js finds
/// its decoded session by position, with no map. Grows by about one per fill (what a plain
/// counter would), far from 2^53, above which JS numbers would merge serials.
fn next_serial(at: usize) -> u64 {
    let fills = FILLS[at].fetch_add(1, Ordering::Relaxed) + 1;
    fills * CAPACITY as u64 + at as u64
}

pub struct TokenCache {
    inner: Mutex<Inner>,
    /// foldhash over the whole signature segment (43 base64url characters). Not a
    /// DoS-resistant hash, and it need not be: only tokens that verified (a valid HMAC under
    /// our own key) are ever inserted, so nobody can choose what is in the table or make its
    /// entries collide, and a lookup of a forged token only probes what honest tokens filled.
    /// (It is randomly seeded per process all the same.)
    hasher: foldhash::fast::RandomState,
}

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache {
            inner: Mutex::new(Inner {
                index: HashTable::with_capacity(CAPACITY),
                entries: Vec::with_capacity(CAPACITY),
                hand: 0,
            }),
            hasher: foldhash::fast::RandomState::default(),
        }
    }
}

impl TokenCache {
    fn hash(&self, token: &Parts) -> u64 {
        self.hasher.hash_one(token.signature.as_bytes())
    }

    pub fn get(
        &self,
        token: &Parts,
        key: &Arc<SigningKey>,
        now_ms: u64,
    ) -> Option<Arc<VerifiedClaims>> {
        let hash = self.hash(token);
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let Some(i) = inner.find(hash, token.token) else {
            inner.prefetch_victim();
            return None;
        };
        let e = &mut inner.entries[i];
        let valid = e.key == key.instance && e.claims.expiry_time > now_ms;
        e.referenced |= valid;
        valid.then(|| e.claims.clone())
    }

    /// Caches a verification under a new serial (see `next_serial`) and returns it.
    pub fn put(
        &self,
        token: &Parts,
        key: &Arc<SigningKey>,
        mut claims: VerifiedClaims,
    ) -> Arc<VerifiedClaims> {
        let hash = self.hash(token);
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let inner = &mut *guard;
        // The same token again (verified concurrently, or by a reloaded key): update it.
        if let Some(at) = inner.find(hash, token.token) {
            claims.serial = next_serial(at);
            let claims = Arc::new(claims);
            let e = &mut inner.entries[at];
            e.key = key.instance;
            e.claims = claims.clone();
            return claims;
        }
        let at = if inner.entries.len() < CAPACITY {
            inner.entries.len()
        } else {
            inner.victim()
        };
        claims.serial = next_serial(at);
        let claims = Arc::new(claims);
        if at == inner.entries.len() {
            inner.entries.push(Entry {
                token: token.token.to_owned(),
                hash,
                key: key.instance,
                claims: claims.clone(),
                referenced: false,
            });
        } else {
            let e = &mut inner.entries[at];
            if let Ok(slot) = inner.index.find_entry(e.hash, |&i| i as usize == at) {
                slot.remove();
            }
            // Reuses the evicted token's buffer (a malloc and a free fewer per miss) unless it
            // is much bigger than needed.
            if e.token.capacity() > 2 * token.token.len() {
                e.token = String::new();
            }
            e.token.clear();
            e.token.push_str(token.token);
            e.hash = hash;
            e.key = key.instance;
            e.claims = claims.clone();
            e.referenced = false;
        }
        let entries = &inner.entries;
        inner
            .index
            .insert_unique(hash, at as u32, |&i| entries[i as usize].hash);
        claims
    }

    /// Whether `token` has an entry, without marking it used.
    #[cfg(test)]
    fn contains(&self, token: &str) -> bool {
        let parts = crate::access_token::split(token).unwrap();
        let hash = self.hash(&parts);
        self.inner.lock().unwrap().find(hash, token).is_some()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        let inner = self.inner.lock().unwrap();
        debug_assert_eq!(inner.index.len(), inner.entries.len());
        inner.entries.len()
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod timing;

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

    /// On a miss, while the caller verifies the token (HMAC, ≈ 0.3 µs of no memory traffic),
    /// brings the entry `put` will most likely replace into the cache: with more tokens in
    /// use than the cache holds it is cold, and profiled, `put` waited ≈ 0.1 µs for the
    /// copy into its token buffer and the drop of its claims. Only a hint: no effect on what
    /// is replaced.
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
mod tests {
    use super::*;
    use crate::access_token::{sign, split, Claims};

    fn key() -> Arc<SigningKey> {
        Arc::new(SigningKey::new(
            "k1795879196131".into(),
            None,
            1,
            "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=",
        ))
    }

    fn claims(i: usize) -> Claims {
        Claims {
            session_handle: format!("6bd615b6-eb10-4e8a-a529-{i:012}"),
            user_id: format!("user{i}"),
            rt: "0dc8915515391c2814d02c01f6e6fb789b9609473c38c591e821aa4e08172730".into(),
            prt: None,
            anti_csrf_token: Some("19dee15e-ed7c-4e92-9091-fdb4e64aea10".into()),
            expiry_time: u64::MAX / 2,
            user_payload: None,
        }
    }

    /// `n` real tokens, as the engine signs them (distinct sessions, one key).
    pub(super) fn tokens(key: &SigningKey, n: usize) -> Vec<String> {
        (0..n).map(|i| sign(key, &claims(i)).unwrap()).collect()
    }

    fn put(cache: &TokenCache, key: &Arc<SigningKey>, token: &str, i: usize) {
        cache.put(&split(token).unwrap(), key, claims(i).into());
    }

    fn hit(cache: &TokenCache, key: &Arc<SigningKey>, token: &str) -> bool {
        cache.get(&split(token).unwrap(), key, 1000).is_some()
    }

    #[test]
    fn eviction_is_gradual_and_keeps_what_is_used() {
        let key = key();
        let tokens = tokens(&key, CAPACITY + CAPACITY / 2);
        let cache = TokenCache::default();
        for (i, t) in tokens[..CAPACITY].iter().enumerate() {
            put(&cache, &key, t, i);
        }
        assert_eq!(cache.len(), CAPACITY);
        // The newer half is in use.
        let (unused, used) = tokens[..CAPACITY].split_at(CAPACITY / 2);
        assert!(used.iter().all(|t| hit(&cache, &key, t)));

        // One more entry evicts one entry (the oldest unused one), not the whole cache.
        put(&cache, &key, &tokens[CAPACITY], CAPACITY);
        assert_eq!(cache.len(), CAPACITY);
        assert!(!cache.contains(&tokens[0]));
        assert!(tokens[1..=CAPACITY].iter().all(|t| cache.contains(t)));

        // New entries replace the unused ones, oldest first, and never one in use.
        for (i, t) in tokens.iter().enumerate().skip(CAPACITY + 1) {
            put(&cache, &key, t, i);
        }
        assert_eq!(cache.len(), CAPACITY);
        assert!(
            used.iter().all(|t| hit(&cache, &key, t)),
            "used entries stay"
        );
        assert!(unused.iter().all(|t| !cache.contains(t)));
        assert!(tokens[CAPACITY..].iter().all(|t| cache.contains(t)));
    }

    #[test]
    fn same_token_again_replaces_its_entry() {
        let key = key();
        let t = &tokens(&key, 1)[0];
        let cache = TokenCache::default();
        put(&cache, &key, t, 0);
        // A reloaded key is a new key object: the old entry no longer counts, a new put
        // replaces it in place.
        let reloaded = self::key();
        assert!(!hit(&cache, &reloaded, t));
        put(&cache, &reloaded, t, 0);
        assert_eq!(cache.len(), 1);
        assert!(hit(&cache, &reloaded, t));
        assert!(!hit(&cache, &key, t));
    }

    #[test]
    fn expired_entries_miss_and_go_first() {
        let key = key();
        let tokens = tokens(&key, CAPACITY + 1);
        let cache = TokenCache::default();
        for (i, t) in tokens[..CAPACITY].iter().enumerate() {
            let mut c = claims(i);
            c.expiry_time = if i == 7 { 500 } else { u64::MAX / 2 };
            cache.put(&split(t).unwrap(), &key, c.into());
        }
        // Everything but the expired one is in use.
        for (i, t) in tokens[..CAPACITY].iter().enumerate() {
            assert_eq!(hit(&cache, &key, t), i != 7);
        }
        put(&cache, &key, &tokens[CAPACITY], CAPACITY);
        assert_eq!(cache.len(), CAPACITY);
        assert!(tokens[..CAPACITY]
            .iter()
            .enumerate()
            .all(|(i, t)| hit(&cache, &key, t) == (i != 7)));
    }

    #[test]
    fn serials_are_unique_and_name_positions() {
        let key = key();
        let tokens = tokens(&key, CAPACITY + 1);
        let (a, b) = (TokenCache::default(), TokenCache::default());
        let put =
            |c: &TokenCache, i: usize| c.put(&split(&tokens[i]).unwrap(), &key, claims(i).into());
        let position = |serial: u64| serial % CAPACITY as u64;
        let mut seen = std::collections::HashSet::new();
        let serials: Vec<u64> = (0..CAPACITY).map(|i| put(&a, i).serial).collect();
        for &serial in &serials {
            assert!(serial > 0 && seen.insert(serial), "unique");
        }
        let positions: std::collections::HashSet<u64> =
            serials.iter().map(|&s| position(s)).collect();
        assert_eq!(positions.len(), CAPACITY, "one position per entry");

        // A replacement takes the position of the entry it evicted: tokens[1]'s, as
        // tokens[0] is in use.
        assert!(hit(&a, &key, &tokens[0]));
        let replaced = put(&a, CAPACITY).serial;
        assert!(!a.contains(&tokens[1]));
        assert!(seen.insert(replaced));
        assert_eq!(position(replaced), position(serials[1]));

        // The same token again: a new serial, same position.
        let again = put(&a, 0).serial;
        assert!(seen.insert(again));
        assert_eq!(position(again), position(serials[0]));

        // Another cache in the process (a new init) never repeats a serial.
        for i in 0..CAPACITY {
            assert!(seen.insert(put(&b, i).serial));
        }
    }

    /// The index's buckets come from the hash's low bits and its control bytes from the top
    /// 7: both must spread for signature segments, whose characters span only 64 byte values
    /// (the first eight bytes as the hash, as before, gave 64 low bytes and 35 top values).
    #[test]
    fn hash_spreads_signature_segments() {
        let key = key();
        let n = CAPACITY;
        let cache = TokenCache::default();
        let hashes: Vec<u64> = tokens(&key, n)
            .iter()
            .map(|t| cache.hash(&split(t).unwrap()))
            .collect();
        let distinct = |f: &dyn Fn(u64) -> u64| {
            let mut v: Vec<u64> = hashes.iter().map(|&h| f(h)).collect();
            v.sort_unstable();
            v.dedup();
            v.len()
        };
        assert_eq!(distinct(&|h| h & 0xff), 256, "low byte");
        assert_eq!(distinct(&|h| h >> 57), 128, "top 7 bits");
        // 10,000 random values in 16,384 buckets fill about 7,490 of them.
        let buckets = distinct(&|h| h & 0x3fff);
        assert!(buckets > 7_200, "{buckets} of 16,384 buckets used");
        assert_eq!(distinct(&|h| h), n);
    }
}

#[cfg(test)]
mod timing {
    use super::tests::tokens;
    use super::*;
    use crate::access_token::split;

    /// `cargo test --release --lib time_lookup -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn time_lookup() {
        let key = Arc::new(SigningKey::new(
            "k1795879196131".into(),
            None,
            1,
            "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=",
        ));
        let tokens = tokens(&key, CAPACITY);
        let cache = TokenCache::default();
        for t in &tokens {
            let p = split(t).unwrap();
            let c = crate::access_token::verify(&p, &key, 1000).unwrap();
            cache.put(&p, &key, c);
        }
        let parts: Vec<Parts> = tokens.iter().map(|t| split(t).unwrap()).collect();
        for n in [100usize, CAPACITY] {
            let rounds = 2_000_000 / n;
            let start = std::time::Instant::now();
            for _ in 0..rounds {
                for p in &parts[..n] {
                    assert!(cache.get(p, &key, 1000).is_some());
                }
            }
            let per = start.elapsed() / (rounds * n) as u32;
            eprintln!("get, {n} of {} entries: {per:?} per call", parts.len());
        }
    }

    /// Every call a miss: more tokens than the cache holds, cycled in order (the bench's cold
    /// row, without the N-API and JS parts).
    /// `cargo test --release --lib time_miss -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn time_miss() {
        use crate::access_token::{verify, Claims};
        use serde_json::value::RawValue;
        let key = Arc::new(SigningKey::new(
            "k1795879196131".into(),
            None,
            1,
            "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=",
        ));
        let n = CAPACITY + CAPACITY / 5;
        let tokens: Vec<String> = (0..n)
            .map(|i| {
                let payload = format!(r#"{{"role":"member","n":{i}}}"#);
                let c = Claims {
                    session_handle: format!("6bd615b6-eb10-4e8a-a529-{i:012}"),
                    user_id: format!("user-ours-123456-{i}"),
                    rt: "0dc8915515391c2814d02c01f6e6fb789b9609473c38c591e821aa4e08172730".into(),
                    prt: None,
                    anti_csrf_token: Some("19dee15e-ed7c-4e92-9091-fdb4e64aea10".into()),
                    expiry_time: u64::MAX / 2,
                    user_payload: Some(RawValue::from_string(payload).unwrap()),
                };
                crate::access_token::sign(&key, &c).unwrap()
            })
            .collect();
        let cache = TokenCache::default();
        // For instruction counts: `TIME_N=30000 valgrind --tool=callgrind …` runs N calls of
        // the cache loop once (and TIME_N=0: the difference over N is one call's).
        let (calls, rounds) =
            std::env::var("TIME_N").map_or((1_000_000, 2), |v| (v.parse().unwrap(), 1));
        for round in 0..rounds {
            let start = std::time::Instant::now();
            for i in 0..calls * usize::from(rounds > 1) {
                let p = split(&tokens[i % n]).unwrap();
                let v = verify(&p, &key, 1000).unwrap();
                assert_eq!(v.expiry_time, u64::MAX / 2);
            }
            let verify_only = start.elapsed() / calls.max(1) as u32;
            let start = std::time::Instant::now();
            let mut hits = 0;
            for i in 0..calls {
                let p = split(&tokens[i % n]).unwrap();
                match cache.get(&p, &key, 1000) {
                    Some(_) => hits += 1,
                    None => {
                        let v = verify(&p, &key, 1000).unwrap();
                        cache.put(&p, &key, v);
                    }
                }
            }
            let with_cache = start.elapsed() / calls.max(1) as u32;
            eprintln!(
                "round {round}: split+verify {verify_only:?}; get, verify, put {with_cache:?} per call ({hits} hits)"
            );
        }
    }
}

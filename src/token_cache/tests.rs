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
    let put = |c: &TokenCache, i: usize| c.put(&split(&tokens[i]).unwrap(), &key, claims(i).into());
    let position = |serial: u64| serial % CAPACITY as u64;
    let mut seen = std::collections::HashSet::new();
    let serials: Vec<u64> = (0..CAPACITY).map(|i| put(&a, i).serial).collect();
    for &serial in &serials {
        assert!(serial > 0 && seen.insert(serial), "unique");
    }
    let positions: std::collections::HashSet<u64> = serials.iter().map(|&s| position(s)).collect();
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

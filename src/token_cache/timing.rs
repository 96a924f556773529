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

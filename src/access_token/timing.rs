use super::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// The key and claims the ignored timing tests sign and verify.
fn timing_key() -> SigningKey {
    SigningKey::new(
        "k1795879196131".into(),
        None,
        1,
        "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=",
    )
}

fn timing_claims(user_id: &str, payload: &str) -> Claims {
    Claims {
        session_handle: "6bd615b6-eb10-4e8a-a529-30b11ebaade4".into(),
        user_id: user_id.into(),
        rt: "0dc8915515391c2814d02c01f6e6fb789b9609473c38c591e821aa4e08172730".into(),
        prt: None,
        anti_csrf_token: Some("19dee15e-ed7c-4e92-9091-fdb4e64aea10".into()),
        expiry_time: u64::MAX / 2,
        user_payload: Some(RawValue::from_string(payload.into()).unwrap()),
    }
}

/// `cargo test --release --lib time_verify -- --ignored --nocapture`
#[test]
#[ignore]
fn time_verify() {
    let key = timing_key();
    let claims = timing_claims(
        "user1",
        r#"{"name":"spooky action at a distance","userId":"User1"}"#,
    );
    let t = sign(&key, &claims).unwrap();
    let n = 200_000;
    let start = std::time::Instant::now();
    for _ in 0..n {
        let parts = split(&t).unwrap();
        assert_eq!(verify(&parts, &key, 1000).unwrap().user_id(), "user1");
    }
    eprintln!("split+verify: {:?} per call", start.elapsed() / n);
}

/// The parts of `verify`, separately. `cargo test --release --lib time_verify_parts -- --ignored --nocapture`
#[test]
#[ignore]
fn time_verify_parts() {
    let key = timing_key();
    let claims = timing_claims("user-ours-123456-789", r#"{"role":"member","n":789}"#);
    let t = sign(&key, &claims).unwrap();
    let parts = split(&t).unwrap();
    // For instruction counts: `TIME_N=20000 TIME_ONLY=verify valgrind --tool=callgrind …`
    // (and TIME_N=0: the difference over N is one call's).
    let n: u32 = std::env::var("TIME_N").map_or(500_000, |v| v.parse().unwrap());
    let only = std::env::var("TIME_ONLY").ok();
    let time = |label: &str, f: &mut dyn FnMut() -> usize| {
        if only.as_deref().is_some_and(|o| o != label) {
            return;
        }
        let start = std::time::Instant::now();
        let mut x = 0;
        for _ in 0..n {
            x += std::hint::black_box(f());
        }
        eprintln!("{label}: {:?} per call ({x})", start.elapsed() / n.max(1));
    };
    eprintln!(
        "token {} bytes, payload segment {}",
        t.len(),
        parts.payload.len()
    );
    time("split", &mut || {
        split(std::hint::black_box(&t)).unwrap().payload.len()
    });
    time("base64 signature", &mut || {
        URL_SAFE_NO_PAD.decode(parts.signature).unwrap().len()
    });
    time("hmac", &mut || {
        let mut mac = key.mac.clone();
        mac.update(parts.signed.as_bytes());
        mac.finalize().into_bytes().len()
    });
    time("base64 payload", &mut || {
        URL_SAFE_NO_PAD.decode(parts.payload).unwrap().len()
    });
    let json = URL_SAFE_NO_PAD.decode(parts.payload).unwrap();
    time("serde claims", &mut || {
        serde_json::from_slice::<Claims>(&json)
            .unwrap()
            .user_id
            .len()
    });
    time("direct claims", &mut || {
        parse_claims_as_signed(&json).unwrap().user_id().len()
    });
    time("verify", &mut || {
        verify(&parts, &key, 1000).unwrap().user_id().len()
    });
    time("utf8 check", &mut || {
        std::str::from_utf8(std::hint::black_box(t.as_bytes()))
            .unwrap()
            .len()
    });
}

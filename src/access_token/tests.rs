use super::parse::plain_prefix;
use super::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

fn claims(expiry: u64, payload: Option<&str>) -> Claims {
    Claims {
        session_handle: "h".into(),
        user_id: "u".into(),
        rt: "rt".into(),
        prt: None,
        anti_csrf_token: Some("csrf".into()),
        expiry_time: expiry,
        user_payload: payload.map(|p| RawValue::from_string(p.into()).unwrap()),
    }
}

#[test]
fn round_trip_keeps_payload_text_and_null() {
    let key = SigningKey::new("k1".into(), None, 1, "secret");
    for p in [
        Some(r#"{"a":[1,2,{"b":null}]}"#),
        Some("null"),
        Some("\"s\""),
        None,
    ] {
        let t = sign(&key, &claims(2000, p)).unwrap();
        let parts = split(&t).unwrap();
        assert_eq!(kid(&parts).unwrap(), "k1");
        assert!(key.wrote_header(parts.header));
        let c = verify(&parts, &key, 1000).unwrap();
        assert_eq!(c.user_payload(), p);
        assert_eq!(c.anti_csrf_token(), Some("csrf"));
    }
}

#[test]
fn rejects_expired_foreign_and_altered_tokens() {
    let key = SigningKey::new("k1".into(), None, 1, "secret");
    let t = sign(&key, &claims(2000, None)).unwrap();
    let v = |token: &str, key: &SigningKey, now| split(token).and_then(|p| verify(&p, key, now));
    assert_eq!(v(&t, &key, 2000).unwrap_err().code(), 3000);
    let other = SigningKey::new("k1".into(), None, 1, "other");
    assert_eq!(v(&t, &other, 1000).unwrap_err().code(), 3000);
    let mut segments: Vec<&str> = t.split('.').collect();
    segments[2] = "AAAA";
    assert!(v(&segments.join("."), &key, 1000).is_err());
    let padded = format!("{t}=");
    assert!(v(&padded, &key, 1000).is_err());
    assert!(split("nonsense").is_err());
    assert!(split("a.b.c.d")
        .and_then(|p| verify(&p, &key, 1000))
        .is_err());
    assert!(split(&"a".repeat(MAX_TOKEN_LEN + 1)).is_err());
}

/// The direct reader against serde, on what `sign` writes (strings with characters that
/// need escapes, non-ASCII, every optional field present or not, many payloads) and on
/// random edits of it: whenever the direct reader accepts a text, serde reads the same
/// claims from it; and it accepts everything `sign` writes without escapes.
#[test]
fn direct_claims_reader_agrees_with_serde() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(12);
    let plain = [
        "a", "Z", "0", "-", " ", "é", "用户", "😀", "/", "\u{7f}", ":", ",", "}", "{", "'",
    ];
    let escaped = ["\"", "\\", "\n", "\u{1}", "\u{1f}"];
    let payloads = [
        "null",
        "0",
        "-1.5e3",
        "\"s\"",
        "\"}\"",
        "[]",
        "{}",
        r#"{"a":[1,{"b":null}],"c":"}"}"#,
        r#"{"userPayload":1}"#,
        "true",
        r#"{"__proto__":{"x":1}}"#,
    ];
    let text = |rng: &mut rand::rngs::StdRng| -> String {
        (0..rng.random_range(0..6))
            .map(|_| match rng.random_range(0..40) {
                0 => escaped[rng.random_range(0..escaped.len())],
                _ => plain[rng.random_range(0..plain.len())],
            })
            .collect()
    };
    let same = |a: &VerifiedClaims, b: &Claims| a.view() == b.view();
    let (mut direct, mut edited_direct) = (0, 0);
    for i in 0..20_000 {
        let c = Claims {
            session_handle: text(&mut rng),
            user_id: text(&mut rng),
            rt: text(&mut rng),
            prt: rng.random_bool(0.5).then(|| text(&mut rng)),
            anti_csrf_token: rng.random_bool(0.5).then(|| text(&mut rng)),
            expiry_time: [0, 1, 9, 10, u64::MAX, rng.random()][i % 6],
            user_payload: rng.random_bool(0.7).then(|| {
                RawValue::from_string(payloads[rng.random_range(0..payloads.len())].into()).unwrap()
            }),
        };
        let json = serde_json::to_vec(&c).unwrap();
        let strings = [&c.session_handle, &c.user_id, &c.rt]
            .into_iter()
            .chain(c.prt.as_ref())
            .chain(c.anti_csrf_token.as_ref());
        let escapes = strings
            .flat_map(|s| s.chars())
            .any(|ch| ch == '"' || ch == '\\' || ch < ' ');
        match parse_claims_as_signed(&json) {
            Some(fast) => {
                assert!(same(&fast, &c), "{}", String::from_utf8_lossy(&json));
                direct += 1;
            }
            None => assert!(
                escapes,
                "not read directly: {}",
                String::from_utf8_lossy(&json)
            ),
        }
        assert!(same(&parse_claims(&json).unwrap(), &c));

        // Random edits: the direct reader may refuse them, but never disagree with serde.
        let mut edited = json.clone();
        for _ in 0..rng.random_range(1..4) {
            let at = rng.random_range(0..=edited.len());
            match rng.random_range(0..8) {
                0 if at < edited.len() => {
                    edited.remove(at);
                }
                1 => edited.insert(at, b" \"\\,:}{0-.eqqqq7777"[rng.random_range(0..19)]),
                2 => edited.splice(at..at, *b",\"rt\":\"x\"").for_each(drop),
                3 if at < edited.len() => edited[at] = rng.random(),
                4 => edited.splice(at..at, *b"\"prt\":\"p\",").for_each(drop),
                _ => edited.insert(at, b'q'),
            }
        }
        if let Some(fast) = parse_claims_as_signed(&edited) {
            let slow: Claims = serde_json::from_slice(&edited).unwrap_or_else(|e| {
                panic!(
                    "serde refuses what the direct reader accepted ({e}): {}",
                    String::from_utf8_lossy(&edited)
                )
            });
            assert!(same(&fast, &slow), "{}", String::from_utf8_lossy(&edited));
            edited_direct += usize::from(edited != json);
        }
    }
    assert!(direct > 2_000, "{direct} read directly");
    assert!(
        edited_direct > 500,
        "{edited_direct} edited texts read directly"
    );
}

#[test]
fn plain_prefix_stops_at_the_first_quote_backslash_or_control() {
    for len in 0..40 {
        for stop in [b'"', b'\\', 0, 0x1f, b'\n'] {
            for at in 0..=len {
                let mut s = vec![b'a'; len];
                // Bytes around the stop that the word tests must not mistake for it.
                for (i, b) in s.iter_mut().enumerate() {
                    *b = [b'a', 0x20, 0x21, b'#', b']', 0x7f, 0x80, 0xff, b'[', 0x5d][i % 10];
                }
                if at < len {
                    s[at] = stop;
                    if at + 1 < len {
                        s[at + 1] = b'"';
                    }
                }
                assert_eq!(plain_prefix(&s), at, "{s:?}");
            }
        }
    }
}

#[test]
fn rejects_alg_none() {
    let key = SigningKey::new("k1".into(), None, 1, "secret");
    let t = sign(&key, &claims(2000, None)).unwrap();
    let body = t.split('.').nth(1).unwrap();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k1"}"#);
    let forged = format!("{header}.{body}.");
    assert!(verify(&split(&forged).unwrap(), &key, 1000).is_err());
    assert!(
        kid(&split(&forged).unwrap()).is_err(),
        "alg none is not a JWS algorithm"
    );
}

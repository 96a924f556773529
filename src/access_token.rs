//! Access tokens: HS256 JWTs with a `kid` header naming the signing key. Expiry is checked
//! in milliseconds against our own clock (so tests can move it), not with `exp` seconds.
//!
//! Signing uses `jsonwebtoken`. Verification is the hot path of every request, so it is done
//! here in one pass (profiled: `jsonwebtoken::decode` took ~5 µs, parsing the header twice
//! and the claims twice): only the exact header our key writes is accepted (which pins
//! HS256 and the key id), the HMAC is keyed once per key, and the claims are parsed once.

use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use sha2::Sha256;

use crate::b64;
use crate::error::{AuthError, Result};

/// Far above any token we mint (cookies stop at 4096 bytes); refuse bigger input unread.
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Decoded claims up to this size (all we mint but those with big app payloads) are decoded
/// into a stack buffer.
const PAYLOAD_ON_STACK: usize = 1024;

/// One HMAC key with its id, prepared once: the encoding key, the keyed HMAC state and the
/// encoded header every token signed with it starts with.
pub struct SigningKey {
    /// Unique in the process, never reused: names this very key object in the verified-token
    /// cache without holding an `Arc` there (a clone and a drop are two atomic operations
    /// per cache miss, each waiting for the miss's writes to cold memory).
    pub instance: u64,
    pub kid: String,
    pub created_at: u64,
    encoding: EncodingKey,
    mac: Hmac<Sha256>,
    header_b64: String,
    /// The header of tokens minted before key ids came from the key (`k<created_at>`), so
    /// they keep verifying until they expire.
    legacy_header_b64: Option<String>,
}

fn header_for(kid: &str) -> Header {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_string());
    header
}

/// The first segment of any token signed under `kid` (serialisation is deterministic).
fn header_b64(kid: &str, encoding: &EncodingKey) -> String {
    let sample = jsonwebtoken::encode(&header_for(kid), &(), encoding).unwrap_or_default();
    sample.split('.').next().unwrap_or_default().to_string()
}

impl SigningKey {
    /// `legacy_kid`: an older id of the same key whose tokens still verify.
    pub fn new(kid: String, legacy_kid: Option<&str>, created_at: u64, secret: &str) -> Self {
        let encoding = EncodingKey::from_secret(secret.as_bytes());
        static INSTANCES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        SigningKey {
            instance: INSTANCES.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            header_b64: header_b64(&kid, &encoding),
            legacy_header_b64: legacy_kid.map(|k| header_b64(k, &encoding)),
            kid,
            created_at,
            mac: Hmac::<Sha256>::new_from_slice(secret.as_bytes())
                .expect("HMAC takes any key length"),
            encoding,
        }
    }

    /// The keyed HMAC state, for tokens of the original library's form (see `legacy`).
    pub(crate) fn mac(&self) -> &Hmac<Sha256> {
        &self.mac
    }

    /// True when `token_header` (the first segment) is exactly one this key writes or wrote.
    pub fn wrote_header(&self, token_header: &str) -> bool {
        self.header_b64 == token_header || self.legacy_header_b64.as_deref() == Some(token_header)
    }
}

/// The three segments of a compact JWT.
pub struct Parts<'a> {
    pub token: &'a str,
    pub header: &'a str,
    payload: &'a str,
    pub signature: &'a str,
    signed: &'a str,
}

/// Splits a token at its first and last dot (`verify` rejects a payload holding more dots);
/// anything else is TRY_REFRESH_TOKEN, like every other bad access token.
pub fn split(token: &str) -> Result<Parts<'_>> {
    let bad = || AuthError::try_refresh("access token is malformed");
    if token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::try_refresh("access token is too long"));
    }
    let (signed, signature) = token.rsplit_once('.').ok_or_else(bad)?;
    let (header, payload) = signed.split_once('.').ok_or_else(bad)?;
    Ok(Parts {
        token,
        header,
        payload,
        signature,
        signed,
    })
}

/// What an access token says. `rt` is the sha256 of its refresh token; `prt` the sha256 of
/// that token's parent while the refresh token is still a child (not yet promoted).
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    pub session_handle: String,
    pub user_id: String,
    pub rt: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub prt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub anti_csrf_token: Option<String>,
    pub expiry_time: u64,
    /// The app's JWT payload as raw JSON text, embedded without re-encoding; absent when the
    /// app passed `undefined` (JSON `null` stays `null`).
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "present_raw"
    )]
    pub user_payload: Option<Box<RawValue>>,
}

#[cfg(any(test, fuzzing))]
impl Claims {
    pub fn view(&self) -> ClaimsView<'_> {
        ClaimsView {
            session_handle: &self.session_handle,
            user_id: &self.user_id,
            rt: &self.rt,
            prt: self.prt.as_deref(),
            anti_csrf_token: self.anti_csrf_token.as_deref(),
            expiry_time: self.expiry_time,
            user_payload: self.user_payload.as_deref().map(RawValue::get),
        }
    }
}

/// Every claim of either form, borrowed: what tests compare.
#[cfg(any(test, fuzzing))]
#[derive(PartialEq, Eq, Debug)]
pub struct ClaimsView<'a> {
    pub session_handle: &'a str,
    pub user_id: &'a str,
    pub rt: &'a str,
    pub prt: Option<&'a str>,
    pub anti_csrf_token: Option<&'a str>,
    pub expiry_time: u64,
    pub user_payload: Option<&'a str>,
}

/// A byte range of `VerifiedClaims::text`.
#[derive(Clone, Copy)]
struct Span {
    start: u32,
    end: u32,
}

/// The claims of a verified token (what the verified-token cache keeps), their text in one
/// buffer: profiled with more tokens in use than the cache holds, allocating six strings per
/// verification, and freeing them (cold) when the entry was evicted, was ≈ 5 % of a call.
pub struct VerifiedClaims {
    /// Holds every string claim; the spans below say where.
    text: Box<str>,
    session_handle: Span,
    user_id: Span,
    rt: Span,
    prt: Option<Span>,
    anti_csrf_token: Option<Span>,
    /// The app's JWT payload as JSON text (see `Claims::user_payload`).
    user_payload: Option<Span>,
    pub expiry_time: u64,
    /// Not part of the token: the process-unique number `TokenCache::put` gives a cached
    /// verification (0: not cached), so the JS layer can parse each payload only once; modulo
    /// the cache's capacity, the entry's position there (see `token_cache::next_serial`).
    pub serial: u64,
}

impl VerifiedClaims {
    fn at(&self, span: Span) -> &str {
        &self.text[span.start as usize..span.end as usize]
    }

    pub fn session_handle(&self) -> &str {
        self.at(self.session_handle)
    }

    pub fn user_id(&self) -> &str {
        self.at(self.user_id)
    }

    pub fn rt(&self) -> &str {
        self.at(self.rt)
    }

    pub fn prt(&self) -> Option<&str> {
        self.prt.map(|s| self.at(s))
    }

    pub fn anti_csrf_token(&self) -> Option<&str> {
        self.anti_csrf_token.map(|s| self.at(s))
    }

    pub fn user_payload(&self) -> Option<&str> {
        self.user_payload.map(|s| self.at(s))
    }

    #[cfg(any(test, fuzzing))]
    pub fn view(&self) -> ClaimsView<'_> {
        ClaimsView {
            session_handle: self.session_handle(),
            user_id: self.user_id(),
            rt: self.rt(),
            prt: self.prt(),
            anti_csrf_token: self.anti_csrf_token(),
            expiry_time: self.expiry_time,
            user_payload: self.user_payload(),
        }
    }

    /// The same claims in the form `sign` takes.
    #[cfg(fuzzing)]
    pub fn to_claims(&self) -> Claims {
        Claims {
            session_handle: self.session_handle().to_owned(),
            user_id: self.user_id().to_owned(),
            rt: self.rt().to_owned(),
            prt: self.prt().map(str::to_owned),
            anti_csrf_token: self.anti_csrf_token().map(str::to_owned),
            expiry_time: self.expiry_time,
            user_payload: self
                .user_payload()
                .map(|p| RawValue::from_string(p.to_owned()).expect("was read as JSON")),
        }
    }
}

impl std::fmt::Debug for VerifiedClaims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedClaims")
            .field("session_handle", &self.session_handle())
            .field("user_id", &self.user_id())
            .field("rt", &self.rt())
            .field("prt", &self.prt())
            .field("anti_csrf_token", &self.anti_csrf_token())
            .field("expiry_time", &self.expiry_time)
            .field("user_payload", &self.user_payload())
            .field("serial", &self.serial)
            .finish()
    }
}

/// For claims serde read (not in `sign`'s layout, or with escapes): their text copied into
/// one buffer.
impl From<Claims> for VerifiedClaims {
    fn from(c: Claims) -> Self {
        let mut text = String::new();
        let mut push = |s: &str| {
            let start = text.len() as u32;
            text.push_str(s);
            Span {
                start,
                end: text.len() as u32,
            }
        };
        let session_handle = push(&c.session_handle);
        let user_id = push(&c.user_id);
        let rt = push(&c.rt);
        let prt = c.prt.as_deref().map(&mut push);
        let anti_csrf_token = c.anti_csrf_token.as_deref().map(&mut push);
        let user_payload = c.user_payload.as_deref().map(|p| push(p.get()));
        VerifiedClaims {
            text: text.into_boxed_str(),
            session_handle,
            user_id,
            rt,
            prt,
            anti_csrf_token,
            user_payload,
            expiry_time: c.expiry_time,
            serial: 0,
        }
    }
}

fn present_raw<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(d).map(Some)
}

pub fn sign(key: &SigningKey, claims: &Claims) -> Result<String> {
    jsonwebtoken::encode(&header_for(&key.kid), claims, &key.encoding)
        .map_err(|e| AuthError::general(format!("could not sign access token: {e}")))
}

/// The key id a token's header names (the slow path, for headers no cached key wrote).
pub fn kid(parts: &Parts) -> Result<String> {
    let header = jsonwebtoken::decode_header(parts.token)
        .map_err(|_| AuthError::try_refresh("access token is malformed"))?;
    header
        .kid
        .ok_or_else(|| AuthError::try_refresh("access token names no key"))
}

/// Checks header, signature (constant time) and expiry. Every failure is TRY_REFRESH_TOKEN.
pub fn verify(parts: &Parts, key: &SigningKey, now_ms: u64) -> Result<VerifiedClaims> {
    let invalid = || AuthError::try_refresh("access token is invalid");
    if !key.wrote_header(parts.header) || parts.payload.contains('.') {
        return Err(invalid());
    }
    // Decoded on the stack (a too-long segment does not fit: invalid), not into two `Vec`s:
    // profiled on cache misses, malloc and free were ≈ 7 % of a call.
    let mut signature = [0u8; 48];
    let signature_len =
        b64::decode(parts.signature.as_bytes(), &mut signature).ok_or_else(invalid)?;
    let mut mac = key.mac.clone();
    mac.update(parts.signed.as_bytes());
    // Constant time like `verify_slice`, without `subtle`'s per-byte optimisation barrier.
    let expected: [u8; 32] = mac.finalize().into_bytes().into();
    if !constant_time_eq::constant_time_eq(&expected, &signature[..signature_len]) {
        return Err(invalid());
    }
    let mut on_stack = [0u8; PAYLOAD_ON_STACK];
    let mut on_heap = Vec::new();
    let json = if parts.payload.len() / 4 * 3 + 3 <= PAYLOAD_ON_STACK {
        &mut on_stack[..]
    } else {
        on_heap.resize(parts.payload.len() / 4 * 3 + 3, 0);
        &mut on_heap[..]
    };
    let json_len = b64::decode(parts.payload.as_bytes(), json).ok_or_else(invalid)?;
    let claims = parse_claims(&json[..json_len]).ok_or_else(invalid)?;
    if claims.expiry_time <= now_ms {
        return Err(AuthError::try_refresh("access token has expired"));
    }
    Ok(claims)
}

/// The claims of a token whose signature checked out: the text is one this library signed.
/// What `sign` writes (serde_json: fields in declaration order, absent options left out) is
/// read directly, strings without escapes sliced as they are; anything else (an escape in a
/// string, another order or writer) goes to serde. Profiled, serde took half of a
/// verification on a cache miss (1 µs of 2). The direct reader accepts a text only when it
/// is exactly that layout, so the claims are always the ones serde reads from it.
pub fn parse_claims(json: &[u8]) -> Option<VerifiedClaims> {
    parse_claims_as_signed(json).or_else(|| {
        serde_json::from_slice::<Claims>(json)
            .ok()
            .map(VerifiedClaims::from)
    })
}

/// `parse_claims` without the serde fallback: `None` for any text not in `sign`'s layout.
pub(crate) fn parse_claims_as_signed(json: &[u8]) -> Option<VerifiedClaims> {
    let mut r = Reader {
        text: std::str::from_utf8(json).ok()?,
        at: 0,
    };
    r.expect("{\"sessionHandle\":")?;
    let session_handle = r.string()?;
    r.expect(",\"userId\":")?;
    let user_id = r.string()?;
    r.expect(",\"rt\":")?;
    let rt = r.string()?;
    let prt = r.optional_string(",\"prt\":")?;
    let anti_csrf_token = r.optional_string(",\"antiCsrfToken\":")?;
    r.expect(",\"expiryTime\":")?;
    let expiry_time = r.integer()?;
    let user_payload = if r.eat(",\"userPayload\":") {
        // The last field: its value runs to the object's closing brace, and must be one
        // JSON value (RawValue checks, as serde would, and leaves out surrounding space).
        let value = r.text[r.at..].strip_suffix('}')?;
        let raw: &RawValue = serde_json::from_str(value).ok()?;
        let start = raw.get().as_ptr() as usize - r.text.as_ptr() as usize;
        Some(r.span(start, start + raw.get().len()))
    } else {
        r.expect("}")?;
        if r.at != r.text.len() {
            return None;
        }
        None
    };
    Some(VerifiedClaims {
        text: r.text.into(),
        session_handle,
        user_id,
        rt,
        prt,
        anti_csrf_token,
        expiry_time,
        user_payload,
        serial: 0,
    })
}

/// How many bytes from the start of `bytes` a JSON string can take as they are: up to the
/// first '"', '\\' or control character (or the end). Eight bytes a step (SWAR): in a word,
/// the lowest byte flagged by the zero-byte and less-than tests is exact.
fn plain_prefix(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = ONES * 0x80;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x;
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let found = (zero_byte(w ^ (ONES * u64::from(b'"')))
            | zero_byte(w ^ (ONES * u64::from(b'\\')))
            | (w.wrapping_sub(ONES * 0x20) & !w))
            & HIGH;
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at + bytes[at..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .unwrap_or(bytes.len() - at)
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl Reader<'_> {
    fn eat(&mut self, literal: &str) -> bool {
        let found = self.text[self.at..].starts_with(literal);
        if found {
            self.at += literal.len();
        }
        found
    }

    fn expect(&mut self, literal: &str) -> Option<()> {
        self.eat(literal).then_some(())
    }

    /// A string without escapes (an escape, or a raw control character, which JSON does not
    /// allow, ends the direct reading): where its content is.
    fn string(&mut self) -> Option<Span> {
        self.expect("\"")?;
        let rest = &self.text.as_bytes()[self.at..];
        let len = plain_prefix(rest);
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        let span = self.span(self.at, self.at + len);
        self.at += len + 1;
        Some(span)
    }

    fn span(&self, start: usize, end: usize) -> Span {
        // Tokens are at most MAX_TOKEN_LEN long, far below u32::MAX.
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// `Some(None)` when the field is absent, `None` when it is there but not readable.
    fn optional_string(&mut self, key: &str) -> Option<Option<Span>> {
        if self.eat(key) {
            self.string().map(Some)
        } else {
            Some(None)
        }
    }

    /// A u64 as JSON writes it: digits, no leading zero, no sign, fraction or exponent.
    fn integer(&mut self) -> Option<u64> {
        let digits = &self.text.as_bytes()[self.at..];
        let count = digits.iter().take_while(|b| b.is_ascii_digit()).count();
        if count == 0 || (count > 1 && digits[0] == b'0') {
            return None;
        }
        let mut n: u64 = 0;
        for &d in &digits[..count] {
            n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        }
        self.at += count;
        Some(n)
    }
}

#[cfg(test)]
mod tests {
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
        let v =
            |token: &str, key: &SigningKey, now| split(token).and_then(|p| verify(&p, key, now));
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
                    RawValue::from_string(payloads[rng.random_range(0..payloads.len())].into())
                        .unwrap()
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
}

#[cfg(test)]
mod timing {
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
}

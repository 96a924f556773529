//! The claims an access token carries: as signed (`Claims`), and as verified, in one buffer
//! (`VerifiedClaims`).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::present_raw;

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
pub(super) struct Span {
    pub(super) start: u32,
    pub(super) end: u32,
}

/// The claims of a verified token (what the verified-token cache keeps), their text in one
/// buffer: one allocation per verification, and one free when the cache evicts the entry,
/// instead of six of each (which showed with more tokens in use than the cache holds).
pub struct VerifiedClaims {
    /// Holds every string claim; the spans below say where.
    pub(super) text: Box<str>,
    pub(super) session_handle: Span,
    pub(super) user_id: Span,
    pub(super) rt: Span,
    pub(super) prt: Option<Span>,
    pub(super) anti_csrf_token: Option<Span>,
    /// The app's JWT payload as JSON text (see `Claims::user_payload`).
    pub(super) user_payload: Option<Span>,
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

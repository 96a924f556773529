//! `verifyAccessToken`, every request's path, registered with Node-API by hand.
//!
//! napi-rs 3's generated wrapper opens a borrow scope on every call (a mutex, an `Arc` and
//! thread-local vectors), which only exports that borrow JS objects need and which weighs
//! as much as a cached verification itself. This one export therefore is a plain
//! `napi_callback` (see `raw_export`); it converts its arguments and throws its errors with
//! napi-rs's own conversions, exactly as the generated code would. Every other export stays
//! on `#[napi]`.
//! (The generated `native.d.ts` does not list it; `lib/verify.js` is its only caller.)

use std::cell::RefCell;
use std::ffi::CStr;
use std::ptr;
use std::sync::Arc;

use napi::bindgen_prelude::{FromNapiValue, Null, Object, ToNapiValue};
use napi::{check_status, sys, Env, JsValue, Result};
use napi_derive::napi;

use crate::access_token::VerifiedClaims;
use crate::api::Verified;
use crate::engine::{engine, Engine};
use crate::error::AuthError;
use crate::failure::{settle, Failure, Outcome};
use crate::raw_export;
use crate::session::{self, Checked, FirstCheck, KeySource};
use crate::string_arg::AsciiArg;

const NAME: &CStr = c"verifyAccessToken";

/// Results above this size (big app payloads) are not kept for reuse.
const KEEP_RESULT_CAPACITY: usize = 16 * 1024;

thread_local! {
    /// The result string's buffer, reused: a malloc and a free fewer per call.
    static RESULT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Adds `verifyAccessToken(accessToken, antiCsrf, appKey, useDatabase)` to the exports.
#[napi(module_exports)]
pub fn register_hot_path(exports: Object, env: Env) -> Result<()> {
    raw_export::register(&exports, &env, NAME, Some(verify_access_token))
}

/// The synchronous fast path: no database, no thread hop. `antiCsrf` null skips the CSRF
/// check; `appKey` is the app's signing key, if it manages its own. When the database is
/// needed (blacklisting, a child token, a key not loaded yet) it returns a promise of the
/// rest of the verification (of a `Verified` or a `Failure`), which goes on from what this
/// call checked, or `null` when `useDatabase` is false. Otherwise it returns one string,
/// `<serial>:<handle length>:<userId length>:<handle><userId><payload JSON>` (lengths in
/// UTF-16 code units, as JS counts; payload empty when undefined; serial: `VerifiedClaims::serial`
/// on a cache hit, 0 when this call verified the token in full, so lib/fast-session.js keeps
/// only sessions whose token came back, not every miss's strings). One string, because it
/// crosses the boundary far cheaper than an array or an object. lib/fast-session.js decodes
/// it.
/// A failed verification returns a `Failure` object (see `failure`), as the async exports
/// resolve to one; only a value napi-rs cannot convert, or a panic, throws.
unsafe extern "C" fn verify_access_token(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: this is that callback.
    unsafe { raw_export::run(env, info, call) }
}

/// # Safety
/// `env` and `info` are those of a callback running on the JS thread.
unsafe fn call(env: sys::napi_env, info: sys::napi_callback_info) -> Result<sys::napi_value> {
    let argv = raw_export::args::<4>(env, info)?;
    let access_token = AsciiArg::from_napi_value(env, argv[0])?;
    let anti_csrf = Option::<AsciiArg>::from_napi_value(env, argv[1])?;
    let app_key = Option::<String>::from_napi_value(env, argv[2])?;
    let e = match engine() {
        Ok(e) => e,
        Err(err) => return ToNapiValue::to_napi_value(env, Failure::from(err)),
    };
    match verify(&e, &access_token, anti_csrf.as_deref(), app_key.as_deref()) {
        Ok(FirstCheck::Verified(c)) => RESULT.with(|out| {
            let mut out = out.borrow_mut();
            out.clear();
            encode(&mut out, &c.claims, c.cache_hit);
            let value = js_string(env, &out);
            if out.capacity() > KEEP_RESULT_CAPACITY {
                *out = String::new();
            }
            value
        }),
        Ok(FirstCheck::NeedsDatabase(checked)) => {
            if !bool::from_napi_value(env, argv[3]).unwrap_or(false) {
                return ToNapiValue::to_napi_value(env, Null);
            }
            let pending = Pending {
                engine: e,
                checked,
                // Both were read as ASCII (see string_arg), so they are UTF-8 as they are.
                access_token: String::from_utf8_lossy(&access_token).into_owned(),
                anti_csrf: anti_csrf.map(|a| String::from_utf8_lossy(&a).into_owned()),
                app_key,
            };
            let js_env = Env::from_raw(env);
            let promise = js_env.spawn_future(pending.finish())?;
            Ok(promise.raw())
        }
        Err(err) => ToNapiValue::to_napi_value(env, Failure::from(err)),
    }
}

/// The database part of a verification, owning what it needs on the runtime's threads.
struct Pending {
    engine: Arc<Engine>,
    checked: Option<Checked>,
    access_token: String,
    anti_csrf: Option<String>,
    app_key: Option<String>,
}

impl Pending {
    async fn finish(self) -> Result<Outcome<Verified>> {
        let source = self
            .app_key
            .as_deref()
            .map_or(KeySource::Stored, KeySource::App);
        let verified = session::get_with_db(
            &self.engine,
            self.checked,
            &self.access_token,
            self.anti_csrf.as_deref(),
            source,
        )
        .await;
        Ok(settle(verified))
    }
}

/// ASCII (the usual result) is created as Latin-1, a copy; V8's UTF-8 decoder costs more.
unsafe fn js_string(env: sys::napi_env, s: &str) -> Result<sys::napi_value> {
    if !s.is_ascii() {
        return ToNapiValue::to_napi_value(env, s);
    }
    let mut value = ptr::null_mut();
    check_status!(sys::napi_create_string_latin1(
        env,
        s.as_ptr().cast(),
        s.len() as isize,
        &mut value
    ))?;
    Ok(value)
}

/// Tokens and anti-CSRF headers cross as ASCII bytes (see string_arg); the verifier refuses
/// any other byte.
fn verify(
    e: &Engine,
    access_token: &[u8],
    anti_csrf: Option<&[u8]>,
    app_key: Option<&str>,
) -> std::result::Result<FirstCheck, AuthError> {
    let access_token = std::str::from_utf8(access_token)
        .map_err(|_| AuthError::try_refresh("access token is malformed"))?;
    let anti_csrf = anti_csrf
        .map(std::str::from_utf8)
        .transpose()
        .map_err(|_| AuthError::try_refresh("anti-csrf check failed"))?;
    let source = app_key.map_or(KeySource::Stored, KeySource::App);
    session::get_without_db(e, access_token, anti_csrf, source)
}

/// `<serial>:<handle length>:<userId length>:<handle><userId><payload JSON>` (see above).
fn encode(out: &mut String, c: &VerifiedClaims, cache_hit: bool) {
    let (handle, user_id) = (c.session_handle(), c.user_id());
    let payload = c.user_payload().unwrap_or("");
    out.reserve(64 + handle.len() + user_id.len() + payload.len());
    push_decimal(out, if cache_hit { c.serial } else { 0 });
    out.push(':');
    push_decimal(out, utf16_len(handle));
    out.push(':');
    push_decimal(out, utf16_len(user_id));
    out.push(':');
    out.push_str(handle);
    out.push_str(user_id);
    out.push_str(payload);
}

fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
}

fn utf16_len(s: &str) -> u64 {
    let units = if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    };
    units as u64
}

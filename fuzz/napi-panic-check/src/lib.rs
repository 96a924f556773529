//! Four ways a Rust panic can meet the N-API boundary, each shaped like an addon export:
//! a `#[napi(catch_unwind)]` sync function, a hand-registered `napi_callback` wrapped exactly
//! as `src/hot_path.rs` wraps `verifyAccessToken` (with the same code), a plain `#[napi]` sync function, and a
//! `#[napi]` async function. `kind` picks the panic payload: "str" (`panic!("literal")`, a
//! `&'static str`), "string" (`panic!("{}", x)`, a `String`), "index" (out-of-bounds index),
//! "unwrap" (`Option::unwrap` on None); anything else returns normally.

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

fn maybe_panic(kind: &str) -> String {
    let v: Vec<u8> = Vec::new();
    match kind {
        "str" => panic!("literal panic message"),
        "string" => panic!("formatted panic message {}", kind.len()),
        "index" => v[kind.len()].to_string(),
        "unwrap" => {
            let none: Option<&str> = kind.strip_prefix("x");
            none.unwrap().to_string()
        }
        _ => format!("ok {kind}"),
    }
}

/// The `#[napi(catch_unwind)]` shape.
#[napi(catch_unwind)]
pub fn sync_catch_unwind(kind: String) -> Result<String> {
    Ok(maybe_panic(&kind))
}

/// Like `testSetClockOffset`: no catch_unwind.
#[napi]
pub fn sync_plain(kind: String) -> Result<String> {
    Ok(maybe_panic(&kind))
}

/// Like `getSession`, `refreshSession`, `init`.
#[napi]
pub async fn async_fn(kind: String) -> Result<String> {
    tokio_yield().await;
    Ok(maybe_panic(&kind))
}

async fn tokio_yield() {
    // cross an await point so the panic happens on a later poll, as after a database query
    napi::tokio::task::yield_now().await;
}

/// The addon's own hand-registration and panic handling (`src/raw_export.rs`, the file
/// itself), as `src/hot_path.rs` uses them for `verifyAccessToken`.
#[path = "../../../src/raw_export.rs"]
mod raw_export;

/// Registers `rawCallback(kind)` by hand, as `src/hot_path.rs` registers `verifyAccessToken`.
#[napi(module_exports)]
pub fn register_raw(exports: Object, env: Env) -> Result<()> {
    raw_export::register(&exports, &env, c"rawCallback", Some(raw_callback))
}

unsafe extern "C" fn raw_callback(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    unsafe { raw_export::run(env, info, raw_call) }
}

unsafe fn raw_call(env: sys::napi_env, info: sys::napi_callback_info) -> Result<sys::napi_value> {
    let argv = raw_export::args::<1>(env, info)?;
    let kind = String::from_napi_value(env, argv[0])?;
    ToNapiValue::to_napi_value(env, maybe_panic(&kind))
}

//! Three ways a Rust panic can meet the N-API boundary, each shaped like an addon export:
//! the addon's `#[napi(catch_unwind)]` sync function, a plain `#[napi]` sync function, and a
//! `#[napi]` async function. `kind` picks the panic payload: "str" (`panic!("literal")`, a
//! `&'static str`), "string" (`panic!("{}", x)`, a `String`), "index" (out-of-bounds index),
//! "unwrap" (`Option::unwrap` on None); anything else returns normally.

use napi::bindgen_prelude::*;
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

/// Like `getSessionWithoutDb`.
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

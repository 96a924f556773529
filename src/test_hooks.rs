//! Test and bench hooks, compiled only with the `test-hooks` cargo feature
//! (`npm run build:test`, into test-build/): the release binary that npm ships does not
//! contain them, so no code in an app's process can move the clock or reach the raw
//! statements.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::engine::engine;
use crate::error::AuthError;

/// Hooks throw plain errors: only the suites call them, and a failure there fails the test.
fn thrown(e: AuthError) -> Error {
    Error::from_reason(e.to_string())
}

/// Test hook: moves this process's clock by `offsetMs` (expiry and rotation tests).
#[napi(catch_unwind)]
pub fn test_set_clock_offset(offset_ms: i64) -> Result<()> {
    crate::clock::set_offset_ms(offset_ms);
    Ok(())
}

/// Test hook: statements sent to MySQL on behalf of calls by this process since init (the
/// batched refresh bookkeeping not counted).
#[napi(catch_unwind)]
pub fn test_query_count() -> Result<i64> {
    Ok(engine().map_err(thrown)?.store.query_count() as i64)
}

/// Test hook: runs the expired-session removal now; returns the rows removed.
#[napi]
pub async fn test_remove_expired() -> Result<i64> {
    let e = engine().map_err(thrown)?;
    Ok(crate::cleanup::remove_expired(&e.store)
        .await
        .map_err(thrown)? as i64)
}

/// Bench hook: the session INSERT alone, through the package's pool and prepared statement,
/// without tokens or protocol: the raw-MySQL ceiling `npm run bench` compares against.
#[napi]
pub async fn bench_raw_insert(
    session_handle: String,
    user_id: String,
    refresh_token_hash2: String,
    session_info: String,
    expires_at: i64,
    jwt_payload: String,
) -> Result<u32> {
    let e = engine().map_err(thrown)?;
    let client = crate::store::Client::default();
    let row = crate::store::NewRow {
        handle: &session_handle,
        user_id: &user_id,
        refresh_token_hash2: &refresh_token_hash2,
        session_data: &session_info,
        expires_at: expires_at.max(0) as u64,
        jwt_payload: &jwt_payload,
        created_at: crate::clock::now_ms(),
        client: &client,
    };
    e.store.insert_session(&row, None).await.map_err(thrown)?;
    Ok(1)
}

/// Bench hook: the point SELECT of getSessionData alone (the raw-MySQL ceiling).
#[napi]
pub async fn bench_raw_select(session_handle: String) -> Result<Option<String>> {
    let e = engine().map_err(thrown)?;
    e.store.session_data(&session_handle).await.map_err(thrown)
}

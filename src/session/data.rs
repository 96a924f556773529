//! Server-side session data: read, replace, merge.

use serde_json::value::RawValue;

use crate::engine::Engine;
use crate::error::{AuthError, Result};

use super::{check_json, json_from_store, stored_json, MAX_JSON_BYTES};

pub async fn get_data(e: &Engine, handle: &str) -> Result<Option<String>> {
    match e.store.session_data(handle).await? {
        Some(text) => Ok(json_from_store(text)),
        None => Err(AuthError::unauthorised("session does not exist anymore")),
    }
}

/// Merges `patch` (a JSON object, RFC 7386) into the session data on the server.
pub async fn merge_data(e: &Engine, handle: &str, patch: &str) -> Result<()> {
    check_json("patch", Some(patch))?;
    if !patch.trim_start().starts_with('{') {
        return Err(AuthError::general(
            "patch must be an object (a JSON merge patch); use updateSessionData to replace the data",
        ));
    }
    if e.store.merge_session_data(handle, patch).await? {
        return Ok(());
    }
    match e.store.session_data(handle).await? {
        None => Err(AuthError::unauthorised("session does not exist anymore")),
        Some(stored) if !stored.is_empty() && serde_json::from_str::<&RawValue>(&stored).is_err() => {
            Err(AuthError::general(
                "the stored session data is not JSON, so it cannot be merged into; replace it with updateSessionData",
            ))
        }
        Some(_) => Err(AuthError::general(format!(
            "the merged session data would be over {MAX_JSON_BYTES} bytes of JSON"
        ))),
    }
}

pub async fn update_data(e: &Engine, handle: &str, data: Option<String>) -> Result<()> {
    check_json("sessionData", data.as_deref())?;
    if e.store
        .update_session_data(handle, stored_json(data.as_deref()))
        .await?
    {
        Ok(())
    } else {
        Err(AuthError::unauthorised("session does not exist anymore"))
    }
}

//! A user's sessions: listing and revocation (one, all, all but one).

use crate::clock::now_ms;
use crate::engine::Engine;
use crate::error::Result;
use crate::metrics::METRICS;
use crate::original_tokens;
use crate::store::SessionInfo;

pub async fn revoke(e: &Engine, handle: &str) -> Result<bool> {
    let now = now_ms();
    let removed = e.store.revoke_session(handle, now).await?;
    if removed {
        e.revoked.add([handle], now);
    }
    METRICS.sessions_revoked.add(u64::from(removed));
    Ok(removed)
}

/// The user id as the session table may hold it: as given, and for a numeric one while the
/// original's sessions are accepted, the original's `{"i":N}` form.
fn stored_user_ids(e: &Engine, user_id: &str) -> Vec<String> {
    let mut forms = vec![user_id.to_string()];
    if e.config.accept_original_tokens {
        forms.extend(original_tokens::stored_numeric_user_id(user_id));
    }
    forms
}

pub async fn revoke_all_for_user(e: &Engine, user_id: &str) -> Result<()> {
    revoke_user(e, user_id, None).await.map(|_| ())
}

/// Revokes the user's sessions (all, or all but `keep`) in every stored form of the id;
/// returns how many went.
async fn revoke_user(e: &Engine, user_id: &str, keep: Option<&str>) -> Result<u64> {
    let mut removed = 0;
    for form in stored_user_ids(e, user_id) {
        let now = now_ms();
        let handles = e.store.revoke_user_sessions(&form, keep, now).await?;
        e.revoked.add(handles.iter().map(String::as_str), now);
        removed += handles.len() as u64;
    }
    METRICS.sessions_revoked.add(removed);
    Ok(removed)
}

/// The user's live sessions, newest first (rows without a creation time last).
pub async fn sessions_for_user(e: &Engine, user_id: &str) -> Result<Vec<SessionInfo>> {
    // This process's own refreshes first, so the list shows them.
    e.refreshes.flush(&e.store).await?;
    let mut sessions = Vec::new();
    for form in stored_user_ids(e, user_id) {
        sessions.extend(e.store.user_sessions(&form, now_ms()).await?);
    }
    sessions.sort_by(|a, b| match (a.created_at, b.created_at) {
        (Some(x), Some(y)) => y.cmp(&x).then_with(|| a.handle.cmp(&b.handle)),
        (x, y) => y
            .is_some()
            .cmp(&x.is_some())
            .then_with(|| a.handle.cmp(&b.handle)),
    });
    Ok(sessions)
}

/// Removes the user's sessions other than `keep` ("log out everywhere else").
pub async fn revoke_others(e: &Engine, user_id: &str, keep: &str) -> Result<u64> {
    revoke_user(e, user_id, Some(keep)).await
}

pub async fn handles_for_user(e: &Engine, user_id: &str) -> Result<Vec<String>> {
    let mut handles = Vec::new();
    for form in stored_user_ids(e, user_id) {
        handles.extend(e.store.user_session_handles(&form).await?);
    }
    Ok(handles)
}

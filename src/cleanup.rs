//! Background jobs. Removal of expired sessions on the configured cron schedule (UTC). Runs on the addon's
//! tokio runtime, which never keeps the Node process alive; errors are logged, and the job
//! simply runs again at its next time.

use std::str::FromStr;
use std::sync::Arc;

use chrono::Utc;
use tokio::task::JoinHandle;

use crate::clock::now_ms;
use crate::error::{AuthError, Result};
use crate::logger::Logger;
use crate::servers::FAILBACK_INTERVAL;
use crate::store::{Store, REMOVAL_BATCH};

/// Deletes every session expired now, one bounded batch per statement.
pub async fn remove_expired(store: &Store) -> Result<u64> {
    let now = now_ms();
    let mut total = 0;
    loop {
        let n = store.delete_expired_batch(now).await?;
        total += n;
        if n < REMOVAL_BATCH {
            return Ok(total);
        }
    }
}

/// While a later server of `mysql.hosts` is in use, returns to an earlier one once it is
/// healthy (checked every second). Only started when several servers are configured.
pub fn spawn_fail_back(store: Arc<Store>) -> Option<JoinHandle<()>> {
    if !store.servers().can_fail_over() {
        return None;
    }
    Some(napi::bindgen_prelude::spawn(async move {
        loop {
            tokio::time::sleep(FAILBACK_INTERVAL).await;
            if store.servers().active_index() > 0 {
                store.servers().fail_back(store.is_cluster()).await;
            }
        }
    }))
}

pub fn spawn(store: Arc<Store>, log: Logger, expr: &str) -> Result<JoinHandle<()>> {
    let schedule = cron::Schedule::from_str(expr)
        .map_err(|e| AuthError::general(format!("invalid removal cron expression: {e}")))?;
    Ok(napi::bindgen_prelude::spawn(async move {
        while let Some(next) = schedule.upcoming(Utc).next() {
            let wait = (next - Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(wait).await;
            match remove_expired(&store).await {
                Ok(n) => log.info(&format!("removed {n} expired sessions")),
                Err(e) => log.error(&format!("removing expired sessions failed: {e}")),
            }
        }
    }))
}

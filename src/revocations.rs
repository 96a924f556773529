//! Revocation at no-database speed (`tokens.accessToken.revocationPollMs`). Every process
//! logs each revocation in the revocation table (with the DELETE, in one transaction); a
//! process with polling on reads the log every interval (one indexed range scan) into a set
//! `getSession` checks in memory. An entry is kept only as long as an access token of its
//! session can still be alive (one access-token validity): after that, every such token has
//! expired anyway, so the set stays bounded by the revocations of one validity.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::clock::now_ms;
use crate::error::Result;
use crate::logger::Logger;
use crate::store::Store;

/// Each poll reads back this far before the previous one started: a revocation whose
/// transaction committed late, or was stamped by a slightly slower clock, is still seen.
const OVERLAP_MS: u64 = 5_000;

pub struct Revocations {
    /// Session handle → when it was revoked. Empty (and never read) with polling off.
    revoked: RwLock<HashMap<String, u64>>,
    /// How long an entry matters: one access-token validity, plus the overlap.
    keep_ms: u64,
    enabled: bool,
}

impl Revocations {
    pub fn new(poll_ms: Option<u64>, access_token_validity_ms: u64) -> Self {
        Revocations {
            revoked: RwLock::new(HashMap::new()),
            keep_ms: access_token_validity_ms + OVERLAP_MS,
            enabled: poll_ms.is_some(),
        }
    }

    /// True when `handle` was revoked (by any process, as of the last poll).
    pub fn is_revoked(&self, handle: &str) -> bool {
        if !self.enabled {
            return false;
        }
        let revoked = self.revoked.read().unwrap_or_else(|p| p.into_inner());
        !revoked.is_empty() && revoked.contains_key(handle)
    }

    /// Records revocations made by this process at once (no need to wait for the poll).
    pub fn add<'a>(&self, handles: impl IntoIterator<Item = &'a str>, at: u64) {
        if !self.enabled {
            return;
        }
        let mut revoked = self.revoked.write().unwrap_or_else(|p| p.into_inner());
        for h in handles {
            revoked.insert(h.to_string(), at);
        }
    }

    fn merge(&self, rows: Vec<(String, u64)>, now: u64) {
        let mut revoked = self.revoked.write().unwrap_or_else(|p| p.into_inner());
        revoked.extend(rows);
        revoked.retain(|_, at| *at + self.keep_ms > now);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.revoked.read().unwrap().len()
    }

    /// Loads the revocations that still matter (at `init`, before any request).
    pub async fn load(&self, store: &Store) -> Result<()> {
        if self.enabled {
            let now = now_ms();
            self.merge(
                store
                    .revocations_since(now.saturating_sub(self.keep_ms))
                    .await?,
                now,
            );
        }
        Ok(())
    }
}

/// The poll, every `poll_ms`; every 100th also forgets log rows nobody needs any more.
pub fn spawn_poll(
    revocations: Arc<Revocations>,
    store: Arc<Store>,
    log: Logger,
    poll_ms: u64,
) -> JoinHandle<()> {
    napi::bindgen_prelude::spawn(async move {
        let mut since = now_ms().saturating_sub(OVERLAP_MS);
        let mut round: u64 = 0;
        loop {
            tokio::time::sleep(Duration::from_millis(poll_ms)).await;
            let started = now_ms();
            match store.revocations_since(since).await {
                Ok(rows) => {
                    revocations.merge(rows, started);
                    since = started.saturating_sub(OVERLAP_MS);
                }
                // The next poll reads from the same point, so nothing is missed.
                Err(e) => log.error(&format!("polling the revocations failed: {e}")),
            }
            round += 1;
            if round.is_multiple_of(100) {
                let before = started.saturating_sub(revocations.keep_ms);
                if let Err(e) = store.delete_old_revocations(before).await {
                    log.error(&format!("removing old revocations failed: {e}"));
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_live_one_access_token_validity() {
        let r = Revocations::new(Some(100), 60_000);
        r.add(["a"], 1_000);
        assert!(r.is_revoked("a"));
        assert!(!r.is_revoked("b"));
        r.merge(vec![("b".into(), 50_000)], 50_000);
        assert!(r.is_revoked("b"));
        r.merge(Vec::new(), 1_000 + 65_000);
        assert!(!r.is_revoked("a"), "a's tokens have all expired");
        assert!(r.is_revoked("b"));
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn off_means_nothing_is_kept() {
        let r = Revocations::new(None, 60_000);
        r.add(["a"], 1_000);
        assert!(!r.is_revoked("a"));
        assert_eq!(r.len(), 0);
    }
}

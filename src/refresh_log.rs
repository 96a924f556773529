//! A refresh's bookkeeping (when, from which IP and user agent) is written in batches: one
//! statement for every refresh of the last `FLUSH_INTERVAL`, instead of an UPDATE per
//! refresh, so a refresh costs one read on the database (and on Galera no replicated write
//! of its own). Only refreshes that succeeded are recorded. Readers in this process flush
//! first (`sessions_for_user`, a capped login), so they see their own refreshes; other
//! processes see them within the interval.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::error::Result;
use crate::logger::Logger;
use crate::store::{Client, Store, Touched};

pub const FLUSH_INTERVAL: Duration = Duration::from_millis(50);
/// Refreshes waiting beyond this are written by the refresh that finds the log full.
const MAX_PENDING: usize = 10_000;
/// Rows per statement (a power of two: see `Store::touch_sessions`).
const MAX_BATCH: usize = 256;

#[derive(Default)]
pub struct RefreshLog {
    /// The latest refresh of each session not yet written.
    pending: Mutex<HashMap<String, (u64, Client)>>,
    /// Held while a batch is being written, so a reader's flush waits for one in flight.
    flushing: tokio::sync::Mutex<()>,
}

impl RefreshLog {
    /// Records a refresh of `handle` at `at` from `client`; true when the log is full and
    /// the caller should `flush` now.
    pub fn record(&self, handle: &str, at: u64, client: Client) -> bool {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.insert(handle.to_string(), (at, client));
        pending.len() >= MAX_PENDING
    }

    /// Writes every recorded refresh; what a failed statement did not write is kept for the
    /// next flush (unless a newer refresh of the session replaced it).
    pub async fn flush(&self, store: &Store) -> Result<()> {
        let _writing = self.flushing.lock().await;
        let batch: Vec<Touched> = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending
                .drain()
                .map(|(handle, (at, client))| Touched { handle, at, client })
                .collect()
        };
        let mut rows = batch.as_slice();
        while !rows.is_empty() {
            let (now, later) = rows.split_at(rows.len().min(MAX_BATCH));
            if let Err(e) = store.touch_sessions(now).await {
                self.keep(rows);
                return Err(e);
            }
            rows = later;
        }
        Ok(())
    }

    fn keep(&self, rows: &[Touched]) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        for r in rows {
            pending
                .entry(r.handle.clone())
                .or_insert_with(|| (r.at, r.client.clone()));
        }
    }
}

/// Flushes the log every `FLUSH_INTERVAL` until aborted.
pub fn spawn_flush(log: Arc<RefreshLog>, store: Arc<Store>, logger: Logger) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(FLUSH_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = log.flush(&store).await {
                logger.error(&format!(
                    "recording refreshes failed (kept for the next try): {e}"
                ));
            }
        }
    })
}

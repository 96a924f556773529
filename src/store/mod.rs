//! The database: one pool per server in use, every operation under a timeout, conflict
//! retries and failover (`run`). The statements are in `sql`, run by `keys` and `sessions`;
//! prepared statements are cached per connection by mysql_async.
//!
//! On a Galera cluster (detected at `open`) every statement whose answer decides a
//! session's fate waits for the node to apply what other nodes committed before it
//! (`wsrep_sync_wait`), so a call on one node sees every call that resolved on another.
//! Deadlocks and certification conflicts are retried with jitter (see `run`).

mod keys;
mod sessions;
mod sql;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use mysql_async::prelude::*;
use mysql_async::Conn;
use rand::Rng;

use crate::config::MysqlConfig;
use crate::error::{AuthError, Result};
use crate::metrics::METRICS;
use crate::servers::Servers;
pub use keys::KeyRow;
pub use sessions::{Client, NewRow, Promotion, Rotation, SessionInfo, Touched};
use sql::Sql;
pub use sql::MAX_DATA_BYTES;

/// Upper bound on one database operation (connect + statements): during an outage calls
/// fail with GENERAL_ERROR after this long instead of hanging.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);

/// Rows deleted per statement by the removal job, so a backlog never holds a long lock.
pub const REMOVAL_BATCH: u64 = 1000;

/// Conflicts (1213, 1205) retried per operation before the error reaches the caller.
const MAX_CONFLICT_RETRIES: u32 = 8;
/// Backoff before conflict retry n: a random delay up to min(2^n, 64) ms, so the
/// processes that collided do not collide again in lockstep.
const MAX_BACKOFF_MS: u64 = 64;

type DbResult<T> = std::result::Result<T, mysql_async::Error>;

pub struct Store {
    servers: Servers,
    sql: Sql,
    /// Whether the server is a Galera node (`wsrep_on`); causal reads are on then.
    galera: bool,
    /// Statements sent on behalf of calls, for the test hook that proves the fast path stays
    /// off the database (the batched refresh bookkeeping, written by a job, is not counted).
    queries: AtomicU64,
}

impl Store {
    /// Connects (to the first server of `mysql.hosts` that answers), detects Galera and
    /// creates the tables if needed.
    pub async fn open(c: &MysqlConfig) -> Result<Self> {
        let mut store = Store {
            servers: Servers::new(c)?,
            sql: Sql::new(&c.signing_key_table, &c.refresh_token_table, false),
            galera: false,
            queries: AtomicU64::new(0),
        };
        let opened = async {
            store.galera = store.is_galera().await?;
            if store.galera {
                store.sql = Sql::new(&c.signing_key_table, &c.refresh_token_table, true);
            }
            store.create_tables().await
        };
        if let Err(e) = opened.await {
            let _ = store.disconnect().await;
            return Err(e);
        }
        Ok(store)
    }

    #[cfg(feature = "test-hooks")]
    pub fn query_count(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }

    pub fn is_cluster(&self) -> bool {
        self.galera
    }

    pub fn servers(&self) -> &Servers {
        &self.servers
    }

    /// Runs one database operation under the timeout, counting its statements. `op` runs
    /// again after a conflict (it was rolled back) and, with several servers, once on each
    /// other server after a server failure; every operation here is safe to repeat (reads,
    /// conditional or idempotent writes, and an INSERT that recognises its own row).
    async fn run<T, F>(&self, statements: u64, op: impl Fn(Conn) -> F) -> Result<T>
    where
        F: std::future::Future<Output = DbResult<T>>,
    {
        self.queries.fetch_add(statements, Ordering::Relaxed);
        let started = std::time::Instant::now();
        let result = self.attempt(op).await;
        METRICS.database_latency.observe(started.elapsed());
        if result.is_err() {
            METRICS.database_errors.inc();
        }
        result
    }

    /// `run` without the bookkeeping: the attempts, retries and failovers under the timeout.
    async fn attempt<T, F>(&self, op: impl Fn(Conn) -> F) -> Result<T>
    where
        F: std::future::Future<Output = DbResult<T>>,
    {
        let server = AtomicUsize::new(self.servers.active_index());
        let attempts = async {
            let (mut conflicts, mut failovers) = (0, 0);
            loop {
                let (index, conn) = self.servers.conn().await;
                server.store(index, Ordering::Relaxed);
                let result = match conn {
                    Ok(conn) => op(conn).await,
                    Err(e) => Err(e),
                };
                let e = match result {
                    Ok(v) => return Ok(v),
                    Err(e) => AuthError::from(e),
                };
                if e.is_retryable() && conflicts < MAX_CONFLICT_RETRIES {
                    conflicts += 1;
                    METRICS.database_retries.inc();
                    tokio::time::sleep(backoff(conflicts)).await;
                } else if e.is_server_failure() && failovers + 1 < self.servers.count() {
                    failovers += 1;
                    METRICS.database_retries.inc();
                    self.servers.failed(server.load(Ordering::Relaxed));
                } else {
                    if e.is_server_failure() {
                        self.servers.failed(server.load(Ordering::Relaxed));
                    }
                    return Err(e);
                }
            }
        };
        match tokio::time::timeout(OPERATION_TIMEOUT, attempts).await {
            Ok(r) => r,
            Err(_) => {
                // A server that stops answering is treated as failed.
                self.servers.failed(server.load(Ordering::Relaxed));
                Err(AuthError::general(format!(
                    "database error: no answer within {} s",
                    OPERATION_TIMEOUT.as_secs()
                )))
            }
        }
    }

    pub async fn disconnect(&self) -> Result<()> {
        self.servers.disconnect().await
    }

    /// MariaDB Galera: `wsrep_on` and MariaDB's `SET STATEMENT`. (Percona XtraDB Cluster
    /// has wsrep but not that syntax; it keeps the plain statements.)
    async fn is_galera(&self) -> Result<bool> {
        self.run(1, move |mut c: Conn| async move {
            let rows: Vec<(String, String)> = c
                .query("SHOW VARIABLES WHERE Variable_name IN ('wsrep_on', 'version')")
                .await?;
            let value = |name: &str| {
                rows.iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
            };
            Ok(
                value("wsrep_on").is_some_and(|v| v.eq_ignore_ascii_case("ON"))
                    && value("version").is_some_and(|v| v.contains("MariaDB")),
            )
        })
        .await
    }

    pub async fn create_tables(&self) -> Result<()> {
        self.run(2, move |mut c: Conn| async move {
            c.query_drop(&self.sql.create_keys).await?;
            c.query_drop(&self.sql.create_sessions).await?;
            c.query_drop(&self.sql.create_revocations).await
        })
        .await?;
        self.migrate().await
    }

    /// Adds the columns of `sql::ADDED_COLUMNS` a table lacks (one made by the original
    /// library, or by an earlier version). Idempotent; when processes race, the loser's
    /// duplicate-column error (1060) just means the column is there now.
    async fn migrate(&self) -> Result<()> {
        let table = self.sql.sessions_table.as_str();
        self.run(2, move |mut c: Conn| async move {
            let existing: Vec<String> =
                c.exec(&self.sql.existing_session_columns, (table,)).await?;
            for (name, definition) in sql::ADDED_COLUMNS {
                if existing.iter().any(|e| e.eq_ignore_ascii_case(name)) {
                    continue;
                }
                let added = c
                    .query_drop(format!(
                        "ALTER TABLE {table} ADD COLUMN {name} {definition}"
                    ))
                    .await;
                match added {
                    Err(mysql_async::Error::Server(e)) if e.code == 1060 => {}
                    other => other?,
                }
            }
            Ok(())
        })
        .await
    }
}

fn backoff(attempt: u32) -> Duration {
    let cap = (1u64 << attempt.min(6)).min(MAX_BACKOFF_MS);
    Duration::from_millis(rand::rng().random_range(1..=cap))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_jittered() {
        for attempt in 1..=MAX_CONFLICT_RETRIES {
            let d = backoff(attempt).as_millis() as u64;
            assert!((1..=MAX_BACKOFF_MS).contains(&d), "{attempt}: {d}");
        }
    }
}

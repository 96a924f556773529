//! Every SQL statement the package runs. Table names were validated by `config` (only
//! `[A-Za-z0-9_]{1,64}`), so interpolating them here is safe; every value is a parameter of
//! a prepared statement (cached per connection by mysql_async).
//!
//! On a Galera cluster (detected at `open`) every statement whose answer decides a
//! session's fate waits for the node to apply what other nodes committed before it
//! (`wsrep_sync_wait`), so a call on one node sees every call that resolved on another.
//! Deadlocks and certification conflicts are retried with jitter (see `run`).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use mysql_async::prelude::*;
use mysql_async::{Conn, Row, TxOpts};
use rand::Rng;

use crate::columns::take;
use crate::config::MysqlConfig;
use crate::error::{AuthError, Result};
use crate::servers::{classify, Failure, Servers};

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

/// A session row as the refresh protocol needs it.
pub struct SessionRow {
    pub user_id: String,
    pub refresh_token_hash2: String,
    pub expires_at: u64,
    pub jwt_payload: String,
}

/// One stored key.
pub struct KeyRow {
    pub name: String,
    pub value: String,
    pub created_at: u64,
}

/// The SQL text, built once from the validated table names.
struct Sql {
    keys_table: String,
    sessions_table: String,
    create_keys: String,
    create_sessions: String,
    select_keys: String,
    insert_key_if_absent: String,
    replace_current_key: String,
    upsert_key: String,
    insert_session: String,
    session_alive: String,
    select_session: String,
    promote: String,
    delete_session: String,
    delete_user_sessions: String,
    user_session_handles: String,
    select_session_data: String,
    update_session_data: String,
    delete_expired: String,
}

/// `= BINARY ?` compares bytes: exact case and trailing spaces even in tables made by the
/// original library (utf8mb4_general_ci, PAD SPACE); `= ?` keeps the primary key in use.
/// Every statement that takes an app-passed handle binds it twice.
const EXACT_HANDLE: &str = "session_handle = ? AND session_handle = BINARY ?";

/// `wsrep_sync_wait` bits: which statement kinds wait for causality.
const WAIT_READ: u8 = 1;
const WAIT_UPDATE_DELETE: u8 = 2;
const WAIT_INSERT: u8 = 4;

impl Sql {
    fn new(keys: &str, sessions: &str, galera: bool) -> Self {
        // Only for this statement (MariaDB's SET STATEMENT), so plain statements and other
        // servers pay nothing.
        let causal = |bit: u8, sql: String| {
            if galera {
                format!("SET STATEMENT wsrep_sync_wait={bit} FOR {sql}")
            } else {
                sql
            }
        };
        Sql {
            keys_table: keys.to_string(),
            sessions_table: sessions.to_string(),
            create_keys: format!(
                "CREATE TABLE IF NOT EXISTS {keys} (key_name VARCHAR(128) NOT NULL, \
                 key_value VARCHAR(255), created_at_time BIGINT UNSIGNED, \
                 PRIMARY KEY (key_name)) DEFAULT CHARSET=utf8mb4"
            ),
            create_sessions: format!(
                "CREATE TABLE IF NOT EXISTS {sessions} (session_handle VARCHAR(255) \
                 COLLATE utf8mb4_bin NOT NULL, user_id VARCHAR(128) COLLATE utf8mb4_bin NOT NULL, refresh_token_hash_2 VARCHAR(128) NOT NULL, \
                 session_info TEXT, expires_at BIGINT UNSIGNED NOT NULL, jwt_user_payload TEXT, \
                 PRIMARY KEY (session_handle), INDEX user_id_index (user_id), \
                 INDEX expires_at_index (expires_at)) DEFAULT CHARSET=utf8mb4"
            ),
            select_keys: causal(
                WAIT_READ,
                format!(
                "SELECT key_name, key_value, created_at_time FROM {keys} WHERE key_name IN (?, ?, ?)"
            ),
            ),
            insert_key_if_absent: causal(
                WAIT_INSERT,
                format!(
                "INSERT IGNORE INTO {keys} (key_name, key_value, created_at_time) VALUES (?, ?, ?)"
            ),
            ),
            replace_current_key: causal(
                WAIT_UPDATE_DELETE,
                format!(
                "UPDATE {keys} SET key_value = ?, created_at_time = ? \
                 WHERE key_name = ? AND created_at_time = ?"
            ),
            ),
            upsert_key: format!(
                "INSERT INTO {keys} (key_name, key_value, created_at_time) VALUES (?, ?, ?) \
                 ON DUPLICATE KEY UPDATE key_value = VALUES(key_value), \
                 created_at_time = VALUES(created_at_time)"
            ),
            insert_session: format!(
                "INSERT INTO {sessions} (session_handle, user_id, refresh_token_hash_2, \
                 session_info, expires_at, jwt_user_payload) VALUES (?, ?, ?, ?, ?, ?)"
            ),
            session_alive: causal(
                WAIT_READ,
                format!(
                "SELECT 1 FROM {sessions} WHERE {EXACT_HANDLE} AND expires_at > ?"
            ),
            ),
            select_session: causal(
                WAIT_READ,
                format!(
                "SELECT user_id, refresh_token_hash_2, expires_at, jwt_user_payload \
                 FROM {sessions} WHERE {EXACT_HANDLE}"
            ),
            ),
            promote: causal(
                WAIT_UPDATE_DELETE,
                format!(
                "UPDATE {sessions} SET refresh_token_hash_2 = ?, expires_at = ? \
                 WHERE {EXACT_HANDLE} AND refresh_token_hash_2 = ? AND expires_at > ?"
            ),
            ),
            delete_session: causal(
                WAIT_UPDATE_DELETE,
                format!("DELETE FROM {sessions} WHERE {EXACT_HANDLE}"),
            ),
            // `= BINARY ?` also tells "a" from "A" and "a " in tables made with a
            // case-insensitive or PAD SPACE collation; `user_id = ?` keeps the index in use.
            delete_user_sessions: causal(
                WAIT_UPDATE_DELETE,
                format!(
                "DELETE FROM {sessions} WHERE user_id = ? AND user_id = BINARY ?"
            ),
            ),
            user_session_handles: causal(
                WAIT_READ,
                format!(
                "SELECT session_handle FROM {sessions} WHERE user_id = ? AND user_id = BINARY ?"
            ),
            ),
            select_session_data: causal(
                WAIT_READ,
                format!(
                "SELECT session_info FROM {sessions} WHERE {EXACT_HANDLE}"
            ),
            ),
            update_session_data: causal(
                WAIT_UPDATE_DELETE,
                format!(
                "UPDATE {sessions} SET session_info = ? WHERE {EXACT_HANDLE}"
            ),
            ),
            delete_expired: format!(
                "DELETE FROM {sessions} WHERE expires_at <= ? LIMIT {REMOVAL_BATCH}"
            ),
        }
    }
}

pub struct Store {
    servers: Servers,
    sql: Sql,
    /// Whether the server is a Galera node (`wsrep_on`); causal reads are on then.
    galera: bool,
    /// Statements sent, for the test hook that proves the fast path stays off the database.
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
                let Err(e) = result else { return result };
                match classify(&e) {
                    Failure::Conflict if conflicts < MAX_CONFLICT_RETRIES => {
                        conflicts += 1;
                        tokio::time::sleep(backoff(conflicts)).await;
                    }
                    Failure::Server if failovers + 1 < self.servers.count() => {
                        failovers += 1;
                        self.servers.failed(server.load(Ordering::Relaxed));
                    }
                    Failure::Server => {
                        self.servers.failed(server.load(Ordering::Relaxed));
                        return Err(e);
                    }
                    _ => return Err(e),
                }
            }
        };
        match tokio::time::timeout(OPERATION_TIMEOUT, attempts).await {
            Ok(r) => r.map_err(AuthError::from),
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
            c.query_drop(&self.sql.create_sessions).await
        })
        .await
    }

    pub async fn keys(&self, names: [&str; 3]) -> Result<Vec<KeyRow>> {
        self.run(1, move |mut c: Conn| async move {
            let rows: Vec<Row> = c
                .exec(&self.sql.select_keys, (names[0], names[1], names[2]))
                .await?;
            let t = self.sql.keys_table.as_str();
            let mut keys = Vec::with_capacity(rows.len());
            for mut row in rows {
                let name = take(&mut row, 0, t, "key_name")?;
                let value: Option<String> = take(&mut row, 1, t, "key_value")?;
                let created: Option<u64> = take(&mut row, 2, t, "created_at_time")?;
                if let Some(value) = value {
                    keys.push(KeyRow {
                        name,
                        value,
                        created_at: created.unwrap_or(0),
                    });
                }
            }
            Ok(keys)
        })
        .await
    }

    /// Inserts the key unless one of that name exists, so concurrent creators agree on one.
    /// True when this call created it.
    pub async fn insert_key_if_absent(
        &self,
        name: &str,
        value: &str,
        created_at: u64,
    ) -> Result<bool> {
        self.run(1, move |mut c: Conn| async move {
            c.exec_drop(&self.sql.insert_key_if_absent, (name, value, created_at))
                .await?;
            Ok(c.affected_rows() == 1)
        })
        .await
    }

    /// Replaces key `current` only if it is still the one created at `old_created_at`, and
    /// keeps that old key as `previous`, in one transaction. False: another process won.
    pub async fn rotate_key(
        &self,
        current: &str,
        previous: &str,
        old: &KeyRow,
        new_value: &str,
        new_created_at: u64,
    ) -> Result<bool> {
        self.run(4, move |mut c: Conn| async move {
            let mut tx = c.start_transaction(TxOpts::default()).await?;
            tx.exec_drop(
                &self.sql.replace_current_key,
                (new_value, new_created_at, current, old.created_at),
            )
            .await?;
            if tx.affected_rows() != 1 {
                tx.rollback().await?;
                return Ok(false);
            }
            tx.exec_drop(&self.sql.upsert_key, (previous, &old.value, old.created_at))
                .await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    /// Inserts a new session. Run again after a lost answer or a conflict, it finds its own
    /// row (same handle and refresh-token hash: the handle is random) and succeeds.
    pub async fn insert_session(
        &self,
        handle: &str,
        user_id: &str,
        refresh_token_hash2: &str,
        session_data: &str,
        expires_at: u64,
        jwt_payload: &str,
    ) -> Result<()> {
        self.run(1, move |mut c: Conn| async move {
            let inserted = c
                .exec_drop(
                    &self.sql.insert_session,
                    (
                        handle,
                        user_id,
                        refresh_token_hash2,
                        session_data,
                        expires_at,
                        jwt_payload,
                    ),
                )
                .await;
            match inserted {
                Err(mysql_async::Error::Server(e)) if e.code == 1062 => {
                    let row: Option<Row> = c
                        .exec_first(&self.sql.select_session, (handle, handle))
                        .await?;
                    match row.map(|r| self.session_row(r)).transpose()? {
                        Some(row) if row.refresh_token_hash2 == refresh_token_hash2 => Ok(()),
                        _ => Err(mysql_async::Error::Server(e)),
                    }
                }
                other => other,
            }
        })
        .await
    }

    /// A row of `select_session`, every column checked.
    fn session_row(&self, mut row: Row) -> DbResult<SessionRow> {
        let t = self.sql.sessions_table.as_str();
        Ok(SessionRow {
            user_id: take(&mut row, 0, t, "user_id")?,
            refresh_token_hash2: take(&mut row, 1, t, "refresh_token_hash_2")?,
            expires_at: take(&mut row, 2, t, "expires_at")?,
            jwt_payload: take::<Option<String>>(&mut row, 3, t, "jwt_user_payload")?
                .unwrap_or_default(),
        })
    }

    /// True while the session exists and has not expired at `now`.
    pub async fn session_alive(&self, handle: &str, now: u64) -> Result<bool> {
        self.run(1, move |mut c: Conn| async move {
            let row: Option<u8> = c
                .exec_first(&self.sql.session_alive, (handle, handle, now))
                .await?;
            Ok(row.is_some())
        })
        .await
    }

    pub async fn session(&self, handle: &str) -> Result<Option<SessionRow>> {
        self.run(1, move |mut c: Conn| async move {
            let row: Option<Row> = c
                .exec_first(&self.sql.select_session, (handle, handle))
                .await?;
            row.map(|r| self.session_row(r)).transpose()
        })
        .await
    }

    /// Makes a child refresh token the parent: one conditional UPDATE, atomic and row-locked
    /// by MySQL, that succeeds only while the stored parent is still `parent_hash2` and the
    /// session has not expired at `now` (an expired session is never revived).
    pub async fn promote(
        &self,
        handle: &str,
        parent_hash2: &str,
        child_hash2: &str,
        now: u64,
        expires_at: u64,
    ) -> Result<bool> {
        self.run(1, move |mut c: Conn| async move {
            c.exec_drop(
                &self.sql.promote,
                (child_hash2, expires_at, handle, handle, parent_hash2, now),
            )
            .await?;
            Ok(c.affected_rows() == 1)
        })
        .await
    }

    pub async fn delete_session(&self, handle: &str) -> Result<bool> {
        self.run(1, move |mut c: Conn| async move {
            c.exec_drop(&self.sql.delete_session, (handle, handle))
                .await?;
            Ok(c.affected_rows() > 0)
        })
        .await
    }

    pub async fn delete_user_sessions(&self, user_id: &str) -> Result<u64> {
        self.run(1, move |mut c: Conn| async move {
            c.exec_drop(&self.sql.delete_user_sessions, (user_id, user_id))
                .await?;
            Ok(c.affected_rows())
        })
        .await
    }

    pub async fn user_session_handles(&self, user_id: &str) -> Result<Vec<String>> {
        self.run(1, move |mut c: Conn| async move {
            let rows: Vec<Row> = c
                .exec(&self.sql.user_session_handles, (user_id, user_id))
                .await?;
            let t = self.sql.sessions_table.as_str();
            rows.into_iter()
                .map(|mut row| take(&mut row, 0, t, "session_handle"))
                .collect()
        })
        .await
    }

    /// The stored session-data JSON text; None when the session does not exist.
    pub async fn session_data(&self, handle: &str) -> Result<Option<String>> {
        self.run(1, move |mut c: Conn| async move {
            let row: Option<Row> = c
                .exec_first(&self.sql.select_session_data, (handle, handle))
                .await?;
            let t = self.sql.sessions_table.as_str();
            row.map(|mut r| take::<Option<String>>(&mut r, 0, t, "session_info"))
                .transpose()
                .map(|data| data.map(Option::unwrap_or_default))
        })
        .await
    }

    /// False when the session does not exist.
    pub async fn update_session_data(&self, handle: &str, data: &str) -> Result<bool> {
        self.run(1, move |mut c: Conn| async move {
            c.exec_drop(&self.sql.update_session_data, (data, handle, handle))
                .await?;
            Ok(c.affected_rows() > 0)
        })
        .await
    }

    /// Deletes one batch of rows expired at `now`; returns how many went.
    pub async fn delete_expired_batch(&self, now: u64) -> Result<u64> {
        self.run(1, move |mut c: Conn| async move {
            c.exec_drop(&self.sql.delete_expired, (now,)).await?;
            Ok(c.affected_rows())
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
    fn statements_use_the_configured_tables() {
        let s = Sql::new("my_keys", "my_sessions", false);
        assert!(s.create_keys.contains("my_keys"));
        assert!(s.insert_session.starts_with("INSERT INTO my_sessions "));
        assert!(s.delete_expired.ends_with("LIMIT 1000"));
        assert!(s.create_sessions.contains("INDEX user_id_index (user_id)"));
        assert!(!s.select_session.contains("wsrep"));
    }

    #[test]
    fn on_galera_only_fateful_statements_wait_for_causality() {
        let s = Sql::new("k", "s", true);
        let waits = |sql: &str, bit: u8| {
            sql.starts_with(&format!("SET STATEMENT wsrep_sync_wait={bit} FOR "))
        };
        assert!(waits(&s.select_session, WAIT_READ));
        assert!(waits(&s.session_alive, WAIT_READ));
        assert!(waits(&s.select_session_data, WAIT_READ));
        assert!(waits(&s.user_session_handles, WAIT_READ));
        assert!(waits(&s.select_keys, WAIT_READ));
        assert!(waits(&s.promote, WAIT_UPDATE_DELETE));
        assert!(waits(&s.delete_session, WAIT_UPDATE_DELETE));
        assert!(waits(&s.update_session_data, WAIT_UPDATE_DELETE));
        assert!(waits(&s.insert_key_if_absent, WAIT_INSERT));
        // A new random handle cannot depend on anything, nor can the removal job.
        assert!(s.insert_session.starts_with("INSERT INTO s "));
        assert!(s.delete_expired.starts_with("DELETE FROM s "));
    }

    #[test]
    fn backoff_is_bounded_and_jittered() {
        for attempt in 1..=MAX_CONFLICT_RETRIES {
            let d = backoff(attempt).as_millis() as u64;
            assert!((1..=MAX_BACKOFF_MS).contains(&d), "{attempt}: {d}");
        }
    }
}

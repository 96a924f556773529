//! Every SQL statement the package runs. Table names were validated by `config` (only
//! `[A-Za-z0-9_]{1,64}`), so interpolating them here is safe; every value is a parameter of
//! a prepared statement (cached per connection by mysql_async).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mysql_async::prelude::*;
use mysql_async::{OptsBuilder, Pool, PoolConstraints, PoolOpts, SslOpts, TxOpts};

use crate::config::MysqlConfig;
use crate::error::{AuthError, Result};

/// Upper bound on one database operation (connect + statements): during an outage calls
/// fail with GENERAL_ERROR after this long instead of hanging.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);

/// Rows deleted per statement by the removal job, so a backlog never holds a long lock.
pub const REMOVAL_BATCH: u64 = 1000;

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

impl Sql {
    fn new(keys: &str, sessions: &str) -> Self {
        Sql {
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
            select_keys: format!(
                "SELECT key_name, key_value, created_at_time FROM {keys} WHERE key_name IN (?, ?, ?)"
            ),
            insert_key_if_absent: format!(
                "INSERT IGNORE INTO {keys} (key_name, key_value, created_at_time) VALUES (?, ?, ?)"
            ),
            replace_current_key: format!(
                "UPDATE {keys} SET key_value = ?, created_at_time = ? \
                 WHERE key_name = ? AND created_at_time = ?"
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
            session_alive: format!(
                "SELECT 1 FROM {sessions} WHERE session_handle = ? AND expires_at > ?"
            ),
            select_session: format!(
                "SELECT user_id, refresh_token_hash_2, expires_at, jwt_user_payload \
                 FROM {sessions} WHERE session_handle = ?"
            ),
            promote: format!(
                "UPDATE {sessions} SET refresh_token_hash_2 = ?, expires_at = ? \
                 WHERE session_handle = ? AND refresh_token_hash_2 = ? AND expires_at > ?"
            ),
            delete_session: format!("DELETE FROM {sessions} WHERE session_handle = ?"),
            // `= BINARY ?` also tells "a" from "A" and "a " in tables made with a
            // case-insensitive or PAD SPACE collation; `user_id = ?` keeps the index in use.
            delete_user_sessions: format!(
                "DELETE FROM {sessions} WHERE user_id = ? AND user_id = BINARY ?"
            ),
            user_session_handles: format!(
                "SELECT session_handle FROM {sessions} WHERE user_id = ? AND user_id = BINARY ?"
            ),
            select_session_data: format!(
                "SELECT session_info FROM {sessions} WHERE session_handle = ?"
            ),
            update_session_data: format!(
                "UPDATE {sessions} SET session_info = ? WHERE session_handle = ?"
            ),
            delete_expired: format!(
                "DELETE FROM {sessions} WHERE expires_at <= ? LIMIT {REMOVAL_BATCH}"
            ),
        }
    }
}

pub struct Store {
    pool: Pool,
    sql: Sql,
    /// Statements sent, for the test hook that proves the fast path stays off the database.
    queries: AtomicU64,
}

impl Store {
    pub fn new(c: &MysqlConfig) -> Result<Self> {
        let min = c.connection_limit.min(10);
        let constraints = PoolConstraints::new(min, c.connection_limit)
            .ok_or_else(|| AuthError::general("config: mysql.connectionLimit is invalid"))?;
        let pool_opts = PoolOpts::default()
            .with_constraints(constraints)
            // A reset after every use would also drop the prepared-statement cache.
            .with_reset_connection(false)
            .with_inactive_connection_ttl(Duration::from_secs(60));
        let mut opts = OptsBuilder::default()
            .ip_or_hostname(c.host.clone())
            .tcp_port(c.port)
            .user(Some(c.user.clone()))
            .pass(Some(c.password.clone()))
            .db_name(Some(c.database.clone()))
            // Use the TCP address the app configured, never a socket guessed from it.
            .prefer_socket(false)
            // UPDATE reports rows matched, so saving unchanged session data is not "missing".
            .client_found_rows(true)
            .pool_opts(pool_opts);
        if let Some(ssl) = &c.ssl {
            let mut s =
                SslOpts::default().with_danger_accept_invalid_certs(!ssl.reject_unauthorized);
            if let Some(ca) = &ssl.ca {
                s = s.with_root_certs(vec![ca.clone().into_bytes().into()]);
            }
            opts = opts.ssl_opts(Some(s));
        }
        Ok(Store {
            pool: Pool::new(opts),
            sql: Sql::new(&c.signing_key_table, &c.refresh_token_table),
            queries: AtomicU64::new(0),
        })
    }

    pub fn query_count(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }

    /// Runs one database operation under the timeout, counting its statements.
    async fn run<T>(
        &self,
        statements: u64,
        op: impl Future<Output = std::result::Result<T, mysql_async::Error>>,
    ) -> Result<T> {
        self.queries.fetch_add(statements, Ordering::Relaxed);
        match tokio::time::timeout(OPERATION_TIMEOUT, op).await {
            Ok(r) => r.map_err(AuthError::from),
            Err(_) => Err(AuthError::general(format!(
                "database error: no answer within {} s",
                OPERATION_TIMEOUT.as_secs()
            ))),
        }
    }

    pub async fn disconnect(&self) -> Result<()> {
        self.pool
            .clone()
            .disconnect()
            .await
            .map_err(AuthError::from)
    }

    pub async fn create_tables(&self) -> Result<()> {
        self.run(2, async {
            let mut c = self.pool.get_conn().await?;
            c.query_drop(&self.sql.create_keys).await?;
            c.query_drop(&self.sql.create_sessions).await
        })
        .await
    }

    pub async fn keys(&self, names: [&str; 3]) -> Result<Vec<KeyRow>> {
        self.run(1, async {
            let mut c = self.pool.get_conn().await?;
            let rows: Vec<(String, Option<String>, Option<u64>)> = c
                .exec(&self.sql.select_keys, (names[0], names[1], names[2]))
                .await?;
            Ok(rows
                .into_iter()
                .filter_map(|(name, value, created)| {
                    Some(KeyRow {
                        name,
                        value: value?,
                        created_at: created.unwrap_or(0),
                    })
                })
                .collect())
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
        self.run(1, async {
            let mut c = self.pool.get_conn().await?;
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
        self.run(4, async {
            let mut c = self.pool.get_conn().await?;
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

    pub async fn insert_session(
        &self,
        handle: &str,
        user_id: &str,
        refresh_token_hash2: &str,
        session_data: &str,
        expires_at: u64,
        jwt_payload: &str,
    ) -> Result<()> {
        self.run(1, async {
            let mut c = self.pool.get_conn().await?;
            c.exec_drop(
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
            .await
        })
        .await
    }

    /// True while the session exists and has not expired at `now`.
    pub async fn session_alive(&self, handle: &str, now: u64) -> Result<bool> {
        self.run(1, async {
            let mut c = self.pool.get_conn().await?;
            let row: Option<u8> = c.exec_first(&self.sql.session_alive, (handle, now)).await?;
            Ok(row.is_some())
        })
        .await
    }

    pub async fn session(&self, handle: &str) -> Result<Option<SessionRow>> {
        self.run(1, async {
            let mut c = self.pool.get_conn().await?;
            let row: Option<(String, String, u64, Option<String>)> =
                c.exec_first(&self.sql.select_session, (handle,)).await?;
            Ok(row.map(
                |(user_id, refresh_token_hash2, expires_at, jwt)| SessionRow {
                    user_id,
                    refresh_token_hash2,
                    expires_at,
                    jwt_payload: jwt.unwrap_or_default(),
                },
            ))
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
        self.run(1, async {
            let mut c = self.pool.get_conn().await?;
            c.exec_drop(
                &self.sql.promote,
                (child_hash2, expires_at, handle, parent_hash2, now),
            )
            .await?;
            Ok(c.affected_rows() == 1)
        })
        .await
    }

    pub async fn delete_session(&self, handle: &str) -> Result<bool> {
        self.run(1, async {
            let mut c = self.pool.get_conn().await?;
            c.exec_drop(&self.sql.delete_session, (handle,)).await?;
            Ok(c.affected_rows() > 0)
        })
        .await
    }

    pub async fn delete_user_sessions(&self, user_id: &str) -> Result<u64> {
        self.run(1, async {
            let mut c = self.pool.get_conn().await?;
            c.exec_drop(&self.sql.delete_user_sessions, (user_id, user_id))
                .await?;
            Ok(c.affected_rows())
        })
        .await
    }

    pub async fn user_session_handles(&self, user_id: &str) -> Result<Vec<String>> {
        self.run(1, async {
            let mut c = self.pool.get_conn().await?;
            c.exec(&self.sql.user_session_handles, (user_id, user_id))
                .await
        })
        .await
    }

    /// The stored session-data JSON text; None when the session does not exist.
    pub async fn session_data(&self, handle: &str) -> Result<Option<String>> {
        self.run(1, async {
            let mut c = self.pool.get_conn().await?;
            let row: Option<Option<String>> = c
                .exec_first(&self.sql.select_session_data, (handle,))
                .await?;
            Ok(row.map(Option::unwrap_or_default))
        })
        .await
    }

    /// False when the session does not exist.
    pub async fn update_session_data(&self, handle: &str, data: &str) -> Result<bool> {
        self.run(1, async {
            let mut c = self.pool.get_conn().await?;
            c.exec_drop(&self.sql.update_session_data, (data, handle))
                .await?;
            Ok(c.affected_rows() > 0)
        })
        .await
    }

    /// Deletes one batch of rows expired at `now`; returns how many went.
    pub async fn delete_expired_batch(&self, now: u64) -> Result<u64> {
        self.run(1, async {
            let mut c = self.pool.get_conn().await?;
            c.exec_drop(&self.sql.delete_expired, (now,)).await?;
            Ok(c.affected_rows())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_use_the_configured_tables() {
        let s = Sql::new("my_keys", "my_sessions");
        assert!(s.create_keys.contains("my_keys"));
        assert!(s.insert_session.starts_with("INSERT INTO my_sessions "));
        assert!(s.delete_expired.ends_with("LIMIT 1000"));
        assert!(s.create_sessions.contains("INDEX user_id_index (user_id)"));
    }
}

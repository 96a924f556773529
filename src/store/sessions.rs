//! The session-table statements: login, verification, refresh, revocation, data, removal.

use mysql_async::prelude::*;
use mysql_async::{Conn, Row, TxOpts};

use super::{DbResult, Store};
use crate::columns::take;
use crate::error::Result;

/// A session row as the refresh protocol needs it.
pub struct SessionRow {
    pub user_id: String,
    pub refresh_token_hash2: String,
    pub expires_at: u64,
    pub jwt_payload: String,
    /// None for rows written before the migration (or by the original library).
    pub created_at: Option<u64>,
    /// The last rotation: the replaced parent's hash2, when, and the new parent's hash1.
    pub rotation: Option<Rotation>,
}

/// A promotion as the session row remembers it (for `reuseGraceSeconds`).
pub struct Rotation {
    pub previous_hash2: String,
    pub at: u64,
    pub parent_hash1: String,
}

/// A child refresh token becoming the parent (its hashes), at `now`, until `expires_at`.
pub struct Promotion<'a> {
    pub handle: &'a str,
    pub parent_hash2: &'a str,
    pub child_hash1: &'a str,
    pub child_hash2: &'a str,
    pub now: u64,
    pub expires_at: u64,
}

/// A refresh to record: the session, when, and where it came from.
pub struct Touched {
    pub handle: String,
    pub at: u64,
    pub client: Client,
}

/// Where a login or refresh came from, as the app passed it (already bounded in length).
#[derive(Default, Clone)]
pub struct Client {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A session row to insert.
pub struct NewRow<'a> {
    pub handle: &'a str,
    pub user_id: &'a str,
    pub refresh_token_hash2: &'a str,
    pub session_data: &'a str,
    pub expires_at: u64,
    pub jwt_payload: &'a str,
    pub created_at: u64,
    pub client: &'a Client,
}

/// One of a user's sessions as `getAllSessionsForUser` lists it.
pub struct SessionInfo {
    pub handle: String,
    pub created_at: Option<u64>,
    pub last_refreshed_at: Option<u64>,
    pub expires_at: u64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Store {
    /// Inserts a new session. Run again after a lost answer or a conflict, it finds its own
    /// row (same handle and refresh-token hash: the handle is random) and succeeds. With a
    /// cap, the insert and the removal of the user's least recently refreshed sessions
    /// beyond it are one transaction that locks the user's rows, so concurrent logins of one
    /// user wait for each other and never leave more than the cap. Returns how many
    /// sessions the cap removed.
    pub async fn insert_session(&self, new: &NewRow<'_>, cap: Option<u32>) -> Result<Vec<String>> {
        self.run(1, move |mut c: Conn| async move {
            let Some(cap) = cap else {
                return self.insert_or_own(&mut c, new).await.map(|()| Vec::new());
            };
            let mut tx = c.start_transaction(TxOpts::default()).await?;
            let mut others: Vec<(String, u64)> = tx
                .exec(&self.sql.lock_user_sessions, (new.user_id, new.user_id))
                .await?;
            self.insert_or_own(&mut tx, new).await?;
            others.retain(|(handle, _)| handle != new.handle);
            // Least recently refreshed first; ties by handle, so retries pick the same ones.
            others.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
            let excess = (others.len() + 1).saturating_sub(cap as usize);
            let removed: Vec<String> = others.drain(..excess).map(|(h, _)| h).collect();
            self.delete_and_log(&mut tx, &removed, new.created_at)
                .await?;
            tx.commit().await?;
            Ok(removed)
        })
        .await
    }

    /// Deletes sessions and logs their revocation at `now` (for the other processes' polls),
    /// inside the caller's transaction.
    async fn delete_and_log(
        &self,
        q: &mut impl Queryable,
        handles: &[String],
        now: u64,
    ) -> DbResult<()> {
        for handle in handles {
            q.exec_drop(&self.sql.delete_session, (handle, handle))
                .await?;
            q.exec_drop(&self.sql.log_revocation, (handle, now)).await?;
        }
        Ok(())
    }

    /// Revokes one session: deleted and logged in one transaction. False when it did not exist.
    pub async fn revoke_session(&self, handle: &str, now: u64) -> Result<bool> {
        self.run(2, move |mut c: Conn| async move {
            let mut tx = c.start_transaction(TxOpts::default()).await?;
            tx.exec_drop(&self.sql.delete_session, (handle, handle))
                .await?;
            let removed = tx.affected_rows() > 0;
            if removed {
                tx.exec_drop(&self.sql.log_revocation, (handle, now))
                    .await?;
            }
            tx.commit().await?;
            Ok(removed)
        })
        .await
    }

    /// Revokes the user's sessions (all, or all but `keep`), each logged, in one transaction
    /// that locks them first. Returns the handles removed.
    pub async fn revoke_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: u64,
    ) -> Result<Vec<String>> {
        self.run(2, move |mut c: Conn| async move {
            let mut tx = c.start_transaction(TxOpts::default()).await?;
            let mut handles: Vec<String> = tx
                .exec(&self.sql.lock_user_handles, (user_id, user_id))
                .await?;
            handles.retain(|h| Some(h.as_str()) != keep);
            self.delete_and_log(&mut tx, &handles, now).await?;
            tx.commit().await?;
            Ok(handles)
        })
        .await
    }

    /// Revocations logged at or after `since`: (handle, when).
    pub async fn revocations_since(&self, since: u64) -> Result<Vec<(String, u64)>> {
        self.run(1, move |mut c: Conn| async move {
            c.exec(&self.sql.revocations_since, (since,)).await
        })
        .await
    }

    /// Forgets one batch of revocations older than `before`; returns how many went.
    pub async fn delete_old_revocations(&self, before: u64) -> Result<u64> {
        self.run(1, move |mut c: Conn| async move {
            c.exec_drop(&self.sql.delete_old_revocations, (before,))
                .await?;
            Ok(c.affected_rows())
        })
        .await
    }

    /// The INSERT, recognising its own row on a duplicate key (a rerun after a lost answer).
    async fn insert_or_own(&self, q: &mut impl Queryable, new: &NewRow<'_>) -> DbResult<()> {
        let inserted = q
            .exec_drop(
                &self.sql.insert_session,
                (
                    new.handle,
                    new.user_id,
                    new.refresh_token_hash2,
                    new.session_data,
                    new.expires_at,
                    new.jwt_payload,
                    new.created_at,
                    new.created_at,
                    new.client.ip.as_deref(),
                    new.client.user_agent.as_deref(),
                ),
            )
            .await;
        match inserted {
            Err(mysql_async::Error::Server(e)) if e.code == 1062 => {
                let row: Option<Row> = q
                    .exec_first(&self.sql.select_session, (new.handle, new.handle))
                    .await?;
                match row.map(|r| self.session_row(r)).transpose()? {
                    Some(row) if row.refresh_token_hash2 == new.refresh_token_hash2 => Ok(()),
                    _ => Err(mysql_async::Error::Server(e)),
                }
            }
            other => other,
        }
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
            created_at: take(&mut row, 4, t, "created_at")?,
            rotation: match (
                take::<Option<String>>(&mut row, 5, t, "previous_refresh_token_hash_2")?,
                take::<Option<u64>>(&mut row, 6, t, "rotated_at")?,
                take::<Option<String>>(&mut row, 7, t, "refresh_token_hash_1")?,
            ) {
                (Some(previous_hash2), Some(at), Some(parent_hash1)) => Some(Rotation {
                    previous_hash2,
                    at,
                    parent_hash1,
                }),
                _ => None,
            },
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
    pub async fn promote(&self, p: &Promotion<'_>) -> Result<bool> {
        self.run(1, move |mut c: Conn| async move {
            c.exec_drop(
                &self.sql.promote,
                (
                    p.child_hash2,
                    p.expires_at,
                    p.parent_hash2,
                    p.now,
                    p.child_hash1,
                    p.handle,
                    p.handle,
                    p.parent_hash2,
                    p.now,
                ),
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

    /// Applies a JSON merge patch (an object's JSON text) to the session data. False when
    /// no row changed: no such session, stored data that is not JSON, or a result too big.
    pub async fn merge_session_data(&self, handle: &str, patch: &str) -> Result<bool> {
        self.run(1, move |mut c: Conn| async move {
            c.exec_drop(&self.sql.merge_session_data, (patch, handle, handle, patch))
                .await?;
            Ok(c.affected_rows() > 0)
        })
        .await
    }

    /// Records refreshes (see `refresh_log`) in one statement.
    pub async fn touch_sessions(&self, rows: &[Touched]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        // Padded to a power of two with repeats of the last row (the same values again), so
        // each connection prepares a few statement texts, not one per batch size.
        let padded = rows.len().next_power_of_two();
        let sql = self.sql.touch_sessions(padded);
        let params: Vec<mysql_async::Value> = rows
            .iter()
            .chain(std::iter::repeat_n(
                &rows[rows.len() - 1],
                padded - rows.len(),
            ))
            .flat_map(|r| {
                [
                    r.handle.as_str().into(),
                    r.at.into(),
                    r.client.ip.as_deref().into(),
                    r.client.user_agent.as_deref().into(),
                ]
            })
            .collect();
        let (sql, params) = (&sql, &params);
        // Not counted: the flush job writes it whenever it likes, not a call's statement.
        self.run(0, move |mut c: Conn| async move {
            c.exec_drop(sql, params.clone()).await
        })
        .await
    }

    /// A user's sessions alive at `now`, every column checked (any order).
    pub async fn user_sessions(&self, user_id: &str, now: u64) -> Result<Vec<SessionInfo>> {
        self.run(1, move |mut c: Conn| async move {
            let rows: Vec<Row> = c
                .exec(&self.sql.user_sessions, (user_id, user_id, now))
                .await?;
            let t = self.sql.sessions_table.as_str();
            rows.into_iter()
                .map(|mut row| {
                    Ok(SessionInfo {
                        handle: take(&mut row, 0, t, "session_handle")?,
                        created_at: take(&mut row, 1, t, "created_at")?,
                        last_refreshed_at: take(&mut row, 2, t, "last_refreshed_at")?,
                        expires_at: take(&mut row, 3, t, "expires_at")?,
                        ip: take(&mut row, 4, t, "ip")?,
                        user_agent: take(&mut row, 5, t, "user_agent")?,
                    })
                })
                .collect()
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

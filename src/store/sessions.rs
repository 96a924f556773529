//! The session-table statements: login, verification, refresh, revocation, data, removal.

use mysql_async::prelude::*;
use mysql_async::{Conn, Row};

use super::{DbResult, Store};
use crate::columns::take;
use crate::error::Result;

/// A session row as the refresh protocol needs it.
pub struct SessionRow {
    pub user_id: String,
    pub refresh_token_hash2: String,
    pub expires_at: u64,
    pub jwt_payload: String,
}

impl Store {
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

    /// Deletes one batch of rows expired at `now`; returns how many went.
    pub async fn delete_expired_batch(&self, now: u64) -> Result<u64> {
        self.run(1, move |mut c: Conn| async move {
            c.exec_drop(&self.sql.delete_expired, (now,)).await?;
            Ok(c.affected_rows())
        })
        .await
    }
}

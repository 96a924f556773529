//! The key-table statements: read, create once, rotate.

use mysql_async::prelude::*;
use mysql_async::{Conn, Row, TxOpts};

use super::Store;
use crate::columns::take;
use crate::error::Result;

/// One stored key.
pub struct KeyRow {
    pub name: String,
    pub value: String,
    pub created_at: u64,
}

impl Store {
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
}

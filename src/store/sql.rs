//! The SQL text of every statement, built once from the validated table names (only
//! `[A-Za-z0-9_]{1,64}`, so interpolating them is safe; every value is a parameter).
//! On Galera the fateful statements wait for causality (`wsrep_sync_wait`).

use super::REMOVAL_BATCH;

/// The SQL text, built once from the validated table names.
pub(super) struct Sql {
    pub(super) keys_table: String,
    pub(super) sessions_table: String,
    pub(super) create_revocations: String,
    pub(super) log_revocation: String,
    pub(super) revocations_since: String,
    pub(super) delete_old_revocations: String,
    pub(super) lock_user_handles: String,
    pub(super) create_keys: String,
    pub(super) create_sessions: String,
    pub(super) select_keys: String,
    pub(super) insert_key_if_absent: String,
    pub(super) replace_current_key: String,
    pub(super) upsert_key: String,
    pub(super) insert_session: String,
    pub(super) session_alive: String,
    pub(super) select_session: String,
    pub(super) promote: String,
    pub(super) delete_session: String,
    pub(super) user_session_handles: String,
    pub(super) select_session_data: String,
    pub(super) update_session_data: String,
    pub(super) existing_session_columns: String,
    /// `SET STATEMENT wsrep_sync_wait=… FOR ` on Galera, else empty: for the batched
    /// refresh bookkeeping, whose text depends on the batch size.
    causal_update: String,
    pub(super) user_sessions: String,
    pub(super) lock_user_sessions: String,
    pub(super) merge_session_data: String,
    pub(super) delete_expired: String,
}

/// `= BINARY ?` compares bytes: exact case and trailing spaces even in tables made by the
/// original library (utf8mb4_general_ci, PAD SPACE); `= ?` keeps the primary key in use.
/// Every statement that takes an app-passed handle binds it twice.
pub(super) const EXACT_HANDLE: &str = "session_handle = ? AND session_handle = BINARY ?";

/// Columns this package adds to the original schema: nullable, so rows written before and
/// the original library itself keep working (`Store::migrate` adds them to older tables).
pub(super) const ADDED_COLUMNS: [(&str, &str); 7] = [
    ("created_at", "BIGINT UNSIGNED NULL"),
    ("last_refreshed_at", "BIGINT UNSIGNED NULL"),
    ("ip", "VARCHAR(64) NULL"),
    ("user_agent", "VARCHAR(512) NULL"),
    // The last rotation, for `reuseGraceSeconds`: the parent it replaced (hash of a hash),
    // when, and the new parent's single hash (what its children carry as `prt`; access tokens
    // carry it too, as `rt`, so it reveals nothing a token does not).
    ("previous_refresh_token_hash_2", "VARCHAR(128) NULL"),
    ("rotated_at", "BIGINT UNSIGNED NULL"),
    ("refresh_token_hash_1", "VARCHAR(128) NULL"),
];

/// The revocation log's table: the session table's name with `_revoked`, shortened with a
/// hash of the full name when that would pass MySQL's 64 characters.
pub(super) fn revocations_table(sessions: &str) -> String {
    const SUFFIX: &str = "_revoked";
    if sessions.len() + SUFFIX.len() <= 64 {
        return format!("{sessions}{SUFFIX}");
    }
    let digest = crate::crypto::sha256_hex(sessions);
    format!("{}_{}_rev", &sessions[..47], &digest[..8])
}

/// A user's sessions as the user-keyed statements select them: exact bytes (see
/// EXACT_HANDLE), `user_id = ?` keeping the index in use.
const EXACT_USER: &str = "user_id = ? AND user_id = BINARY ?";

/// The stored session data as a JSON document: undefined ('') and NULL read as `{}`.
const DATA_OR_EMPTY: &str = "COALESCE(NULLIF(session_info, ''), '{}')";
/// What the TEXT column `session_info` holds.
pub const MAX_DATA_BYTES: usize = 65_535;

/// `wsrep_sync_wait` bits: which statement kinds wait for causality.
const WAIT_READ: u8 = 1;
const WAIT_UPDATE_DELETE: u8 = 2;
const WAIT_INSERT: u8 = 4;

impl Sql {
    /// Records `rows` refreshes (handle, time, ip, user agent: 4 parameters a row) in one
    /// statement; a row from before the migration gets its creation time then, so an
    /// absolute lifetime starts counting. A session gone meanwhile matches nothing.
    pub(super) fn touch_sessions(&self, rows: usize) -> String {
        let values =
            vec!["SELECT ? AS h, ? AS t, ? AS ip, ? AS ua"; rows.max(1)].join(" UNION ALL ");
        format!(
            "{}UPDATE {} AS s JOIN ({values}) AS v ON s.session_handle = v.h \
             AND s.session_handle = BINARY v.h SET s.last_refreshed_at = v.t, s.ip = v.ip, \
             s.user_agent = v.ua, s.created_at = COALESCE(s.created_at, v.t)",
            self.causal_update, self.sessions_table
        )
    }

    pub(super) fn new(keys: &str, sessions: &str, galera: bool) -> Self {
        // Only for this statement (MariaDB's SET STATEMENT), so plain statements and other
        // servers pay nothing.
        let causal = |bit: u8, sql: String| {
            if galera {
                format!("SET STATEMENT wsrep_sync_wait={bit} FOR {sql}")
            } else {
                sql
            }
        };
        let revoked = revocations_table(sessions);
        let added: String = ADDED_COLUMNS
            .iter()
            .map(|(name, def)| format!(", {name} {def}"))
            .collect();
        Sql {
            causal_update: causal(WAIT_UPDATE_DELETE, String::new()),
            keys_table: keys.to_string(),
            sessions_table: sessions.to_string(),
            create_revocations: format!(
                "CREATE TABLE IF NOT EXISTS {revoked} (session_handle VARCHAR(255) COLLATE \
                 utf8mb4_bin NOT NULL, revoked_at BIGINT UNSIGNED NOT NULL, \
                 PRIMARY KEY (session_handle), INDEX revoked_at_index (revoked_at)) \
                 DEFAULT CHARSET=utf8mb4"
            ),
            log_revocation: format!(
                "INSERT INTO {revoked} (session_handle, revoked_at) VALUES (?, ?) \
                 ON DUPLICATE KEY UPDATE revoked_at = VALUES(revoked_at)"
            ),
            // The poll: one range scan of the index, whatever the number of sessions.
            revocations_since: causal(
                WAIT_READ,
                format!("SELECT session_handle, revoked_at FROM {revoked} WHERE revoked_at >= ?"),
            ),
            delete_old_revocations: format!(
                "DELETE FROM {revoked} WHERE revoked_at < ? LIMIT {REMOVAL_BATCH}"
            ),
            lock_user_handles: format!(
                "SELECT session_handle FROM {sessions} WHERE {EXACT_USER} FOR UPDATE"
            ),
            create_keys: format!(
                "CREATE TABLE IF NOT EXISTS {keys} (key_name VARCHAR(128) NOT NULL, \
                 key_value VARCHAR(255), created_at_time BIGINT UNSIGNED, \
                 PRIMARY KEY (key_name)) DEFAULT CHARSET=utf8mb4"
            ),
            create_sessions: format!(
                "CREATE TABLE IF NOT EXISTS {sessions} (session_handle VARCHAR(255) \
                 COLLATE utf8mb4_bin NOT NULL, user_id VARCHAR(128) COLLATE utf8mb4_bin NOT NULL, refresh_token_hash_2 VARCHAR(128) NOT NULL, \
                 session_info TEXT, expires_at BIGINT UNSIGNED NOT NULL, jwt_user_payload TEXT{added}, \
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
                 session_info, expires_at, jwt_user_payload, created_at, last_refreshed_at, ip, \
                 user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
                "SELECT user_id, refresh_token_hash_2, expires_at, jwt_user_payload, created_at, \
                 previous_refresh_token_hash_2, rotated_at, refresh_token_hash_1 \
                 FROM {sessions} WHERE {EXACT_HANDLE}"
            ),
            ),
            promote: causal(
                WAIT_UPDATE_DELETE,
                format!(
                "UPDATE {sessions} SET refresh_token_hash_2 = ?, expires_at = ?, \
                 previous_refresh_token_hash_2 = ?, rotated_at = ?, refresh_token_hash_1 = ? \
                 WHERE {EXACT_HANDLE} AND refresh_token_hash_2 = ? AND expires_at > ?"
            ),
            ),
            delete_session: causal(
                WAIT_UPDATE_DELETE,
                format!("DELETE FROM {sessions} WHERE {EXACT_HANDLE}"),
            ),
            user_session_handles: causal(
                WAIT_READ,
                format!("SELECT session_handle FROM {sessions} WHERE {EXACT_USER}"),
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
            // RFC 7386 on the server, in one row-locked statement, so concurrent merges
            // never lose each other; undefined ('') and SQL NULL data merge as `{}`. Rows
            // whose text is not JSON, or whose result would not fit TEXT, are left alone.
            merge_session_data: causal(
                WAIT_UPDATE_DELETE,
                format!(
                    "UPDATE {sessions} SET session_info = JSON_MERGE_PATCH({DATA_OR_EMPTY}, ?) \
                     WHERE {EXACT_HANDLE} AND JSON_VALID({DATA_OR_EMPTY}) \
                     AND LENGTH(JSON_MERGE_PATCH({DATA_OR_EMPTY}, ?)) <= {MAX_DATA_BYTES}"
                ),
            ),
            existing_session_columns: "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?"
                .to_string(),
            user_sessions: causal(
                WAIT_READ,
                format!(
                    "SELECT session_handle, created_at, last_refreshed_at, expires_at, ip, \
                     user_agent FROM {sessions} WHERE {EXACT_USER} AND expires_at > ?"
                ),
            ),
            // Inside the login transaction of a capped user: locks the user's rows (and the
            // index range, so a concurrent login of the same user waits).
            lock_user_sessions: format!(
                "SELECT session_handle, COALESCE(last_refreshed_at, created_at, 0) \
                 FROM {sessions} WHERE {EXACT_USER} FOR UPDATE"
            ),
            delete_expired: format!(
                "DELETE FROM {sessions} WHERE expires_at <= ? LIMIT {REMOVAL_BATCH}"
            ),
        }
    }
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
    fn the_revocation_table_name_fits_mysql() {
        assert_eq!(revocations_table("refresh_token"), "refresh_token_revoked");
        let long = "s".repeat(64);
        let t = revocations_table(&long);
        assert!(t.len() <= 64, "{t}");
        assert_ne!(t, revocations_table(&"s".repeat(63)));
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
        assert!(waits(&s.merge_session_data, WAIT_UPDATE_DELETE));
        assert!(waits(&s.touch_sessions(3), WAIT_UPDATE_DELETE));
        assert!(Sql::new("k", "s", false)
            .touch_sessions(2)
            .starts_with("UPDATE s AS s JOIN (SELECT ? AS h"));
        assert!(waits(&s.user_sessions, WAIT_READ));
        assert!(waits(&s.revocations_since, WAIT_READ));
        assert!(waits(&s.insert_key_if_absent, WAIT_INSERT));
        // A new random handle cannot depend on anything, nor can the removal job.
        assert!(s.insert_session.starts_with("INSERT INTO s "));
        assert!(s.delete_expired.starts_with("DELETE FROM s "));
    }
}

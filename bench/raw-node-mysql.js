'use strict';
/**
 * The raw-MySQL ceiling through the node `mysql` driver (text protocol, JavaScript parsing)
 * instead of the addon's mysql_async pool (raw-native.js, the one worker.js uses). It runs the
 * same statements, on a table of exactly the shape our library creates, with the same pool
 * size and the same concurrency; kept to compare the two drivers' cost per statement (swap
 * the RAW_DRIVER line in worker.js).
 */

const mysql = require('mysql');
const { settingsFromEnv } = require('../scripts/mysql.js');

const label = 'node mysql driver, stand-in';

/**
 * A plain free-list of connections, opened on demand up to `limit`. (mysql's own Pool pings
 * the server on every acquire, a second round trip per statement that would make the ceiling
 * lower than MySQL allows.)
 */
function connectionPool(limit) {
  const settings = settingsFromEnv();
  const free = [];
  const waiters = [];
  const all = [];
  function acquire() {
    if (free.length) return Promise.resolve(free.pop());
    if (all.length < limit) {
      const c = mysql.createConnection(settings);
      all.push(c);
      return new Promise((resolve, reject) => c.connect((e) => (e ? reject(e) : resolve(c))));
    }
    return new Promise((resolve) => waiters.push(resolve));
  }
  function release(c) {
    const w = waiters.shift();
    if (w) w(c);
    else free.push(c);
  }
  return {
    query(sql, params) {
      return acquire().then(
        (c) =>
          new Promise((resolve, reject) =>
            c.query(sql, params, (e, rows) => {
              if (e && e.fatal) {
                c.destroy();
                all.splice(all.indexOf(c), 1);
              } else release(c);
              if (e) reject(e);
              else resolve(rows);
            }),
          ),
      );
    },
    end: () => Promise.all(all.map((c) => new Promise((r) => c.end(() => r())))),
  };
}

/**
 * Opens the driver on `sessionsTable` with a pool of `connectionLimit` connections.
 * @param {{sessionsTable: string, connectionLimit: number}} opts
 */
async function open({ sessionsTable, connectionLimit }) {
  const pool = connectionPool(connectionLimit);
  const insertSql = `INSERT INTO ${sessionsTable} (session_handle, user_id, refresh_token_hash_2, session_info, expires_at, jwt_user_payload) VALUES (?, ?, ?, ?, ?, ?)`;
  const selectSql = `SELECT session_info FROM ${sessionsTable} WHERE session_handle = ?`;
  const q = (sql, params) => pool.query(sql, params);
  return {
    label,
    /** One single-row INSERT; resolves the number of rows inserted. */
    async insert(r) {
      const res = await q(insertSql, [
        r.sessionHandle,
        r.userId,
        r.refreshTokenHash2,
        r.sessionInfo,
        r.expiresAt,
        r.jwtPayload,
      ]);
      return res.affectedRows;
    },
    /** One point SELECT by primary key; resolves session_info text or null. */
    async select(sessionHandle) {
      const rows = await q(selectSql, [sessionHandle]);
      return rows.length === 0 ? null : String(rows[0].session_info);
    },
    close: () => pool.end(),
  };
}

module.exports = { open, label };

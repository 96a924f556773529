'use strict';
/**
 * The coordinators' own SQL (bench/run.js, bench/cluster.js), outside every measurement:
 * the server version, dropping the bench's tables, and making sure the server accepts the
 * connections the measuring processes open.
 */

const mysql = require('mysql');
const { log } = require('./cli.js');

/**
 * Runs one statement on a connection of its own.
 * @param {{host: string, port: number, user: string, password: string, database: string}} settings
 * @param {string} sql
 * @returns {Promise<any>} the rows
 */
function query(settings, sql) {
  const conn = mysql.createConnection(settings);
  return new Promise((resolve, reject) =>
    conn.query(sql, (e, rows) => {
      conn.end();
      return e ? reject(e) : resolve(rows);
    }),
  );
}

/**
 * The server's version string.
 * @param {object} settings as for query
 * @returns {Promise<string>}
 */
async function serverVersion(settings) {
  return (await query(settings, 'SELECT VERSION() AS v'))[0].v;
}

/**
 * Drops `tables` where they exist, so a run starts from empty tables.
 * @param {object} settings as for query
 * @param {string[]} tables
 */
async function dropTables(settings, tables) {
  await query(settings, `DROP TABLE IF EXISTS ${tables.join(', ')}`);
}

/**
 * Makes sure the server accepts `needed` connections: when max_connections is lower (MariaDB's
 * default is 151) it is raised for the run with SET GLOBAL; without the privilege to do so
 * this throws and says what to run.
 * @param {object} settings as for query
 * @param {number} needed
 * @returns {Promise<() => Promise<void>>} restores the old value (logs, never throws)
 */
async function ensureConnections(settings, needed) {
  const max = Number((await query(settings, 'SELECT @@GLOBAL.max_connections AS m'))[0].m);
  if (max >= needed) return async () => {};
  try {
    await query(settings, `SET GLOBAL max_connections = ${needed}`);
  } catch (e) {
    throw new Error(
      `the bench needs max_connections >= ${needed} (server has ${max}) and could not raise it (${e.code}); ` +
        `run \`SET GLOBAL max_connections = ${needed}\` as an admin, or start the server with --max-connections=${needed}`,
      { cause: e },
    );
  }
  log(`bench: raised max_connections from ${max} to ${needed} for this run`);
  return async () => {
    try {
      await query(settings, `SET GLOBAL max_connections = ${max}`);
      log(`bench: restored max_connections to ${max}`);
    } catch (e) {
      log(`bench: could not restore max_connections to ${max}: ${e.message}`);
    }
  };
}

module.exports = { query, serverVersion, dropTables, ensureConnections };

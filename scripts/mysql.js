'use strict';
/**
 * Finds a MySQL for tests, the example and the bench: the one named by MYSQL_* settings,
 * else the local server on 127.0.0.1:3306, else a private MariaDB started in a temp dir
 * (when `mariadbd` is installed). Otherwise it says exactly what to install.
 */

const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const mysql = require('mysql');
const { freePort, which } = require('./ports.js');

/** Connection settings from MYSQL_HOST, MYSQL_PORT, MYSQL_USER, MYSQL_PASSWORD, MYSQL_DATABASE. */
function settingsFromEnv(env = process.env) {
  return {
    host: env.MYSQL_HOST || '127.0.0.1',
    port: Number(env.MYSQL_PORT || 3306),
    user: env.MYSQL_USER || 'root',
    password: env.MYSQL_PASSWORD || '',
    database: env.MYSQL_DATABASE || 'test',
  };
}

/** Runs one statement (no database selected); resolves to the error or null. */
function tryQuery(s, sql) {
  return new Promise((resolve) => {
    const c = mysql.createConnection({
      host: s.host,
      port: s.port,
      user: s.user,
      password: s.password,
      connectTimeout: 3000,
    });
    c.query(sql, (err) => {
      c.destroy();
      resolve(err || null);
    });
  });
}

/** Starts a throwaway MariaDB in a temp dir; returns its settings and a stop function. */
async function startPrivateMariadb() {
  const mariadbd = which('mariadbd');
  const installDb = which('mariadb-install-db') || which('mysql_install_db');
  if (!mariadbd || !installDb) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'supertokens-mysql-'));
  const data = path.join(dir, 'data');
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0 ? ['--user=root'] : [];
  execFileSync(
    installDb,
    ['--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...asRoot],
    {
      stdio: 'ignore',
    },
  );
  const port = await freePort();
  const child = spawn(
    mariadbd,
    [
      '--no-defaults',
      `--datadir=${data}`,
      `--socket=${path.join(dir, 'mysqld.sock')}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      ...asRoot,
    ],
    { stdio: 'ignore', detached: false },
  );
  const s = { host: '127.0.0.1', port, user: 'root', password: '', database: 'test' };
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if ((await tryQuery(s, 'SELECT 1')) === null) return { settings: s, stop };
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`a private MariaDB was started in ${dir} but did not accept connections within 20 s`);
}

/**
 * Makes sure a MySQL is reachable and its database exists.
 * @returns {Promise<{settings: object, stop: () => Promise<void>}>}
 */
async function ensureMysql() {
  const s = settingsFromEnv();
  let running = { settings: s, stop: async () => {} };
  const err = await tryQuery(s, 'SELECT 1');
  if (err !== null) {
    const fromEnv = process.env.MYSQL_HOST || process.env.MYSQL_PORT;
    const refused = err.code === 'ECONNREFUSED' || err.code === 'ENOENT';
    const started = !fromEnv && refused ? await startPrivateMariadb() : null;
    if (started === null) {
      throw new Error(
        [
          `No MySQL is reachable at ${s.host}:${s.port} as ${s.user} (${err.code || err.message}).`,
          'Do one of:',
          '  - start your MySQL/MariaDB server (e.g. `sudo service mariadb start`), or',
          '  - install one: `sudo apt-get install mariadb-server` (Debian/Ubuntu) or `brew install mariadb` (macOS);',
          '    when `mariadbd` is installed but not running, this script starts a private one by itself, or',
          '  - point at a server: MYSQL_HOST, MYSQL_PORT, MYSQL_USER, MYSQL_PASSWORD, MYSQL_DATABASE.',
        ].join('\n'),
      );
    }
    running = started;
    console.error(`[mysql] started a private MariaDB on 127.0.0.1:${started.settings.port}`);
  }
  const e = await tryQuery(
    running.settings,
    `CREATE DATABASE IF NOT EXISTS \`${running.settings.database.replace(/`/g, '')}\``,
  );
  if (e !== null) {
    await running.stop();
    throw new Error(`MySQL is reachable but database ${running.settings.database} could not be created: ${e.message}`);
  }
  return running;
}

module.exports = { ensureMysql, settingsFromEnv, startPrivateMariadb };

'use strict';
/**
 * Shared test helpers: per-file tables in the real MySQL, an Express app on a free port,
 * a browser-like cookie jar, and small assertion factories in express-session's style.
 */

const assert = require('node:assert/strict');
const http = require('node:http');
const mysql = require('mysql');
const { settingsFromEnv } = require('../scripts/mysql.js');

const db = settingsFromEnv();

/**
 * A valid config using tables of its own (`<prefix>_keys`, `<prefix>_sessions`), so test
 * files can run in parallel. `overrides` is merged one level deep per section.
 */
function configFor(prefix, overrides = {}) {
  const base = {
    mysql: {
      host: db.host,
      port: db.port,
      user: db.user,
      password: db.password,
      database: db.database,
      tables: { signingKey: `${prefix}_keys`, refreshTokens: `${prefix}_sessions` },
    },
    tokens: { refreshToken: { renewTokenPath: '/refresh' } },
    cookie: { domain: 'localhost', secure: false },
  };
  return merge(base, overrides);
}

function merge(a, b) {
  if (b === undefined) return a;
  if (a === null || typeof a !== 'object' || b === null || typeof b !== 'object' || Array.isArray(b)) return b;
  const out = { ...a };
  for (const k of Object.keys(b)) out[k] = merge(a[k], b[k]);
  return out;
}

let pool = null;
/** Runs SQL against the test database (for assertions and setup only). */
function query(sql, params = []) {
  pool ??= mysql.createPool({ ...db, connectionLimit: 4 });
  return new Promise((resolve, reject) => pool.query(sql, params, (e, rows) => (e ? reject(e) : resolve(rows))));
}

/** Drops a prefix's tables so a file starts from an empty database. */
async function dropTables(prefix) {
  await query(`DROP TABLE IF EXISTS \`${prefix}_keys\`, \`${prefix}_sessions\``);
}

/** Closes the assertion pool (call in `after`). */
function endQueries() {
  if (pool === null) return Promise.resolve();
  const p = pool;
  pool = null;
  return new Promise((resolve) => p.end(() => resolve()));
}

/** Starts `app` (an Express app or request listener) on a free port; returns {url, close}. */
function listen(app) {
  return new Promise((resolve) => {
    const server = http.createServer(app);
    server.listen(0, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      resolve({ url, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

/** Parses one Set-Cookie line into {name, value, attributes (lowercased keys)}. */
function parseSetCookie(line) {
  const [pair, ...attrs] = line.split(';').map((s) => s.trim());
  const eq = pair.indexOf('=');
  const attributes = {};
  for (const a of attrs) {
    const i = a.indexOf('=');
    if (i === -1) attributes[a.toLowerCase()] = true;
    else attributes[a.slice(0, i).toLowerCase()] = a.slice(i + 1);
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

/** The parsed Set-Cookie of `name` on a fetch Response, or undefined. */
function getCookie(response, name) {
  return response.headers
    .getSetCookie()
    .map(parseSetCookie)
    .find((c) => c.name === name);
}

/** A browser-like cookie jar: stores Set-Cookie, sends cookies whose Path matches. */
class CookieJar {
  constructor() {
    this.cookies = new Map();
  }

  store(response) {
    for (const line of response.headers.getSetCookie()) {
      const c = parseSetCookie(line);
      const expires = c.attributes.expires ? Date.parse(c.attributes.expires) : Infinity;
      if (c.value === '' || expires <= Date.now()) this.cookies.delete(c.name);
      else this.cookies.set(c.name, { value: c.value, path: c.attributes.path || '/' });
    }
  }

  header(path) {
    const parts = [];
    for (const [name, c] of this.cookies) {
      if (path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)) parts.push(`${name}=${c.value}`);
    }
    return parts.join('; ');
  }

  get(name) {
    return this.cookies.get(name)?.value;
  }
}

/**
 * fetch with a jar: sends matching cookies, stores the response's cookies.
 * @returns {Promise<Response & {body: string}>}
 */
async function send(base, jar, path, { method = 'GET', headers = {} } = {}) {
  const cookie = jar ? jar.header(path) : '';
  const response = await fetch(base + path, {
    method,
    headers: { ...(cookie ? { cookie } : {}), ...headers },
  });
  if (jar) jar.store(response);
  response.text_ = await response.text();
  return response;
}

/** Assertion factory: the response sets cookie `name` with the given attributes. */
function shouldSetCookie(response, name, expected = {}) {
  const c = getCookie(response, name);
  assert.ok(c, `expected Set-Cookie ${name}`);
  for (const [k, v] of Object.entries(expected)) {
    if (v === false) assert.equal(c.attributes[k], undefined, `${name} should not have ${k}`);
    else assert.equal(c.attributes[k], v, `${name}: attribute ${k}`);
  }
  return c;
}

/** Assertion factory: the response does not set cookie `name`. */
function shouldNotSetCookie(response, name) {
  assert.equal(getCookie(response, name), undefined, `expected no Set-Cookie ${name}`);
}

/** Assertion factory: the response clears all three auth cookies. */
function shouldClearAuthCookies(response) {
  for (const name of ['sAccessToken', 'sRefreshToken', 'sIdRefreshToken']) {
    const c = shouldSetCookie(response, name);
    assert.equal(c.value, '', `${name} should be emptied`);
    assert.equal(Date.parse(c.attributes.expires), 0, `${name} should expire at the epoch`);
  }
}

/** Assertion factory: header `name` is absent. */
function shouldNotHaveHeader(response, name) {
  assert.equal(response.headers.get(name), null, `expected no ${name} header`);
}

/**
 * Runs `__test__/fixtures/<file>` in another Node process (another app on the same database:
 * no test runner preloads, no test build) and resolves to the JSON it prints.
 */
function runFixture(file, args) {
  const { execFile } = require('node:child_process');
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.SUPERTOKENS_TEST_BUILD;
  const script = require('node:path').join(__dirname, 'fixtures', file);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, ...args], { env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

/** Asserts a promise rejects with a package error of `errType` whose message matches. */
async function rejectsWith(promise, errType, messagePattern) {
  const { Error: AuthError } = require('../index.js');
  await assert.rejects(promise, (e) => {
    assert.ok(AuthError.isErrorFromAuth(e), `expected a package error, got ${e && e.stack}`);
    assert.ok(e instanceof Error, 'package errors are Error instances');
    assert.equal(e.errType, errType, `errType of: ${e.message}`);
    if (messagePattern) assert.match(e.message, messagePattern);
    return true;
  });
}

module.exports = {
  db,
  configFor,
  query,
  dropTables,
  endQueries,
  listen,
  parseSetCookie,
  getCookie,
  CookieJar,
  send,
  shouldSetCookie,
  shouldNotSetCookie,
  shouldClearAuthCookies,
  shouldNotHaveHeader,
  rejectsWith,
  runFixture,
};

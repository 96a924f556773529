'use strict';
/**
 * Shared test helpers: per-file tables in the real MySQL and the hooks that set them up,
 * Express apps built from route tables on a free port, a browser-like cookie jar, and small
 * assertion factories in express-session's style. node:test and the addon are loaded on first
 * use only: the fixtures load this file in processes of their own, outside the test runner.
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
  const { host, port, user, password, database } = db;
  const tables = { signingKey: `${prefix}_keys`, refreshTokens: `${prefix}_sessions` };
  const base = {
    mysql: { host, port, user, password, database, tables },
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

/** The value exports of the Express entry point `express.js` (SPEC §3), sorted. */
const EXPRESS_EXPORTS = [
  'Error',
  'Session',
  'close',
  'createNewSession',
  'getAllSessionHandlesForUser',
  'getAllSessionsForUser',
  'getSession',
  'getSessionData',
  'getSessionInfo',
  'init',
  'mergeSessionData',
  'metrics',
  'refreshSession',
  'revokeAllSessionsForUser',
  'revokeSessionUsingSessionHandle',
  'setRelevantHeadersForOptionsAPI',
  'updateSessionData',
  'updateSessionInfo',
];
/** The value exports of the package root `index.js` (SPEC §4): the same but the Express-only two. */
const CORE_EXPORTS = EXPRESS_EXPORTS.filter((n) => n !== 'Session' && n !== 'setRelevantHeadersForOptionsAPI');

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

// ---------------------------------------------------------------------------------------
// Hooks. Each registers node:test hooks on the suite it is called in (or on the file).

/** node:test, loaded on first use (see the top of this file). */
const nodeTest = () => require('node:test');

/** The addon's test hooks (lib/native.js), loaded on first use, after a suite set its env. */
const native = () => require('../lib/native.js');

/** After the suite: closes `lib` (this package's index.js or express.js) and the assertion pool. */
function closeAfter(lib) {
  nodeTest().after(async () => {
    await lib.close();
    await endQueries();
  });
}

/**
 * Before the suite: drops `prefix`'s tables and initialises `lib` on them with
 * configFor(prefix, overrides); after it, closeAfter(lib).
 */
function initOnTables(lib, prefix, overrides) {
  nodeTest().before(async () => {
    await dropTables(prefix);
    await lib.init(configFor(prefix, overrides));
  });
  closeAfter(lib);
}

/** Puts the addon clock back to real time after each test and after the suite. */
function resetClock() {
  const { afterEach, after } = nodeTest();
  afterEach(() => native().testSetClockOffset(0));
  after(() => native().testSetClockOffset(0));
}

/**
 * For suites whose tests each initialise `lib` themselves: before each test the clock is real
 * time, `lib` closed and `clean()` run; after each, the clock is reset and `lib` closed; after
 * the suite, `clean()` again if `cleanAfter`, and the assertion pool is ended.
 */
function freshForEachTest(lib, clean, { cleanAfter = false } = {}) {
  const { beforeEach, afterEach, after } = nodeTest();
  beforeEach(async () => {
    native().testSetClockOffset(0);
    await lib.close();
    await clean();
  });
  afterEach(async () => {
    native().testSetClockOffset(0);
    await lib.close();
  });
  after(async () => {
    if (cleanAfter) await clean();
    await endQueries();
  });
}

/** Resolves after `ms` milliseconds. */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` every `step` ms until it returns truthy or `ms` pass; returns the last value. */
async function waitFor(fn, ms, step = 50) {
  const end = Date.now() + ms;
  let v = await fn();
  while (!v && Date.now() < end) {
    await sleep(step);
    v = await fn();
  }
  return v;
}

// ---------------------------------------------------------------------------------------
// Express apps and HTTP.

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
      if (path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
        parts.push(`${name}=${c.value}`);
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

/**
 * Responds to a package error with 440 + {errType, message} (and `err` for token theft);
 * to anything else with 500 + {message: the stack}.
 */
function sendError(res, e) {
  const { Error: AuthError } = require('../index.js');
  if (AuthError.isErrorFromAuth(e)) {
    const err = e.errType === AuthError.UNAUTHORISED_AND_TOKEN_THEFT_DETECTED ? e.err : undefined;
    res.status(440).json({ errType: e.errType, message: e.message, err });
  } else {
    res.status(500).json({ message: String(e && e.stack) });
  }
}

/** Responds 440 with only the errType as text. */
function sendErrType(res, e) {
  res.status(440).send(String(e.errType));
}

/**
 * An Express app (from `express`, the suite's own require('express'), so Express 5 can stand
 * in) built from a route table: `routes` maps 'METHOD /path' to an async (req, res) handler;
 * a handler that throws or rejects is answered by `onError(res, e)`. `use`: middleware
 * mounted before the routes.
 */
function makeApp(express, routes, { use = [], onError = sendError } = {}) {
  const app = express();
  for (const middleware of use) app.use(middleware);
  for (const [route, handler] of Object.entries(routes)) {
    const [method, path] = route.split(' ');
    app[method.toLowerCase()](path, async (req, res) => {
      try {
        await handler(req, res);
      } catch (e) {
        onError(res, e);
      }
    });
  }
  return app;
}

/**
 * A POST /login?user= handler for makeApp: this package's Express createNewSession for the
 * user (default 'user-1') with the [jwtPayload, sessionData] `args(user)` gives; answers {handle}.
 */
function loginRoute(args) {
  return async (req, res) => {
    const user = req.query.user || 'user-1';
    const s = await require('../express.js').createNewSession(res, user, ...args(user));
    res.json({ handle: s.getHandle() });
  };
}

/**
 * A handler for makeApp that logs in with this package's Express createNewSession(res, ...args)
 * (a fixed user) and answers 'ok'.
 */
function loginOkRoute(...args) {
  return async (req, res) => {
    await require('../express.js').createNewSession(res, ...args);
    res.send('ok');
  };
}

/** A POST /refresh handler for makeApp: `lib`'s refreshSession (default this package's Express API); answers 'ok'. */
function refreshOkRoute(lib = require('../express.js')) {
  return async (req, res) => {
    await lib.refreshSession(req, res);
    res.send('ok');
  };
}

/** The three cookies a login sets and a logout clears. */
const AUTH_COOKIES = ['sAccessToken', 'sRefreshToken', 'sIdRefreshToken'];

/**
 * Logs `user` in through the POST /login?user= route of an app at `url` (see loginRoute), with
 * a fresh jar; asserts 200 and all three auth cookies. Returns {jar, handle, antiCsrf, response}.
 */
async function login(url, user = 'user-1') {
  const jar = new CookieJar();
  const response = await send(url, jar, `/login?user=${encodeURIComponent(user)}`, { method: 'POST' });
  assert.equal(response.status, 200, response.text_);
  for (const name of AUTH_COOKIES) assert.ok(jar.get(name), `login should set ${name}`);
  return { jar, handle: JSON.parse(response.text_).handle, antiCsrf: response.headers.get('anti-csrf'), response };
}

/** Assertion factory: the response is sendError's answer to a package error of `errType`; returns its body. */
function shouldFailWith(response, errType) {
  assert.equal(response.status, 440, `expected a package error, got ${response.status}: ${response.text_}`);
  const body = JSON.parse(response.text_);
  assert.equal(body.errType, errType, response.text_);
  return body;
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
  for (const name of AUTH_COOKIES) {
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
  EXPRESS_EXPORTS,
  CORE_EXPORTS,
  AUTH_COOKIES,
  configFor,
  query,
  dropTables,
  endQueries,
  closeAfter,
  initOnTables,
  resetClock,
  freshForEachTest,
  sleep,
  waitFor,
  listen,
  sendError,
  sendErrType,
  makeApp,
  loginRoute,
  loginOkRoute,
  refreshOkRoute,
  login,
  shouldFailWith,
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

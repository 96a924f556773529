'use strict';
/**
 * User login (seed/user-login.md, SPEC §3 "createNewSession"): cookies, headers, the stored
 * row, JSON round-trips and bad input, through real HTTP requests to an Express 4 app.
 */

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const express = require('express');
const ST = require('../express.js');
const core = require('../index.js');
const h = require('./helpers.js');

const PREFIX = 'login';
const SESSIONS = `${PREFIX}_sessions`;
const GENERAL_ERROR = 1000;
const AUTH_COOKIES = ['sAccessToken', 'sRefreshToken', 'sIdRefreshToken'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const HOUR_MS = 3_600_000;
/** Cookie Expires has 1 s resolution; allow a little more for the request itself. */
const SLACK_MS = 3000;

// ---------------------------------------------------------------------------------------
// The app: each test registers a handler, requests it, and gets back what the handler's
// promise settled to (in this process, so `undefined` survives) plus the HTTP response.
// ---------------------------------------------------------------------------------------

const handlers = new Map();
let nextId = 0;
let server;

function buildApp() {
  const app = express();
  app.all('/run/:id', async (req, res) => {
    const entry = handlers.get(req.params.id);
    entry.promise = Promise.resolve().then(() => entry.fn(req, res));
    try {
      entry.value = await entry.promise;
      if (!res.headersSent) res.status(200).send('ok');
    } catch (e) {
      entry.error = e;
      if (!res.headersSent) res.status(500).send(String(e && e.errType));
    }
  });
  // The seed page's example, mounted as it is written there (see the last test).
  app.post('/seed-login', seedLogin);
  return app;
}

/**
 * Runs `fn(req, res)` inside a request; returns {response, value, error, promise}.
 * @param {{cookie?: string, headers?: object}} [opts]
 */
async function run(fn, opts = {}) {
  const id = String(nextId++);
  const entry = { fn };
  handlers.set(id, entry);
  const headers = { ...(opts.cookie ? { cookie: opts.cookie } : {}), ...opts.headers };
  const response = await fetch(`${server.url}/run/${id}`, { method: 'POST', headers });
  response.text_ = await response.text();
  handlers.delete(id);
  return { response, value: entry.value, error: entry.error, promise: entry.promise };
}

/**
 * Logs in through Express; fails the test if createNewSession rejects. With no arguments,
 * a default user; otherwise the arguments are passed as they are (undefined included).
 */
async function login(...args) {
  const [userId, jwtPayload, sessionData] = args.length === 0 ? ['user-1', { role: 'admin' }, { cart: [1, 2] }] : args;
  const r = await run((req, res) => ST.createNewSession(res, userId, jwtPayload, sessionData));
  if (r.error) throw r.error;
  assert.equal(r.response.status, 200);
  return { response: r.response, session: r.value };
}

/** Re-initialises the package with the login tables and `overrides` (see helpers.configFor). */
async function reinit(overrides = {}) {
  await ST.close();
  await ST.init(h.configFor(PREFIX, overrides));
}

// ---------------------------------------------------------------------------------------
// Small assertion helpers
// ---------------------------------------------------------------------------------------

const sha256hex = (s) => crypto.createHash('sha256').update(s, 'utf8').digest('hex');

function cookies(response) {
  return response.headers.getSetCookie().map(h.parseSetCookie);
}

/** The response's Set-Cookie lines of `name` (exactly one expected). */
function onlyCookie(response, name) {
  const found = cookies(response).filter((c) => c.name === name);
  assert.equal(found.length, 1, `expected exactly one Set-Cookie ${name}, got ${found.length}`);
  return found[0];
}

function expiresMs(c) {
  const t = Date.parse(c.attributes.expires);
  assert.ok(Number.isFinite(t), `${c.name} has a parsable Expires: ${c.attributes.expires}`);
  return t;
}

function assertNear(actual, expected, slack, what) {
  assert.ok(
    Math.abs(actual - expected) <= slack,
    `${what}: ${actual} is not within ${slack} ms of ${expected} (off by ${actual - expected})`,
  );
}

/** The comma-separated header as lowercase names. */
function listHeader(response, name) {
  const v = response.headers.get(name);
  return v === null ? [] : v.split(',').map((s) => s.trim().toLowerCase());
}

function decodeJwt(token) {
  const [header, payload] = token
    .split('.')
    .slice(0, 2)
    .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8')));
  return { header, payload };
}

async function countRows() {
  const [row] = await h.query(`SELECT COUNT(*) AS n FROM ${SESSIONS}`);
  return Number(row.n);
}

/**
 * The session's row. Text columns are read as bytes and decoded here: the assertion pool
 * (the `mysql` package) talks 3-byte utf8 and would turn 4-byte characters into '?'.
 */
async function rowOf(handle) {
  const rows = await h.query(
    `SELECT session_handle, CAST(user_id AS BINARY) AS user_id, refresh_token_hash_2,
            CAST(session_info AS BINARY) AS session_info, expires_at,
            CAST(jwt_user_payload AS BINARY) AS jwt_user_payload
       FROM ${SESSIONS} WHERE session_handle = ?`,
    [handle],
  );
  assert.equal(rows.length, 1, `expected one row for session ${handle}`);
  const row = { ...rows[0] };
  for (const k of Object.keys(row)) if (Buffer.isBuffer(row[k])) row[k] = row[k].toString('utf8');
  return row;
}

function assertNoSessionWritten(response) {
  for (const name of AUTH_COOKIES) h.shouldNotSetCookie(response, name);
  h.shouldNotHaveHeader(response, 'anti-csrf');
  h.shouldNotHaveHeader(response, 'id-refresh-token');
}

// ---------------------------------------------------------------------------------------

before(async () => {
  await h.dropTables(PREFIX);
  await ST.init(h.configFor(PREFIX));
  server = await h.listen(buildApp());
});

after(async () => {
  if (server) await server.close();
  await ST.close();
  await h.endQueries();
});

describe('cookies with the default config (secure: false, domain localhost)', () => {
  let response;
  let before_;
  before(async () => {
    await reinit();
    before_ = Date.now();
    ({ response } = await login());
  });

  test('sAccessToken: a 3-part HS256 JWT, HttpOnly, not Secure, Path=/, Domain, SameSite=Lax', () => {
    const c = onlyCookie(response, 'sAccessToken');
    assert.match(c.value, JWT);
    assert.equal(decodeJwt(c.value).header.alg, 'HS256');
    h.shouldSetCookie(response, 'sAccessToken', {
      httponly: true,
      secure: false,
      path: '/',
      domain: 'localhost',
      samesite: 'Lax',
    });
  });

  test('sRefreshToken: base64url, HttpOnly, not Secure, Path=renewTokenPath, SameSite=Lax', () => {
    const c = onlyCookie(response, 'sRefreshToken');
    assert.match(c.value, BASE64URL);
    assert.ok(c.value.length >= 32, 'refresh token carries enough entropy');
    h.shouldSetCookie(response, 'sRefreshToken', {
      httponly: true,
      secure: false,
      path: '/refresh',
      domain: 'localhost',
      samesite: 'Lax',
    });
  });

  test('sRefreshToken is opaque: it does not contain the user id or the session handle', async () => {
    const c = onlyCookie(response, 'sRefreshToken');
    const handle = decodeJwt(onlyCookie(response, 'sAccessToken').value).payload.sessionHandle;
    const decoded = Buffer.from(c.value, 'base64url').toString('latin1');
    assert.ok(!decoded.includes('user-1') && !c.value.includes('user-1'));
    assert.ok(!decoded.includes(handle) && !c.value.includes(handle));
  });

  test('sIdRefreshToken: a UUID, not HttpOnly, not Secure, Path=/, SameSite=Lax', () => {
    const c = onlyCookie(response, 'sIdRefreshToken');
    assert.match(c.value, UUID);
    h.shouldSetCookie(response, 'sIdRefreshToken', {
      httponly: false,
      secure: false,
      path: '/',
      domain: 'localhost',
      samesite: 'Lax',
    });
  });

  test('Expires: access token ≈ now + 3600 s, refresh and id-refresh ≈ now + 2400 h', () => {
    assertNear(expiresMs(onlyCookie(response, 'sAccessToken')), before_ + 3600 * 1000, SLACK_MS, 'sAccessToken');
    assertNear(expiresMs(onlyCookie(response, 'sRefreshToken')), before_ + 2400 * HOUR_MS, SLACK_MS, 'sRefreshToken');
    assertNear(
      expiresMs(onlyCookie(response, 'sIdRefreshToken')),
      before_ + 2400 * HOUR_MS,
      SLACK_MS,
      'sIdRefreshToken',
    );
  });
});

describe('cookie attributes follow the config', () => {
  test('secure: true → access and refresh cookies Secure; sIdRefreshToken not (SameSite=Lax)', async () => {
    await reinit({ cookie: { secure: true } });
    const { response } = await login();
    h.shouldSetCookie(response, 'sAccessToken', { secure: true, httponly: true, samesite: 'Lax' });
    h.shouldSetCookie(response, 'sRefreshToken', { secure: true, httponly: true, samesite: 'Lax' });
    h.shouldSetCookie(response, 'sIdRefreshToken', { secure: false, httponly: false, samesite: 'Lax' });
  });

  test('sameSite "strict" → SameSite=Strict on all three cookies', async () => {
    await reinit({ cookie: { secure: true, sameSite: 'strict' } });
    const { response } = await login();
    for (const name of AUTH_COOKIES) h.shouldSetCookie(response, name, { samesite: 'Strict' });
    h.shouldSetCookie(response, 'sIdRefreshToken', { secure: false });
  });

  test('sameSite "none" (with secure) → SameSite=None, and sIdRefreshToken is Secure too', async () => {
    await reinit({ cookie: { secure: true, sameSite: 'none' } });
    const { response } = await login();
    for (const name of AUTH_COOKIES) h.shouldSetCookie(response, name, { samesite: 'None', secure: true });
    h.shouldSetCookie(response, 'sIdRefreshToken', { httponly: false });
  });

  test('custom domain, accessTokenPath and renewTokenPath', async () => {
    await reinit({
      cookie: { domain: 'auth.example.com' },
      tokens: { accessToken: { accessTokenPath: '/api' }, refreshToken: { renewTokenPath: '/api/session/refresh' } },
    });
    const { response } = await login();
    h.shouldSetCookie(response, 'sAccessToken', { path: '/api', domain: 'auth.example.com' });
    h.shouldSetCookie(response, 'sIdRefreshToken', { path: '/api', domain: 'auth.example.com' });
    h.shouldSetCookie(response, 'sRefreshToken', { path: '/api/session/refresh', domain: 'auth.example.com' });
  });

  test('custom validities: access ≈ now + 120 s, refresh/id-refresh ≈ now + 5 h', async () => {
    await reinit({ tokens: { accessToken: { validity: 120 }, refreshToken: { validity: 5 } } });
    const t0 = Date.now();
    const { response } = await login();
    assertNear(expiresMs(onlyCookie(response, 'sAccessToken')), t0 + 120_000, SLACK_MS, 'sAccessToken');
    assertNear(expiresMs(onlyCookie(response, 'sRefreshToken')), t0 + 5 * HOUR_MS, SLACK_MS, 'sRefreshToken');
    assertNear(expiresMs(onlyCookie(response, 'sIdRefreshToken')), t0 + 5 * HOUR_MS, SLACK_MS, 'sIdRefreshToken');
  });
});

describe('headers', () => {
  before(() => reinit());

  test('anti-csrf, id-refresh-token, exposed headers and Allow-Credentials are set', async () => {
    const { response } = await login();
    const antiCsrf = response.headers.get('anti-csrf');
    assert.ok(typeof antiCsrf === 'string' && antiCsrf.length >= 16, `anti-csrf header: ${antiCsrf}`);
    assert.equal(decodeJwt(onlyCookie(response, 'sAccessToken').value).payload.antiCsrfToken, antiCsrf);

    const idCookie = onlyCookie(response, 'sIdRefreshToken');
    const header = response.headers.get('id-refresh-token');
    assert.match(header ?? '', /^[^;]+;\d+$/, `id-refresh-token header: ${header}`);
    const [value, expires] = header.split(';');
    assert.equal(value, idCookie.value);
    assertNear(Number(expires), expiresMs(idCookie), 1000, 'id-refresh-token header expiry vs cookie');

    const exposed = listHeader(response, 'access-control-expose-headers');
    assert.ok(exposed.includes('id-refresh-token'), `exposed: ${exposed}`);
    assert.ok(exposed.includes('anti-csrf'), `exposed: ${exposed}`);
    assert.equal(response.headers.get('access-control-allow-credentials'), 'true');
  });

  test('enableAntiCsrf: false → no anti-csrf header (and none exposed), other headers still set', async (t) => {
    await reinit({ tokens: { enableAntiCsrf: false } });
    t.after(() => reinit());
    const { response } = await login();
    h.shouldNotHaveHeader(response, 'anti-csrf');
    assert.ok(!listHeader(response, 'access-control-expose-headers').includes('anti-csrf'));
    assert.ok(listHeader(response, 'access-control-expose-headers').includes('id-refresh-token'));
    assert.match(response.headers.get('id-refresh-token') ?? '', /^[^;]+;\d+$/);
    assert.equal(response.headers.get('access-control-allow-credentials'), 'true');
    assert.equal(decodeJwt(onlyCookie(response, 'sAccessToken').value).payload.antiCsrfToken, undefined);
  });

  test('Set-Cookie and Access-Control-Expose-Headers set by the app before are kept', async () => {
    const { response, error } = await run(async (req, res) => {
      res.cookie('theme', 'dark', { path: '/' });
      res.setHeader('Access-Control-Expose-Headers', 'x-request-id');
      return ST.createNewSession(res, 'user-keep', {}, {});
    });
    assert.equal(error, undefined);
    h.shouldSetCookie(response, 'theme');
    assert.equal(h.getCookie(response, 'theme').value, 'dark');
    for (const name of AUTH_COOKIES) onlyCookie(response, name);
    const exposed = listHeader(response, 'access-control-expose-headers');
    for (const name of ['x-request-id', 'id-refresh-token', 'anti-csrf']) {
      assert.ok(exposed.includes(name), `${name} exposed in: ${exposed}`);
    }
  });

  test('an existing Set-Cookie array is kept too', async () => {
    const { response, error } = await run(async (req, res) => {
      res.setHeader('Set-Cookie', ['a=1; Path=/', 'b=2; Path=/']);
      return ST.createNewSession(res, 'user-keep', {}, {});
    });
    assert.equal(error, undefined);
    assert.equal(h.getCookie(response, 'a').value, '1');
    assert.equal(h.getCookie(response, 'b').value, '2');
    for (const name of AUTH_COOKIES) onlyCookie(response, name);
  });

  test('createNewSession twice on one res leaves one set of cookies: the second session', async () => {
    const { response, value, error } = await run(async (req, res) => {
      const first = await ST.createNewSession(res, 'user-twice-1', { n: 1 }, {});
      const second = await ST.createNewSession(res, 'user-twice-2', { n: 2 }, {});
      return { first, second };
    });
    assert.equal(error, undefined);
    const { first, second } = value;
    assert.notEqual(first.getHandle(), second.getHandle());
    const access = onlyCookie(response, 'sAccessToken');
    const refresh = onlyCookie(response, 'sRefreshToken');
    const id = onlyCookie(response, 'sIdRefreshToken');
    const claims = decodeJwt(access.value).payload;
    assert.equal(claims.sessionHandle, second.getHandle());
    assert.equal(claims.userId, 'user-twice-2');
    assert.equal(response.headers.get('anti-csrf'), claims.antiCsrfToken);
    assert.equal(response.headers.get('id-refresh-token').split(';')[0], id.value);
    const row = await rowOf(second.getHandle());
    assert.equal(row.refresh_token_hash_2, sha256hex(sha256hex(refresh.value)));
    // The cookies work as a session of the second login.
    const cookie = `sAccessToken=${access.value}; sIdRefreshToken=${id.value}`;
    const check = await run((req, res) => ST.getSession(req, res, false), { cookie });
    assert.equal(check.error, undefined);
    assert.equal(check.value.getHandle(), second.getHandle());
    // Exposed headers are not listed twice.
    const exposed = listHeader(response, 'access-control-expose-headers');
    assert.equal(exposed.filter((x) => x === 'id-refresh-token').length, 1);
    assert.equal(exposed.filter((x) => x === 'anti-csrf').length, 1);
  });
});

describe('the row in MySQL', () => {
  before(() => reinit());

  test('exactly one row per login, with user id, hash of hash, JSON text and expiry', async () => {
    const n0 = await countRows();
    const jwtPayload = { role: 'admin', tags: ['a', 'b'] };
    const sessionData = { cart: [1, 2], note: 'é 🌍' };
    const { response, session } = await login('row-user', jwtPayload, sessionData);
    assert.equal(await countRows(), n0 + 1);
    const row = await rowOf(session.getHandle());
    const refresh = onlyCookie(response, 'sRefreshToken');
    assert.equal(row.user_id, 'row-user');
    assert.equal(row.refresh_token_hash_2, sha256hex(sha256hex(refresh.value)));
    assert.notEqual(row.refresh_token_hash_2, sha256hex(refresh.value));
    assert.deepStrictEqual(JSON.parse(row.session_info), sessionData);
    assert.deepStrictEqual(JSON.parse(row.jwt_user_payload), jwtPayload);
    assertNear(Number(row.expires_at), expiresMs(refresh), 1000 + 100, 'expires_at vs sRefreshToken Expires');
    assertNear(
      Number(response.headers.get('id-refresh-token').split(';')[1]),
      Number(row.expires_at),
      1000,
      'id-refresh-token header vs expires_at',
    );
    // The raw refresh token appears nowhere in the row.
    for (const v of Object.values(row)) assert.ok(!String(v).includes(refresh.value));
  });

  test('undefined jwtPayload and sessionData are stored as ""', async () => {
    const { session } = await login('row-undefined', undefined, undefined);
    const row = await rowOf(session.getHandle());
    assert.equal(row.session_info, '');
    assert.equal(row.jwt_user_payload, '');
  });

  test('null is stored as the JSON text "null", not as ""', async () => {
    const { session } = await login('row-null', null, null);
    const row = await rowOf(session.getHandle());
    assert.equal(row.session_info, 'null');
    assert.equal(row.jwt_user_payload, 'null');
  });
});

describe('jwtPayload and sessionData round-trip as JSON', () => {
  before(() => reinit());

  const values = [
    ['an object', { name: 'spooky', nested: { deep: [1, { x: null }] } }],
    ['an empty object', {}],
    ['an array', [1, 'two', false, null, { three: 3 }]],
    ['an empty array', []],
    ['an integer', 42],
    ['zero', 0],
    ['a negative fraction', -12.375],
    ['a large number', 1.5e300],
    ['a string', 'hello'],
    ['an empty string', ''],
    ['a string with quotes, unicode and markup', 'say "hi" — ünïcödé 🌍 </script>\n\t\\'],
    ['true', true],
    ['false', false],
    ['null', null],
    ['undefined', undefined],
  ];

  for (const [label, value] of values) {
    test(`${label}`, async () => {
      const jwtPayload = value;
      const sessionData = value;
      const { response, session } = await login(`rt-${label}`, jwtPayload, sessionData);
      assert.deepStrictEqual(session.getJWTPayload(), jwtPayload, 'Session.getJWTPayload() right after login');
      assert.equal(session.getUserId(), `rt-${label}`);
      assert.match(session.getHandle(), /\S/);

      const cookie = `sAccessToken=${onlyCookie(response, 'sAccessToken').value}; sIdRefreshToken=${onlyCookie(response, 'sIdRefreshToken').value}`;
      const later = await run((req, res) => ST.getSession(req, res, false), { cookie });
      assert.equal(later.error, undefined, later.error && later.error.message);
      assert.deepStrictEqual(later.value.getJWTPayload(), jwtPayload, 'getSession(...).getJWTPayload()');
      assert.equal(later.value.getHandle(), session.getHandle());

      assert.deepStrictEqual(await ST.getSessionData(session.getHandle()), sessionData, 'getSessionData(handle)');
      assert.deepStrictEqual(await session.getSessionData(), sessionData, 'session.getSessionData()');
    });
  }

  test('jwtPayload and sessionData are independent', async () => {
    const { session } = await login('rt-independent', { a: 1 }, ['b']);
    assert.deepStrictEqual(session.getJWTPayload(), { a: 1 });
    assert.deepStrictEqual(await ST.getSessionData(session.getHandle()), ['b']);
  });
});

describe('bad input: GENERAL_ERROR naming the problem, nothing written', () => {
  before(() => reinit());

  function cyclic() {
    const o = { a: 1 };
    o.self = o;
    return o;
  }

  const cases = [
    ['userId is a number', [1, {}, {}], /userId/],
    ['userId is undefined', [undefined, {}, {}], /userId/],
    ['userId is null', [null, {}, {}], /userId/],
    ['userId is an object', [{ id: 'x' }, {}, {}], /userId/],
    ['jwtPayload is a function', ['u', () => 1, {}], /jwtPayload/],
    ['jwtPayload is a BigInt', ['u', 10n, {}], /jwtPayload/],
    ['jwtPayload holds a BigInt', ['u', { n: 10n }, {}], /jwtPayload/],
    ['jwtPayload is cyclic', ['u', cyclic(), {}], /jwtPayload/],
    ['sessionData is a function', ['u', {}, function data() {}], /sessionData/],
    ['sessionData is a BigInt', ['u', {}, 10n], /sessionData/],
    ['sessionData is cyclic', ['u', {}, cyclic()], /sessionData/],
    ['userId has 129 characters', ['u'.repeat(129), {}, {}], /userId.*128|128.*userId/],
    ['userId has 129 multi-byte characters', ['é'.repeat(129), {}, {}], /userId.*128|128.*userId/],
    ['sessionData is 65,536 bytes of JSON', ['u', {}, 'x'.repeat(65534)], /sessionData.*65,?535|65,?535.*sessionData/],
    [
      'sessionData is 65,536 bytes of multi-byte JSON',
      ['u', {}, 'é'.repeat(32767)],
      /sessionData.*65,?535|65,?535.*sessionData/,
    ],
    [
      'jwtPayload makes the access-token cookie exceed 4096 bytes',
      ['u', { blob: 'x'.repeat(4000) }, {}],
      /over the 4083 bytes its cookie can hold/,
    ],
  ];

  for (const [label, args, pattern] of cases) {
    test(label, async () => {
      const n0 = await countRows();
      const r = await run((req, res) => ST.createNewSession(res, ...args));
      await h.rejectsWith(r.promise, GENERAL_ERROR, pattern);
      assert.equal(r.response.status, 500);
      assertNoSessionWritten(r.response);
      assert.equal(r.response.headers.getSetCookie().length, 0, 'no Set-Cookie at all');
      assert.equal(await countRows(), n0, 'no row written');
    });
  }

  for (const [label, res] of [
    ['res is undefined', undefined],
    ['res is {}', {}],
    ['res is a string', 'res'],
    ['res is null', null],
  ]) {
    test(label, async () => {
      const n0 = await countRows();
      await h.rejectsWith(ST.createNewSession(res, 'u', {}, {}), GENERAL_ERROR, /\bres\b/);
      assert.equal(await countRows(), n0, 'no row written');
    });
  }

  test('boundaries that fit are accepted and stored whole', async () => {
    const ascii128 = 'u'.repeat(128);
    const accented128 = 'é'.repeat(128);
    const emoji128 = '😀'.repeat(128); // 128 characters, 256 UTF-16 units, 512 bytes
    for (const userId of [ascii128, accented128, emoji128]) {
      const { session } = await login(userId, {}, {});
      assert.equal(session.getUserId(), userId);
      assert.equal((await rowOf(session.getHandle())).user_id, userId);
    }
    const data = 'x'.repeat(65533); // JSON text of exactly 65,535 bytes
    const { session } = await login('max-data', undefined, data);
    assert.equal((await rowOf(session.getHandle())).session_info.length, 65535);
    assert.equal(await ST.getSessionData(session.getHandle()), data);
  });

  test('the 4096-byte cookie limit is exact: the largest payload that fits works, one more byte fails', async () => {
    // The framework-free API has no cookie limit: use it to measure the token length.
    const cookieLen = async (n) => {
      const r = await core.createNewSession('u', { blob: 'x'.repeat(n) });
      return 'sAccessToken='.length + r.accessToken.value.length;
    };
    let n = 2500;
    while ((await cookieLen(n + 1)) <= 4096) n++;
    assert.ok((await cookieLen(n)) <= 4096 && (await cookieLen(n + 1)) > 4096);

    const fits = await run((req, res) => ST.createNewSession(res, 'u', { blob: 'x'.repeat(n) }));
    assert.equal(fits.error, undefined, fits.error && fits.error.message);
    const c = onlyCookie(fits.response, 'sAccessToken');
    assert.ok(`${c.name}=${c.value}`.length <= 4096);

    const n0 = await countRows();
    const tooBig = await run((req, res) => ST.createNewSession(res, 'u', { blob: 'x'.repeat(n + 1) }));
    await h.rejectsWith(tooBig.promise, GENERAL_ERROR, /over the 4083 bytes its cookie can hold/);
    assert.equal(tooBig.response.headers.getSetCookie().length, 0);
    assert.equal(await countRows(), n0);
  });
});

// ---------------------------------------------------------------------------------------
// The seed page's example code, unchanged except `import` → `require` and the TypeScript
// parameter annotations (this file is JavaScript).
// ---------------------------------------------------------------------------------------

const SuperTokens = require('../express.js');
let seedOutcome;

function seedLogin(req, res) {
  // ...
  // assuming user has been authenticated somehow..
  let userId = 'User1';
  let jwtPayload = { userId, name: 'spooky action at a distance' };
  let sessionData = { awesomeThings: ['programming', 'javascript', 'SuperTokens'] };
  seedOutcome = SuperTokens.createNewSession(res, userId, jwtPayload, sessionData)
    .then((session) => {
      res.send('Session created successfully!');
      return session;
    })
    .catch((err) => {
      // session was not created. Handle error...
      res.status(500).send(String(err));
    });
}

describe('the seed page (user-login.md)', () => {
  before(() => reinit());

  test('its example code runs unchanged and creates the documented session', async () => {
    const n0 = await countRows();
    const jar = new h.CookieJar();
    const response = await h.send(server.url, jar, '/seed-login', { method: 'POST' });
    assert.equal(response.status, 200, response.text_);
    assert.equal(response.text_, 'Session created successfully!');
    const session = await seedOutcome;
    assert.equal(session.getUserId(), 'User1');
    assert.deepStrictEqual(session.getJWTPayload(), { userId: 'User1', name: 'spooky action at a distance' });
    assert.equal(await countRows(), n0 + 1);
    assert.deepStrictEqual(await SuperTokens.getSessionData(session.getHandle()), {
      awesomeThings: ['programming', 'javascript', 'SuperTokens'],
    });
    h.shouldSetCookie(response, 'sAccessToken', { httponly: true });
    h.shouldSetCookie(response, 'sRefreshToken', { httponly: true });
    h.shouldSetCookie(response, 'sIdRefreshToken', { httponly: false, secure: false });
    assert.ok(response.headers.get('anti-csrf'));
    assert.ok(jar.get('sAccessToken') && jar.get('sRefreshToken') && jar.get('sIdRefreshToken'));
  });

  test('the documented number-userId conversion works', async () => {
    const { response, value, error } = await run(async (req, res) => {
      let userId = 1; // is a number
      let session = await SuperTokens.createNewSession(res, userId + '', {}, {});
      let userFromSession = Number(session.getUserId());
      return userFromSession;
    });
    assert.equal(error, undefined);
    assert.equal(value, 1);
    onlyCookie(response, 'sAccessToken');
  });
});

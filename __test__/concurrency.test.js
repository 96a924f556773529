'use strict';
/**
 * Issue 6.4 (and 6.6 for this file): concurrency. 500 concurrent logins, 200 concurrent
 * refreshes of distinct sessions, the same refresh token sent twice (and more) at once —
 * both through the framework-free API and real HTTP through Express. Nothing may deadlock
 * (every batch runs under a deadline), nothing may answer with a 500.
 */

process.env.SUPERTOKENS_TEST_BUILD = '1';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const express = require('express');
const ST = require('../index.js');
const STX = require('../express.js');
const h = require('./helpers.js');

const PREFIX = `concur_${process.pid}`;
const { UNAUTHORISED, UNAUTHORISED_AND_TOKEN_THEFT_DETECTED, TRY_REFRESH_TOKEN } = ST.Error;
const DEADLINE_MS = 30_000;

const said = [];
const rawRefreshTokens = new Set();
let server;

const hex2 = (s) =>
  crypto.createHash('sha256').update(crypto.createHash('sha256').update(s).digest('hex')).digest('hex');
const jwtPayload = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

function remember(e) {
  if (e === null || e === undefined) return;
  said.push(String(e.message), String(e.stack));
  if (e.err !== undefined) said.push(e.err instanceof Error ? e.err.message : JSON.stringify(e.err));
}

/** Promise.all that fails (instead of hanging) when a batch deadlocks. */
async function allWithin(what, promises, ms = DEADLINE_MS) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms (deadlock?)`)), ms);
  });
  try {
    return await Promise.race([Promise.all(promises), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Settles to {ok, value} | {ok: false, error}, recording messages. */
function settle(p) {
  return p.then(
    (value) => ({ ok: true, value }),
    (error) => {
      remember(error);
      return { ok: false, error };
    },
  );
}

async function create(userId, payload, data) {
  const s = await ST.createNewSession(userId, payload, data);
  rawRefreshTokens.add(s.refreshToken.value);
  return s;
}
async function refresh(token) {
  const r = await ST.refreshSession(token);
  rawRefreshTokens.add(r.newRefreshToken.value);
  return r;
}

async function rowsFor(userIds) {
  const rows = await h.query(
    `SELECT session_handle, user_id, refresh_token_hash_2, session_info FROM ${PREFIX}_sessions WHERE user_id IN (?)`,
    [userIds],
  );
  return new Map(rows.map((r) => [r.session_handle, r]));
}

function app() {
  const fail = (res, e) => {
    remember(e);
    const status = ST.Error.isErrorFromAuth(e) ? { 1000: 500, 2000: 401, 3000: 440, 4000: 403 }[e.errType] : 599;
    res.status(status).json({ errType: e.errType, message: String(e.message) });
  };
  const who = (res, s) => res.json({ handle: s.getHandle(), userId: s.getUserId() });
  return h.makeApp(
    express,
    {
      'POST /login': async (req, res) =>
        who(res, await STX.createNewSession(res, String(req.query.u), { u: req.query.u }, { n: Number(req.query.n) })),
      'GET /me': async (req, res) => who(res, await STX.getSession(req, res, false)),
      'POST /refresh': async (req, res) => who(res, await STX.refreshSession(req, res)),
    },
    { onError: fail },
  );
}

/** One HTTP exchange with a jar; returns {status, json, response}. */
async function send(jar, path, method = 'GET') {
  const response = await h.send(server.url, jar, path, { method });
  let json;
  try {
    json = JSON.parse(response.text_);
  } catch {
    json = response.text_;
  }
  if (response.status !== 200) said.push(response.text_);
  const rt = h.getCookie(response, 'sRefreshToken');
  if (rt && rt.value) rawRefreshTokens.add(rt.value);
  return { status: response.status, json, response };
}

/** Sends `path(i)` with every jar `i` at once (under the deadline); asserts every answer is 200; returns them. */
async function allAnswer200(what, jars, path, method) {
  const answers = await allWithin(
    what,
    jars.map((j, i) => send(j, path(i), method)),
  );
  assert.deepEqual(
    answers.map((r) => r.status).filter((s) => s !== 200),
    [],
  );
  return answers;
}

test.before(async () => {
  await h.dropTables(PREFIX);
  await ST.init(
    h.configFor(PREFIX, {
      logging: { info: (m) => said.push(String(m)), error: (e) => said.push(String(e && e.stack)) },
    }),
  );
  server = await h.listen(app());
});

test.after(async () => {
  await server?.close();
  await ST.close();
  await h.dropTables(PREFIX);
  await h.endQueries();
});

test('500 concurrent logins (framework-free): all resolve, distinct handles, every row present', async (t) => {
  const ids = Array.from({ length: 500 }, (_, i) => `ff-login-${i}`);
  const started = Date.now();
  const results = await allWithin(
    '500 logins',
    ids.map((u, i) => settle(create(u, { i }, { i }))),
  );
  const failed = results.filter((r) => !r.ok).map((r) => r.error.message);
  assert.deepEqual(failed, [], 'every login resolved');
  const sessions = results.map((r) => r.value);
  assert.equal(new Set(sessions.map((s) => s.session.handle)).size, 500, 'distinct handles');
  assert.equal(new Set(sessions.map((s) => s.refreshToken.value)).size, 500, 'distinct refresh tokens');
  assert.equal(new Set(sessions.map((s) => s.antiCsrfToken)).size, 500, 'distinct anti-CSRF tokens');
  const rows = await rowsFor(ids);
  assert.equal(rows.size, 500, 'all 500 rows present');
  sessions.forEach((s, i) => {
    const row = rows.get(s.session.handle);
    assert.ok(row, `row of ${ids[i]}`);
    assert.equal(row.user_id, ids[i], 'the row belongs to the user who logged in');
    assert.equal(
      row.refresh_token_hash_2,
      hex2(s.refreshToken.value),
      "hash of the hash of that login's refresh token",
    );
    assert.deepEqual(JSON.parse(row.session_info), { i });
    assert.equal(jwtPayload(s.accessToken.value).userId, ids[i], 'the access token names that user');
  });
  t.diagnostic(`500 logins in ${Date.now() - started} ms`);
});

test("500 concurrent logins over HTTP: all 200, each response carries its own user's tokens", async () => {
  const ids = Array.from({ length: 500 }, (_, i) => `http-login-${i}`);
  const jars = ids.map(() => new h.CookieJar());
  const results = await allWithin(
    '500 HTTP logins',
    ids.map((u, i) => send(jars[i], `/login?u=${u}&n=${i}`, 'POST')),
    60_000,
  );
  const bad = results.map((r, i) => [ids[i], r.status]).filter(([, s]) => s !== 200);
  assert.deepEqual(bad, [], 'every login answered 200');
  assert.equal(new Set(results.map((r) => r.json.handle)).size, 500, 'distinct handles');
  results.forEach((r, i) => {
    assert.equal(r.json.userId, ids[i]);
    assert.equal(jwtPayload(jars[i].get('sAccessToken')).userId, ids[i], "cookies of this response are this user's");
    assert.equal(jwtPayload(jars[i].get('sAccessToken')).sessionHandle, r.json.handle);
  });
  const rows = await rowsFor(ids);
  assert.equal(rows.size, 500);
  results.forEach((r, i) => {
    assert.equal(rows.get(r.json.handle).user_id, ids[i]);
    assert.equal(rows.get(r.json.handle).refresh_token_hash_2, hex2(jars[i].get('sRefreshToken')));
  });
  // And all 500 verify concurrently (no database needed, so this is quick).
  const me = await allAnswer200('500 verifications', jars, () => '/me');
  me.forEach((r, i) => assert.equal(r.json.userId, ids[i]));
});

test('200 concurrent refreshes of distinct sessions, then 200 concurrent first uses and second refreshes', async () => {
  const ids = Array.from({ length: 200 }, (_, i) => `refresh-${i}`);
  const sessions = await allWithin(
    'setup',
    ids.map((u) => create(u, { u })),
  );
  const first = await allWithin(
    '200 refreshes',
    sessions.map((s) => settle(refresh(s.refreshToken.value))),
  );
  assert.deepEqual(
    first.filter((r) => !r.ok).map((r) => r.error.message),
    [],
    'every refresh resolved',
  );
  first.forEach((r, i) => {
    assert.equal(r.value.session.handle, sessions[i].session.handle, 'each refresh answers for its own session');
    assert.equal(r.value.session.userId, ids[i]);
    assert.deepEqual(r.value.session.jwtPayload, { u: ids[i] });
  });
  assert.equal(new Set(first.map((r) => r.value.newRefreshToken.value)).size, 200);
  // First use of each child access token promotes its refresh token: 200 concurrent writes.
  const uses = await allWithin(
    '200 first uses',
    first.map((r) => settle(ST.getSession(r.value.newAccessToken.value, r.value.newAntiCsrfToken))),
  );
  assert.deepEqual(
    uses.filter((u) => !u.ok).map((u) => u.error.message),
    [],
  );
  uses.forEach((u, i) => {
    assert.equal(u.value.session.handle, sessions[i].session.handle);
    assert.ok(u.value.newAccessToken, 'a promoted child gets a fresh access token');
  });
  let rows = await rowsFor(ids);
  first.forEach((r, i) => {
    assert.equal(
      rows.get(sessions[i].session.handle).refresh_token_hash_2,
      hex2(r.value.newRefreshToken.value),
      'promoted',
    );
  });
  const second = await allWithin(
    '200 second refreshes',
    first.map((r) => settle(refresh(r.value.newRefreshToken.value))),
  );
  assert.deepEqual(
    second.filter((r) => !r.ok).map((r) => r.error.message),
    [],
  );
  second.forEach((r, i) => assert.equal(r.value.session.handle, sessions[i].session.handle));
  rows = await rowsFor(ids);
  assert.equal(rows.size, 200);
});

test('200 concurrent refreshes over HTTP: all 200, none crossed', async () => {
  const ids = Array.from({ length: 200 }, (_, i) => `http-refresh-${i}`);
  const jars = ids.map(() => new h.CookieJar());
  const logins = await allAnswer200('logins', jars, (i) => `/login?u=${ids[i]}&n=${i}`, 'POST');
  const before = jars.map((j) => j.get('sRefreshToken'));
  const refreshed = await allAnswer200('200 HTTP refreshes', jars, () => '/refresh', 'POST');
  refreshed.forEach((r, i) => {
    assert.equal(r.json.userId, ids[i]);
    assert.equal(r.json.handle, logins[i].json.handle);
    assert.notEqual(jars[i].get('sRefreshToken'), before[i], 'a new refresh token');
  });
  // The new access tokens are child tokens: their first use promotes, concurrently.
  const me = await allAnswer200('200 first uses', jars, () => '/me');
  me.forEach((r, i) => assert.equal(r.json.userId, ids[i]));
  const rows = await rowsFor(ids);
  logins.forEach((l, i) =>
    assert.equal(rows.get(l.json.handle).refresh_token_hash_2, hex2(jars[i].get('sRefreshToken'))),
  );
});

test('the same refresh token twice at once: both succeed with different tokens (SPEC-DEVIATIONS)', async (t) => {
  await t.test('a parent token sent twice at once', async () => {
    const s = await create('twice-parent');
    const [a, b] = await allWithin('twice', [
      settle(refresh(s.refreshToken.value)),
      settle(refresh(s.refreshToken.value)),
    ]);
    assert.ok(a.ok && b.ok, `both succeed: ${!a.ok ? a.error.message : ''} ${!b.ok ? b.error.message : ''}`);
    assert.notEqual(a.value.newRefreshToken.value, b.value.newRefreshToken.value);
    assert.notEqual(a.value.newAccessToken.value, b.value.newAccessToken.value);
    assert.notEqual(a.value.newAntiCsrfToken, b.value.newAntiCsrfToken);
    // Whichever child is used first becomes the parent; the other is then rotated out.
    const useA = await refresh(a.value.newRefreshToken.value);
    assert.equal(useA.session.handle, s.session.handle);
    const [row] = await h.query(`SELECT refresh_token_hash_2 FROM ${PREFIX}_sessions WHERE session_handle = ?`, [
      s.session.handle,
    ]);
    assert.equal(row.refresh_token_hash_2, hex2(a.value.newRefreshToken.value));
    const replay = await settle(ST.refreshSession(b.value.newRefreshToken.value));
    assert.equal(replay.ok, false);
    assert.equal(replay.error.errType, UNAUTHORISED_AND_TOKEN_THEFT_DETECTED);
    assert.deepEqual(replay.error.err, { sessionHandle: s.session.handle, userId: 'twice-parent' });
  });
  await t.test('a parent token sent 20 times at once: 20 successes, 20 different children', async () => {
    const s = await create('twenty-parent');
    const rs = await allWithin(
      '20x',
      Array.from({ length: 20 }, () => settle(refresh(s.refreshToken.value))),
    );
    assert.deepEqual(
      rs.filter((r) => !r.ok).map((r) => r.error.message),
      [],
    );
    assert.equal(new Set(rs.map((r) => r.value.newRefreshToken.value)).size, 20);
  });
  await t.test('a child token sent twice at once (promotion race): both succeed', async () => {
    const s = await create('twice-child');
    const child = await refresh(s.refreshToken.value);
    const [a, b] = await allWithin('twice', [
      settle(refresh(child.newRefreshToken.value)),
      settle(refresh(child.newRefreshToken.value)),
    ]);
    assert.ok(a.ok && b.ok, `both succeed: ${!a.ok ? a.error.message : ''} ${!b.ok ? b.error.message : ''}`);
    assert.notEqual(a.value.newRefreshToken.value, b.value.newRefreshToken.value);
    const [row] = await h.query(`SELECT refresh_token_hash_2 FROM ${PREFIX}_sessions WHERE session_handle = ?`, [
      s.session.handle,
    ]);
    assert.equal(row.refresh_token_hash_2, hex2(child.newRefreshToken.value), 'the child became the parent once');
  });
  await t.test('a child token sent 10 times at once: all succeed', async () => {
    const s = await create('ten-child');
    const child = await refresh(s.refreshToken.value);
    const rs = await allWithin(
      '10x',
      Array.from({ length: 10 }, () => settle(refresh(child.newRefreshToken.value))),
    );
    assert.deepEqual(
      rs.filter((r) => !r.ok).map((r) => r.error.message),
      [],
    );
  });
  await t.test('a child access token used 20 times at once (promotion in getSession): all succeed', async () => {
    const s = await create('twenty-child-access');
    const child = await refresh(s.refreshToken.value);
    const rs = await allWithin(
      '20x',
      Array.from({ length: 20 }, () => settle(ST.getSession(child.newAccessToken.value, child.newAntiCsrfToken))),
    );
    assert.deepEqual(
      rs.filter((r) => !r.ok).map((r) => r.error.message),
      [],
    );
    for (const r of rs) assert.equal(r.value.session.handle, s.session.handle);
  });
  await t.test('a child refresh and the first use of its access token at once: both succeed', async () => {
    const s = await create('child-mixed');
    const child = await refresh(s.refreshToken.value);
    const [a, b] = await allWithin('mixed', [
      settle(refresh(child.newRefreshToken.value)),
      settle(ST.getSession(child.newAccessToken.value, child.newAntiCsrfToken)),
    ]);
    assert.ok(a.ok, a.error && a.error.message);
    assert.ok(b.ok, b.error && b.error.message);
  });
  await t.test('the same cookies POSTed to /refresh twice at once over HTTP: two 200s, different tokens', async () => {
    const jar = new h.CookieJar();
    assert.equal((await send(jar, '/login?u=http-twice&n=0', 'POST')).status, 200);
    const cookie = jar.header('/refresh');
    const go = async () => {
      const response = await fetch(`${server.url}/refresh`, { method: 'POST', headers: { cookie } });
      const body = await response.text();
      const rt = h.getCookie(response, 'sRefreshToken');
      if (rt) rawRefreshTokens.add(rt.value);
      return { status: response.status, body, rt: rt && rt.value, at: h.getCookie(response, 'sAccessToken')?.value };
    };
    const [a, b] = await allWithin('twice over HTTP', [go(), go()]);
    assert.equal(a.status, 200, a.body);
    assert.equal(b.status, 200, b.body);
    assert.ok(a.rt && b.rt);
    assert.notEqual(a.rt, b.rt);
    assert.notEqual(a.at, b.at);
  });
  await t.test('a revoke racing 10 refreshes: refreshes succeed or get UNAUTHORISED, never anything else', async () => {
    const s = await create('revoke-race');
    const ops = [
      ...Array.from({ length: 10 }, () => settle(refresh(s.refreshToken.value))),
      settle(ST.revokeSessionUsingSessionHandle(s.session.handle)),
    ];
    const rs = await allWithin('race', ops);
    const revoked = rs.pop();
    assert.equal(revoked.ok, true);
    assert.equal(revoked.value, true);
    for (const r of rs) if (!r.ok) assert.equal(r.error.errType, UNAUTHORISED, r.error.message);
    const after = await settle(ST.refreshSession(s.refreshToken.value));
    assert.equal(after.error.errType, UNAUTHORISED);
  });
});

test('concurrent hostile and genuine traffic on one session: genuine requests unaffected', async () => {
  const s = await create('mixed-traffic');
  const real = s.accessToken.value;
  // The last two characters replaced (never by themselves: a suffix equal to them is '__').
  const forged = (i) => (`${real.slice(0, -2)}${i}` === real ? `${real.slice(0, -2)}__` : `${real.slice(0, -2)}${i}`);
  const bad = Array.from({ length: 100 }, (_, i) => settle(ST.getSession(forged(i), null)));
  const good = Array.from({ length: 100 }, () => settle(ST.getSession(s.accessToken.value, s.antiCsrfToken)));
  const rs = await allWithin('mixed', [...bad, ...good]);
  rs.slice(0, 100).forEach((r) => assert.equal(r.ok ? 'resolved' : r.error.errType, TRY_REFRESH_TOKEN));
  rs.slice(100).forEach((r) => assert.equal(r.ok, true));
});

test('no key or raw refresh token in any message or log line', async () => {
  const keys = await h.query(`SELECT key_value FROM ${PREFIX}_keys`);
  assert.equal(keys.length, 2);
  const text = said.join('\n');
  assert.ok(said.length > 10, `${said.length} messages captured`);
  assert.ok(rawRefreshTokens.size > 1500, `${rawRefreshTokens.size} refresh tokens to look for`);
  for (const k of keys) assert.ok(!text.includes(k.key_value), 'a key appears in a message');
  for (const t of rawRefreshTokens) assert.ok(!text.includes(t), 'a raw refresh token appears in a message');
});

'use strict';
/**
 * Revocation, session listing, session data and the preflight headers (SPEC §3), through
 * the Express API and its Session object, against the real MySQL.
 */

process.env.SUPERTOKENS_TEST_BUILD = '1';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const express = require('express');
const ST = require('../express.js');
const h = require('./helpers.js');

const PREFIX = 'rd_test';
const SESSIONS = `${PREFIX}_sessions`;
const { GENERAL_ERROR, UNAUTHORISED } = ST.Error;

/** JSON values (and undefined) that must read back deeply equal. */
const DATA_VALUES = [
  { name: 'undefined', value: undefined },
  { name: 'null', value: null },
  { name: 'empty string', value: '' },
  { name: 'string', value: 'plain text with "quotes", \\ and ünïcødé 😀' },
  { name: 'zero', value: 0 },
  { name: 'negative float', value: -12.5 },
  { name: 'false', value: false },
  { name: 'true', value: true },
  { name: 'empty array', value: [] },
  { name: 'array', value: [1, 'two', null, false, { three: [3] }] },
  { name: 'empty object', value: {} },
  { name: 'nested object', value: { a: { b: { c: [{ d: null }, [[]], 'e'] } }, 'key with spaces': 1, '': '' } },
];

/** Values routes pick by index (so undefined and non-JSON can be used in-process). */
const routeValues = new Map();
/** What routes read back, by request id. */
const results = new Map();

function makeApp() {
  return h.makeApp(express, {
    'POST /login': h.loginRoute(() => [undefined, { initial: true }]),
    'POST /logout': async (req, res) => {
      const s = await ST.getSession(req, res, false);
      await s.revokeSession();
      res.json({ handle: s.getHandle() });
    },
    'GET /data': async (req, res) => {
      const s = await ST.getSession(req, res, false);
      results.set(req.query.id, await s.getSessionData());
      res.json({ ok: true });
    },
    // Writes routeValues[id] via the Session, optionally twice, then reads it back.
    'PUT /data': async (req, res) => {
      const s = await ST.getSession(req, res, false);
      const value = routeValues.get(req.query.id);
      const times = Number(req.query.times || 1);
      for (let i = 0; i < times; i++) await s.updateSessionData(value);
      results.set(req.query.id, await s.getSessionData());
      res.json({ ok: true });
    },
    'POST /refresh': async (req, res) => {
      await ST.refreshSession(req, res);
      res.json({ ok: true });
    },
    'OPTIONS /api': (req, res) => {
      if (req.query.pre) res.setHeader('Access-Control-Allow-Headers', req.query.pre);
      ST.setRelevantHeadersForOptionsAPI(res);
      res.status(204).end();
    },
  });
}

const login = h.login;
const shouldFailWith = h.shouldFailWith;

async function rowsOf(userId) {
  return h.query(`SELECT session_handle FROM ${SESSIONS} WHERE BINARY user_id = ? ORDER BY session_handle`, [userId]);
}

async function rowExists(handle) {
  return (await h.query(`SELECT 1 FROM ${SESSIONS} WHERE BINARY session_handle = ?`, [handle])).length === 1;
}

/** Creates `n` sessions for `userId` with the framework-free core; returns their handles. */
async function createSessions(userId, n) {
  const { createNewSession } = require('../index.js');
  const handles = [];
  for (let i = 0; i < n; i++) handles.push((await createNewSession(userId, { i }, { i })).session.handle);
  return handles;
}

const sorted = (a) => [...a].sort();

describe('revocation and session data (Express)', () => {
  let server;
  let url;
  let nextId = 0;
  const id = () => String(++nextId);

  before(async () => {
    server = await h.listen(makeApp());
    url = server.url;
  });
  after(() => server.close());
  h.initOnTables(ST, PREFIX);

  describe('revoking', () => {
    it('Session.revokeSession clears the cookies and removes the row', async () => {
      const { jar, handle } = await login(url);
      assert.equal(await rowExists(handle), true);
      const r = await h.send(url, jar, '/logout', { method: 'POST' });
      assert.equal(r.status, 200, r.text_);
      assert.equal(JSON.parse(r.text_).handle, handle);
      h.shouldClearAuthCookies(r);
      assert.equal(r.headers.get('id-refresh-token'), 'remove');
      assert.equal(await rowExists(handle), false);
      assert.equal(jar.get('sRefreshToken'), undefined);
      assert.equal(jar.get('sIdRefreshToken'), undefined);
    });

    it('Session.revokeSession of a session already gone still clears the cookies', async () => {
      const { jar, handle } = await login(url);
      await ST.revokeSessionUsingSessionHandle(handle);
      const r = await h.send(url, jar, '/logout', { method: 'POST' });
      assert.equal(r.status, 200, r.text_);
      h.shouldClearAuthCookies(r);
    });

    it('after Session.revokeSession, the old refresh token → UNAUTHORISED', async () => {
      const { jar } = await login(url);
      const saved = new h.CookieJar();
      for (const [k, v] of jar.cookies) saved.cookies.set(k, { ...v });
      await h.send(url, jar, '/logout', { method: 'POST' });
      shouldFailWith(await h.send(url, saved, '/refresh', { method: 'POST' }), UNAUTHORISED);
    });

    it('revokeSessionUsingSessionHandle returns true, then false', async () => {
      const [handle, other] = await createSessions('revoke-one', 2);
      assert.equal(await ST.revokeSessionUsingSessionHandle(handle), true);
      assert.equal(await rowExists(handle), false);
      assert.equal(await ST.revokeSessionUsingSessionHandle(handle), false);
      assert.equal(await ST.revokeSessionUsingSessionHandle('no-such-handle'), false);
      assert.equal(await rowExists(other), true, 'the other session of the user stays');
      assert.deepEqual(await ST.getAllSessionHandlesForUser('revoke-one'), [other]);
    });

    it("revokeAllSessionsForUser removes all of one user's sessions and leaves other users' untouched", async () => {
      const mine = await createSessions('revoke-all-a', 3);
      const theirs = await createSessions('revoke-all-b', 2);
      const prefixed = await createSessions('revoke-all-a2', 1);
      assert.equal(await ST.revokeAllSessionsForUser('revoke-all-a'), undefined);
      assert.deepEqual(await rowsOf('revoke-all-a'), []);
      assert.deepEqual(await ST.getAllSessionHandlesForUser('revoke-all-a'), []);
      assert.deepEqual(sorted(await ST.getAllSessionHandlesForUser('revoke-all-b')), sorted(theirs));
      assert.deepEqual(await ST.getAllSessionHandlesForUser('revoke-all-a2'), prefixed);
      for (const handle of mine) assert.equal(await ST.revokeSessionUsingSessionHandle(handle), false);
    });

    it('revokeAllSessionsForUser of a user without sessions resolves', async () => {
      assert.equal(await ST.revokeAllSessionsForUser('nobody-at-all'), undefined);
    });

    it('revokeAllSessionsForUser: the revoked browser session can no longer refresh', async () => {
      const { jar } = await login(url, 'revoke-all-browser');
      await ST.revokeAllSessionsForUser('revoke-all-browser');
      const r = await h.send(url, jar, '/refresh', { method: 'POST' });
      shouldFailWith(r, UNAUTHORISED);
      h.shouldClearAuthCookies(r);
    });

    // User ids are arbitrary strings: ids that differ only in letter case or trailing spaces,
    // or that contain SQL wildcards, belong to different users.
    const LOOK_ALIKE_IDS = [
      { name: 'letter case', target: 'case-user', others: ['Case-User', 'CASE-USER'] },
      { name: 'trailing spaces', target: 'space-user', others: ['space-user ', 'space-user  '] },
      { name: 'SQL wildcards', target: 'wild_%', others: ['wildXY', 'wild_', 'wild'] },
    ];
    for (const { name, target, others } of LOOK_ALIKE_IDS) {
      it(`ids differing only in ${name} are different users: getAllSessionHandlesForUser`, async () => {
        const byUser = new Map();
        for (const userId of [target, ...others]) byUser.set(userId, await createSessions(`list:${userId}`, 1));
        for (const userId of [target, ...others]) {
          assert.deepEqual(
            await ST.getAllSessionHandlesForUser(`list:${userId}`),
            byUser.get(userId),
            `handles of ${JSON.stringify(`list:${userId}`)}`,
          );
        }
      });

      it(`ids differing only in ${name} are different users: revokeAllSessionsForUser`, async () => {
        const byUser = new Map();
        for (const userId of [target, ...others]) byUser.set(userId, await createSessions(`revoke:${userId}`, 1));
        await ST.revokeAllSessionsForUser(`revoke:${target}`);
        for (const userId of [target, ...others]) {
          const expected = userId === target ? [] : byUser.get(userId);
          assert.deepEqual(
            (await rowsOf(`revoke:${userId}`)).map((r) => r.session_handle),
            expected,
            `rows of ${JSON.stringify(`revoke:${userId}`)} after revoking ${JSON.stringify(`revoke:${target}`)}`,
          );
        }
      });
    }
  });

  describe('getAllSessionHandlesForUser', () => {
    it("lists exactly the user's handles", async () => {
      const mine = await createSessions('lister', 4);
      await createSessions('lister-other', 2);
      await createSessions('liste', 1);
      const { handle: viaExpress } = await login(url, 'lister');
      const listed = await ST.getAllSessionHandlesForUser('lister');
      assert.ok(Array.isArray(listed));
      assert.deepEqual(sorted(listed), sorted([...mine, viaExpress]));
      assert.deepEqual(sorted(listed), (await rowsOf('lister')).map((r) => r.session_handle).sort());
    });

    it('an unknown user has no handles', async () => {
      assert.deepEqual(await ST.getAllSessionHandlesForUser('never-logged-in'), []);
    });

    it('revoked sessions drop out of the list', async () => {
      const [a, b] = await createSessions('lister-revoke', 2);
      await ST.revokeSessionUsingSessionHandle(a);
      assert.deepEqual(await ST.getAllSessionHandlesForUser('lister-revoke'), [b]);
    });
  });

  describe('session data by handle', () => {
    it('reads the data given at createNewSession', async () => {
      const { handle } = await login(url);
      assert.deepEqual(await ST.getSessionData(handle), { initial: true });
    });

    for (const { name, value } of DATA_VALUES) {
      it(`round trips ${name} through updateSessionData / getSessionData`, async () => {
        const [handle] = await createSessions('data-user', 1);
        assert.equal(await ST.updateSessionData(handle, value), undefined);
        assert.deepEqual(await ST.getSessionData(handle), value);
      });

      it(`round trips ${name} given to createNewSession`, async () => {
        const { createNewSession } = require('../index.js');
        const r = await createNewSession('data-user', undefined, value);
        assert.deepEqual(await ST.getSessionData(r.session.handle), value);
      });
    }

    it('updateSessionData with identical data twice works', async () => {
      const [handle] = await createSessions('same-data', 1);
      const data = { same: ['value', 1] };
      await ST.updateSessionData(handle, data);
      await ST.updateSessionData(handle, data);
      assert.deepEqual(await ST.getSessionData(handle), data);
      await ST.updateSessionData(handle, undefined);
      await ST.updateSessionData(handle, undefined);
      assert.equal(await ST.getSessionData(handle), undefined);
    });

    it('data up to the TEXT column size is stored; bigger → GENERAL_ERROR, never truncated', async () => {
      const [handle] = await createSessions('big-data', 1);
      const fits = 'x'.repeat(65_535 - 2); // JSON text of exactly 65,535 bytes
      await ST.updateSessionData(handle, fits);
      assert.equal(await ST.getSessionData(handle), fits);
      await h.rejectsWith(ST.updateSessionData(handle, `${fits}x`), GENERAL_ERROR);
      await h.rejectsWith(ST.updateSessionData(handle, { big: 'é'.repeat(40_000) }), GENERAL_ERROR);
      assert.equal(await ST.getSessionData(handle), fits, 'unchanged');
    });

    it('updateSessionData replaces, it does not merge', async () => {
      const [handle] = await createSessions('replace-data', 1);
      await ST.updateSessionData(handle, { a: 1, b: 2 });
      await ST.updateSessionData(handle, { c: 3 });
      assert.deepEqual(await ST.getSessionData(handle), { c: 3 });
    });

    it('data of one session is independent of the other sessions of the user', async () => {
      const [a, b] = await createSessions('two-sessions', 2);
      await ST.updateSessionData(a, 'A');
      assert.equal(await ST.getSessionData(a), 'A');
      assert.deepEqual(await ST.getSessionData(b), { i: 1 });
    });

    it('an unknown handle → UNAUTHORISED for getSessionData and updateSessionData', async () => {
      await h.rejectsWith(ST.getSessionData('no-such-handle'), UNAUTHORISED);
      await h.rejectsWith(ST.updateSessionData('no-such-handle', { x: 1 }), UNAUTHORISED);
      await h.rejectsWith(ST.updateSessionData('no-such-handle', undefined), UNAUTHORISED);
      const [revoked] = await createSessions('data-revoked', 1);
      await ST.revokeSessionUsingSessionHandle(revoked);
      await h.rejectsWith(ST.getSessionData(revoked), UNAUTHORISED);
      await h.rejectsWith(ST.updateSessionData(revoked, 1), UNAUTHORISED);
      assert.equal(await rowExists(revoked), false, 'updateSessionData never creates a row');
    });

    // MySQL's PAD SPACE collations ignore trailing spaces: "<handle> " must still not match.
    it('a handle with trailing spaces is a different handle (revoke, get, update)', async () => {
      const [handle] = await createSessions('pad-space', 1);
      await ST.updateSessionData(handle, { kept: true });
      for (const padded of [`${handle} `, `${handle}   `]) {
        assert.equal(await ST.revokeSessionUsingSessionHandle(padded), false);
        await h.rejectsWith(ST.getSessionData(padded), UNAUTHORISED);
        await h.rejectsWith(ST.updateSessionData(padded, { kept: false }), UNAUTHORISED);
      }
      assert.equal(await rowExists(handle), true);
      assert.deepEqual(await ST.getSessionData(handle), { kept: true });
    });
  });

  describe('session data via Session', () => {
    for (const { name, value } of DATA_VALUES) {
      it(`round trips ${name}`, async () => {
        const { jar, handle } = await login(url);
        const rid = id();
        routeValues.set(rid, value);
        const r = await h.send(url, jar, `/data?id=${rid}`, { method: 'PUT' });
        assert.equal(r.status, 200, r.text_);
        assert.deepEqual(results.get(rid), value);
        assert.deepEqual(await ST.getSessionData(handle), value, 'visible by handle too');
        for (const c of ['sAccessToken', 'sRefreshToken', 'sIdRefreshToken']) h.shouldNotSetCookie(r, c);
      });
    }

    it('Session.getSessionData reads the data given at login', async () => {
      const { jar } = await login(url);
      const rid = id();
      const r = await h.send(url, jar, `/data?id=${rid}`);
      assert.equal(r.status, 200, r.text_);
      assert.deepEqual(results.get(rid), { initial: true });
    });

    it('Session.updateSessionData with identical data twice works', async () => {
      const { jar } = await login(url);
      const rid = id();
      routeValues.set(rid, { twice: [1, 2] });
      const r = await h.send(url, jar, `/data?id=${rid}&times=2`, { method: 'PUT' });
      assert.equal(r.status, 200, r.text_);
      assert.deepEqual(results.get(rid), { twice: [1, 2] });
    });

    const gone = [
      { name: 'Session.getSessionData', method: 'GET' },
      { name: 'Session.updateSessionData', method: 'PUT' },
    ];
    for (const g of gone) {
      it(`${g.name} on a revoked session → UNAUTHORISED and the cookies are cleared`, async () => {
        const { jar, handle } = await login(url);
        await ST.revokeSessionUsingSessionHandle(handle);
        const rid = id();
        routeValues.set(rid, { late: true });
        const r = await h.send(url, jar, `/data?id=${rid}`, { method: g.method });
        shouldFailWith(r, UNAUTHORISED);
        h.shouldClearAuthCookies(r);
        assert.equal(r.headers.get('id-refresh-token'), 'remove');
        assert.equal(results.has(rid), false);
        assert.equal(await rowExists(handle), false);
      });
    }

    it('Session.updateSessionData with non-JSON data → GENERAL_ERROR, cookies kept, data unchanged', async () => {
      const { jar, handle } = await login(url);
      const rid = id();
      routeValues.set(rid, () => 'a function');
      const r = await h.send(url, jar, `/data?id=${rid}`, { method: 'PUT' });
      shouldFailWith(r, GENERAL_ERROR);
      for (const c of ['sAccessToken', 'sRefreshToken', 'sIdRefreshToken']) h.shouldNotSetCookie(r, c);
      assert.deepEqual(await ST.getSessionData(handle), { initial: true });
    });
  });

  describe('argument checks', () => {
    const NON_STRINGS = [
      { name: 'number', value: 123 },
      { name: 'null', value: null },
      { name: 'undefined', value: undefined },
      { name: 'object', value: {} },
      { name: 'array', value: ['h'] },
      { name: 'boolean', value: true },
    ];
    const FUNCTIONS = [
      { name: 'revokeSessionUsingSessionHandle', call: (v) => ST.revokeSessionUsingSessionHandle(v) },
      { name: 'revokeAllSessionsForUser', call: (v) => ST.revokeAllSessionsForUser(v) },
      { name: 'getAllSessionHandlesForUser', call: (v) => ST.getAllSessionHandlesForUser(v) },
      { name: 'getSessionData', call: (v) => ST.getSessionData(v) },
      { name: 'updateSessionData', call: (v) => ST.updateSessionData(v, { a: 1 }) },
    ];
    for (const f of FUNCTIONS) {
      for (const n of NON_STRINGS) {
        it(`${f.name}(${n.name}) → GENERAL_ERROR`, async () => {
          await h.rejectsWith(f.call(n.value), GENERAL_ERROR);
        });
      }
    }

    it('revokeAllSessionsForUser(non-string) revokes nothing', async () => {
      const handles = await createSessions('123', 1);
      await h.rejectsWith(ST.revokeAllSessionsForUser(123), GENERAL_ERROR);
      assert.deepEqual(await ST.getAllSessionHandlesForUser('123'), handles);
    });

    const cyclic = { name: 'cycle' };
    cyclic.self = cyclic;
    const NON_JSON = [
      { name: 'a function', value: () => 1 },
      { name: 'a BigInt', value: 10n },
      { name: 'a cycle', value: cyclic },
      { name: 'a symbol', value: Symbol('s') },
      { name: 'an object holding a BigInt', value: { n: 1n } },
    ];
    for (const n of NON_JSON) {
      it(`updateSessionData(handle, ${n.name}) → GENERAL_ERROR, data unchanged`, async () => {
        const [handle] = await createSessions('non-json', 1);
        await h.rejectsWith(ST.updateSessionData(handle, n.value), GENERAL_ERROR);
        assert.deepEqual(await ST.getSessionData(handle), { i: 0 });
      });
    }
  });

  describe('setRelevantHeadersForOptionsAPI', () => {
    const allowHeaders = (r) =>
      (r.headers.get('access-control-allow-headers') || '')
        .split(',')
        .map((s) => s.trim().toLowerCase())
        .filter(Boolean);

    it('allows the anti-csrf header with credentials', async () => {
      const r = await h.send(url, null, '/api', { method: 'OPTIONS' });
      assert.equal(r.status, 204);
      assert.ok(allowHeaders(r).includes('anti-csrf'), `Allow-Headers: ${allowHeaders(r)}`);
      assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
      for (const c of ['sAccessToken', 'sRefreshToken', 'sIdRefreshToken']) h.shouldNotSetCookie(r, c);
    });

    it('appends to an existing Access-Control-Allow-Headers value', async () => {
      const r = await h.send(url, null, `/api?pre=${encodeURIComponent('Content-Type, X-Custom')}`, {
        method: 'OPTIONS',
      });
      const list = allowHeaders(r);
      assert.ok(list.includes('content-type'), `kept Content-Type: ${list}`);
      assert.ok(list.includes('x-custom'), `kept X-Custom: ${list}`);
      assert.ok(list.includes('anti-csrf'), `added anti-csrf: ${list}`);
      assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
    });
  });
});

'use strict';
/**
 * tokens.refreshToken.reuseGraceSeconds (issue 14.1): two tabs (or parallel requests) that
 * refresh with the same token are not taken for theft. A refresh token rotated out less than
 * the window ago still answers a working session for the same handle; after the window it
 * is theft as before, and reusing it never extends the window. Default 0: the documented
 * behaviour. Framework-free, over HTTP, and across two processes, against the real MySQL.
 */

process.env.SUPERTOKENS_TEST_BUILD = '1';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const express = require('express');
const ST = require('../index.js');
const STx = require('../express.js');
const native = require('../lib/native.js');
const h = require('./helpers.js');

const PREFIX = 'rgrace';
const GRACE_S = 10;
const WITH_GRACE = { tokens: { refreshToken: { renewTokenPath: '/refresh', reuseGraceSeconds: GRACE_S } } };
const { GENERAL_ERROR, UNAUTHORISED, UNAUTHORISED_AND_TOKEN_THEFT_DETECTED: THEFT } = ST.Error;

function elsewhere(ops, overrides = {}) {
  return h.runFixture('ops-worker.js', [PREFIX, JSON.stringify(overrides), JSON.stringify(ops)]);
}

/** Two tabs refresh with the same token; tab A's child is used first (promoted). */
async function twoTabs() {
  const s = await ST.createNewSession('tabs', { p: 1 });
  const a = await ST.refreshSession(s.refreshToken.value);
  const b = await ST.refreshSession(s.refreshToken.value); // the parent is still stored: fine
  const used = await ST.getSession(a.newAccessToken.value, a.newAntiCsrfToken);
  assert.ok(used.newAccessToken, 'tab A promoted its child');
  return { s, a, b };
}

h.resetClock();
after(() => h.endQueries());

describe('reuseGraceSeconds', () => {
  h.initOnTables(ST, PREFIX, WITH_GRACE);

  it("the other tab's tokens keep working: its access token, then its refresh", async () => {
    const { s, b } = await twoTabs();
    const v = await ST.getSession(b.newAccessToken.value, b.newAntiCsrfToken);
    assert.equal(v.session.handle, s.session.handle);
    assert.equal(v.newAccessToken, undefined, 'accepted as it is, not promoted');
    const r = await ST.refreshSession(b.newRefreshToken.value);
    assert.equal(r.session.handle, s.session.handle, 'a working session for the same handle');
    const promoted = await ST.getSession(r.newAccessToken.value, r.newAntiCsrfToken);
    assert.ok(promoted.newAccessToken, "tab B's new child becomes the parent");
    assert.equal(
      (await ST.refreshSession(r.newRefreshToken.value)).session.handle,
      s.session.handle,
      'and keeps refreshing',
    );
  });

  it('the login token reused within the window answers a child of the current parent', async () => {
    const { s } = await twoTabs();
    native.testSetClockOffset((GRACE_S - 2) * 1000);
    const r = await ST.refreshSession(s.refreshToken.value);
    assert.equal(r.session.handle, s.session.handle);
    assert.ok(
      (await ST.getSession(r.newAccessToken.value, r.newAntiCsrfToken)).newAccessToken,
      'its child is promotable',
    );
  });

  it('after the window it is theft, and reusing inside it never extended it', async () => {
    const { s, b } = await twoTabs();
    native.testSetClockOffset(3000);
    await ST.refreshSession(s.refreshToken.value);
    native.testSetClockOffset((GRACE_S - 1) * 1000);
    await ST.refreshSession(s.refreshToken.value);
    native.testSetClockOffset((GRACE_S + 1) * 1000);
    await h.rejectsWith(ST.refreshSession(s.refreshToken.value), THEFT);
    await h.rejectsWith(ST.refreshSession(b.newRefreshToken.value), THEFT);
    await h.rejectsWith(ST.getSession(b.newAccessToken.value, b.newAntiCsrfToken), UNAUTHORISED);
  });

  it('a token of another session, or one never issued, gets no grace', async () => {
    const { s } = await twoTabs();
    const other = await ST.createNewSession('tabs-other');
    await h.rejectsWith(ST.refreshSession(`${s.refreshToken.value}x`), UNAUTHORISED);
    assert.equal((await ST.refreshSession(other.refreshToken.value)).session.handle, other.session.handle);
  });

  it('across two processes: tab A promotes elsewhere, tab B refreshes here', async () => {
    const s = await ST.createNewSession('tabs-procs');
    const a = await ST.refreshSession(s.refreshToken.value);
    const b = await ST.refreshSession(s.refreshToken.value);
    const [used] = await elsewhere([['getSession', a.newAccessToken.value, a.newAntiCsrfToken]], WITH_GRACE);
    assert.ok(used.ok && used.ok.newAccessToken, 'promoted in the other process');
    assert.equal((await ST.refreshSession(b.newRefreshToken.value)).session.handle, s.session.handle);
  });

  it('over HTTP: two tabs refresh with the same cookies at once and both stay logged in', async () => {
    const app = h.makeApp(
      express,
      {
        'POST /login': h.loginOkRoute('web-tabs', null),
        'POST /refresh': h.refreshOkRoute(),
        'GET /me': async (req, res) => res.send((await STx.getSession(req, res, true)).getUserId()),
      },
      { onError: h.sendErrType },
    );
    const server = await h.listen(app);
    try {
      const tabA = new h.CookieJar();
      await h.send(server.url, tabA, '/login', { method: 'POST' });
      const tabB = new h.CookieJar();
      for (const [k, v] of tabA.cookies) tabB.cookies.set(k, { ...v });
      const [ra, rb] = await Promise.all(
        [tabA, tabB].map((jar) => h.send(server.url, jar, '/refresh', { method: 'POST' })),
      );
      const ma = await h.send(server.url, tabA, '/me', { headers: { 'anti-csrf': ra.headers.get('anti-csrf') } });
      const mb = await h.send(server.url, tabB, '/me', { headers: { 'anti-csrf': rb.headers.get('anti-csrf') } });
      const again = await h.send(server.url, tabB, '/refresh', { method: 'POST' });
      assert.deepEqual(
        [ra.status, rb.status, ma.text_, mb.text_, again.status],
        [200, 200, 'web-tabs', 'web-tabs', 200],
      );
    } finally {
      await server.close();
    }
  });
});

describe('reuseGraceSeconds: 0 (the default) keeps the documented behaviour', () => {
  before(async () => {
    await ST.init(h.configFor(PREFIX));
  });
  after(() => ST.close());

  it("the other tab's refresh is theft", async () => {
    const { b } = await twoTabs();
    await h.rejectsWith(ST.getSession(b.newAccessToken.value, b.newAntiCsrfToken), UNAUTHORISED);
    await h.rejectsWith(ST.refreshSession(b.newRefreshToken.value), THEFT);
  });

  it('rejects bad values naming the option', async () => {
    await ST.close();
    try {
      for (const v of [-1, 301, 1.5, 'ten', true]) {
        await h.rejectsWith(
          ST.init(h.configFor(PREFIX, { tokens: { refreshToken: { renewTokenPath: '/r', reuseGraceSeconds: v } } })),
          GENERAL_ERROR,
          /tokens\.refreshToken\.reuseGraceSeconds/,
        );
      }
    } finally {
      await ST.init(h.configFor(PREFIX));
    }
  });
});

'use strict';
/**
 * tokens.accessToken.revocationPollMs (issue 14.6): getSession makes no database call, and a
 * session revoked by any process sharing the database (revokeSession, revokeAll, the cap,
 * revokeOtherSessions) is rejected here within the poll interval; revocations made in this
 * process count at once, and a process that starts later knows the recent ones. Real MySQL,
 * other processes as fixtures.
 */

process.env.SUPERTOKENS_TEST_BUILD = '1';

const { describe, it, before } = require('node:test');
const assert = require('node:assert/strict');
const express = require('express');
const ST = require('../index.js');
const STx = require('../express.js');
const native = require('../lib/native.js');
const h = require('./helpers.js');

const PREFIX = 'rpoll';
const POLL_MS = 200;
/** What a noisy shared machine may add to the interval (scheduling, the poll's own query). */
const SLACK_MS = 400;
const POLLING = { tokens: { accessToken: { revocationPollMs: POLL_MS } } };
const { GENERAL_ERROR, UNAUTHORISED } = ST.Error;

/** Runs framework-free calls in another process (fixtures/ops-worker.js). */
function elsewhere(ops, overrides = {}) {
  return h.runFixture('ops-worker.js', [PREFIX, JSON.stringify(overrides), JSON.stringify(ops)]);
}

const verifies = (s) =>
  ST.getSession(s.accessToken.value, s.antiCsrfToken).then(
    () => true,
    (e) => {
      if (e.errType !== UNAUTHORISED) throw e;
      return false;
    },
  );

/** Milliseconds until `s` stops verifying (checked every 5 ms, up to 5 s). */
async function msUntilRejected(s, since) {
  while (Date.now() - since < 5000) {
    if (!(await verifies(s))) return Date.now() - since;
    await new Promise((r) => setTimeout(r, 5));
  }
  return Infinity;
}

before(() => h.query(`DROP TABLE IF EXISTS ${PREFIX}_sessions_revoked`));
h.initOnTables(ST, PREFIX, POLLING);

describe('revocationPollMs', () => {
  it('getSession makes no database call', async () => {
    const s = await ST.createNewSession('no-db', { a: 1 });
    const started = Date.now();
    const before = native.testQueryCount();
    for (let i = 0; i < 2000; i++) await ST.getSession(s.accessToken.value, s.antiCsrfToken);
    const polls = Math.ceil((Date.now() - started) / POLL_MS) + 1;
    assert.ok(native.testQueryCount() - before <= polls, `at most the ${polls} polls, not 2000 queries`);
  });

  it('a revocation in another process is rejected here within the interval', async (t) => {
    const [a, b, c] = await Promise.all(['victim-1', 'victim-2', 'victim-2'].map((u) => ST.createNewSession(u)));
    assert.ok((await verifies(a)) && (await verifies(b)) && (await verifies(c)));
    const latencies = [];
    let since = Date.now();
    const [revoked] = await elsewhere([['revokeSessionUsingSessionHandle', a.session.handle]]);
    assert.deepEqual(revoked, { ok: true });
    latencies.push(await msUntilRejected(a, since));
    since = Date.now();
    await elsewhere([['revokeAllSessionsForUser', 'victim-2']]);
    latencies.push(await msUntilRejected(b, since), await msUntilRejected(c, since));
    t.diagnostic(`rejected after ${latencies.join(', ')} ms (interval ${POLL_MS} ms)`);
    for (const ms of latencies) assert.ok(ms <= POLL_MS + SLACK_MS, `rejected after ${ms} ms (interval ${POLL_MS})`);
  });

  it('a session removed by the cap in another process is rejected here too', async () => {
    const first = await ST.createNewSession('capped-elsewhere');
    const since = Date.now();
    await elsewhere([['createNewSession', 'capped-elsewhere']], { tokens: { maxSessionsPerUser: 1 } });
    assert.ok((await msUntilRejected(first, since)) <= POLL_MS + SLACK_MS);
  });

  it('revocations in this process count at once, revokeOtherSessions included', async () => {
    const s = await ST.createNewSession('here');
    await ST.revokeSessionUsingSessionHandle(s.session.handle);
    assert.equal(await verifies(s), false, 'no wait for the poll');
    const app = h.makeApp(
      express,
      {
        'POST /login': h.loginOkRoute('web', null),
        'GET /me': async (req, res) => res.send((await STx.getSession(req, res, false)).getHandle()),
        'POST /others': async (req, res) =>
          res.json(await (await STx.getSession(req, res, false)).revokeOtherSessions()),
      },
      { onError: h.sendErrType },
    );
    const server = await h.listen(app);
    try {
      const [one, two] = [new h.CookieJar(), new h.CookieJar()];
      await h.send(server.url, one, '/login', { method: 'POST' });
      await h.send(server.url, two, '/login', { method: 'POST' });
      assert.equal((await h.send(server.url, one, '/me')).status, 200);
      assert.equal((await h.send(server.url, two, '/others', { method: 'POST' })).text_, '1');
      const gone = await h.send(server.url, one, '/me');
      assert.equal(gone.text_, String(UNAUTHORISED));
      h.shouldClearAuthCookies(gone);
      assert.equal((await h.send(server.url, two, '/me')).status, 200, 'the kept session still works');
    } finally {
      await server.close();
    }
  });

  it('a process started after the revocation rejects the token from its first call', async () => {
    const s = await ST.createNewSession('started-later');
    await ST.revokeSessionUsingSessionHandle(s.session.handle);
    const [other, same] = await elsewhere(
      [
        ['getSession', s.accessToken.value, s.antiCsrfToken],
        ['getSession', s.accessToken.value, s.antiCsrfToken],
      ],
      POLLING,
    );
    assert.deepEqual([other, same], [{ errType: UNAUTHORISED }, { errType: UNAUTHORISED }]);
  });

  it('sessions that were not revoked keep working (no false rejections)', async () => {
    const alive = await Promise.all(Array.from({ length: 50 }, (_, i) => ST.createNewSession(`alive-${i}`)));
    await elsewhere(alive.slice(0, 25).map((s) => ['revokeSessionUsingSessionHandle', s.session.handle]));
    await new Promise((r) => setTimeout(r, POLL_MS + SLACK_MS));
    const outcomes = await Promise.all(alive.map(verifies));
    assert.deepEqual(
      outcomes,
      alive.map((_, i) => i >= 25),
    );
  });
});

describe('revocationPollMs config', () => {
  it('rejects bad values and the combination with blacklisting, naming the option', async () => {
    await ST.close();
    try {
      for (const v of [49, 60_001, 1.5, 'often', true]) {
        await h.rejectsWith(
          ST.init(h.configFor(PREFIX, { tokens: { accessToken: { revocationPollMs: v } } })),
          GENERAL_ERROR,
          /tokens\.accessToken\.revocationPollMs/,
        );
      }
      await h.rejectsWith(
        ST.init(h.configFor(PREFIX, { tokens: { accessToken: { revocationPollMs: 100, blacklisting: true } } })),
        GENERAL_ERROR,
        /revocationPollMs.*blacklisting/,
      );
    } finally {
      await ST.init(h.configFor(PREFIX, POLLING));
    }
  });
});

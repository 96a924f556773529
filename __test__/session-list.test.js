'use strict';
/**
 * Sessions a user can see and end, an absolute lifetime and a cap per user (issue 14.2-14.4),
 * through both entry points against the real MySQL, across two processes where it matters:
 * - every session records createdAt, lastRefreshedAt, ip and userAgent (Express: from the
 *   request); getAllSessionsForUser lists them newest first; Session.revokeOtherSessions;
 * - existing tables (the original's schema) gain the columns by an idempotent migration that
 *   concurrent inits survive, and the original library keeps working on them;
 * - tokens.refreshToken.absoluteValidity: no refresh past createdAt + that;
 * - tokens.maxSessionsPerUser: a login beyond it removes the least recently refreshed
 *   sessions atomically, so concurrent logins (also from two processes) never leave more.
 */

process.env.SUPERTOKENS_TEST_BUILD = '1';

const { describe, it, after } = require('node:test');
const assert = require('node:assert/strict');
const express = require('express');
const ST = require('../index.js');
const STx = require('../express.js');
const native = require('../lib/native.js');
const h = require('./helpers.js');

const { GENERAL_ERROR, UNAUTHORISED } = ST.Error;
const HOUR_MS = 3600 * 1000;

const runFixture = h.runFixture;

const otherProcessLogins = (prefix, overrides, userId, n, ip, ua) =>
  runFixture('login-worker.js', [prefix, JSON.stringify(overrides), userId, String(n), ip, ua]);

async function columns(table) {
  const rows = await h.query(
    'SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
    [table],
  );
  return rows.map((r) => r.c).sort();
}

h.resetClock();
after(() => h.endQueries());

describe('getAllSessionsForUser and revokeOtherSessions', () => {
  const PREFIX = 'slist';
  h.initOnTables(ST, PREFIX);

  it('records when and from where, lists newest first, refresh updates it', async () => {
    const t0 = Date.now();
    const a = await ST.createNewSession('lister', null, null, { ip: '203.0.113.5', userAgent: 'Browser/1' });
    native.testSetClockOffset(1000);
    const b = await ST.createNewSession('lister', null, null, { ip: '2001:db8::1', userAgent: 'Phone/2' });
    native.testSetClockOffset(2000);
    const c = await ST.createNewSession('lister'); // no client info
    const list = await ST.getAllSessionsForUser('lister');
    assert.deepEqual(
      list.map((s) => s.sessionHandle),
      [c, b, a].map((s) => s.session.handle),
      'newest first',
    );
    const [sc, sb, sa] = list;
    assert.ok(sa.createdAt >= t0 && sa.createdAt < t0 + 5000, `createdAt ${sa.createdAt}`);
    assert.equal(sb.createdAt - sa.createdAt >= 1000, true);
    assert.equal(sa.lastRefreshedAt, sa.createdAt, 'a login counts as the last refresh');
    assert.equal(sa.expiresAt, a.refreshToken.expires);
    assert.deepEqual([sa.ip, sa.userAgent], ['203.0.113.5', 'Browser/1']);
    assert.deepEqual([sb.ip, sb.userAgent], ['2001:db8::1', 'Phone/2']);
    assert.deepEqual([sc.ip, sc.userAgent], [null, null]);

    native.testSetClockOffset(60_000);
    await ST.refreshSession(a.refreshToken.value, { ip: '198.51.100.7', userAgent: 'Browser/2' });
    const refreshed = (await ST.getAllSessionsForUser('lister')).find((s) => s.sessionHandle === a.session.handle);
    assert.ok(refreshed.lastRefreshedAt - refreshed.createdAt >= 60_000, 'lastRefreshedAt moved');
    assert.equal(refreshed.createdAt, sa.createdAt, 'createdAt did not');
    assert.deepEqual([refreshed.ip, refreshed.userAgent], ['198.51.100.7', 'Browser/2']);
    assert.deepEqual(await ST.getAllSessionsForUser('nobody'), []);
  });

  it('stores long values cut to the column sizes; expired sessions are not listed', async () => {
    await ST.createNewSession('long', null, null, { ip: '1'.repeat(100), userAgent: 'ü'.repeat(1000) });
    const [s] = await ST.getAllSessionsForUser('long');
    assert.equal(s.ip.length, 64);
    assert.equal(s.userAgent, 'ü'.repeat(512));
    native.testSetClockOffset(2401 * HOUR_MS);
    assert.deepEqual(await ST.getAllSessionsForUser('long'), []);
  });

  it('bad client info or user id is a GENERAL_ERROR naming it, and nothing is written', async () => {
    for (const [client, message] of [
      [null, /client must be an object/],
      ['203.0.113.5', /client must be an object/],
      [{ ip: 5 }, /client\.ip must be a string/],
      [{ userAgent: {} }, /client\.userAgent must be a string/],
    ]) {
      await h.rejectsWith(ST.createNewSession('bad-client', null, null, client), GENERAL_ERROR, message);
    }
    assert.deepEqual(await ST.getAllSessionsForUser('bad-client'), []);
    const s = await ST.createNewSession('bad-client-refresh');
    await h.rejectsWith(ST.refreshSession(s.refreshToken.value, { ip: [] }), GENERAL_ERROR, /client\.ip/);
    for (const userId of [undefined, null, 7]) {
      await h.rejectsWith(ST.getAllSessionsForUser(userId), GENERAL_ERROR, /userId must be a string/);
    }
  });

  it('a session created by another process is listed with its client info', async () => {
    const handles = await otherProcessLogins(PREFIX, {}, 'two-procs', 2, '192.0.2.44', 'Other/1');
    const list = await ST.getAllSessionsForUser('two-procs');
    assert.deepEqual(list.map((s) => s.sessionHandle).sort(), [...handles].sort());
    assert.ok(list.every((s) => s.ip === '192.0.2.44' && s.userAgent === 'Other/1'));
  });

  it('Express: the request gives ip and user agent; Session.revokeOtherSessions logs out everywhere else', async () => {
    const app = h.makeApp(
      express,
      {
        'POST /login': h.loginOkRoute('web-user', null, null),
        'POST /refresh': h.refreshOkRoute(),
        'POST /logout-others': async (req, res) => {
          const s = await STx.getSession(req, res, false);
          res.json({ removed: await s.revokeOtherSessions(), mine: s.getHandle() });
        },
      },
      { onError: h.sendErrType },
    );
    const server = await h.listen(app);
    try {
      const jars = [new h.CookieJar(), new h.CookieJar(), new h.CookieJar()];
      for (const [i, jar] of jars.entries()) {
        await h.send(server.url, jar, '/login', { method: 'POST', headers: { 'user-agent': `Device/${i}` } });
      }
      let list = await STx.getAllSessionsForUser('web-user');
      assert.equal(list.length, 3);
      assert.deepEqual(list.map((s) => s.userAgent).sort(), ['Device/0', 'Device/1', 'Device/2']);
      assert.ok(
        list.every((s) => /127\.0\.0\.1$/.test(s.ip)),
        list.map((s) => s.ip).join(),
      );
      const r = await h.send(server.url, jars[0], '/refresh', {
        method: 'POST',
        headers: { 'user-agent': 'Device/0b' },
      });
      assert.equal(r.status, 200);
      list = await STx.getAllSessionsForUser('web-user');
      assert.ok(
        list.some((s) => s.userAgent === 'Device/0b'),
        'the refresh recorded its request',
      );
      const out = await h.send(server.url, jars[1], '/logout-others', { method: 'POST' });
      const { removed, mine } = JSON.parse(out.text_);
      assert.equal(removed, 2);
      assert.deepEqual(
        (await STx.getAllSessionsForUser('web-user')).map((s) => s.sessionHandle),
        [mine],
      );
      const gone = await h.send(server.url, jars[0], '/refresh', { method: 'POST' });
      assert.notEqual(gone.status, 200, 'the other devices are logged out');
    } finally {
      await server.close();
    }
  });
});

describe('migration of existing tables', () => {
  const PREFIX = 'smigr';
  const ADDED = [
    'created_at',
    'ip',
    'last_refreshed_at',
    'user_agent',
    'previous_refresh_token_hash_2',
    'rotated_at',
    'refresh_token_hash_1',
  ];
  const ORIGINAL_COLUMNS = [
    'expires_at',
    'jwt_user_payload',
    'refresh_token_hash_2',
    'session_handle',
    'session_info',
    'user_id',
  ];

  it('adds the nullable columns, survives concurrent inits, old rows still work, and so does the original library', async () => {
    await h.dropTables(PREFIX);
    await h.query(`CREATE TABLE ${PREFIX}_sessions (session_handle VARCHAR(255) NOT NULL, user_id VARCHAR(128) NOT NULL,
      refresh_token_hash_2 VARCHAR(128) NOT NULL, session_info TEXT, expires_at BIGINT UNSIGNED NOT NULL, jwt_user_payload TEXT,
      PRIMARY KEY(session_handle)) DEFAULT CHARSET=utf8mb4`);
    assert.deepEqual(await columns(`${PREFIX}_sessions`), ORIGINAL_COLUMNS);
    // A session the original created before the switch (its own INSERT, from its process).
    const original = await runFixture('original-app.js', ['sessions', PREFIX, '1']);
    const old = original.parent[0];
    // Two processes migrate at once (one here, one elsewhere), and again later: all fine.
    await Promise.all([ST.init(h.configFor(PREFIX)), otherProcessLogins(PREFIX, {}, 'migrator', 1, '192.0.2.1', 'X')]);
    await ST.close();
    await ST.init(h.configFor(PREFIX));
    try {
      assert.deepEqual(await columns(`${PREFIX}_sessions`), [...ORIGINAL_COLUMNS, ...ADDED].sort());
      const [listed] = await ST.getAllSessionsForUser(old.userId);
      assert.deepEqual(
        { ...listed, expiresAt: undefined },
        {
          sessionHandle: old.handle,
          createdAt: null,
          lastRefreshedAt: null,
          expiresAt: undefined,
          ip: null,
          userAgent: null,
        },
      );
      const r = await ST.refreshSession(old.refresh, { ip: '192.0.2.9' });
      assert.equal(r.session.handle, old.handle);
      const [after] = await ST.getAllSessionsForUser(old.userId);
      assert.ok(after.createdAt !== null && after.lastRefreshedAt !== null, 'the first refresh dates it');
      // The original library still creates and refreshes sessions on the migrated table.
      const more = await runFixture('original-app.js', ['sessions', PREFIX, '1']);
      assert.equal(more.child.length, 1);
    } finally {
      await ST.close();
    }
  });
});

describe('tokens.refreshToken.absoluteValidity', () => {
  const PREFIX = 'sabs';
  h.initOnTables(ST, PREFIX, { tokens: { refreshToken: { renewTokenPath: '/refresh', absoluteValidity: 2 } } });

  it('refreshes until createdAt + absoluteValidity, never after, however active', async () => {
    const s = await ST.createNewSession('abs', null);
    assert.ok(
      s.refreshToken.expires <= Date.now() + 2 * HOUR_MS + 1000,
      'the first refresh token stops at the lifetime',
    );
    let token = s.refreshToken.value;
    for (const minutes of [30, 60, 90, 119]) {
      native.testSetClockOffset(minutes * 60_000);
      const r = await ST.refreshSession(token);
      assert.ok(r.newRefreshToken.expires <= s.refreshToken.expires, 'never past the absolute lifetime');
      await ST.getSession(r.newAccessToken.value, r.newAntiCsrfToken); // in use all along
      token = r.newRefreshToken.value;
    }
    native.testSetClockOffset(121 * 60_000);
    await h.rejectsWith(ST.refreshSession(token), UNAUTHORISED, /absolute lifetime/);
    assert.deepEqual(await ST.getAllSessionsForUser('abs'), [], 'the session is removed');
  });

  it('rejects bad values naming the option', async () => {
    await ST.close();
    for (const v of [0, -1, 'two', 87_601, true]) {
      await h.rejectsWith(
        ST.init(h.configFor('sabs_bad', { tokens: { refreshToken: { renewTokenPath: '/r', absoluteValidity: v } } })),
        GENERAL_ERROR,
        /tokens\.refreshToken\.absoluteValidity/,
      );
    }
    await ST.init(h.configFor(PREFIX));
  });
});

describe('refresh bookkeeping is written in batches', () => {
  const PREFIX = 'sbatch';
  h.initOnTables(ST, PREFIX);
  const stored = (handle) =>
    h.query(`SELECT last_refreshed_at, ip, user_agent FROM ${PREFIX}_sessions WHERE session_handle = ?`, [handle]);

  it('a refresh is one read: 40 refreshes send 40 statements, not 80', async () => {
    const sessions = await Promise.all(Array.from({ length: 40 }, (_, i) => ST.createNewSession(`batch${i}`)));
    const before = native.testQueryCount();
    await Promise.all(
      sessions.map((s) => ST.refreshSession(s.refreshToken.value, { ip: '192.0.2.9', userAgent: 'Batch/1' })),
    );
    const refreshed = native.testQueryCount() - before;
    assert.equal(refreshed, 40, "one read per refresh (the batched bookkeeping is not a call's statement)");
    const listed = await ST.getAllSessionsForUser('batch0'); // writes this process's pending refreshes
    assert.deepEqual([listed[0].ip, listed[0].userAgent], ['192.0.2.9', 'Batch/1']);
    const [{ n }] = await h.query(`SELECT COUNT(*) AS n FROM ${PREFIX}_sessions WHERE ip = '192.0.2.9'`);
    assert.equal(n, 40, 'every refresh of the batch is recorded');
  });

  it('another process sees a refresh within moments, and nothing is lost at close()', async () => {
    const s = await ST.createNewSession('batch-seen');
    native.testSetClockOffset(5_000);
    await ST.refreshSession(s.refreshToken.value, { ip: '192.0.2.10', userAgent: 'Seen/1' });
    // Read with the assertion pool (as another process would), within a bound, not a sleep.
    const deadline = Date.now() + 5_000;
    let row;
    for (;;) {
      [row] = await stored(s.session.handle);
      if (row.ip === '192.0.2.10' || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual([row.ip, row.user_agent], ['192.0.2.10', 'Seen/1'], 'written by the flush job');
    assert.ok(Number(row.last_refreshed_at) >= Date.now() + 4_000, 'the refresh time (clock moved 5 s)');

    const last = await ST.createNewSession('batch-close');
    await ST.refreshSession(last.refreshToken.value, { ip: '192.0.2.11', userAgent: 'Close/1' });
    await ST.close(); // right away: the pending refresh is written before the pool closes
    const [closed] = await stored(last.session.handle);
    assert.deepEqual([closed.ip, closed.user_agent], ['192.0.2.11', 'Close/1']);
    await ST.init(h.configFor(PREFIX));
  });

  it('a failed refresh records nothing', async () => {
    const s = await ST.createNewSession('batch-theft');
    const r = await ST.refreshSession(s.refreshToken.value, { ip: '192.0.2.12', userAgent: 'First/1' });
    await ST.getSession(r.newAccessToken.value, r.newAntiCsrfToken ?? null); // the child becomes the parent
    await ST.close();
    const [before] = await stored(s.session.handle);
    await ST.init(h.configFor(PREFIX));
    await h.rejectsWith(
      ST.refreshSession(s.refreshToken.value, { ip: '192.0.2.13', userAgent: 'Thief/1' }),
      ST.Error.UNAUTHORISED_AND_TOKEN_THEFT_DETECTED,
    );
    await ST.close();
    assert.deepEqual(await stored(s.session.handle), [before], 'the replay left the row as it was');
    await ST.init(h.configFor(PREFIX));
  });
});

describe('tokens.maxSessionsPerUser', () => {
  const PREFIX = 'scap';
  const CAP = 3;
  h.initOnTables(ST, PREFIX, { tokens: { maxSessionsPerUser: CAP } });

  it('a login beyond the cap removes the least recently refreshed session', async () => {
    const made = [];
    for (let i = 0; i < CAP; i++) {
      native.testSetClockOffset(i * 1000);
      made.push(await ST.createNewSession('capped'));
    }
    native.testSetClockOffset(10_000);
    await ST.refreshSession(made[0].refreshToken.value); // the oldest is now the most recent
    native.testSetClockOffset(11_000);
    const fourth = await ST.createNewSession('capped');
    const left = (await ST.getAllSessionsForUser('capped')).map((s) => s.sessionHandle).sort();
    assert.deepEqual(left, [made[0], made[2], fourth].map((s) => s.session.handle).sort(), 'made[1] went');
    await h.rejectsWith(ST.getSessionData(made[1].session.handle), UNAUTHORISED);
    assert.deepEqual(await ST.getAllSessionsForUser('other-user'), [], 'other users are untouched');
  });

  it('concurrent logins, from two processes too, never leave more than the cap', async () => {
    const here = Array.from({ length: 15 }, () => ST.createNewSession('rush'));
    const there = otherProcessLogins(
      PREFIX,
      { tokens: { maxSessionsPerUser: CAP } },
      'rush',
      15,
      '192.0.2.2',
      'Rush/1',
    );
    await Promise.all([...here, there]);
    const [{ n }] = await h.query(`SELECT COUNT(*) AS n FROM ${PREFIX}_sessions WHERE user_id = 'rush'`);
    assert.equal(n, CAP);
  });

  it('rejects bad values naming the option', async () => {
    await ST.close();
    for (const v of [0, 1.5, 'two', 10_001, -3]) {
      await h.rejectsWith(
        ST.init(h.configFor('scap_bad', { tokens: { maxSessionsPerUser: v } })),
        GENERAL_ERROR,
        /tokens\.maxSessionsPerUser/,
      );
    }
    await ST.init(h.configFor(PREFIX));
  });
});

'use strict';
/**
 * Issue 4 — signing-key rotation agreed through the database: previous-key grace, grace
 * expiry, concurrent rotation by four processes, `dynamic: false`, and the one-reload rule
 * for key ids this process has not loaded yet. The clock hook replaces hours of waiting.
 */

process.env.SUPERTOKENS_TEST_BUILD = '1';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const ST = require('../index.js');
const native = require('../lib/native.js');
const h = require('./helpers.js');
const { craftToken, kidFor, kidOf, signedWith } = require('./fixtures/keys-jwt.js');
const { startWorker } = require('./fixtures/keys-pool.js');

const PREFIX = 'keys';
const KEYS = `${PREFIX}_keys`;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The key table as {name: {value, createdAt}}. */
async function keyRows() {
  const rows = await h.query(`SELECT key_name, key_value, created_at_time FROM ${KEYS}`);
  return Object.fromEntries(
    rows.map((r) => [r.key_name, { value: r.key_value, createdAt: Number(r.created_at_time) }]),
  );
}

/** Sets the addon clock so that it reads `ms` (approximately) now. */
function setClockTo(ms) {
  native.testSetClockOffset(Math.round(ms - Date.now()));
}

function config(access = {}, extra = {}) {
  return h.configFor(PREFIX, { tokens: { accessToken: access }, ...extra });
}

const tryRefresh = (p) => h.rejectsWith(p, ST.Error.TRY_REFRESH_TOKEN);

h.freshForEachTest(ST, () => h.dropTables(PREFIX));

test('init creates one signing key; tokens name it by an id derived from the key and are signed with it', async () => {
  await ST.init(config());
  const rows = await keyRows();
  assert.ok(rows.access_token_signing_key, 'current signing key row');
  assert.ok(rows.refresh_token_key, 'refresh-token key row');
  assert.equal(rows.access_token_signing_key_previous, undefined, 'no previous key before any rotation');
  assert.notEqual(rows.access_token_signing_key.value, rows.refresh_token_key.value);
  const s = await ST.createNewSession('u1');
  assert.equal(kidOf(s.accessToken.value), kidFor(rows.access_token_signing_key.value));
  assert.ok(signedWith(s.accessToken.value, rows.access_token_signing_key.value));
});

test('rotation after updateInterval: pre-rotation tokens keep verifying (no DB, no refresh storm), new tokens use the new key', async () => {
  await ST.init(config({ validity: 3 * 3600, signingKey: { dynamic: true, updateInterval: 2 } }));
  const before = await keyRows();
  const k0 = kidFor(before.access_token_signing_key.value);
  const t0 = before.access_token_signing_key.createdAt;
  const s1 = await ST.createNewSession('before-rotation', { n: 1 });
  assert.equal(kidOf(s1.accessToken.value), k0);

  setClockTo(t0 + 2 * HOUR - 60_000);
  const s1b = await ST.createNewSession('just-before');
  assert.equal(kidOf(s1b.accessToken.value), k0, 'no rotation before updateInterval has passed');

  setClockTo(t0 + 2 * HOUR + 5000);
  const s2 = await ST.createNewSession('after-rotation');
  const k1 = kidOf(s2.accessToken.value);
  assert.notEqual(k1, k0, 'the key rotated once updateInterval passed');
  const after = await keyRows();
  assert.equal(kidFor(after.access_token_signing_key.value), k1);
  assert.ok(signedWith(s2.accessToken.value, after.access_token_signing_key.value));
  assert.notEqual(after.access_token_signing_key.value, before.access_token_signing_key.value);
  assert.deepEqual(
    after.access_token_signing_key_previous,
    before.access_token_signing_key,
    'old key kept as previous',
  );
  assert.deepEqual(after.refresh_token_key, before.refresh_token_key, 'refresh-token key never rotates');

  // Tokens signed before the rotation still verify, on the fast path.
  const q0 = native.testQueryCount();
  const got = await ST.getSession(s1.accessToken.value, null);
  assert.equal(got.session.userId, 'before-rotation');
  assert.deepEqual(got.session.jwtPayload, { n: 1 });
  assert.equal((await ST.getSession(s1b.accessToken.value, null)).session.userId, 'just-before');
  assert.equal(native.testQueryCount() - q0, 0, 'verifying a previous-key token needs no database call');

  // A refresh after the rotation is signed with the new key.
  const r = await ST.refreshSession(s1.refreshToken.value);
  assert.equal(kidOf(r.newAccessToken.value), k1);
  assert.equal((await ST.getSession(s2.accessToken.value, null)).session.userId, 'after-rotation');
});

test('the previous key verifies until one access-token validity after the rotation, then TRY_REFRESH_TOKEN', async () => {
  await ST.init(config({ validity: 1800, signingKey: { updateInterval: 1 } }));
  const r0 = (await keyRows()).access_token_signing_key;
  setClockTo(r0.createdAt + HOUR + 5000);
  await ST.createNewSession('rotate');
  const rows = await keyRows();
  const c1 = rows.access_token_signing_key.createdAt;
  assert.ok(c1 > r0.createdAt, 'rotated');
  assert.equal(rows.access_token_signing_key_previous.createdAt, r0.createdAt);

  // Tokens that outlive the grace period (e.g. signed by a process whose clock lagged).
  const far = c1 + 10 * HOUR;
  const prevToken = craftToken(r0.value, `k${r0.createdAt}`, far);
  const curToken = craftToken(rows.access_token_signing_key.value, `k${c1}`, far);

  setClockTo(c1 + 1800_000 - 60_000);
  assert.equal((await ST.getSession(prevToken, null)).session.userId, 'crafted-user', 'previous key within the grace');
  assert.equal((await ST.getSession(curToken, null)).session.userId, 'crafted-user');

  setClockTo(c1 + 1800_000 + 60_000);
  await tryRefresh(ST.getSession(prevToken, null));
  assert.equal((await ST.getSession(curToken, null)).session.userId, 'crafted-user', 'current key unaffected');
  // The grace is over; the token is rejected on every later call too.
  await tryRefresh(ST.getSession(prevToken, null));
});

test('after a second rotation the key from two generations ago gets TRY_REFRESH_TOKEN', async () => {
  await ST.init(config({ validity: 1800, signingKey: { updateInterval: 1 } }));
  const r0 = (await keyRows()).access_token_signing_key;
  setClockTo(r0.createdAt + HOUR + 5000);
  await ST.createNewSession('rotate-1');
  const r1 = (await keyRows()).access_token_signing_key;
  setClockTo(r1.createdAt + HOUR + 5000);
  const s = await ST.createNewSession('rotate-2');
  const rows = await keyRows();
  const r2 = rows.access_token_signing_key;
  assert.equal(kidOf(s.accessToken.value), kidFor(r2.value));
  assert.ok(r2.createdAt > r1.createdAt);
  assert.deepEqual(rows.access_token_signing_key_previous, r1);
  assert.equal(Object.keys(rows).length, 3, 'current, previous and the refresh key only');

  const far = r2.createdAt + 10 * HOUR;
  await tryRefresh(ST.getSession(craftToken(r0.value, `k${r0.createdAt}`, far), null));
  assert.equal(
    (await ST.getSession(craftToken(r1.value, `k${r1.createdAt}`, far), null)).session.userId,
    'crafted-user',
  );
  assert.equal((await ST.getSession(s.accessToken.value, null)).session.userId, 'rotate-2');
});

test('dynamic: false keeps one key forever (clock +1000 days)', async () => {
  const info = [];
  await ST.init(
    config({ signingKey: { dynamic: false, updateInterval: 1 } }, { logging: { info: (m) => info.push(String(m)) } }),
  );
  const before = await keyRows();
  const s0 = await ST.createNewSession('u0');
  const k = kidOf(s0.accessToken.value);
  for (const days of [1, 30, 365, 1000]) {
    native.testSetClockOffset(days * DAY);
    const s = await ST.createNewSession(`u${days}`);
    assert.equal(kidOf(s.accessToken.value), k, `same key id after ${days} days`);
    assert.ok(signedWith(s.accessToken.value, before.access_token_signing_key.value));
    assert.equal((await ST.getSession(s.accessToken.value, null)).session.userId, `u${days}`);
    const r = await ST.refreshSession(s.refreshToken.value);
    assert.equal(kidOf(r.newAccessToken.value), k);
  }
  assert.deepEqual(await keyRows(), before, 'key table unchanged');
  assert.deepEqual(
    info.filter((m) => /rotat/i.test(m)),
    [],
    'no rotation logged',
  );
});

test('a token from another process that rotated triggers one reload for 50 requests; then that key is shared', async (t) => {
  const cfg = config({ validity: 7200, signingKey: { updateInterval: 1 } });
  await ST.init(cfg);
  const a = startWorker();
  t.after(() => a.stop());
  await a.call('init', cfg);
  const r0 = (await keyRows()).access_token_signing_key;
  const mine = await ST.createNewSession('b-before');
  const offset = HOUR + 5000 + (Date.now() - r0.createdAt);
  native.testSetClockOffset(offset);
  await a.call('offset', offset);
  const [ta] = await a.call('create', 'a-user');
  const kidA = kidOf(ta.accessToken);
  assert.notEqual(kidA, kidFor(r0.value), 'process A rotated');

  const q0 = native.testQueryCount();
  const concurrent = await Promise.all(Array.from({ length: 25 }, () => ST.getSession(ta.accessToken, null)));
  for (let i = 0; i < 25; i++) concurrent.push(await ST.getSession(ta.accessToken, null));
  assert.equal(concurrent.length, 50);
  for (const r of concurrent) assert.equal(r.session.userId, 'a-user-0');
  const grew = native.testQueryCount() - q0;
  assert.ok(grew <= 1, `50 getSession calls with a newer kid cost ${grew} queries (at most 1 allowed)`);

  // B now signs with A's key instead of rotating again, and both accept each other's tokens.
  const sb = await ST.createNewSession('b-after');
  assert.equal(kidOf(sb.accessToken.value), kidA);
  const rows = await keyRows();
  assert.equal(kidFor(rows.access_token_signing_key.value), kidA);
  assert.deepEqual(rows.access_token_signing_key_previous, r0);
  assert.equal((await a.call('get', sb.accessToken.value)).userId, 'b-after');
  assert.equal((await a.call('get', mine.accessToken.value)).userId, 'b-before', "A accepts B's previous-key token");
  assert.equal((await ST.getSession(mine.accessToken.value, null)).session.userId, 'b-before');
  const logsA = await a.call('logs');
  assert.equal(logsA.filter((l) => /rotat/i.test(l.message)).length, 1, 'A logged its rotation');
});

test('a process whose key expires after another process rotated adopts that key instead of rotating again', async (t) => {
  const cfg = config({ validity: 7200, signingKey: { updateInterval: 1 } });
  const info = [];
  await ST.init({ ...cfg, logging: { info: (m) => info.push(String(m)) } });
  const a = startWorker();
  t.after(() => a.stop());
  await a.call('init', cfg);
  const r0 = (await keyRows()).access_token_signing_key;
  const offset = HOUR + 5000 + (Date.now() - r0.createdAt);
  await a.call('offset', offset);
  const [ta] = await a.call('create', 'a-user');
  const afterA = await keyRows();
  native.testSetClockOffset(offset + 2000);
  const sb = await ST.createNewSession('b-user');
  assert.equal(kidOf(sb.accessToken.value), kidOf(ta.accessToken), 'B signs with the key A rotated to');
  assert.deepEqual(await keyRows(), afterA, 'B did not rotate a second time');
  assert.deepEqual(
    info.filter((m) => /rotat/i.test(m)),
    [],
    'B logged no rotation of its own',
  );
  assert.equal((await a.call('get', sb.accessToken.value)).userId, 'b-user');
  assert.equal((await ST.getSession(ta.accessToken, null)).session.userId, 'a-user-0');
});

test('a rotation written straight into the key table is picked up with at most one reload', async () => {
  await ST.init(config());
  const r0 = (await keyRows()).access_token_signing_key;
  const mine = await ST.createNewSession('before');
  native.testSetClockOffset(10_000); // the rotation happened ~10 s "later" than init
  const newValue = crypto.randomBytes(32).toString('base64');
  const c1 = Date.now() + 10_000 - 200;
  await h.query(
    `INSERT INTO ${KEYS} (key_name, key_value, created_at_time) VALUES ('access_token_signing_key_previous', ?, ?)
     ON DUPLICATE KEY UPDATE key_value = VALUES(key_value), created_at_time = VALUES(created_at_time)`,
    [r0.value, r0.createdAt],
  );
  await h.query(`UPDATE ${KEYS} SET key_value = ?, created_at_time = ? WHERE key_name = 'access_token_signing_key'`, [
    newValue,
    c1,
  ]);
  const token = craftToken(newValue, `k${c1}`, c1 + HOUR, { userId: 'from-other-process' });

  const q0 = native.testQueryCount();
  for (let i = 0; i < 50; i++) {
    assert.equal((await ST.getSession(token, null)).session.userId, 'from-other-process');
  }
  const grew = native.testQueryCount() - q0;
  assert.ok(grew <= 1, `50 getSession calls cost ${grew} queries (at most 1 allowed)`);
  assert.equal(
    (await ST.getSession(mine.accessToken.value, null)).session.userId,
    'before',
    'previous key still in grace',
  );
  const s = await ST.createNewSession('after');
  assert.equal(kidOf(s.accessToken.value), kidFor(newValue), 'new tokens use the key picked up');
  assert.ok(signedWith(s.accessToken.value, newValue));
});

test('forged or unknown key ids get TRY_REFRESH_TOKEN and cost at most one reload per second', async () => {
  await ST.init(config());
  const r0 = (await keyRows()).access_token_signing_key;
  native.testSetClockOffset(10_000);
  const now = Date.now() + 10_000;
  const forgedSecret = crypto.randomBytes(32).toString('base64');

  let q0 = native.testQueryCount();
  const newer = craftToken(forgedSecret, `k${now - 500}`, now + HOUR);
  await Promise.all(Array.from({ length: 25 }, () => tryRefresh(ST.getSession(newer, null))));
  for (let i = 0; i < 25; i++) await tryRefresh(ST.getSession(newer, null));
  let grew = native.testQueryCount() - q0;
  assert.ok(grew <= 1, `50 forged newer-kid tokens cost ${grew} queries`);

  q0 = native.testQueryCount();
  for (const kid of [`k${now + DAY}`, 'k1', `k${r0.createdAt - 1}`, 'nonsense', '']) {
    await tryRefresh(ST.getSession(craftToken(forgedSecret, kid, now + HOUR), null));
  }
  // The current kid with the wrong secret.
  await tryRefresh(ST.getSession(craftToken(forgedSecret, `k${r0.createdAt}`, now + HOUR), null));
  grew = native.testQueryCount() - q0;
  assert.equal(grew, 0, 'key ids that are not newer-but-plausible never reach the database');
  // The real key still works.
  assert.equal(
    (await ST.getSession(craftToken(r0.value, `k${r0.createdAt}`, now + HOUR), null)).session.userId,
    'crafted-user',
  );
});

test("4 processes rotating concurrently end with one new key and accept each other's tokens", async (t) => {
  const cfg = config({ validity: 7200, signingKey: { updateInterval: 1 } });
  const workers = [startWorker(), startWorker(), startWorker(), startWorker()];
  t.after(() => Promise.all(workers.map((w) => w.stop())));
  await Promise.all(workers.map((w) => w.call('init', cfg)));
  const r0 = (await keyRows()).access_token_signing_key;
  const before = (await Promise.all(workers.map((w, i) => w.call('create', `pre${i}`)))).flat();
  assert.deepEqual(
    new Set(before.map((s) => kidOf(s.accessToken))),
    new Set([kidFor(r0.value)]),
    'concurrent inits agreed on one key',
  );

  const offset = HOUR + 5000 + (Date.now() - r0.createdAt);
  await Promise.all(workers.map((w) => w.call('offset', offset)));
  const after = (await Promise.all(workers.map((w, i) => w.call('create', `post${i}`, 5)))).flat();
  assert.equal(after.length, 20);
  const kids = new Set(after.map((s) => kidOf(s.accessToken)));
  assert.equal(kids.size, 1, `all processes sign with one new key, got ${[...kids].join(', ')}`);
  const [kid] = kids;
  const rows = await keyRows();
  assert.equal(kid, kidFor(rows.access_token_signing_key.value));
  assert.notEqual(kid, kidFor(r0.value));
  assert.deepEqual(rows.access_token_signing_key_previous, r0);
  assert.equal(Object.keys(rows).length, 3);

  const logs = (await Promise.all(workers.map((w) => w.call('logs')))).flat();
  assert.equal(logs.filter((l) => /rotat/i.test(l.message)).length, 1, 'exactly one process rotated');
  assert.equal(
    logs.filter((l) => /created the access-token signing key/i.test(l.message)).length,
    1,
    'exactly one process created the first key',
  );
  assert.deepEqual(
    logs.filter((l) => l.level === 'error'),
    [],
  );

  for (const w of workers) {
    for (const s of [...before, ...after]) {
      const got = await w.call('get', s.accessToken);
      assert.equal(got.handle, s.handle);
    }
  }
});

test('key ids do not depend on created_at_time: tokens keep verifying after it is edited (dynamic on and off)', async (t) => {
  for (const dynamic of [true, false]) {
    await t.test(`dynamic: ${dynamic}`, async () => {
      await ST.close();
      await h.dropTables(PREFIX);
      await ST.init(config({ signingKey: { dynamic } }));
      const s = await ST.createNewSession(`edited-${dynamic}`);
      // A restore or a DBA correcting a clock moves the column back 2 h; a new process starts.
      await h.query(
        `UPDATE ${KEYS} SET created_at_time = created_at_time - ? WHERE key_name = 'access_token_signing_key'`,
        [2 * HOUR],
      );
      await ST.close();
      await ST.init(config({ signingKey: { dynamic } }));
      const v = await ST.getSession(s.accessToken.value, s.antiCsrfToken);
      assert.equal(v.session.userId, `edited-${dynamic}`);
      const again = await ST.createNewSession('after-edit');
      assert.equal(kidOf(again.accessToken.value), kidOf(s.accessToken.value), 'same key, same id');
    });
  }
});

test('tokens minted before key ids came from the key (kid k<created_at>) keep verifying', async () => {
  await ST.init(config());
  const { value, createdAt } = (await keyRows()).access_token_signing_key;
  const legacy = craftToken(value, `k${createdAt}`, Date.now() + HOUR);
  assert.equal((await ST.getSession(legacy, null)).session.userId, 'crafted-user');
});

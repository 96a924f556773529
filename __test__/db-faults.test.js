'use strict';
/**
 * Issue 6.3 (and 6.6 for this file): database faults without touching the shared server.
 * The package talks to MySQL through a TCP proxy of ours (fixtures/faults-proxy.js) that we
 * cut (reset + refuse) or freeze (black hole) in the middle of a load, then restore.
 *
 * Bound on a call during an outage: a refused/reset connection fails at once; a black-holed
 * one gives up after the 10 s operation timeout (store.rs). Every call that *starts* during
 * an outage must reject with GENERAL_ERROR within OUTAGE_BOUND_MS = 11 s (measured below).
 */

process.env.SUPERTOKENS_TEST_BUILD = '1';

const test = require('node:test');
const assert = require('node:assert/strict');
const { performance } = require('node:perf_hooks');
const ST = require('../index.js');
const native = require('../lib/native.js');
const h = require('./helpers.js');
const { FaultProxy } = require('./fixtures/faults-proxy.js');

const PREFIX = `faults_${process.pid}`;
const PASSWORD = 'Faults-Distinctive-Pw-7f3q9Zx!';
const LIMIT = 8; // mysql.connectionLimit of the package under test
const OUTAGE_BOUND_MS = 11_000;
const { GENERAL_ERROR } = ST.Error;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const said = [];
const rawRefreshTokens = new Set();
const measured = { cutMaxMs: 0, freezeMaxMs: 0 };
let proxy;
let proxyPort;

function logging() {
  return { info: (m) => said.push(String(m)), error: (e) => said.push(String(e && e.stack), String(e && e.message)) };
}
function remember(e) {
  if (e === null || e === undefined) return;
  said.push(String(e.message), String(e.stack));
  if (e.err !== undefined)
    said.push(e.err instanceof Error ? `${e.err.message}\n${e.err.stack}` : JSON.stringify(e.err));
}

/** Settles a call: {ok, value | error, ms, start, end}. */
async function timed(fn) {
  const start = performance.now();
  try {
    const value = await fn();
    return { ok: true, value, start, end: performance.now(), ms: performance.now() - start };
  } catch (error) {
    remember(error);
    return { ok: false, error, start, end: performance.now(), ms: performance.now() - start };
  }
}

function assertGeneral(r, what) {
  assert.equal(r.ok, false, `${what} should have failed during the outage`);
  assert.ok(ST.Error.isErrorFromAuth(r.error), `${what}: a package error, got ${r.error && r.error.stack}`);
  assert.equal(r.error.errType, GENERAL_ERROR, `${what}: GENERAL_ERROR, got ${r.error.message}`);
  assert.ok(r.ms <= OUTAGE_BOUND_MS, `${what} took ${r.ms.toFixed(0)} ms (bound ${OUTAGE_BOUND_MS})`);
}

async function create(userId) {
  const s = await ST.createNewSession(userId, { u: userId }, { d: userId });
  rawRefreshTokens.add(s.refreshToken.value);
  return s;
}

/** Logins with distinct user ids from `workers` loops until stopped; every call recorded. */
function startLoad(tag, workers) {
  const calls = [];
  let stopped = false;
  let n = 0;
  const loop = async () => {
    while (!stopped) {
      const userId = `load:${tag}:${n++}`;
      const r = await timed(() => create(userId));
      r.userId = userId;
      calls.push(r);
      if (!r.ok) await sleep(20); // no hot loop while the database is away
    }
  };
  const all = Promise.all(Array.from({ length: workers }, loop));
  return {
    calls,
    stop: async () => {
      stopped = true;
      await all;
    },
  };
}

/** Rows of the load `tag` (user ids `load:<tag>:<n>`), or of user ids starting with `prefix:`. */
async function rowsOf(tag) {
  const rows = await h.query(`SELECT user_id, session_handle FROM ${PREFIX}_sessions WHERE user_id LIKE ?`, [
    `load:${tag}:%`,
  ]);
  return new Map(rows.map((r) => [r.user_id, r.session_handle]));
}

/** Connections of this test's user/db on the server that come from our proxy. */
async function serverConnectionsViaProxy() {
  const ports = proxy.upstreamPorts();
  const rows = await h.query('SELECT host FROM information_schema.processlist WHERE user = ? AND db = ?', [
    h.db.user,
    h.db.database,
  ]);
  return rows.filter((r) => ports.has(Number(String(r.host).split(':').pop()))).length;
}

/** Checks a load's calls against the rows: resolved ⇒ row; rejected (started in the outage) ⇒ none. */
async function checkRows(tag, calls, outageStart) {
  const rows = await rowsOf(tag);
  const resolved = calls.filter((c) => c.ok);
  const rejected = calls.filter((c) => !c.ok);
  for (const c of resolved) {
    assert.equal(rows.get(c.userId), c.value.session.handle, `resolved login ${c.userId} has its row`);
  }
  const startedInOutage = rejected.filter((c) => c.start >= outageStart);
  const leftBehind = startedInOutage.filter((c) => rows.has(c.userId)).map((c) => c.userId);
  assert.deepEqual(leftBehind, [], 'a login that rejected during the outage left a row behind');
  // Logins already in flight when the fault hit: their INSERT may have been executed by the
  // server while the answer was lost. Counted and reported, checked against the in-flight set.
  const inFlight = rejected.filter((c) => c.start < outageStart);
  const orphans = inFlight.filter((c) => rows.has(c.userId)).map((c) => c.userId);
  const known = new Set(calls.map((c) => c.userId));
  const strangers = [...rows.keys()].filter((u) => !known.has(u));
  assert.deepEqual(strangers, [], 'rows of logins that were never made');
  assert.equal(rows.size, resolved.length + orphans.length, 'row count = resolved logins + in-flight orphans');
  return { resolved: resolved.length, rejected: rejected.length, inFlight: inFlight.length, orphans };
}

test.before(async () => {
  await h.dropTables(PREFIX);
  proxy = new FaultProxy({ host: h.db.host, port: h.db.port });
  proxyPort = await proxy.listen();
});

test.after(async () => {
  await ST.close();
  await proxy.close();
  await h.dropTables(PREFIX);
  await h.endQueries();
});

test('a wrong (distinctive) password: GENERAL_ERROR with the driver message, never the password', async () => {
  const r = await timed(() => ST.init(h.configFor(PREFIX, { mysql: { password: PASSWORD }, logging: logging() })));
  assert.equal(r.ok, false);
  assert.equal(r.error.errType, GENERAL_ERROR);
  assert.match(r.error.message, /denied/i, 'carries the driver message');
  assert.ok(!r.error.message.includes(PASSWORD), 'the password is not in the message');
  const tables = await h.query('SHOW TABLES LIKE ?', [`${PREFIX}%`]);
  assert.deepEqual(tables, [], 'nothing created');
  // Same through a proxy that refuses connections: fails fast, no password either.
  proxy.cut();
  const viaProxy = await timed(() =>
    ST.init(
      h.configFor(PREFIX, { mysql: { host: '127.0.0.1', port: proxyPort, password: PASSWORD }, logging: logging() }),
    ),
  );
  proxy.restore();
  assertGeneral(viaProxy, 'init through a refusing proxy');
  assert.ok(!viaProxy.error.message.includes(PASSWORD));
  const early = await timed(() => ST.createNewSession('nobody'));
  assert.equal(early.error.errType, GENERAL_ERROR);
  assert.match(early.error.message, /init/);
});

test('hard cut (reset + refuse) in the middle of a login load, then restore', async (t) => {
  await ST.init(
    h.configFor(PREFIX, { mysql: { host: '127.0.0.1', port: proxyPort, connectionLimit: LIMIT }, logging: logging() }),
  );
  const A = await create('cut-probe');
  const load = startLoad('cut', 16);
  await sleep(700);
  const before = load.calls.filter((c) => c.ok).length;
  const liveBefore = proxy.live;
  const cutAt = performance.now();
  proxy.cut();
  // During the outage: DB-backed calls fail with GENERAL_ERROR; the no-DB fast path still works.
  await sleep(50);
  const probes = await Promise.all([
    timed(() => ST.getSessionData(A.session.handle)),
    timed(() => ST.refreshSession(A.refreshToken.value)),
    timed(() => ST.revokeSessionUsingSessionHandle(A.session.handle)),
    timed(() => ST.getAllSessionHandlesForUser('cut-probe')),
    timed(() => ST.updateSessionData(A.session.handle, { x: 1 })),
  ]);
  const fast = await timed(() => ST.getSession(A.accessToken.value, A.antiCsrfToken));
  await sleep(1500);
  // A forged access token naming a key id newer than ours (past the 1-s reload throttle):
  // an invalid access token is TRY_REFRESH_TOKEN, outage or not.
  const [h0, p0] = A.accessToken.value.split('.');
  const kid = JSON.parse(Buffer.from(h0, 'base64url')).kid;
  const newerKid = `k${Number(kid.slice(1)) + 1}`;
  const forgedHeader = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: newerKid })).toString('base64url');
  const forged = await timed(() => ST.getSession(`${forgedHeader}.${p0}.${'A'.repeat(43)}`, null));
  const restoreAt = performance.now();
  proxy.restore();
  await sleep(1000);
  await load.stop();

  const calls = load.calls;
  await t.test('logins succeeded before the cut', () => {
    assert.ok(before >= 20, `${before} logins before the cut`);
  });
  await t.test('every call made during the outage rejected with GENERAL_ERROR within the bound', () => {
    probes.forEach((p, i) => assertGeneral(p, `probe ${i}`));
    // A connection begun just before restore() may be accepted just after it: 100 ms margin.
    const during = calls.filter((c) => c.start >= cutAt && c.end <= restoreAt - 100);
    assert.ok(during.length >= 16, `${during.length} logins during the outage`);
    for (const c of during) assertGeneral(c, `login ${c.userId}`);
    const all = [...probes, ...calls.filter((c) => !c.ok)];
    measured.cutMaxMs = Math.max(...all.map((c) => c.ms));
    t.diagnostic(`hard cut: ${all.length} rejected calls, slowest ${measured.cutMaxMs.toFixed(0)} ms`);
  });
  await t.test('the no-database fast path kept working during the outage', () => {
    assert.equal(fast.ok, true, fast.error && fast.error.message);
    assert.equal(fast.value.session.handle, A.session.handle);
  });
  await t.test('a forged access token during the outage is still TRY_REFRESH_TOKEN', () => {
    assert.equal(forged.ok, false);
    assert.equal(forged.error.errType, ST.Error.TRY_REFRESH_TOKEN, `got ${forged.error.message}`);
  });
  await t.test('every login started after restore succeeded (no restart)', () => {
    const after = calls.filter((c) => c.start >= restoreAt);
    assert.ok(after.length >= 20, `${after.length} logins after restore`);
    const failed = after.filter((c) => !c.ok).map((c) => `${c.userId}: ${c.error.message}`);
    assert.deepEqual(failed, []);
  });
  await t.test('resolved logins have their rows; rejected ones left none', async () => {
    const r = await checkRows('cut', calls, cutAt);
    t.diagnostic(`hard cut rows: ${JSON.stringify({ ...r, orphans: r.orphans.length })}`);
    assert.deepEqual(r.orphans, [], 'a login that rejected (in flight at the cut) left its row behind');
  });
  await t.test('the pool stayed within connectionLimit', async () => {
    const onServer = await serverConnectionsViaProxy();
    t.diagnostic(
      `connections: ${liveBefore} before the cut, ${proxy.live} after (${onServer} on the server), max ever ${proxy.maxLive}`,
    );
    assert.ok(proxy.maxLive <= LIMIT, `at most ${proxy.maxLive} proxied connections at once`);
    assert.ok(proxy.live <= LIMIT);
    assert.ok(onServer <= LIMIT);
  });
  await t.test('the session probed during the outage is intact', async () => {
    assert.deepEqual(await ST.getSessionData(A.session.handle), { d: 'cut-probe' });
    const r = await ST.refreshSession(A.refreshToken.value);
    rawRefreshTokens.add(r.newRefreshToken.value);
  });
});

test('freeze (black hole) in the middle of a load: bounded GENERAL_ERROR, then recovery', async (t) => {
  // A child token (its first use needs the database) and sessions to operate on.
  const P = await create('freeze-probe');
  const child = await ST.refreshSession(P.refreshToken.value);
  rawRefreshTokens.add(child.newRefreshToken.value);
  const Q = await create('freeze-probe-2');
  const load = startLoad('freeze', 6);
  await sleep(500);
  const freezeAt = performance.now();
  proxy.freeze();
  await sleep(20);
  const stopping = load.stop(); // no new logins; those in flight end by their timeout
  const probes = await Promise.all([
    ...Array.from({ length: 6 }, (_, i) => timed(() => create(`load:freeze-direct:${i}`))),
    timed(() => ST.refreshSession(P.refreshToken.value)),
    timed(() => ST.getSession(child.newAccessToken.value, child.newAntiCsrfToken)),
    timed(() => ST.getSessionData(P.session.handle)),
    timed(() => ST.updateSessionData(P.session.handle, { changed: true })),
    timed(() => ST.revokeSessionUsingSessionHandle(Q.session.handle)),
    timed(() => ST.getAllSessionHandlesForUser('freeze-probe')),
    timed(() => ST.revokeAllSessionsForUser('freeze-probe-2')),
  ]);
  const fast = await timed(() => ST.getSession(P.accessToken.value, P.antiCsrfToken));
  await stopping;
  const restoreAt = performance.now();
  proxy.restore();

  await t.test('every call made during the freeze rejected with GENERAL_ERROR within the bound', () => {
    probes.forEach((p, i) => assertGeneral(p, `probe ${i}`));
    const during = load.calls.filter((c) => c.start >= freezeAt);
    for (const c of during) assertGeneral(c, `login ${c.userId}`);
    const inFlight = load.calls.filter((c) => c.start < freezeAt && !c.ok);
    for (const c of inFlight) assertGeneral(c, `in-flight login ${c.userId}`);
    measured.freezeMaxMs = Math.max(...[...probes, ...load.calls.filter((c) => !c.ok)].map((c) => c.ms));
    const minMs = Math.min(...probes.map((c) => c.ms));
    t.diagnostic(
      `freeze: slowest rejection ${measured.freezeMaxMs.toFixed(0)} ms, fastest probe ${minMs.toFixed(0)} ms`,
    );
    assert.ok(minMs >= 9_000, 'a black hole is only detected by the operation timeout (~10 s)');
  });
  await t.test('the no-database fast path kept working during the freeze', () => {
    assert.equal(fast.ok, true, fast.error && fast.error.message);
  });
  await t.test('after restore every call succeeds without a restart', async () => {
    const seq = [];
    for (let i = 0; i < 10; i++) seq.push(await timed(() => create(`freeze-after-${i}`)));
    const par = await Promise.all(Array.from({ length: 30 }, (_, i) => timed(() => create(`freeze-after-${10 + i}`))));
    const failed = [...seq, ...par].filter((r) => !r.ok).map((r) => r.error.message);
    assert.deepEqual(failed, []);
    const slowest = Math.max(...[...seq, ...par].map((r) => r.ms));
    assert.ok(slowest < 5_000, `a call after restore took ${slowest.toFixed(0)} ms (pool exhausted by the freeze?)`);
    // The sessions touched during the freeze are as they were.
    assert.deepEqual(await ST.getSessionData(P.session.handle), { d: 'freeze-probe' });
    assert.deepEqual(await ST.getAllSessionHandlesForUser('freeze-probe-2'), [Q.session.handle]);
    const v = await ST.getSession(child.newAccessToken.value, child.newAntiCsrfToken);
    assert.equal(v.session.handle, P.session.handle);
    assert.ok(performance.now() - restoreAt < 30_000);
  });
  await t.test('resolved logins have their rows; those started in the freeze left none', async () => {
    const r = await checkRows('freeze', load.calls, freezeAt);
    t.diagnostic(`freeze rows: ${JSON.stringify({ ...r, orphans: r.orphans.length })}`);
    const direct = await rowsOf('freeze-direct');
    assert.equal(direct.size, 0, 'logins made during the freeze left rows');
  });
  await t.test('the pool stayed within connectionLimit', async () => {
    assert.ok(proxy.maxLive <= LIMIT, `at most ${proxy.maxLive} proxied connections at once`);
    assert.ok((await serverConnectionsViaProxy()) <= LIMIT);
  });
});

test('repeated cuts do not leak connections; close() releases them all', async (t) => {
  for (let round = 0; round < 3; round++) {
    const load = startLoad(`cycle${round}`, 12);
    await sleep(300);
    proxy.cut();
    await sleep(300);
    proxy.restore();
    await sleep(300);
    await load.stop();
    const ok = await timed(() => create(`cycle${round}-check`));
    assert.equal(ok.ok, true, ok.error && ok.error.message);
  }
  await sleep(300);
  const live = proxy.live;
  const onServer = await serverConnectionsViaProxy();
  t.diagnostic(
    `after 3 cut/restore cycles: ${live} proxied connections, ${onServer} on the server, max ever ${proxy.maxLive}`,
  );
  assert.ok(live <= LIMIT, `${live} connections open`);
  assert.ok(onServer <= LIMIT, `${onServer} server connections`);
  assert.ok(proxy.maxLive <= LIMIT, `max ${proxy.maxLive}`);
  const closed = await timed(() => ST.close());
  assert.equal(closed.ok, true, closed.error && closed.error.message);
  assert.ok(closed.ms < 5_000, `close() took ${closed.ms.toFixed(0)} ms`);
  const deadline = Date.now() + 3000;
  while (proxy.live > 0 && Date.now() < deadline) await sleep(50);
  assert.equal(proxy.live, 0, 'every pooled connection is closed after close()');
  const leftOnServer = await h.query('SELECT COUNT(*) AS n FROM information_schema.processlist WHERE host LIKE ?', [
    `%:${proxyPort}`,
  ]);
  assert.equal(leftOnServer[0].n, 0);
  // And init works again afterwards (same process).
  await ST.init(
    h.configFor(PREFIX, { mysql: { host: '127.0.0.1', port: proxyPort, connectionLimit: LIMIT }, logging: logging() }),
  );
  const s = await create('after-reinit');
  assert.equal((await ST.getSession(s.accessToken.value, null)).session.userId, 'after-reinit');
});

test('no password, key or raw refresh token in any message or log line', async (t) => {
  const keys = await h.query(`SELECT key_value FROM ${PREFIX}_keys`);
  assert.equal(keys.length, 2);
  const secrets = [
    ['password', PASSWORD],
    ...keys.map((k) => ['key', k.key_value]),
    ...[...rawRefreshTokens].map((x) => ['raw refresh token', x]),
  ];
  assert.ok(said.length > 50, `${said.length} messages captured`);
  assert.ok(
    said.some((m) => /denied/i.test(m)),
    'the failing-password message was captured',
  );
  const text = said.join('\n');
  for (const [kind, secret] of secrets) assert.ok(!text.includes(secret), `a ${kind} appears in a message or log line`);
  t.diagnostic(
    `outage bound: hard cut slowest ${measured.cutMaxMs.toFixed(0)} ms, freeze slowest ${measured.freezeMaxMs.toFixed(0)} ms (bound ${OUTAGE_BOUND_MS} ms); queries sent ${native.testQueryCount()}`,
  );
});

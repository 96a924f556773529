'use strict';
/**
 * metrics() (issue 14.7): Prometheus text exposition of the package's counters and its
 * database-latency histogram, counted on the real calls against the real MySQL, served over
 * HTTP by an Express route, with no token, handle or user id in it.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const express = require('express');
const ST = require('../index.js');
const STx = require('../express.js');
const h = require('./helpers.js');

const PREFIX = 'metrics';
const COUNTERS = [
  'sessions_created',
  'sessions_verified',
  'sessions_refreshed',
  'token_theft_detected',
  'sessions_revoked',
  'database_errors',
  'database_retries',
];
const HISTOGRAM = 'supertokens_database_operation_duration_seconds';

/** name (with labels) → value, checking every line is valid exposition text. */
function parse(text) {
  const samples = new Map();
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-z_]+(?:\{le="(?:\+Inf|[0-9.e-]+)"\})?) ([0-9.e+-]+)$/.exec(line);
    assert.ok(m, `a valid sample line: ${JSON.stringify(line)}`);
    samples.set(m[1], Number(m[2]));
  }
  return samples;
}

async function snapshot() {
  return parse(await ST.metrics());
}

const delta = (a, b, name) => b.get(`supertokens_${name}_total`) - a.get(`supertokens_${name}_total`);

test('before init: every metric is there', async () => {
  const text = await ST.metrics();
  for (const name of COUNTERS) {
    assert.match(text, new RegExp(`^# TYPE supertokens_${name}_total counter$`, 'm'));
  }
  assert.match(text, new RegExp(`^# TYPE ${HISTOGRAM} histogram$`, 'm'));
  parse(text);
});

h.initOnTables(ST, PREFIX);

test('each call counts once, on what it did', async () => {
  const t0 = await snapshot();
  const a = await ST.createNewSession('metrics-user-a', { secret: 'payload-secret' });
  const b = await ST.createNewSession('metrics-user-b', null);
  await ST.createNewSession('metrics-user-b', null);
  const t1 = await snapshot();
  assert.equal(delta(t0, t1, 'sessions_created'), 3);

  await ST.getSession(a.accessToken.value, a.antiCsrfToken);
  await assert.rejects(ST.getSession(`${a.accessToken.value}x`, a.antiCsrfToken));
  const r = await ST.refreshSession(a.refreshToken.value);
  await ST.getSession(r.newAccessToken.value, r.newAntiCsrfToken); // promotes: the database path
  await assert.rejects(ST.refreshSession(a.refreshToken.value)); // rotated out: theft
  const t2 = await snapshot();
  assert.equal(delta(t1, t2, 'sessions_verified'), 2, 'failed verifications do not count');
  assert.equal(delta(t1, t2, 'sessions_refreshed'), 1);
  assert.equal(delta(t1, t2, 'token_theft_detected'), 1);

  assert.equal(await ST.revokeSessionUsingSessionHandle(a.session.handle), true);
  assert.equal(await ST.revokeSessionUsingSessionHandle(a.session.handle), false);
  await ST.revokeAllSessionsForUser('metrics-user-b');
  const t3 = await snapshot();
  assert.equal(delta(t2, t3, 'sessions_revoked'), 3);
  assert.equal(delta(t0, t3, 'database_errors'), 0);

  const count = (s) => s.get(`${HISTOGRAM}_count`);
  assert.ok(count(t3) - count(t0) >= 9, 'every database operation is timed');
  assert.ok(t3.get(`${HISTOGRAM}_sum`) > t0.get(`${HISTOGRAM}_sum`));
  let previous = 0;
  for (const [name, value] of t3) {
    if (!name.startsWith(`${HISTOGRAM}_bucket`)) continue;
    assert.ok(value >= previous, `buckets are cumulative: ${name}`);
    previous = value;
  }
  assert.equal(t3.get(`${HISTOGRAM}_bucket{le="+Inf"}`), count(t3));

  const text = await ST.metrics();
  for (const secret of [
    a.session.handle,
    b.session.handle,
    'metrics-user-a',
    'payload-secret',
    a.accessToken.value.slice(0, 20),
  ]) {
    assert.ok(!text.includes(secret), `no ${secret} in the metrics`);
  }
});

test('a failed database operation counts as a database error', async () => {
  const s = await ST.createNewSession('metrics-db', null, { a: 1 });
  // Earlier tests' refreshes are written now, so the batch job has nothing to write (and
  // fail) while the table is away: only the call below may count.
  await ST.getAllSessionsForUser('metrics-db');
  const t0 = await snapshot();
  await h.query(`RENAME TABLE ${PREFIX}_sessions TO ${PREFIX}_sessions_away`);
  try {
    await h.rejectsWith(ST.getSessionData(s.session.handle), ST.Error.GENERAL_ERROR, /database error/);
  } finally {
    await h.query(`RENAME TABLE ${PREFIX}_sessions_away TO ${PREFIX}_sessions`);
  }
  const t1 = await snapshot();
  assert.equal(delta(t0, t1, 'database_errors'), 1);
  assert.deepEqual(await ST.getSessionData(s.session.handle), { a: 1 });
});

test('an Express app serves it on /metrics', async () => {
  const app = express();
  app.get('/metrics', async (req, res) => {
    res.type('text/plain; version=0.0.4').send(await STx.metrics());
  });
  const server = await h.listen(app);
  try {
    const r = await fetch(`${server.url}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain;.*version=0\.0\.4/);
    const samples = parse(await r.text());
    assert.ok(samples.get('supertokens_sessions_created_total') >= 4);
  } finally {
    await server.close();
  }
});

'use strict';
/**
 * Issue 4 — expired-session removal on `removalCronjobInterval`: only expired rows go, in
 * bounded batches, on the real schedule; a DB error is logged and the next run works; the
 * job never keeps the process alive; close() stops it; init after close works; an invalid
 * cron expression fails init.
 */

process.env.SUPERTOKENS_TEST_BUILD = '1';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const readline = require('node:readline');
const { spawn } = require('node:child_process');
const ST = require('../index.js');
const native = require('../lib/native.js');
const h = require('./helpers.js');

const PREFIX = 'removal';
const SESSIONS = `${PREFIX}_sessions`;
const AWAY = `${PREFIX}_sessions_away`;
const HOUR = 3_600_000;
const EVERY_SECOND = '* * * * * *';

const { sleep } = h;
/** Polls `fn` every 100 ms until it returns truthy or `ms` pass; returns the last value. */
const waitFor = (fn, ms) => h.waitFor(fn, ms, 100);

/**
 * Inserts `expired` rows with expires_at in the past and `live` rows in the future, in
 * multi-row INSERTs of 1000. Returns the live handles.
 */
async function seed(expired, live, tag = 'seed', table = SESSIONS) {
  const now = Date.now();
  const rows = [];
  for (let i = 0; i < expired; i++)
    rows.push([`${tag}-x-${i}`, `${tag}-user-${i % 50}`, 'h2', '', now - 1000 - i * 37, '']);
  const liveHandles = [];
  for (let i = 0; i < live; i++) {
    liveHandles.push(`${tag}-l-${i}`);
    rows.push([`${tag}-l-${i}`, `${tag}-user-${i % 50}`, 'h2', '', now + HOUR + i * 37, '']);
  }
  for (let i = 0; i < rows.length; i += 1000) {
    await h.query(
      `INSERT INTO ${table} (session_handle, user_id, refresh_token_hash_2, session_info, expires_at, jwt_user_payload) VALUES ?`,
      [rows.slice(i, i + 1000)],
    );
  }
  return liveHandles;
}

const count = async (where = '1=1', params = []) =>
  Number((await h.query(`SELECT COUNT(*) AS n FROM ${SESSIONS} WHERE ${where}`, params))[0].n);
const expiredCount = () => count('expires_at <= ?', [Date.now()]);

/** Sum of N over "removed N expired sessions" lines. */
const removedSum = (lines) =>
  lines.reduce((sum, l) => {
    const m = /removed (\d+) expired sessions/.exec(l);
    return m ? sum + Number(m[1]) : sum;
  }, 0);

function capture() {
  const info = [];
  const error = [];
  return {
    info,
    error,
    logging: {
      info: (m) => info.push(String(m)),
      error: (e) => error.push(e instanceof Error ? e.message : String(e)),
    },
  };
}

function config(cron, logging) {
  return h.configFor(PREFIX, {
    tokens: { refreshToken: cron === undefined ? {} : { removalCronjobInterval: cron } },
    ...(logging ? { logging } : {}),
  });
}

async function cleanTables() {
  await h.query(`DROP TABLE IF EXISTS ${AWAY}, removal_exit_keys, removal_exit_sessions`);
  await h.dropTables(PREFIX);
}

h.freshForEachTest(ST, cleanTables, { cleanAfter: true });

test('init rejects an invalid removalCronjobInterval with GENERAL_ERROR and creates nothing', async () => {
  for (const cron of ['0 0 * * *', 'every minute', '0 0 0 32 * *', '61 * * * * *', '* * * * * * * *', '', 5, true]) {
    await h.rejectsWith(ST.init(config(cron)), ST.Error.GENERAL_ERROR, /removalCronjobInterval/);
  }
  const tables = await h.query(
    'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN (?, ?)',
    [`${PREFIX}_keys`, SESSIONS],
  );
  assert.deepEqual(tables, [], 'no table created by a rejected init');
  await h.rejectsWith(ST.createNewSession('u1'), ST.Error.GENERAL_ERROR, /init/);
  await ST.init(config('*/30 * * * * *'));
  assert.ok((await ST.createNewSession('u1')).session.handle);
});

test('removal deletes exactly the expired half of 10,000 rows, in bounded batches', async () => {
  await ST.init(config());
  const live = await seed(5000, 5000);
  assert.equal(await count(), 10_000);
  const q0 = native.testQueryCount();
  assert.equal(await native.testRemoveExpired(), 5000);
  const statements = native.testQueryCount() - q0;
  assert.ok(
    statements >= 5,
    `5000 rows must not go in one statement (batches of at most 1000), got ${statements} statements`,
  );
  const left = (await h.query(`SELECT session_handle AS h FROM ${SESSIONS} ORDER BY session_handle`)).map((r) => r.h);
  assert.deepEqual(left, [...live].sort());
  assert.equal(await native.testRemoveExpired(), 0, 'nothing left to remove');
  assert.equal(await count(), 5000);
});

test('removal follows the addon clock: sessions go once their expiry has passed, not before', async () => {
  await ST.init(h.configFor(PREFIX, { tokens: { refreshToken: { validity: 1 } } }));
  const made = [];
  for (let i = 0; i < 3; i++) made.push(await ST.createNewSession(`short-${i}`));
  const live = await seed(0, 2, 'later');
  await h.query(`UPDATE ${SESSIONS} SET expires_at = ? WHERE session_handle LIKE 'later-%'`, [Date.now() + 3 * HOUR]);
  assert.equal(await native.testRemoveExpired(), 0, 'nothing expired yet');
  assert.equal(await count(), 5);
  native.testSetClockOffset(2 * HOUR);
  assert.equal(await native.testRemoveExpired(), 3, 'the three 1-hour sessions expired');
  const left = (await h.query(`SELECT session_handle AS h FROM ${SESSIONS} ORDER BY session_handle`)).map((r) => r.h);
  assert.deepEqual(left, live);
  native.testSetClockOffset(0);
  await h.rejectsWith(ST.getSessionData(made[0].session.handle), ST.Error.UNAUTHORISED);
  await h.rejectsWith(ST.refreshSession(made[1].refreshToken.value), ST.Error.UNAUTHORISED);
});

test('the cron job runs on schedule ("* * * * * *") and logs how many rows it removed', async () => {
  const log = capture();
  await ST.init(config(EVERY_SECOND, log.logging));
  const live = await seed(5000, 5000);
  const done = await waitFor(async () => removedSum(log.info) >= 5000 && (await expiredCount()) === 0, 15_000);
  assert.ok(done, `expired rows left: ${await expiredCount()}, logged: ${log.info.join(' | ')}`);
  assert.equal(removedSum(log.info), 5000, 'the logged counts add up to the rows removed');
  assert.equal(await count(), 5000);
  assert.equal(await count('session_handle IN (?)', [live]), 5000, 'every live row kept');
  assert.deepEqual(log.error, []);
});

test('a DB error in the job goes to logging.error and the next run works again', async () => {
  const log = capture();
  await ST.init(config(EVERY_SECOND, log.logging));
  assert.ok(await waitFor(() => log.info.some((l) => /removed \d+ expired/.test(l)), 5000), 'the job ran');
  await h.query(`RENAME TABLE ${SESSIONS} TO ${AWAY}`);
  let restored = false;
  try {
    assert.ok(await waitFor(() => log.error.length > 0, 5000), 'logging.error got the failure');
    assert.match(log.error[0], /remov/i, 'the message says the removal failed');
    assert.match(log.error[0], /doesn't exist|not exist|1146/i, 'the message carries the database cause');
    await seed(30, 0, 'during', AWAY);
    await h.query(`RENAME TABLE ${AWAY} TO ${SESSIONS}`);
    restored = true;
  } finally {
    if (!restored) await h.query(`RENAME TABLE ${AWAY} TO ${SESSIONS}`).catch(() => {});
  }
  const infoBefore = log.info.length;
  await seed(70, 5, 'after');
  const ok = await waitFor(async () => (await expiredCount()) === 0, 6000);
  assert.ok(
    ok,
    `expired rows still there after the table came back: ${await expiredCount()}; errors: ${log.error.slice(-2).join(' | ')}`,
  );
  assert.equal(removedSum(log.info.slice(infoBefore)), 100, 'the runs after the outage removed and logged all 100');
  assert.equal(await count(), 5);
  assert.ok((await ST.createNewSession('after-outage')).session.handle, 'the API works too');
});

test('close() stops the job; init after close starts it again', async () => {
  const log = capture();
  await ST.init(config(EVERY_SECOND, log.logging));
  assert.ok(await waitFor(() => log.info.some((l) => /removed \d+ expired/.test(l)), 5000), 'the job ran');
  await ST.close();
  await sleep(200); // a run already in flight may finish
  const linesAtClose = log.info.length;
  await seed(20, 0, 'closed');
  await sleep(2500);
  assert.equal(await count(), 20, 'no removal after close()');
  assert.equal(log.info.length, linesAtClose, 'no job output after close()');
  await h.rejectsWith(ST.createNewSession('u'), ST.Error.GENERAL_ERROR, /init/);

  const log2 = capture();
  await ST.init(config(EVERY_SECOND, log2.logging));
  assert.ok(await waitFor(async () => (await count()) === 0, 5000), 'the job of the second init removed the rows');
  // Its log line reaches JS a moment after the rows are gone.
  assert.ok(await waitFor(() => removedSum(log2.info) === 20, 5000), `removed logged: ${removedSum(log2.info)}`);
  assert.ok((await ST.createNewSession('again')).session.handle);
});

/** Runs fixtures/removal-exit.js; resolves {code, signal, events, exitedAt} or {timedOut}. */
function runChild(mode, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'removal-exit.js'), mode, 'removal_exit'], {
      env: { ...process.env, SUPERTOKENS_TEST_BUILD: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const events = [];
    readline.createInterface({ input: child.stdout }).on('line', (l) => {
      try {
        events.push({ ...JSON.parse(l), receivedAt: Date.now() });
      } catch {
        events.push({ event: 'text', text: l });
      }
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ timedOut: true, events });
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ timedOut: false, code, signal, events, exitedAt: Date.now() });
    });
  });
}

test('a process that inits with a frequent job and closes exits on its own within a few seconds', async () => {
  const r = await runChild('close', 20_000);
  assert.equal(r.timedOut, false, `the process did not exit: ${JSON.stringify(r.events)}`);
  assert.equal(r.code, 0);
  const ran = r.events.find((e) => e.event === 'ran');
  assert.ok(
    ran && ran.lines.some((l) => /removed \d+ expired/.test(l)),
    `the job ran in the child: ${JSON.stringify(r.events)}`,
  );
  const closed = r.events.find((e) => e.event === 'closed');
  assert.ok(closed, 'close() resolved');
  assert.ok(r.exitedAt - closed.receivedAt < 3000, `exited ${r.exitedAt - closed.receivedAt} ms after close()`);
});

test('the removal job alone never keeps the process alive (no close())', async () => {
  const r = await runChild('noclose', 20_000);
  assert.equal(r.timedOut, false, `the process did not exit without close(): ${JSON.stringify(r.events)}`);
  assert.equal(r.code, 0);
  const ran = r.events.find((e) => e.event === 'ran');
  assert.ok(ran && ran.lines.some((l) => /removed \d+ expired/.test(l)), 'the job ran in the child');
  assert.ok(r.exitedAt - ran.receivedAt < 3000, `exited ${r.exitedAt - ran.receivedAt} ms after its last work`);
});

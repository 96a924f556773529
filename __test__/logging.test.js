'use strict';
/**
 * Issue 4 — logging: `logging.info` for key creation, rotation and removal counts;
 * `logging.error` for every GENERAL_ERROR cause; a throwing logger never breaks a request;
 * no secret (key value, password, refresh token) in any log line or error message.
 */

process.env.SUPERTOKENS_TEST_BUILD = '1';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { spawnSync } = require('node:child_process');
const ST = require('../index.js');
const native = require('../lib/native.js');
const h = require('./helpers.js');

const PREFIX = 'logging';
const KEYS = `${PREFIX}_keys`;
const SESSIONS = `${PREFIX}_sessions`;
const AWAY = `${PREFIX}_sessions_away`;
const HOUR = 3_600_000;

const { sleep, waitFor } = h;

/** A logger recording everything it receives. */
function capture() {
  const c = {
    info: [],
    error: [],
    logging: {
      info: (m) => c.info.push(m),
      error: (e) => c.error.push(e),
    },
  };
  return c;
}

/** Every piece of text an error or log entry exposes. */
function texts(entry) {
  if (entry instanceof Error) {
    const out = [entry.message, entry.stack, String(entry)];
    if (entry.err instanceof Error) out.push(entry.err.message, entry.err.stack);
    else if (entry.err !== undefined) out.push(JSON.stringify(entry.err));
    return out;
  }
  return [typeof entry === 'string' ? entry : JSON.stringify(entry)];
}

function config(logging, overrides = {}) {
  return h.configFor(PREFIX, { logging, ...overrides });
}

async function keyValues() {
  return (await h.query(`SELECT key_value AS v FROM ${KEYS}`)).map((r) => r.v);
}

async function cleanTables() {
  await h.query(`DROP TABLE IF EXISTS ${AWAY}`);
  await h.dropTables(PREFIX);
}

async function withSessionsTableGone(fn) {
  await h.query(`RENAME TABLE ${SESSIONS} TO ${AWAY}`);
  try {
    return await fn();
  } finally {
    await h.query(`RENAME TABLE ${AWAY} TO ${SESSIONS}`);
  }
}

h.freshForEachTest(ST, cleanTables, { cleanAfter: true });

test('logging.info reports key creation on an empty database, and nothing is created on a second init', async () => {
  const first = capture();
  await ST.init(config(first.logging));
  await waitFor(() => first.info.length >= 2, 2000);
  assert.ok(
    first.info.every((m) => typeof m === 'string'),
    'info lines are strings',
  );
  assert.ok(
    first.info.some((m) => /creat/i.test(m) && /signing key/i.test(m)),
    `signing-key creation logged: ${first.info}`,
  );
  assert.ok(
    first.info.some((m) => /creat/i.test(m) && /refresh/i.test(m)),
    `refresh-key creation logged: ${first.info}`,
  );
  await ST.close();
  const second = capture();
  await ST.init(config(second.logging));
  await ST.createNewSession('u1');
  await sleep(200);
  assert.deepEqual(
    second.info.filter((m) => /creat/i.test(m)),
    [],
    'existing keys are loaded, not created',
  );
});

test('logging.info reports a key rotation once', async () => {
  const log = capture();
  await ST.init(config(log.logging, { tokens: { accessToken: { signingKey: { updateInterval: 1 } } } }));
  await ST.createNewSession('u0');
  await sleep(100);
  assert.deepEqual(
    log.info.filter((m) => /rotat/i.test(m)),
    [],
    'no rotation before the interval',
  );
  native.testSetClockOffset(HOUR + 5000);
  await Promise.all([ST.createNewSession('u1'), ST.createNewSession('u2'), ST.createNewSession('u3')]);
  await ST.createNewSession('u4');
  assert.ok(await waitFor(() => log.info.some((m) => /rotat/i.test(m)), 2000), `rotation logged: ${log.info}`);
  await sleep(100);
  assert.equal(log.info.filter((m) => /rotat/i.test(m)).length, 1, 'one rotation, logged once');
});

test('logging.info reports how many expired sessions the job removed', async () => {
  const log = capture();
  await ST.init(config(log.logging, { tokens: { refreshToken: { removalCronjobInterval: '* * * * * *' } } }));
  const now = Date.now();
  const rows = Array.from({ length: 7 }, (_, i) => [`gone-${i}`, 'u', 'h2', '', now - 10_000 - i, '']);
  await h.query(
    `INSERT INTO ${SESSIONS} (session_handle, user_id, refresh_token_hash_2, session_info, expires_at, jwt_user_payload) VALUES ?`,
    [rows],
  );
  const line = await waitFor(
    () => log.info.find((m) => /\b7\b/.test(m) && /remov/i.test(m) && /expired/i.test(m)),
    5000,
  );
  assert.ok(line, `a line reports the 7 removed sessions: ${log.info}`);
  assert.equal(Number((await h.query(`SELECT COUNT(*) AS n FROM ${SESSIONS}`))[0].n), 0);
});

test('logging.error receives every GENERAL_ERROR (the same error object the caller gets)', async () => {
  const log = capture();
  await ST.init(config(log.logging));
  const s = await ST.createNewSession('u1');
  const causes = [
    ['anti-CSRF argument undefined', () => ST.getSession(s.accessToken.value, undefined)],
    ['userId not a string', () => ST.createNewSession(42)],
    ['userId too long (native check)', () => ST.createNewSession('x'.repeat(129))],
    ['non-JSON payload', () => ST.createNewSession('u', { f: 1n })],
    ['database failure', () => withSessionsTableGone(() => ST.createNewSession('u2'))],
    ['database failure on read', () => withSessionsTableGone(() => ST.getSessionData(s.session.handle))],
  ];
  for (const [name, fn] of causes) {
    const before = log.error.length;
    const e = await fn().then(
      () => assert.fail(`${name}: expected a rejection`),
      (err) => err,
    );
    assert.equal(e.errType, ST.Error.GENERAL_ERROR, `${name}: ${e.message}`);
    assert.ok(log.error.slice(before).includes(e), `${name}: logging.error got the rejection's error`);
  }
  assert.ok(log.error.every((e) => ST.Error.isErrorFromAuth(e) && e.errType === ST.Error.GENERAL_ERROR));
  await ST.close();

  // init's own GENERAL_ERROR (invalid config) reaches that config's logging.error.
  const bad = capture();
  const e = await ST.init(config(bad.logging, { tokens: { accessToken: { validity: 1 } } })).catch((err) => err);
  assert.equal(e.errType, ST.Error.GENERAL_ERROR);
  assert.ok(bad.error.includes(e), 'init failure reported to logging.error');
});

test("logging.error receives the removal job's database errors", async () => {
  const log = capture();
  await ST.init(config(log.logging, { tokens: { refreshToken: { removalCronjobInterval: '* * * * * *' } } }));
  await withSessionsTableGone(async () => {
    assert.ok(await waitFor(() => log.error.length > 0, 5000), 'job failure reported');
  });
  assert.ok(
    texts(log.error[0]).some((t) => /remov/i.test(t)),
    `names the removal: ${texts(log.error[0])}`,
  );
  // Like every GENERAL_ERROR: an Error of the package, errType 1000, a clean message.
  const e = log.error[0];
  assert.ok(e instanceof Error && ST.Error.isErrorFromAuth(e), `an Error of the package: ${JSON.stringify(e)}`);
  assert.equal(e.errType, ST.Error.GENERAL_ERROR);
  assert.doesNotMatch(e.message, /\b[1-4]000:/, 'no error code inside the message');
  assert.match(e.message, /^GENERAL_ERROR: removing expired sessions failed: database error: /);
});

test('a logger that throws never breaks init, sessions, rotation, errors or the job', async () => {
  let calls = 0;
  const boom = () => {
    calls += 1;
    throw new Error('logger exploded');
  };
  const cfg = config(
    { info: boom, error: boom },
    {
      tokens: {
        accessToken: { signingKey: { updateInterval: 1 } },
        refreshToken: { removalCronjobInterval: '* * * * * *' },
      },
    },
  );
  await ST.init(cfg); // creates keys: info lines thrown at
  const s = await ST.createNewSession('u1', { a: 1 });
  assert.equal((await ST.getSession(s.accessToken.value, null)).session.userId, 'u1');
  const r = await ST.refreshSession(s.refreshToken.value);
  assert.equal((await ST.getSession(r.newAccessToken.value, null)).session.userId, 'u1');
  native.testSetClockOffset(HOUR + 5000);
  const rotated = await ST.createNewSession('u2'); // rotation: info line thrown at
  assert.equal((await ST.getSession(rotated.accessToken.value, null)).session.userId, 'u2');
  native.testSetClockOffset(0);
  // A GENERAL_ERROR still arrives as the package's error, not the logger's exception.
  await h.rejectsWith(ST.getSession(s.accessToken.value, undefined), ST.Error.GENERAL_ERROR, /antiCsrfToken/);
  await h.rejectsWith(
    withSessionsTableGone(() => ST.createNewSession('u3')),
    ST.Error.GENERAL_ERROR,
    /database/i,
  );
  // The job keeps running (and logging into the throwing logger) every second.
  await h.query(
    `INSERT INTO ${SESSIONS} (session_handle, user_id, refresh_token_hash_2, session_info, expires_at, jwt_user_payload) VALUES ('old', 'u', 'h2', '', 1, '')`,
  );
  assert.ok(
    await waitFor(
      async () => (await h.query(`SELECT 1 FROM ${SESSIONS} WHERE session_handle = 'old'`)).length === 0,
      5000,
    ),
    'job still removes rows',
  );
  assert.ok(calls >= 4, `the throwing logger was actually called (${calls} times)`);
  await ST.close();
  await h.rejectsWith(
    ST.init(config({ info: boom, error: boom }, { tokens: { accessToken: { validity: 1 } } })),
    ST.Error.GENERAL_ERROR,
    /validity/,
  );
});

test('an async logger that rejects does not crash the process', () => {
  const script = `
    process.env.SUPERTOKENS_TEST_BUILD = '1';
    const ST = require('./index.js');
    const h = require('./__test__/helpers.js');
    (async () => {
      const reject = async () => { throw new Error('async logger failed'); };
      await ST.init(h.configFor('logging', { logging: { info: reject, error: reject } }));
      const s = await ST.createNewSession('u1');
      await ST.getSession(s.accessToken.value, undefined).catch(() => {});
      await ST.createNewSession('x'.repeat(200)).catch(() => {});
      await new Promise((r) => setTimeout(r, 300));
      await ST.getSession(s.accessToken.value, null);
      console.log('ALIVE');
      await ST.close();
    })().catch((e) => { console.log('FAILED ' + e.message); process.exitCode = 2; });
  `;
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd: require('node:path').join(__dirname, '..'),
    env: { ...process.env, SUPERTOKENS_TEST_BUILD: '1' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 0, `exit ${r.status} ${r.signal || ''}\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /ALIVE/);
});

test('no key value, password or refresh token appears in any log line or error message', async () => {
  const log = capture();
  const rejections = [];
  const keep = (p) =>
    p.catch((e) => {
      rejections.push(e);
    });
  const cfg = config(log.logging, {
    tokens: {
      accessToken: { signingKey: { updateInterval: 1 } },
      refreshToken: { removalCronjobInterval: '* * * * * *' },
    },
  });
  await ST.init(cfg);
  const s = await ST.createNewSession('u1');
  const refreshTokens = [s.refreshToken.value];
  native.testSetClockOffset(HOUR + 5000);
  const s2 = await ST.createNewSession('u2'); // rotation
  const r = await ST.refreshSession(s2.refreshToken.value);
  refreshTokens.push(s2.refreshToken.value, r.newRefreshToken.value);
  await ST.getSession(r.newAccessToken.value, null); // promotion
  await keep(ST.refreshSession(s2.refreshToken.value)); // theft detection
  await keep(ST.refreshSession(`${s.refreshToken.value}x`));
  await keep(ST.getSession(s.accessToken.value.slice(0, -3), null));
  await keep(ST.getSession(s.accessToken.value, undefined));
  await withSessionsTableGone(async () => {
    await keep(ST.createNewSession('u3'));
    await keep(ST.refreshSession(r.newRefreshToken.value));
    await waitFor(() => log.error.some((e) => typeof e === 'string' || !ST.Error.isErrorFromAuth(e)), 3000);
  });
  await h.query(
    `INSERT INTO ${SESSIONS} (session_handle, user_id, refresh_token_hash_2, session_info, expires_at, jwt_user_payload) VALUES ('old', 'u', 'h2', '', 1, '')`,
  );
  await waitFor(() => log.info.some((m) => /removed [1-9]/.test(String(m))), 4000);
  const keys = await keyValues();
  assert.equal(keys.length, 3, 'current, previous and refresh keys to look for');
  await ST.close();
  native.testSetClockOffset(0);

  // A wrong MySQL password: the driver's message, never the password.
  const password = `pw-${crypto.randomBytes(9).toString('hex')}`;
  const errorsBefore = log.error.length;
  await keep(ST.init(h.configFor(PREFIX, { mysql: { password }, logging: log.logging })));
  const initError = rejections[rejections.length - 1];
  assert.equal(initError.errType, ST.Error.GENERAL_ERROR);
  assert.match(initError.message, /denied|password/i, "the driver's message is passed on");
  assert.ok(log.error.slice(errorsBefore).includes(initError), 'the failed init is reported to logging.error');
  assert.ok(rejections.length >= 7, `collected ${rejections.length} rejections`);
  assert.ok(
    log.info.length >= 3 && log.error.length >= 4,
    `collected ${log.info.length} info and ${log.error.length} error entries`,
  );

  const secrets = [...keys, password, ...refreshTokens];
  const all = [...log.info, ...log.error, ...rejections].flatMap(texts);
  for (const secret of secrets) {
    const leak = all.find((t) => typeof t === 'string' && t.includes(secret));
    assert.equal(leak, undefined, `a secret appears in: ${leak}`);
  }
});

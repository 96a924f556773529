'use strict';
/**
 * Issue 4 — `tokens.accessToken.signingKey.get`: the app's async function supplies the key
 * for every sign and verify, `dynamic` is ignored, and every failure of the function
 * (rejection, throw, non-string or empty result) is a GENERAL_ERROR with a clear message.
 */

process.env.SUPERTOKENS_TEST_BUILD = '1';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const ST = require('../index.js');
const native = require('../lib/native.js');
const h = require('./helpers.js');
const { craftToken, kidOf, signedWith } = require('./fixtures/keys-jwt.js');

const PREFIX = 'appkey';
const DAY = 24 * 3_600_000;
const GET_MESSAGE = /signingKey\.get/;

/** A key function whose answer the test controls; counts its calls. */
function keySource(initial) {
  const src = {
    calls: 0,
    answer: () => Promise.resolve(initial),
    get: () => {
      src.calls += 1;
      return src.answer();
    },
  };
  return src;
}

const sessionCount = async () => (await h.query(`SELECT COUNT(*) AS n FROM ${PREFIX}_sessions`))[0].n;

async function initWith(src, signingKey = {}, extra = {}) {
  const errors = [];
  await ST.init(
    h.configFor(PREFIX, {
      tokens: { accessToken: { signingKey: { ...signingKey, get: src.get } } },
      logging: { error: (e) => errors.push(e) },
      ...extra,
    }),
  );
  return errors;
}

h.freshForEachTest(ST, () => h.dropTables(PREFIX));

test('tokens are signed with the key the app supplies, and it is asked on every sign and verify', async () => {
  const secret = crypto.randomBytes(24).toString('hex');
  const src = keySource(secret);
  await initWith(src);
  const c0 = src.calls;
  const s = await ST.createNewSession('u1', { role: 'x' });
  assert.ok(src.calls > c0, 'asked when signing');
  assert.ok(signedWith(s.accessToken.value, secret), "HMAC made with the app's key");
  const c1 = src.calls;
  const got = await ST.getSession(s.accessToken.value, null);
  assert.equal(got.session.userId, 'u1');
  assert.deepEqual(got.session.jwtPayload, { role: 'x' });
  assert.ok(src.calls > c1, 'asked when verifying');
  const c2 = src.calls;
  const r = await ST.refreshSession(s.refreshToken.value);
  assert.ok(src.calls > c2, 'asked when refreshing');
  assert.ok(signedWith(r.newAccessToken.value, secret));
  // The first use of the child token promotes it and issues a new token, signed with the app key.
  const promoted = await ST.getSession(r.newAccessToken.value, null);
  assert.ok(promoted.newAccessToken);
  assert.ok(signedWith(promoted.newAccessToken.value, secret));
  // The app key alone is what makes a token valid: one crafted with it verifies.
  const crafted = craftToken(secret, kidOf(s.accessToken.value), Date.now() + 60_000);
  assert.equal((await ST.getSession(crafted, null)).session.userId, 'crafted-user');
});

test('dynamic is ignored: the app key is used even 1000 days later with updateInterval 1', async () => {
  const secret = 'app-secret-' + crypto.randomBytes(8).toString('hex');
  const src = keySource(secret);
  const info = [];
  await initWith(src, { dynamic: true, updateInterval: 1 }, { logging: { info: (m) => info.push(String(m)) } });
  for (const days of [0, 2, 1000]) {
    native.testSetClockOffset(days * DAY);
    const s = await ST.createNewSession(`u${days}`);
    assert.ok(signedWith(s.accessToken.value, secret), `signed with the app key at +${days} days`);
    assert.equal((await ST.getSession(s.accessToken.value, null)).session.userId, `u${days}`);
  }
  assert.deepEqual(
    info.filter((m) => /rotat/i.test(m)),
    [],
  );
  const rows = await h.query(`SELECT key_name FROM ${PREFIX}_keys WHERE key_name LIKE 'access_token_signing_key%'`);
  assert.deepEqual(rows, [], 'no stored signing key is created or rotated when the app supplies the key');
});

test('when the app key changes, tokens signed with the old one get TRY_REFRESH_TOKEN and a refresh recovers', async () => {
  const src = keySource('first-key-0123456789');
  await initWith(src);
  const s = await ST.createNewSession('u1');
  src.answer = () => Promise.resolve('second-key-9876543210');
  await h.rejectsWith(ST.getSession(s.accessToken.value, null), ST.Error.TRY_REFRESH_TOKEN);
  const e = await ST.getSession(s.accessToken.value, null).catch((err) => err);
  for (const k of ['first-key-0123456789', 'second-key-9876543210']) {
    assert.ok(!`${e.message}\n${e.stack}`.includes(k), 'no key in the error');
  }
  const r = await ST.refreshSession(s.refreshToken.value);
  assert.ok(signedWith(r.newAccessToken.value, 'second-key-9876543210'));
  assert.equal((await ST.getSession(r.newAccessToken.value, null)).session.userId, 'u1');
});

const badAnswers = [
  [
    'rejects with an Error',
    () => Promise.reject(new Error('vault unreachable')),
    /signingKey\.get rejected: vault unreachable/,
  ],
  ['rejects with a string', () => Promise.reject('nope'), /signingKey\.get rejected: nope/],
  [
    'throws synchronously',
    () => {
      throw new Error('sync boom');
    },
    /signingKey\.get rejected: sync boom/,
  ],
  ['resolves a number', () => Promise.resolve(42), /must resolve to a string, got number/],
  ['resolves undefined', () => Promise.resolve(undefined), /must resolve to a string, got undefined/],
  ['resolves null', () => Promise.resolve(null), /must resolve to a string, got null/],
  ['resolves an empty string', () => Promise.resolve(''), /non-empty string/],
  ['resolves an object', () => Promise.resolve({ key: 'k' }), /must resolve to a string, got object/],
  ['returns a plain number (not a promise)', () => 7, /must resolve to a string, got number/],
];

for (const [name, answer, message] of badAnswers) {
  test(`signingKey.get that ${name} → GENERAL_ERROR for create, get and refresh; nothing written`, async () => {
    const src = keySource('good-key-abcdef');
    const errors = await initWith(src);
    const s = await ST.createNewSession('victim');
    const rowBefore = await h.query(`SELECT * FROM ${PREFIX}_sessions`);
    src.answer = answer;
    const n0 = await sessionCount();
    await h.rejectsWith(ST.createNewSession('u2'), ST.Error.GENERAL_ERROR, message);
    assert.equal(await sessionCount(), n0, 'no session row written');
    await h.rejectsWith(ST.getSession(s.accessToken.value, null), ST.Error.GENERAL_ERROR, message);
    await h.rejectsWith(ST.refreshSession(s.refreshToken.value), ST.Error.GENERAL_ERROR, message);
    assert.deepEqual(await h.query(`SELECT * FROM ${PREFIX}_sessions`), rowBefore, 'the session row was not touched');
    assert.ok(errors.length >= 3, 'each GENERAL_ERROR reported to logging.error');
    for (const e of errors.slice(-3)) assert.match(e.message, GET_MESSAGE);
    // Once the function works again, so does everything, including the untouched refresh token.
    src.answer = () => Promise.resolve('good-key-abcdef');
    assert.equal((await ST.getSession(s.accessToken.value, null)).session.userId, 'victim');
    const r = await ST.refreshSession(s.refreshToken.value);
    assert.equal((await ST.getSession(r.newAccessToken.value, null)).session.userId, 'victim');
  });
}

test('the Express API surfaces a failing key function as GENERAL_ERROR too', async (t) => {
  const express = require('express');
  const STX = require('../express.js');
  const src = keySource('good-key-abcdef');
  await initWith(src);
  const app = express();
  app.post('/login', async (req, res) => {
    try {
      await STX.createNewSession(res, 'u1');
      res.send('ok');
    } catch (e) {
      res.status(500).json({ errType: e.errType, message: e.message });
    }
  });
  const server = await h.listen(app);
  t.after(() => server.close());
  src.answer = () => Promise.reject(new Error('down'));
  const failed = await h.send(server.url, null, '/login', { method: 'POST' });
  assert.equal(failed.status, 500);
  const body = JSON.parse(failed.text_);
  assert.equal(body.errType, ST.Error.GENERAL_ERROR);
  assert.match(body.message, /signingKey\.get rejected: down/);
  h.shouldNotSetCookie(failed, 'sAccessToken');
  assert.equal(await sessionCount(), 0);
  src.answer = () => Promise.resolve('good-key-abcdef');
  const ok = await h.send(server.url, null, '/login', { method: 'POST' });
  assert.equal(ok.status, 200);
  assert.ok(signedWith(h.getCookie(ok, 'sAccessToken').value, 'good-key-abcdef'));
});

'use strict';
/**
 * lib/fast-session.js: decoding the native fast path's result string
 * (`<serial>:<handle length>:<userId length>:<handle><userId><payload JSON>`, written by
 * src/hot_path.rs), the decoded-session cache kept beside the native token cache, and a round
 * trip through the real native call against the real MySQL.
 */

process.env.SUPERTOKENS_TEST_BUILD = '1';

const { describe, it, before } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { decodeFastSession, MAX_ENTRIES, isKept } = require('../lib/fast-session.js');
const { GENERAL_ERROR } = require('../lib/errors.js');

const FAST_SESSION = path.join(__dirname, '..', 'lib', 'fast-session.js');
const PREFIX = 'fs_test';

// Serials made up here are far above any the native cache hands out in this process (about
// one per verification), so the round trip below never meets one of them.
const FAKE_FILLS = 1e8;
const FAKE = FAKE_FILLS * 10000;

/** [name, native result, what the error message must name] */
const MALFORMED = [
  ['empty', '', /the serial at offset 0 .* found no digits, then the end/],
  ['digits without a colon', '123', /the serial .* found digits, then the end/],
  ['no digits, no colon', 'abc', /the serial .* found no digits, then character code 97/],
  ['serial without digits', ':3:1:abcx', /the serial .* no digits/],
  ['letter in the serial', '1a:3:1:abcx', /the serial .* then character code 97/],
  ['negative serial', '-1:3:1:abcx', /the serial .* then character code 45/],
  ['ends after the serial', '7:', /the handle length at offset 2 .* then the end/],
  ['ends after the handle length', '0:3:', /the userId length at offset 4 .* then the end/],
  ['letter in the handle length', '0:3x:1:abcx', /the handle length .* then character code 120/],
  ['space in the userId length', '0:3: 1:abcx', /the userId length .* no digits, then character code 32/],
  ['handle longer than the rest', '0:36:4:short', /lengths \(36 \+ 4\) run past its end \(5 characters left\)/],
  ['userId longer than the rest', '0:3:9:abcx', /lengths \(3 \+ 9\) run past its end/],
  ['16-digit length', '0:1234567890123456:1:abcx', /the handle length .* found 16 digits/],
  ['huge serial', `${'9'.repeat(400)}:0:0:`, /the serial .* found 400 digits/],
  ['payload not JSON', '0:3:1:abcx{', /payload after the userId is not JSON \(1 characters\)/],
  ['payload not JSON, with a serial', `${FAKE - 1}:3:1:abcx{"a":`, /not JSON/],
  ['NaN', 'NaN:0:0:', /the serial .* no digits/],
];

/**
 * Decodes `s` in a worker thread of its own, which can be stopped when the call loops forever
 * (a loop on this thread would block the test runner, its timeouts included). Resolves with
 * the outcome, or `{hung: true}` when the call neither returned nor threw within `timeoutMs`.
 */
function outcomeInWorker(s, timeoutMs) {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { decodeFastSession } = require(workerData.file);
    const { isErrorFromAuth } = require(workerData.errors);
    const o = { threw: false };
    parentPort.postMessage('started');
    const t0 = process.hrtime.bigint();
    try {
      o.result = JSON.stringify(decodeFastSession(workerData.s));
    } catch (e) {
      Object.assign(o, { threw: true, fromAuth: isErrorFromAuth(e), errType: e && e.errType, message: String(e && e.message) });
    }
    o.ms = Number(process.hrtime.bigint() - t0) / 1e6;
    parentPort.postMessage(o);`;
  const errors = path.join(__dirname, '..', 'lib', 'errors.js');
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData: { file: FAST_SESSION, errors, s } });
    let timer;
    const done = (o) => {
      clearTimeout(timer);
      worker.terminate().then(() => resolve(o), reject);
    };
    worker.on('message', (m) => {
      // The clock starts once the worker runs (starting one can take a while on a busy machine).
      if (m === 'started') timer = setTimeout(() => done({ hung: true }), timeoutMs);
      else done(m);
    });
    worker.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

describe('decodeFastSession', () => {
  describe('kept sessions (one per position of the native token cache)', () => {
    // serial = fills * MAX_ENTRIES + position, as src/token_cache.rs makes them.
    const serialAt = (fills, at) => (FAKE_FILLS + fills) * MAX_ENTRIES + at;
    const result = (serial, i, payload = `{"i":${i}}`) => `${serial}:1:${String(i).length}:h${i}${payload}`;
    const decodes = (serial, i) =>
      assert.deepEqual(decodeFastSession(result(serial, i)), { handle: 'h', userId: String(i), jwtPayload: { i } });

    it('holds as many entries as the native token cache (the number comes from the addon)', () => {
      assert.equal(MAX_ENTRIES, require('../lib/native.js').VERIFIED_TOKEN_CACHE_CAPACITY);
      assert.ok(Number.isInteger(MAX_ENTRIES) && MAX_ENTRIES >= 1000, `${MAX_ENTRIES} entries`);
    });

    it('keeps a session at its position until a newer serial takes the position', () => {
      for (let at = 0; at < MAX_ENTRIES; at++) decodes(serialAt(0, at), at);
      for (let at = 0; at < MAX_ENTRIES; at++) assert.ok(isKept(serialAt(0, at)), `position ${at}`);
      for (let at = 0; at < MAX_ENTRIES; at++) decodes(serialAt(0, at), at); // hits

      // The native cache replaced one entry: only that position changes.
      decodes(serialAt(1, 7), 1234567);
      assert.ok(isKept(serialAt(1, 7)));
      assert.ok(!isKept(serialAt(0, 7)));
      for (let at = 0; at < MAX_ENTRIES; at++) if (at !== 7) assert.ok(isKept(serialAt(0, at)), `position ${at} stays`);
      decodes(serialAt(1, 7), 1234567); // a hit on the new one
      decodes(serialAt(0, 7), 7); // the old one is decoded afresh, never confused
    });

    it('gives every call its own copy of a kept payload', () => {
      const s = `${serialAt(2, 3)}:1:1:hu{"a":{"b":[1]}}`;
      for (let i = 0; i < 3; i++) {
        const r = decodeFastSession(s);
        assert.deepEqual(r.jwtPayload, { a: { b: [1] } });
        r.jwtPayload.a.b.push(2);
      }
    });

    it('does not keep payloads over 512 characters', () => {
      const big = JSON.stringify({ s: 'x'.repeat(600) });
      const serial = serialAt(3, 11);
      for (let i = 0; i < 2; i++)
        assert.deepEqual(decodeFastSession(`${serial}:1:1:hu${big}`).jwtPayload, JSON.parse(big));
      assert.ok(!isKept(serial));
    });
  });

  describe('well-formed results', () => {
    it('splits handle, userId and payload by UTF-16 lengths', () => {
      assert.deepEqual(decodeFastSession('0:3:4:abcuser{"a":1}'), {
        handle: 'abc',
        userId: 'user',
        jwtPayload: { a: 1 },
      });
      assert.deepEqual(decodeFastSession('0:1:2:é😀"x:y"'), { handle: 'é', userId: '😀', jwtPayload: 'x:y' });
      assert.deepEqual(decodeFastSession('0:0:0:null'), { handle: '', userId: '', jwtPayload: null });
      assert.deepEqual(decodeFastSession('0:2:1:hhu'), { handle: 'hh', userId: 'u', jwtPayload: undefined });
    });
  });

  describe('malformed results (decoded in a worker thread, so a hang fails instead of blocking)', () => {
    const TIMEOUT_MS = 5000;
    let outcomes;
    before(async () => {
      const all = await Promise.all(MALFORMED.map(([, s]) => outcomeInWorker(s, TIMEOUT_MS)));
      outcomes = new Map(MALFORMED.map(([name], i) => [name, all[i]]));
    });

    for (const [name, , names] of MALFORMED) {
      it(`${name}: a GENERAL_ERROR naming what is wrong, at once`, () => {
        const o = outcomes.get(name);
        assert.ok(!o.hung, `decodeFastSession neither returned nor threw within ${TIMEOUT_MS} ms: it hangs`);
        assert.ok(o.threw, `throws (returned ${o.result})`);
        assert.ok(o.fromAuth, `a package error (got: ${o.message})`);
        assert.equal(o.errType, GENERAL_ERROR, o.message);
        assert.match(o.message, /^GENERAL_ERROR: the native getSession result is malformed: /);
        assert.match(o.message, names);
        // Microseconds normally; the bound only allows for a busy machine.
        assert.ok(o.ms < 1000, `took ${o.ms} ms`);
      });
    }

    it('a value that is not a string', () => {
      for (const v of [undefined, null, 12, {}]) {
        assert.throws(
          () => decodeFastSession(v),
          (e) => e.errType === GENERAL_ERROR && /not a string/.test(e.message),
        );
      }
    });
  });
});

describe('round trip through the native fast path (real MySQL)', () => {
  const ST = require('../index.js');
  const native = require('../lib/native.js');
  const h = require('./helpers.js');

  h.initOnTables(ST, PREFIX);

  const cases = [
    ['ASCII userId, object payload', 'user-1', { role: 'admin', n: [1, 2.5, -3], nested: { ok: true, none: null } }],
    ['non-ASCII userId (surrogate pairs), non-ASCII payload', 'ünï-用户-😀', { name: 'Zoë 😀', 'k:e:y': '::' }],
    ['undefined payload', 'u-undefined', undefined],
    ['null payload', 'u-null', null],
    ['string payload with colons and digits', '12:34', '1:2:3:'],
    ['number payload', 'u-number', 42],
    ['__proto__ key', 'u-proto', JSON.parse('{"__proto__":{"polluted":true},"a":1}')],
    [
      'payload over the kept size (parsed every call)',
      'u-big',
      { big: 'x'.repeat(2000), list: Array.from({ length: 50 }, (_, i) => i) },
    ],
  ];

  for (const [name, userId, payload] of cases) {
    it(name, async () => {
      const r = await ST.createNewSession(userId, payload);
      const at = r.accessToken.value;
      const expected = { handle: r.session.handle, userId, jwtPayload: payload };
      // The call that verifies the token in full gives serial 0 (nothing is kept for a token
      // that may never come back); a cache hit gives the entry's serial.
      const first = native.verifyAccessToken(at, r.antiCsrfToken ?? null, null, false);
      assert.match(first, /^0:\d+:\d+:/, 'a full verification has serial 0');
      assert.deepEqual(decodeFastSession(first), expected);
      const raw = native.verifyAccessToken(at, r.antiCsrfToken ?? null, null, false);
      assert.equal(typeof raw, 'string');
      assert.match(raw, /^[1-9]\d*:\d+:\d+:/, 'a cache hit has a serial');
      assert.equal(
        native.verifyAccessToken(at, r.antiCsrfToken ?? null, null, false),
        raw,
        'the same serial on every hit',
      );
      // The first decode parses, later ones may come from the kept copy: all must be equal.
      for (let i = 0; i < 3; i++) {
        const s = decodeFastSession(raw);
        assert.deepEqual(s, expected);
        if (payload !== null && typeof payload === 'object') {
          assert.equal(Object.getPrototypeOf(s.jwtPayload), Object.prototype);
          s.jwtPayload.mutated = true; // must not leak into the next call's copy
        }
      }
      const serial = Number(raw.slice(0, raw.indexOf(':')));
      assert.equal(isKept(serial), JSON.stringify(payload ?? '').length <= 512, 'kept once its token came back');
      const viaApi = await ST.getSession(at, r.antiCsrfToken ?? null);
      assert.deepEqual(viaApi.session, expected);
      assert.equal(viaApi.newAccessToken, undefined);
    });
  }
});

describe('failures cross the boundary as values with a numeric kind (real MySQL)', () => {
  const ST = require('../index.js');
  const native = require('../lib/native.js');
  const h = require('./helpers.js');
  const {
    isNativeFailure,
    TRY_REFRESH_TOKEN,
    UNAUTHORISED,
    UNAUTHORISED_AND_TOKEN_THEFT_DETECTED,
  } = require('../lib/errors.js');

  h.initOnTables(ST, `${PREFIX}_f`);

  /** A failure value: the kind as a number, the message with no code in it. */
  function assertFailure(r, errType, message) {
    assert.ok(isNativeFailure(r), `a failure value, got ${JSON.stringify(r)}`);
    assert.equal(r.errType, errType);
    assert.match(r.message, message);
    assert.doesNotMatch(r.message, /^\d{4}:/, 'no code prefix in the text');
  }

  /** A child access token (its first use promotes it) of a new session. */
  async function childToken(userId) {
    const s = await ST.createNewSession(userId, { a: 1 });
    const r = await native.refreshSession(s.refreshToken.value, null);
    assert.ok(!isNativeFailure(r));
    return { s, at: r.tokens.accessToken, csrf: r.tokens.antiCsrfToken ?? null };
  }

  it('the fast path returns a failure, its database path and the async exports resolve to one', async () => {
    assertFailure(native.verifyAccessToken('not.a.token', null, null, true), TRY_REFRESH_TOKEN, /access token/);
    const c = await childToken('revoked-child');
    await ST.revokeSessionUsingSessionHandle(c.s.session.handle);
    const pending = native.verifyAccessToken(c.at, c.csrf, null, true);
    assert.ok(pending instanceof Promise, 'the database path answers with a promise');
    assertFailure(await pending, UNAUTHORISED, /session/);
    assertFailure(await native.refreshSession('not-a-refresh-token', null), UNAUTHORISED, /refresh token/);
  });

  it('one call verifies a child token: without the database it answers null and writes nothing, with it the promise promotes', async () => {
    const c = await childToken('promoted-child');
    const before = await h.query('SELECT refresh_token_hash_2 FROM ?? WHERE session_handle = ?', [
      `${PREFIX}_f_sessions`,
      c.s.session.handle,
    ]);
    assert.equal(native.verifyAccessToken(c.at, c.csrf, null, false), null);
    const unchanged = await h.query('SELECT refresh_token_hash_2 FROM ?? WHERE session_handle = ?', [
      `${PREFIX}_f_sessions`,
      c.s.session.handle,
    ]);
    assert.deepEqual(unchanged, before, 'no promotion without the database');
    const v = await native.verifyAccessToken(c.at, c.csrf, null, true);
    assert.ok(!isNativeFailure(v), JSON.stringify(v));
    assert.equal(v.handle, c.s.session.handle);
    assert.equal(v.userId, 'promoted-child');
    assert.deepEqual(JSON.parse(v.jwtPayload), { a: 1 });
    assert.equal(typeof v.newAccessToken, 'string', 'the promotion issues a replacement');
    const promoted = await h.query('SELECT refresh_token_hash_2 FROM ?? WHERE session_handle = ?', [
      `${PREFIX}_f_sessions`,
      c.s.session.handle,
    ]);
    assert.notDeepEqual(promoted, before, 'the child became the parent');
  });

  it('token theft carries the session, not JSON in a message', async () => {
    const s = await ST.createNewSession('thief-victim', {});
    const first = await native.refreshSession(s.refreshToken.value, null);
    assert.ok(!isNativeFailure(first));
    await ST.getSession(first.tokens.accessToken, first.tokens.antiCsrfToken ?? null); // the child becomes the parent
    const theft = await native.refreshSession(s.refreshToken.value, null);
    assertFailure(theft, UNAUTHORISED_AND_TOKEN_THEFT_DETECTED, /reuse detected/);
    assert.equal(theft.sessionHandle, s.session.handle);
    assert.equal(theft.userId, 'thief-victim');
  });

  it('no successful result is taken for a failure', async () => {
    const s = await ST.createNewSession('ok-user', { a: 1 }, { d: 1 });
    const c = await childToken('ok-child');
    const results = [
      native.verifyAccessToken(s.accessToken.value, s.antiCsrfToken ?? null, null, false),
      await native.verifyAccessToken(c.at, c.csrf, null, true),
      await native.getSessionData(s.session.handle),
      await native.updateSessionData(s.session.handle, '{"errType":1000}'),
      await native.getAllSessionHandlesForUser('ok-user'),
      await native.revokeSession('no-such-handle'),
      await native.revokeAllSessionsForUser('nobody'),
    ];
    for (const r of results) assert.ok(!isNativeFailure(r), `not a failure: ${JSON.stringify(r)}`);
    assert.deepEqual(
      await ST.getSessionData(s.session.handle),
      { errType: 1000 },
      'data that looks like a failure is data',
    );
  });
});

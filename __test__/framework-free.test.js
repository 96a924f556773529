'use strict';
/**
 * The framework-free API at the package root (SPEC §4) and the error contract (SPEC §3
 * "Errors"), against the real MySQL.
 */

process.env.SUPERTOKENS_TEST_BUILD = '1';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const express = require('express');
const ST = require('../index.js');
const STExpress = require('../express.js');
const h = require('./helpers.js');

const PREFIX = 'ff_test';
const SESSIONS = `${PREFIX}_sessions`;
const HOUR_MS = 3600 * 1000;
const { GENERAL_ERROR, UNAUTHORISED, TRY_REFRESH_TOKEN, UNAUTHORISED_AND_TOKEN_THEFT_DETECTED } = ST.Error;

const sha256hex = (s) => crypto.createHash('sha256').update(s).digest('hex');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `{value, expires}` with a non-empty string and an expiry about `inMs` from now. */
function assertToken(t, inMs, label) {
  assert.deepEqual(Object.keys(t).sort(), ['expires', 'value'], `${label} has {value, expires}`);
  assert.equal(typeof t.value, 'string', `${label}.value`);
  assert.ok(t.value.length > 0, `${label}.value is not empty`);
  assert.equal(typeof t.expires, 'number', `${label}.expires`);
  assert.ok(Number.isInteger(t.expires), `${label}.expires is whole ms`);
  assert.ok(Math.abs(t.expires - (Date.now() + inMs)) < 10_000, `${label}.expires ≈ now + ${inMs} ms`);
}

async function storedHash2(handle) {
  const rows = await h.query(`SELECT refresh_token_hash_2 FROM ${SESSIONS} WHERE session_handle = ?`, [handle]);
  return rows[0]?.refresh_token_hash_2;
}

describe('framework-free API (package root)', () => {
  before(() => h.dropTables(PREFIX));
  h.closeAfter(ST);

  describe('default config', () => {
    before(() => ST.init(h.configFor(PREFIX)));
    after(() => ST.close());

    describe('createNewSession', () => {
      it('returns {session:{handle,userId,jwtPayload}, accessToken, refreshToken, idRefreshToken, antiCsrfToken}', async () => {
        const r = await ST.createNewSession('user-1', { role: 'admin', n: [1, 2] }, { secret: true });
        assert.deepEqual(Object.keys(r).sort(), [
          'accessToken',
          'antiCsrfToken',
          'idRefreshToken',
          'refreshToken',
          'session',
        ]);
        assert.deepEqual(Object.keys(r.session).sort(), ['handle', 'jwtPayload', 'userId']);
        assert.match(r.session.handle, UUID);
        assert.equal(r.session.userId, 'user-1');
        assert.deepEqual(r.session.jwtPayload, { role: 'admin', n: [1, 2] });
        assertToken(r.accessToken, HOUR_MS, 'accessToken');
        assertToken(r.refreshToken, 2400 * HOUR_MS, 'refreshToken');
        assertToken(r.idRefreshToken, 2400 * HOUR_MS, 'idRefreshToken');
        assert.equal(r.idRefreshToken.expires, r.refreshToken.expires);
        assert.equal(r.accessToken.value.split('.').length, 3, 'the access token is a JWT');
        assert.equal(typeof r.antiCsrfToken, 'string');
        assert.ok(r.antiCsrfToken.length >= 16);
        const tokens = [r.accessToken.value, r.refreshToken.value, r.idRefreshToken.value, r.antiCsrfToken];
        assert.equal(new Set(tokens).size, 4, 'all tokens differ');

        const rows = await h.query(`SELECT * FROM ${SESSIONS} WHERE session_handle = ?`, [r.session.handle]);
        assert.equal(rows.length, 1);
        assert.equal(rows[0].user_id, 'user-1');
        assert.equal(rows[0].refresh_token_hash_2, sha256hex(sha256hex(r.refreshToken.value)));
        assert.equal(Number(rows[0].expires_at), r.refreshToken.expires);
        assert.deepEqual(await ST.getSessionData(r.session.handle), { secret: true });
      });

      it('two sessions of one user get different handles and tokens', async () => {
        const a = await ST.createNewSession('twice');
        const b = await ST.createNewSession('twice');
        assert.notEqual(a.session.handle, b.session.handle);
        assert.notEqual(a.refreshToken.value, b.refreshToken.value);
        assert.notEqual(a.antiCsrfToken, b.antiCsrfToken);
        assert.deepEqual(
          (await ST.getAllSessionHandlesForUser('twice')).sort(),
          [a.session.handle, b.session.handle].sort(),
        );
      });

      for (const payload of [undefined, null, 0, '', 'text', [], [1, { a: null }], { nested: { deep: [true] } }]) {
        it(`jwtPayload ${JSON.stringify(payload) ?? 'undefined'} reads back deeply equal`, async () => {
          const r = await ST.createNewSession('payload-user', payload);
          assert.deepEqual(r.session.jwtPayload, payload);
          const g = await ST.getSession(r.accessToken.value, null);
          assert.deepEqual(g.session.jwtPayload, payload);
          const rr = await ST.refreshSession(r.refreshToken.value);
          assert.deepEqual(rr.session.jwtPayload, payload);
        });
      }

      for (const userId of [1, null, undefined, {}, ['u']]) {
        it(`userId ${JSON.stringify(userId) ?? 'undefined'} → GENERAL_ERROR`, async () => {
          const before = (await h.query(`SELECT COUNT(*) AS n FROM ${SESSIONS}`))[0].n;
          await h.rejectsWith(ST.createNewSession(userId), GENERAL_ERROR);
          assert.equal((await h.query(`SELECT COUNT(*) AS n FROM ${SESSIONS}`))[0].n, before, 'nothing written');
        });
      }

      for (const userId of ['{"i":1}', ' {"i":"a"}']) {
        it(`userId ${JSON.stringify(userId)} (the original's form of a number id) → GENERAL_ERROR, as in the original`, async () => {
          await h.rejectsWith(ST.createNewSession(userId), GENERAL_ERROR, /"i"/);
          await h.rejectsWith(ST.revokeAllSessionsForUser(userId), GENERAL_ERROR, /"i"/);
          await h.rejectsWith(ST.getAllSessionHandlesForUser(userId), GENERAL_ERROR, /"i"/);
        });
      }

      it('user ids that merely look like JSON are accepted', async () => {
        for (const userId of ['{"i":1,"j":2}', '{"j":1}', 'null', '[1]', '{']) {
          const r = await ST.createNewSession(userId);
          assert.equal((await ST.getSession(r.accessToken.value, null)).session.userId, userId);
        }
      });
    });

    describe('getSession(accessToken, antiCsrfToken | null)', () => {
      it('returns {session, newAccessToken: undefined} for a fresh token', async () => {
        const r = await ST.createNewSession('get-user', { p: 1 });
        const g = await ST.getSession(r.accessToken.value, r.antiCsrfToken);
        assert.deepEqual(Object.keys(g).sort(), ['newAccessToken', 'session']);
        assert.deepEqual(g.session, { handle: r.session.handle, userId: 'get-user', jwtPayload: { p: 1 } });
        assert.equal(g.newAccessToken, undefined);
      });

      it('null skips the anti-CSRF check', async () => {
        const r = await ST.createNewSession('get-user');
        const g = await ST.getSession(r.accessToken.value, null);
        assert.equal(g.session.handle, r.session.handle);
      });

      it('a wrong anti-CSRF token → TRY_REFRESH_TOKEN', async () => {
        const r = await ST.createNewSession('get-user');
        await h.rejectsWith(ST.getSession(r.accessToken.value, 'wrong'), TRY_REFRESH_TOKEN);
        await h.rejectsWith(ST.getSession(r.accessToken.value, ''), TRY_REFRESH_TOKEN);
      });

      it('undefined as the anti-CSRF token → GENERAL_ERROR (also when omitted)', async () => {
        const r = await ST.createNewSession('get-user');
        await h.rejectsWith(ST.getSession(r.accessToken.value, undefined), GENERAL_ERROR);
        await h.rejectsWith(ST.getSession(r.accessToken.value), GENERAL_ERROR);
      });

      for (const [name, args] of [
        ['a non-string access token', [123, null]],
        ['an object as access token', [{}, undefined]],
      ]) {
        it(`${name} → GENERAL_ERROR`, async () => {
          await h.rejectsWith(ST.getSession(...args), GENERAL_ERROR);
        });
      }

      it('a non-string anti-CSRF token → GENERAL_ERROR once the access token verified', async () => {
        const r = await ST.createNewSession('get-user');
        await h.rejectsWith(ST.getSession(r.accessToken.value, 42), GENERAL_ERROR, /antiCsrfToken/);
        await h.rejectsWith(ST.getSession('x', 42), TRY_REFRESH_TOKEN);
      });

      it('a missing access token (undefined, null) → TRY_REFRESH_TOKEN, as in the original', async () => {
        await h.rejectsWith(ST.getSession(undefined, null), TRY_REFRESH_TOKEN);
        await h.rejectsWith(ST.getSession(null, null), TRY_REFRESH_TOKEN);
        await h.rejectsWith(ST.getSession(undefined, undefined), TRY_REFRESH_TOKEN);
        // verified before the anti-CSRF argument is looked at
        await h.rejectsWith(ST.getSession('garbage', undefined), TRY_REFRESH_TOKEN);
      });

      it('a garbage access token → TRY_REFRESH_TOKEN', async () => {
        await h.rejectsWith(ST.getSession('garbage', null), TRY_REFRESH_TOKEN);
      });

      describe('the same token verified again (decoded once, copied per call)', () => {
        const odd = JSON.parse('{"__proto__":{"x":1},"1":"one","a":[1,[2,{"b":null}]],"s":"é ☃ 😀","n":-0.5}');
        for (const [name, payload] of [
          ['an object with an own "__proto__" key, nesting and non-ASCII text', odd],
          ['a payload longer than the kept size (parsed every time)', { long: 'x'.repeat(600), list: [1, 2, 3] }],
          ['an array', [{ a: 1 }, [2]]],
          ['a string', 'just text'],
          ['undefined', undefined],
        ]) {
          it(`${name}: every call returns an equal, separate copy`, async () => {
            const r = await ST.createNewSession('ünïcode-user 😀', payload);
            const calls = [];
            for (let i = 0; i < 3; i++) calls.push((await ST.getSession(r.accessToken.value, r.antiCsrfToken)).session);
            for (const s of calls) {
              assert.deepStrictEqual(s, { handle: r.session.handle, userId: 'ünïcode-user 😀', jwtPayload: payload });
            }
            if (payload !== null && typeof payload === 'object') {
              assert.notEqual(calls[1].jwtPayload, calls[2].jwtPayload, 'a fresh object per call');
              // The app may change its copy; the next call must not see it.
              calls[1].jwtPayload.added = true;
              const inner = Array.isArray(payload)
                ? calls[1].jwtPayload[0]
                : (calls[1].jwtPayload.list ?? calls[1].jwtPayload.a);
              inner.push ? inner.push('changed') : (inner.changed = true);
              const again = (await ST.getSession(r.accessToken.value, r.antiCsrfToken)).session;
              assert.deepStrictEqual(again.jwtPayload, payload);
            }
          });
        }

        it('"__proto__" stays an own property and the prototype stays Object.prototype', async () => {
          const r = await ST.createNewSession('proto-user', odd);
          for (let i = 0; i < 2; i++) {
            const p = (await ST.getSession(r.accessToken.value, null)).session.jwtPayload;
            assert.equal(Object.getPrototypeOf(p), Object.prototype);
            assert.ok(Object.hasOwn(p, '__proto__'));
            assert.equal(p.x, undefined);
            assert.deepStrictEqual(Object.keys(p), ['1', '__proto__', 'a', 's', 'n']);
          }
        });

        it('interleaved sessions each get their own user and payload', async () => {
          const made = [];
          for (let i = 0; i < 20; i++) made.push(await ST.createNewSession(`mix-${i}`, { i }));
          for (let round = 0; round < 3; round++) {
            for (let i = 0; i < made.length; i++) {
              const s = (await ST.getSession(made[i].accessToken.value, made[i].antiCsrfToken)).session;
              assert.deepStrictEqual(s, { handle: made[i].session.handle, userId: `mix-${i}`, jwtPayload: { i } });
            }
          }
        });
      });

      it('a refreshed (child) token returns newAccessToken once, then undefined', async () => {
        const r = await ST.createNewSession('child-user', { c: true });
        const rr = await ST.refreshSession(r.refreshToken.value);
        const g1 = await ST.getSession(rr.newAccessToken.value, rr.newAntiCsrfToken);
        assert.deepEqual(g1.session, { handle: r.session.handle, userId: 'child-user', jwtPayload: { c: true } });
        assertToken(g1.newAccessToken, HOUR_MS, 'newAccessToken');
        assert.notEqual(g1.newAccessToken.value, rr.newAccessToken.value);
        assert.equal(await storedHash2(r.session.handle), sha256hex(sha256hex(rr.newRefreshToken.value)));
        const g2 = await ST.getSession(g1.newAccessToken.value, rr.newAntiCsrfToken);
        assert.equal(g2.newAccessToken, undefined);
        assert.equal(g2.session.handle, r.session.handle);
      });
    });

    describe('refreshSession(refreshToken)', () => {
      it('returns {session, newAccessToken, newRefreshToken, newIdRefreshToken, newAntiCsrfToken}', async () => {
        const r = await ST.createNewSession('refresh-user', ['p']);
        const rr = await ST.refreshSession(r.refreshToken.value);
        assert.deepEqual(Object.keys(rr).sort(), [
          'newAccessToken',
          'newAntiCsrfToken',
          'newIdRefreshToken',
          'newRefreshToken',
          'session',
        ]);
        assert.deepEqual(rr.session, { handle: r.session.handle, userId: 'refresh-user', jwtPayload: ['p'] });
        assertToken(rr.newAccessToken, HOUR_MS, 'newAccessToken');
        assertToken(rr.newRefreshToken, 2400 * HOUR_MS, 'newRefreshToken');
        assertToken(rr.newIdRefreshToken, 2400 * HOUR_MS, 'newIdRefreshToken');
        assert.equal(typeof rr.newAntiCsrfToken, 'string');
        assert.notEqual(rr.newAccessToken.value, r.accessToken.value);
        assert.notEqual(rr.newRefreshToken.value, r.refreshToken.value);
        assert.notEqual(rr.newIdRefreshToken.value, r.idRefreshToken.value);
        assert.notEqual(rr.newAntiCsrfToken, r.antiCsrfToken);
        await h.rejectsWith(ST.getSession(rr.newAccessToken.value, r.antiCsrfToken), TRY_REFRESH_TOKEN);
        const g = await ST.getSession(rr.newAccessToken.value, rr.newAntiCsrfToken);
        assert.equal(g.session.userId, 'refresh-user');
      });

      it('garbage or missing → UNAUTHORISED; another non-string → GENERAL_ERROR', async () => {
        await h.rejectsWith(ST.refreshSession('garbage'), UNAUTHORISED);
        await h.rejectsWith(ST.refreshSession(undefined), UNAUTHORISED);
        await h.rejectsWith(ST.refreshSession(null), UNAUTHORISED);
        await h.rejectsWith(ST.refreshSession(42), GENERAL_ERROR);
      });

      it('reuse of a rotated-out token → UNAUTHORISED_AND_TOKEN_THEFT_DETECTED with err {sessionHandle, userId}', async () => {
        const r = await ST.createNewSession('theft-user');
        const rr = await ST.refreshSession(r.refreshToken.value);
        await ST.refreshSession(rr.newRefreshToken.value);
        await assert.rejects(ST.refreshSession(r.refreshToken.value), (e) => {
          assert.ok(ST.Error.isErrorFromAuth(e));
          assert.equal(e.errType, UNAUTHORISED_AND_TOKEN_THEFT_DETECTED);
          assert.deepEqual({ ...e.err }, { sessionHandle: r.session.handle, userId: 'theft-user' });
          return true;
        });
      });
    });

    describe('errors', () => {
      it('the four codes', () => {
        assert.deepEqual(
          { GENERAL_ERROR, UNAUTHORISED, TRY_REFRESH_TOKEN, UNAUTHORISED_AND_TOKEN_THEFT_DETECTED },
          {
            GENERAL_ERROR: 1000,
            UNAUTHORISED: 2000,
            TRY_REFRESH_TOKEN: 3000,
            UNAUTHORISED_AND_TOKEN_THEFT_DETECTED: 4000,
          },
        );
      });

      const NOT_OURS = [
        { name: 'null', value: null },
        { name: 'undefined', value: undefined },
        { name: 'a string', value: 'UNAUTHORISED' },
        { name: 'a number', value: 2000 },
        { name: 'a plain Error', value: new Error('boom') },
        { name: 'a TypeError', value: new TypeError('boom') },
        { name: '{errType: 1000}', value: { errType: 1000 } },
        { name: '{errType: 2000, err: Error}', value: { errType: 2000, err: new Error('x') } },
        { name: 'an Error with errType 3000', value: Object.assign(new Error('x'), { errType: 3000 }) },
      ];
      for (const { name, value } of NOT_OURS) {
        it(`isErrorFromAuth(${name}) is false`, () => {
          assert.equal(ST.Error.isErrorFromAuth(value), false);
        });
      }

      /** Calls that reject, with the errType each must have. */
      const REJECTIONS = [
        { name: 'createNewSession(5)', errType: GENERAL_ERROR, call: () => ST.createNewSession(5) },
        {
          name: 'createNewSession with a function payload',
          errType: GENERAL_ERROR,
          call: () => ST.createNewSession('u', () => 1),
        },
        {
          name: 'getSession(token, undefined)',
          errType: GENERAL_ERROR,
          call: async () => ST.getSession((await ST.createNewSession('u')).accessToken.value, undefined),
        },
        { name: 'getSession(garbage, null)', errType: TRY_REFRESH_TOKEN, call: () => ST.getSession('garbage', null) },
        { name: 'refreshSession(garbage)', errType: UNAUTHORISED, call: () => ST.refreshSession('garbage') },
        { name: 'getSessionData(unknown)', errType: UNAUTHORISED, call: () => ST.getSessionData('unknown-handle') },
        {
          name: 'updateSessionData(unknown, 1)',
          errType: UNAUTHORISED,
          call: () => ST.updateSessionData('unknown-handle', 1),
        },
        {
          name: 'revokeSessionUsingSessionHandle(1)',
          errType: GENERAL_ERROR,
          call: () => ST.revokeSessionUsingSessionHandle(1),
        },
        {
          name: 'refresh token reuse',
          errType: UNAUTHORISED_AND_TOKEN_THEFT_DETECTED,
          call: async () => {
            const r = await ST.createNewSession('u');
            const rr = await ST.refreshSession(r.refreshToken.value);
            await ST.getSession(rr.newAccessToken.value, null);
            return ST.refreshSession(r.refreshToken.value);
          },
        },
      ];
      for (const { name, errType, call } of REJECTIONS) {
        it(`${name} rejects with an Error instance (errType ${errType}) with a message and stack`, async () => {
          await assert.rejects(call(), (e) => {
            assert.ok(e instanceof Error, 'an Error instance');
            assert.equal(ST.Error.isErrorFromAuth(e), true);
            assert.equal(STExpress.Error.isErrorFromAuth(e), true);
            assert.equal(e.errType, errType);
            assert.ok(e.err !== undefined && e.err !== null, 'carries err');
            assert.equal(typeof e.message, 'string');
            assert.ok(e.message.trim().length > 5, `a useful message: ${e.message}`);
            assert.equal(typeof e.stack, 'string');
            assert.ok(e.stack.length > e.message.length, 'a stack');
            return true;
          });
        });
      }

      it('errors carry no secrets in their message', async () => {
        const r = await ST.createNewSession('secret-user');
        const rr = await ST.refreshSession(r.refreshToken.value);
        await ST.refreshSession(rr.newRefreshToken.value);
        const e = await ST.refreshSession(r.refreshToken.value).catch((x) => x);
        assert.equal(e.errType, UNAUTHORISED_AND_TOKEN_THEFT_DETECTED);
        for (const secret of [r.refreshToken.value, rr.newRefreshToken.value, sha256hex(r.refreshToken.value)]) {
          assert.ok(!e.message.includes(secret), 'no token in the message');
          assert.ok(!String(e.stack).includes(secret), 'no token in the stack');
        }
      });
    });

    describe('app exceptions pass through untouched', () => {
      class AppError extends Error {}
      let server;
      const seen = [];

      before(async () => {
        const app = express();
        app.post('/login', async (req, res) => {
          await STExpress.createNewSession(res, 'route-user');
          res.send('ok');
        });
        // App code that throws after (and inside a continuation of) package calls.
        app.get('/after-get-session', async (req, res, next) => {
          try {
            await STExpress.getSession(req, res, false);
            throw new AppError('app bug after getSession');
          } catch (e) {
            next(e);
          }
        });
        app.get('/inside-then', (req, res, next) => {
          STExpress.getSession(req, res, false)
            .then(() => {
              throw new TypeError('app bug inside then');
            })
            .catch(next);
        });
        app.get('/plain-value', async (req, res, next) => {
          try {
            await ST.getAllSessionHandlesForUser('route-user');
            throw Object.freeze({ code: 'APP_VALUE' });
          } catch (e) {
            next(e);
          }
        });
        // eslint-disable-next-line no-unused-vars
        app.use((err, req, res, _next) => {
          seen.push(err);
          res.status(500).json({ isErrorFromAuth: STExpress.Error.isErrorFromAuth(err) });
        });
        server = await h.listen(app);
      });

      after(() => server.close());

      const cases = [
        { path: '/after-get-session', check: (e) => e instanceof AppError && e.message === 'app bug after getSession' },
        { path: '/inside-then', check: (e) => e instanceof TypeError && e.message === 'app bug inside then' },
        {
          path: '/plain-value',
          check: (e) => Object.isFrozen(e) && e.code === 'APP_VALUE' && Object.keys(e).length === 1,
        },
      ];
      for (const c of cases) {
        it(`${c.path}: the error handler receives the app's own error`, async () => {
          const jar = new h.CookieJar();
          await h.send(server.url, jar, '/login', { method: 'POST' });
          seen.length = 0;
          const r = await h.send(server.url, jar, c.path);
          assert.equal(r.status, 500);
          assert.deepEqual(JSON.parse(r.text_), { isErrorFromAuth: false });
          assert.equal(seen.length, 1);
          const e = seen[0];
          assert.ok(c.check(e), `unexpected error: ${e && e.stack}`);
          assert.equal(e.errType, undefined, 'not given an errType');
          assert.equal(e.err, undefined, 'not wrapped');
          for (const name of ['sAccessToken', 'sRefreshToken', 'sIdRefreshToken']) h.shouldNotSetCookie(r, name);
        });
      }
    });
  });

  describe('config tokens.enableAntiCsrf: false', () => {
    before(() => ST.init(h.configFor(PREFIX, { tokens: { enableAntiCsrf: false } })));
    after(() => ST.close());

    it('createNewSession: antiCsrfToken is undefined', async () => {
      const r = await ST.createNewSession('no-csrf');
      assert.ok('antiCsrfToken' in r, 'the key is present');
      assert.equal(r.antiCsrfToken, undefined);
      assertToken(r.accessToken, HOUR_MS, 'accessToken');
    });

    it('refreshSession: newAntiCsrfToken is undefined', async () => {
      const r = await ST.createNewSession('no-csrf');
      const rr = await ST.refreshSession(r.refreshToken.value);
      assert.equal(rr.newAntiCsrfToken, undefined);
    });

    it('getSession ignores whatever anti-CSRF token is given, but still rejects undefined', async () => {
      const r = await ST.createNewSession('no-csrf');
      for (const antiCsrf of [null, 'anything', '']) {
        const g = await ST.getSession(r.accessToken.value, antiCsrf);
        assert.equal(g.session.handle, r.session.handle);
      }
      await h.rejectsWith(ST.getSession(r.accessToken.value, undefined), GENERAL_ERROR);
    });
  });

  describe('before init', () => {
    const CALLS = [
      ['createNewSession', () => ST.createNewSession('u')],
      ['getSession', () => ST.getSession('t', null)],
      ['getSession without a token', () => ST.getSession(undefined, null)],
      ['refreshSession', () => ST.refreshSession('t')],
      ['refreshSession without a token', () => ST.refreshSession(undefined)],
      ['revokeAllSessionsForUser', () => ST.revokeAllSessionsForUser('u')],
      ['revokeSessionUsingSessionHandle', () => ST.revokeSessionUsingSessionHandle('h')],
      ['getAllSessionHandlesForUser', () => ST.getAllSessionHandlesForUser('u')],
      ['getSessionData', () => ST.getSessionData('h')],
      ['updateSessionData', () => ST.updateSessionData('h', 1)],
      ['getSessionInfo', () => ST.getSessionInfo('h')],
      ['updateSessionInfo', () => ST.updateSessionInfo('h', 1)],
    ];
    for (const [name, call] of CALLS) {
      it(`${name} → GENERAL_ERROR saying to call init first`, async () => {
        await h.rejectsWith(call(), GENERAL_ERROR, /init/);
      });
    }
  });
});

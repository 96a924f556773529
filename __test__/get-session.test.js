'use strict';
/**
 * getSession(req, res, enableCsrfProtection) through Express (SPEC §3 "getSession"), with a
 * browser-like cookie jar, against the real MySQL. Every branch runs twice: once with
 * cookie-parser in front of the routes and once reading the raw Cookie header.
 */

process.env.SUPERTOKENS_TEST_BUILD = '1';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const express = require('express');
const cookieParser = require('cookie-parser');
const ST = require('../express.js');
const native = require('../lib/native.js');
const h = require('./helpers.js');

const PREFIX = 'gs_test';
const SESSIONS = `${PREFIX}_sessions`;
const ACCESS_VALIDITY_MS = 3600 * 1000; // the default accessToken.validity
const REFRESH_VALIDITY_MS = 2400 * 3600 * 1000; // the default refreshToken.validity
const { AUTH_COOKIES } = h;

const { GENERAL_ERROR, UNAUTHORISED, TRY_REFRESH_TOKEN } = ST.Error;

const sha256hex = (s) => crypto.createHash('sha256').update(s).digest('hex');

/** The `enableCsrfProtection` argument each `?csrf=` value stands for. */
const CSRF_ARGS = new Map([
  ['true', true],
  ['false', false],
  ['string-true', 'true'],
  ['number-1', 1],
  ['number-0', 0],
  ['null', null],
  ['undefined', undefined],
  ['object', {}],
]);

const sessionBody = (s) => ({ userId: s.getUserId(), payload: s.getJWTPayload(), handle: s.getHandle() });

function makeApp({ withCookieParser }) {
  return h.makeApp(
    express,
    {
      'POST /login': h.loginRoute(() => [{ role: 'reader' }, { n: 1 }]),
      'GET /session': async (req, res) => {
        const mode = req.query.csrf || 'false';
        assert.ok(CSRF_ARGS.has(mode), `unknown csrf mode ${mode}`);
        res.json(sessionBody(await ST.getSession(req, res, CSRF_ARGS.get(mode))));
      },
      // The Cookie header removed after any middleware ran: only req.cookies is left to read.
      'GET /session-without-cookie-header': async (req, res) => {
        delete req.headers.cookie;
        res.json(sessionBody(await ST.getSession(req, res, false)));
      },
      'POST /refresh': async (req, res) => res.json({ handle: (await ST.refreshSession(req, res)).getHandle() }),
    },
    { use: withCookieParser ? [cookieParser()] : [] },
  );
}

const login = h.login;
const shouldFailWith = h.shouldFailWith;

function getSession(url, jar, { csrf = 'false', headers = {} } = {}) {
  return h.send(url, jar, `/session?csrf=${csrf}`, { headers });
}

function refresh(url, jar) {
  return h.send(url, jar, '/refresh', { method: 'POST' });
}

/** Logs in, then verifies the session 100 times (each must answer 200); returns the SQL statements sent. */
async function statementsOf100GetSessions(url) {
  const { jar } = await login(url);
  const before = native.testQueryCount();
  for (let i = 0; i < 100; i++) {
    const r = await getSession(url, jar);
    assert.equal(r.status, 200, r.text_);
  }
  return native.testQueryCount() - before;
}

/** The response verified the session of `userId`. */
function shouldSucceedFor(response, userId) {
  assert.equal(response.status, 200, response.text_);
  const body = JSON.parse(response.text_);
  assert.equal(body.userId, userId);
  assert.deepEqual(body.payload, { role: 'reader' });
  return body;
}

/** The response touches none of the auth cookies, and the jar still holds all three. */
function shouldKeepCookies(response, jar) {
  for (const name of AUTH_COOKIES) {
    h.shouldNotSetCookie(response, name);
    assert.ok(jar.cookies.has(name), `the jar should still hold ${name}`);
  }
  assert.notEqual(response.headers.get('id-refresh-token'), 'remove');
}

/** Clears the auth cookies on the response and so empties the jar. */
function shouldClearCookies(response, jar) {
  h.shouldClearAuthCookies(response);
  assert.equal(response.headers.get('id-refresh-token'), 'remove');
  for (const name of AUTH_COOKIES) assert.equal(jar.get(name), undefined, `${name} should be gone from the jar`);
}

async function storedHash2(handle) {
  const rows = await h.query(`SELECT refresh_token_hash_2 FROM ${SESSIONS} WHERE session_handle = ?`, [handle]);
  return rows.length === 0 ? undefined : rows[0].refresh_token_hash_2;
}

const b64url = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
const fromB64url = (text) => JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));

/** Ways to spoil a real access token; each must be TRY_REFRESH_TOKEN. */
const SPOILED_ACCESS_TOKENS = [
  { name: 'garbage', spoil: () => 'not-a-jwt' },
  { name: 'empty value', spoil: () => '' },
  { name: 'three garbage parts', spoil: () => 'aaa.bbb.ccc' },
  {
    name: 'payload tampered (userId changed, signature kept)',
    spoil: (t) => {
      const [head, body, sig] = t.split('.');
      return [head, b64url({ ...fromB64url(body), userId: 'attacker' }), sig].join('.');
    },
  },
  {
    name: 'payload tampered (expiry extended, signature kept)',
    spoil: (t) => {
      const [head, body, sig] = t.split('.');
      const claims = fromB64url(body);
      const key = Object.keys(claims).find((k) => /exp/i.test(k));
      assert.ok(key, 'the token carries an expiry claim');
      return [head, b64url({ ...claims, [key]: claims[key] + 10 * ACCESS_VALIDITY_MS }), sig].join('.');
    },
  },
  {
    name: 'signature altered',
    spoil: (t) => {
      const [head, body, sig] = t.split('.');
      const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
      return [head, body, flipped].join('.');
    },
  },
  {
    name: 'signed by an unknown key (same kid, HS256)',
    spoil: (t) => {
      const [head, body] = t.split('.');
      const sig = crypto.createHmac('sha256', 'attacker-key').update(`${head}.${body}`).digest('base64url');
      return `${head}.${body}.${sig}`;
    },
  },
  {
    name: 'alg none',
    spoil: (t) => {
      const [head, body] = t.split('.');
      return `${b64url({ ...fromB64url(head), alg: 'none' })}.${body}.`;
    },
  },
  {
    name: 'unknown kid',
    spoil: (t) => {
      const [head, body] = t.split('.');
      const newHead = b64url({ ...fromB64url(head), kid: 'k1' });
      const sig = crypto.createHmac('sha256', 'attacker-key').update(`${newHead}.${body}`).digest('base64url');
      return `${newHead}.${body}.${sig}`;
    },
  },
  {
    name: 'naming a key newer than any stored one',
    spoil: (t) => {
      const [head, body] = t.split('.');
      const newHead = b64url({ ...fromB64url(head), kid: `k${Date.now()}` });
      const sig = crypto.createHmac('sha256', 'attacker-key').update(`${newHead}.${body}`).digest('base64url');
      return `${newHead}.${body}.${sig}`;
    },
  },
];

const VARIANTS = [
  { name: 'with cookie-parser', withCookieParser: true },
  { name: 'without cookie-parser (raw Cookie header)', withCookieParser: false },
];

describe('getSession (Express)', () => {
  const servers = {};

  before(async () => {
    await h.dropTables(PREFIX);
    for (const v of VARIANTS) servers[v.name] = await h.listen(makeApp(v));
  });

  after(async () => {
    for (const s of Object.values(servers)) await s.close();
  });
  h.resetClock();
  h.closeAfter(ST);

  describe('default config (anti-CSRF on, no blacklisting)', () => {
    before(() => ST.init(h.configFor(PREFIX)));
    after(() => ST.close());

    for (const variant of VARIANTS) {
      describe(variant.name, () => {
        const url = () => servers[variant.name].url;

        it('verifies a fresh session without touching the cookies', async () => {
          const { jar, handle } = await login(url());
          const r = await getSession(url(), jar);
          const body = shouldSucceedFor(r, 'user-1');
          assert.equal(body.handle, handle);
          shouldKeepCookies(r, jar);
        });

        it(
          variant.withCookieParser
            ? 'reads the cookies from req.cookies'
            : 'reads the cookies from the Cookie header only',
          async () => {
            const { jar } = await login(url());
            const r = await h.send(url(), jar, '/session-without-cookie-header');
            if (variant.withCookieParser) shouldSucceedFor(r, 'user-1');
            else shouldFailWith(r, UNAUTHORISED);
          },
        );

        it('no sIdRefreshToken cookie → UNAUTHORISED and all three cookies cleared', async () => {
          const { jar } = await login(url());
          jar.cookies.delete('sIdRefreshToken');
          const r = await getSession(url(), jar);
          shouldFailWith(r, UNAUTHORISED);
          shouldClearCookies(r, jar);
        });

        it('no cookies at all → UNAUTHORISED', async () => {
          const r = await getSession(url(), new h.CookieJar());
          shouldFailWith(r, UNAUTHORISED);
          h.shouldClearAuthCookies(r);
        });

        it('no sAccessToken cookie → TRY_REFRESH_TOKEN and no cookie cleared', async () => {
          const { jar } = await login(url());
          jar.cookies.delete('sAccessToken');
          const r = await getSession(url(), jar);
          shouldFailWith(r, TRY_REFRESH_TOKEN);
          for (const name of AUTH_COOKIES) h.shouldNotSetCookie(r, name);
          assert.ok(jar.get('sIdRefreshToken'));
          assert.ok(jar.get('sRefreshToken'));
        });

        for (const { name, spoil } of SPOILED_ACCESS_TOKENS) {
          it(`access token ${name} → TRY_REFRESH_TOKEN, cookies kept`, async () => {
            const { jar } = await login(url());
            const bad = spoil(jar.get('sAccessToken'));
            jar.cookies.set('sAccessToken', { value: bad, path: '/' });
            const r = await getSession(url(), jar);
            shouldFailWith(r, TRY_REFRESH_TOKEN);
            shouldKeepCookies(r, jar);
            // The session itself is fine: the refresh API recovers it.
            assert.equal((await refresh(url(), jar)).status, 200);
            shouldSucceedFor(await getSession(url(), jar), 'user-1');
          });
        }

        it('an access token just before its expiry still verifies', async () => {
          const { jar } = await login(url());
          native.testSetClockOffset(ACCESS_VALIDITY_MS - 5000);
          shouldSucceedFor(await getSession(url(), jar), 'user-1');
        });

        it('an expired access token (clock moved past validity) → TRY_REFRESH_TOKEN, cookies kept', async () => {
          const { jar } = await login(url());
          native.testSetClockOffset(ACCESS_VALIDITY_MS + 1000);
          const r = await getSession(url(), jar);
          shouldFailWith(r, TRY_REFRESH_TOKEN);
          shouldKeepCookies(r, jar);
          // Refreshing while the clock is still moved gives a token valid at that time.
          assert.equal((await refresh(url(), jar)).status, 200);
          shouldSucceedFor(await getSession(url(), jar), 'user-1');
        });

        for (const mode of ['string-true', 'number-1', 'number-0', 'null', 'undefined', 'object']) {
          it(`enableCsrfProtection = ${mode} (not a boolean) → GENERAL_ERROR, cookies kept`, async () => {
            const { jar, antiCsrf } = await login(url());
            const r = await getSession(url(), jar, { csrf: mode, headers: { 'anti-csrf': antiCsrf } });
            shouldFailWith(r, GENERAL_ERROR);
            assert.match(JSON.parse(r.text_).message, /enableCsrfProtection/);
            shouldKeepCookies(r, jar);
          });
        }

        describe('CSRF protection requested by the call', () => {
          const cases = [
            { name: 'missing anti-csrf header', header: () => undefined, ok: false },
            { name: 'empty anti-csrf header', header: () => '', ok: false },
            { name: 'wrong anti-csrf header', header: () => crypto.randomUUID(), ok: false },
            { name: "another session's anti-csrf token", header: (_own, other) => other, ok: false },
            { name: 'right anti-csrf header with a trailing character', header: (own) => `${own}x`, ok: false },
            { name: 'right anti-csrf header', header: (own) => own, ok: true },
          ];
          for (const c of cases) {
            it(`${c.name} → ${c.ok ? 'ok' : 'TRY_REFRESH_TOKEN, cookies kept'}`, async () => {
              const { jar, antiCsrf } = await login(url());
              const other = await login(url(), 'user-2');
              assert.match(antiCsrf, /\S{16,}/, 'login sends an anti-csrf header');
              assert.notEqual(antiCsrf, other.antiCsrf);
              const value = c.header(antiCsrf, other.antiCsrf);
              const headers = value === undefined ? {} : { 'anti-csrf': value };
              const r = await getSession(url(), jar, { csrf: 'true', headers });
              if (c.ok) shouldSucceedFor(r, 'user-1');
              else shouldFailWith(r, TRY_REFRESH_TOKEN);
              shouldKeepCookies(r, jar);
            });
          }

          it('after a refresh only the new anti-csrf token is accepted', async () => {
            const { jar, antiCsrf } = await login(url());
            const rr = await refresh(url(), jar);
            assert.equal(rr.status, 200, rr.text_);
            const fresh = rr.headers.get('anti-csrf');
            assert.ok(fresh);
            assert.notEqual(fresh, antiCsrf);
            shouldFailWith(
              await getSession(url(), jar, { csrf: 'true', headers: { 'anti-csrf': antiCsrf } }),
              TRY_REFRESH_TOKEN,
            );
            shouldSucceedFor(await getSession(url(), jar, { csrf: 'true', headers: { 'anti-csrf': fresh } }), 'user-1');
          });
        });

        it('CSRF protection off for the call → ok without (or with a wrong) anti-csrf header', async () => {
          const { jar } = await login(url());
          shouldSucceedFor(await getSession(url(), jar, { csrf: 'false' }), 'user-1');
          shouldSucceedFor(
            await getSession(url(), jar, { csrf: 'false', headers: { 'anti-csrf': 'wrong' } }),
            'user-1',
          );
        });

        it('without blacklisting a revoked session still verifies until its access token expires', async () => {
          const { jar, handle } = await login(url());
          assert.equal(await ST.revokeSessionUsingSessionHandle(handle), true);
          const r = await getSession(url(), jar);
          shouldSucceedFor(r, 'user-1');
          shouldKeepCookies(r, jar);
          native.testSetClockOffset(ACCESS_VALIDITY_MS + 1000);
          shouldFailWith(await getSession(url(), jar), TRY_REFRESH_TOKEN);
          const rr = await refresh(url(), jar);
          shouldFailWith(rr, UNAUTHORISED);
          shouldClearCookies(rr, jar);
        });

        describe('child-token promotion', () => {
          it('the first getSession with a refreshed (child) token sends a new sAccessToken and promotes the refresh token', async () => {
            const { jar, handle } = await login(url());
            const r1 = jar.get('sRefreshToken');
            assert.equal(await storedHash2(handle), sha256hex(sha256hex(r1)), 'the row holds hash(hash(R1))');

            const rr = await refresh(url(), jar);
            assert.equal(rr.status, 200, rr.text_);
            const r2 = jar.get('sRefreshToken');
            const childAccess = jar.get('sAccessToken');
            assert.notEqual(r2, r1);
            assert.equal(await storedHash2(handle), sha256hex(sha256hex(r1)), 'refreshing alone does not promote');

            const first = await getSession(url(), jar);
            shouldSucceedFor(first, 'user-1');
            const c = h.shouldSetCookie(first, 'sAccessToken', { httponly: true, path: '/', domain: 'localhost' });
            assert.notEqual(c.value, childAccess, 'a fresh access token');
            assert.ok(Date.parse(c.attributes.expires) > Date.now() + ACCESS_VALIDITY_MS - 60_000);
            h.shouldNotSetCookie(first, 'sRefreshToken');
            h.shouldNotSetCookie(first, 'sIdRefreshToken');
            assert.equal(jar.get('sAccessToken'), c.value);
            assert.equal(await storedHash2(handle), sha256hex(sha256hex(r2)), 'the row now holds hash(hash(R2))');

            const before = native.testQueryCount();
            const second = await getSession(url(), jar);
            shouldSucceedFor(second, 'user-1');
            for (const name of AUTH_COOKIES) h.shouldNotSetCookie(second, name);
            assert.equal(native.testQueryCount(), before, 'the promoted token takes the no-DB path');
            assert.equal(await storedHash2(handle), sha256hex(sha256hex(r2)));
          });

          it('the promoted access token still carries the anti-csrf token of the refresh', async () => {
            const { jar } = await login(url());
            const rr = await refresh(url(), jar);
            const antiCsrf = rr.headers.get('anti-csrf');
            const first = await getSession(url(), jar, { csrf: 'true', headers: { 'anti-csrf': antiCsrf } });
            shouldSucceedFor(first, 'user-1');
            h.shouldSetCookie(first, 'sAccessToken');
            shouldSucceedFor(
              await getSession(url(), jar, { csrf: 'true', headers: { 'anti-csrf': antiCsrf } }),
              'user-1',
            );
          });

          it('concurrent first uses of the same child token all succeed', async () => {
            const { jar, handle } = await login(url());
            await refresh(url(), jar);
            const r2 = jar.get('sRefreshToken');
            const cookie = jar.header('/session');
            const responses = await Promise.all(
              Array.from({ length: 8 }, () => fetch(`${url()}/session?csrf=false`, { headers: { cookie } })),
            );
            for (const r of responses) {
              r.text_ = await r.text();
              shouldSucceedFor(r, 'user-1');
              h.shouldSetCookie(r, 'sAccessToken');
            }
            assert.equal(await storedHash2(handle), sha256hex(sha256hex(r2)));
          });

          // The refresh validity has passed but the removal job has not run yet: the row is
          // still there, expired. A child access token minted just before must not revive it.
          async function childOfExpiringSession() {
            const { jar, handle } = await login(url());
            native.testSetClockOffset(REFRESH_VALIDITY_MS - 10 * 60_000);
            assert.equal((await refresh(url(), jar)).status, 200);
            native.testSetClockOffset(REFRESH_VALIDITY_MS + 5 * 60_000);
            return { jar, handle };
          }

          it('promotion of a session past its refresh validity → UNAUTHORISED, cookies cleared', async () => {
            const { jar, handle } = await childOfExpiringSession();
            const expiresAt = Number(
              (await h.query(`SELECT expires_at FROM ${SESSIONS} WHERE session_handle = ?`, [handle]))[0].expires_at,
            );
            const r = await getSession(url(), jar);
            shouldFailWith(r, UNAUTHORISED);
            shouldClearCookies(r, jar);
            const rows = await h.query(`SELECT expires_at FROM ${SESSIONS} WHERE session_handle = ?`, [handle]);
            assert.ok(rows.length === 0 || Number(rows[0].expires_at) === expiresAt, 'the expiry is not extended');
          });

          it('a session past its refresh validity cannot be revived through getSession: the next refresh → UNAUTHORISED', async () => {
            const { jar } = await childOfExpiringSession();
            await getSession(url(), jar); // whatever it answers
            const rr = await refresh(url(), jar);
            shouldFailWith(rr, UNAUTHORISED);
            h.shouldClearAuthCookies(rr);
          });

          for (const how of ['revokeSessionUsingSessionHandle', 'a direct DELETE']) {
            it(`promotion when the session row is gone (${how}) → UNAUTHORISED, cookies cleared`, async () => {
              const { jar, handle } = await login(url());
              assert.equal((await refresh(url(), jar)).status, 200);
              if (how === 'a direct DELETE')
                await h.query(`DELETE FROM ${SESSIONS} WHERE session_handle = ?`, [handle]);
              else assert.equal(await ST.revokeSessionUsingSessionHandle(handle), true);
              const r = await getSession(url(), jar);
              shouldFailWith(r, UNAUTHORISED);
              shouldClearCookies(r, jar);
            });
          }
        });

        it('the no-DB fast path: 100 getSession calls with a parent token send no SQL', async () => {
          assert.equal(await statementsOf100GetSessions(url()), 0);
        });
      });
    }
  });

  describe('config tokens.enableAntiCsrf: false', () => {
    before(() => ST.init(h.configFor(PREFIX, { tokens: { enableAntiCsrf: false } })));
    after(() => ST.close());

    for (const variant of VARIANTS) {
      it(`${variant.name}: no anti-csrf header is issued and no check is made even when the call asks`, async () => {
        const url = servers[variant.name].url;
        const jar = new h.CookieJar();
        const r = await h.send(url, jar, '/login', { method: 'POST' });
        assert.equal(r.status, 200);
        h.shouldNotHaveHeader(r, 'anti-csrf');
        shouldSucceedFor(await getSession(url, jar, { csrf: 'true' }), 'user-1');
        shouldSucceedFor(await getSession(url, jar, { csrf: 'true', headers: { 'anti-csrf': 'whatever' } }), 'user-1');
        const rr = await refresh(url, jar);
        assert.equal(rr.status, 200);
        h.shouldNotHaveHeader(rr, 'anti-csrf');
        shouldSucceedFor(await getSession(url, jar, { csrf: 'true' }), 'user-1');
        // Still a boolean is required.
        shouldFailWith(await getSession(url, jar, { csrf: 'string-true' }), GENERAL_ERROR);
      });
    }
  });

  describe('config tokens.accessToken.blacklisting: true', () => {
    before(() => ST.init(h.configFor(PREFIX, { tokens: { accessToken: { blacklisting: true } } })));
    after(() => ST.close());

    for (const variant of VARIANTS) {
      describe(variant.name, () => {
        const url = () => servers[variant.name].url;

        it('a live session verifies', async () => {
          const { jar } = await login(url());
          const r = await getSession(url(), jar);
          shouldSucceedFor(r, 'user-1');
          shouldKeepCookies(r, jar);
        });

        const revocations = [
          { name: 'revokeSessionUsingSessionHandle', revoke: (handle) => ST.revokeSessionUsingSessionHandle(handle) },
          { name: 'revokeAllSessionsForUser', revoke: () => ST.revokeAllSessionsForUser('blacklisted-user') },
        ];
        for (const { name, revoke } of revocations) {
          it(`after ${name}, getSession → UNAUTHORISED immediately, cookies cleared`, async () => {
            const { jar, handle } = await login(url(), 'blacklisted-user');
            shouldSucceedFor(await getSession(url(), jar), 'blacklisted-user');
            await revoke(handle);
            const r = await getSession(url(), jar);
            shouldFailWith(r, UNAUTHORISED);
            shouldClearCookies(r, jar);
          });
        }

        it('other sessions are unaffected by a revocation', async () => {
          const a = await login(url(), 'user-a');
          const b = await login(url(), 'user-b');
          assert.equal(await ST.revokeSessionUsingSessionHandle(a.handle), true);
          shouldFailWith(await getSession(url(), a.jar), UNAUTHORISED);
          shouldSucceedFor(await getSession(url(), b.jar), 'user-b');
        });

        it('each getSession sends exactly one SQL statement', async () => {
          assert.equal(await statementsOf100GetSessions(url()), 100);
        });
      });
    }
  });
});

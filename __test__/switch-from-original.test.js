'use strict';
/**
 * Switching from the original library (5.0.4) logs nobody out (issue 13.1): sessions created
 * by the original, in a process of its own, on the same tables, continue under this package —
 * its access tokens verify with the same claims until they expire, its refresh tokens
 * refresh into our formats, and replaying a refresh token the original had rotated out is
 * still theft. Framework-free and over HTTP through both Express APIs. Forged or altered
 * tokens of the original's form are rejected, and `tokens.acceptOriginalTokens: false`
 * turns the acceptance off.
 */

process.env.SUPERTOKENS_TEST_BUILD = '1';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const express = require('express');
const ST = require('../index.js');
const STx = require('../express.js');
const native = require('../lib/native.js');
const h = require('./helpers.js');

const { TRY_REFRESH_TOKEN, UNAUTHORISED, UNAUTHORISED_AND_TOKEN_THEFT_DETECTED } = ST.Error;
const FIXTURE = path.join(__dirname, 'fixtures', 'original-app.js');
const PER_STATE = 15;
const ORIGINAL_HEADER = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.';

/** The environment of the original's process: the suites' MySQL, no test build. */
function originalEnv() {
  const env = { ...process.env };
  delete env.SUPERTOKENS_TEST_BUILD;
  delete env.NODE_OPTIONS;
  return env;
}

/** Sessions the original created, by state (see fixtures/original-app.js). */
function originalSessions(prefix, n) {
  return h.runFixture('original-app.js', ['sessions', prefix, String(n)]);
}

const isOurs = (token) => !token.startsWith(ORIGINAL_HEADER) && !token.includes('.');

/** Runs `step` and records a forced logout (a rejection) instead of stopping at the first. */
async function continued(logouts, label, step) {
  try {
    return await step();
  } catch (e) {
    logouts.push(`${label}: ${e.errType} ${e.message}`);
    return undefined;
  }
}

const { rejectsWith } = h;

describe('framework-free: every session the original created continues', () => {
  const PREFIX = 'switch_ff';
  let made;

  before(async () => {
    await h.dropTables(PREFIX);
    made = await originalSessions(PREFIX, PER_STATE);
    await ST.init(h.configFor(PREFIX));
  });
  h.resetClock();
  after(() => ST.close());

  /** After our refresh: our formats, and the new access token works (promoting the child). */
  async function refreshedIntoOurs(logouts, s, refreshToken) {
    const r = await continued(logouts, `${s.userId} refresh`, () => ST.refreshSession(refreshToken));
    if (r === undefined) return undefined;
    assert.ok(isOurs(r.newRefreshToken.value), 'the new refresh token is ours');
    assert.ok(!r.newAccessToken.value.startsWith(ORIGINAL_HEADER), 'the new access token is ours');
    assert.equal(r.session.handle, s.handle);
    assert.equal(r.session.userId, s.userId);
    assert.deepEqual(r.session.jwtPayload, s.payload);
    const v = await continued(logouts, `${s.userId} after refresh`, () =>
      ST.getSession(r.newAccessToken.value, r.newAntiCsrfToken),
    );
    if (v !== undefined) assert.ok(v.newAccessToken !== undefined, 'our child token is promoted on first use');
    return r;
  }

  it('all four states: same claims, data, refresh into our formats, theft still detected', async () => {
    const logouts = [];
    let thefts = 0;
    const theft = async (s, token) => {
      await rejectsWith(ST.refreshSession(token), UNAUTHORISED_AND_TOKEN_THEFT_DETECTED).then(
        () => thefts++,
        (e) => logouts.push(`${s.userId}: replay was not theft: ${e.message}`),
      );
    };

    for (const s of [...made.parent, ...made.numeric]) {
      const v = await continued(logouts, `${s.userId} getSession`, () => ST.getSession(s.access, s.antiCsrf));
      if (v !== undefined) {
        assert.deepEqual(v.session, { handle: s.handle, userId: s.userId, jwtPayload: s.payload });
        assert.equal(v.newAccessToken, undefined, 'a parent token needs no database');
      }
      assert.deepEqual(await ST.getSessionData(s.handle), s.data);
      if ((await refreshedIntoOurs(logouts, s, s.refresh)) !== undefined) await theft(s, s.refresh);
    }

    for (const [i, s] of made.child.entries()) {
      if (i % 2 === 0) {
        // The child access token is used first: we promote the original's child.
        const v = await continued(logouts, `${s.userId} getSession`, () => ST.getSession(s.access, s.antiCsrf));
        if (v !== undefined) {
          assert.deepEqual(v.session, { handle: s.handle, userId: s.userId, jwtPayload: s.payload });
          assert.ok(
            v.newAccessToken !== undefined && !v.newAccessToken.value.startsWith(ORIGINAL_HEADER),
            'replaced by one of ours',
          );
          assert.equal((await ST.getSession(v.newAccessToken.value, s.antiCsrf)).newAccessToken, undefined);
        }
      }
      // Else the child refresh token comes first (its access token expired unused).
      if ((await refreshedIntoOurs(logouts, s, s.refresh)) !== undefined) await theft(s, s.rotatedOut);
    }

    for (const s of made.promoted) {
      const v = await continued(logouts, `${s.userId} getSession`, () => ST.getSession(s.access, s.antiCsrf));
      if (v !== undefined) assert.equal(v.newAccessToken, undefined, 'the original promoted it already');
      // The login's refresh token was rotated out under the original: theft, before and after.
      await theft(s, s.rotatedOut);
    }

    assert.deepEqual(logouts, [], `${logouts.length} forced logouts`);
    assert.equal(thefts, made.parent.length + made.numeric.length + made.child.length + made.promoted.length);
  });

  it("a numeric userId of the original's is its text: found and revoked by it", async () => {
    const s = made.numeric[0];
    assert.match(s.userId, /^\d+$/);
    const [{ user_id: stored }] = await h.query(`SELECT user_id FROM ${PREFIX}_sessions WHERE session_handle = ?`, [
      s.handle,
    ]);
    assert.equal(stored, `{"i":${s.userId}}`, "the original's stored form (the premise of this test)");
    assert.deepEqual(await ST.getAllSessionHandlesForUser(s.userId), [s.handle]);
    await ST.revokeAllSessionsForUser(s.userId);
    assert.deepEqual(await ST.getAllSessionHandlesForUser(s.userId), []);
    await rejectsWith(ST.getSessionData(s.handle), UNAUTHORISED);
  });

  it("an expired access token of the original's is TRY_REFRESH_TOKEN, and its refresh token still works", async () => {
    const s = made.promoted[0];
    native.testSetClockOffset(3600 * 1000 + 1000); // past the 3600-s access-token validity
    await rejectsWith(ST.getSession(s.access, s.antiCsrf), TRY_REFRESH_TOKEN);
    const r = await ST.refreshSession(s.refresh);
    assert.equal(r.session.handle, s.handle);
  });

  it("forged or altered tokens of the original's form are rejected", async () => {
    const s = made.parent[PER_STATE - 1];
    const [header, payload, signature] = s.access.split('.');
    const flip = (text, at) => text.slice(0, at) + (text[at] === '0' ? '1' : '0') + text.slice(at + 1);
    const claims = JSON.parse(Buffer.from(payload, 'base64').toString());
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, userId: 'admin' })).toString('base64');
    for (const token of [
      `${header}.${payload}.${flip(signature, 10)}`,
      `${header}.${payload}.${signature.toUpperCase()}`,
      `${header}.${payload}.${signature.slice(0, 62)}`,
      `${header}.${forgedPayload}.${signature}`,
      `${header}.${payload}.${payload}.${signature}`,
      `${header}.${payload}.`,
      `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64')}.${payload}.`,
      `${Buffer.from('{"alg":"HS512","typ":"JWT"}').toString('base64')}.${payload}.${signature}`,
      s.access.replace('e', 'Ţ'),
    ]) {
      await rejectsWith(ST.getSession(token, s.antiCsrf), TRY_REFRESH_TOKEN).catch((e) =>
        assert.fail(`${token}: ${e.message}`),
      );
    }
    await rejectsWith(ST.getSession(s.access, 'another-anti-csrf-token'), TRY_REFRESH_TOKEN);

    const [sealed, nonce] = s.refresh.split('.');
    const raw = Buffer.from(sealed, 'base64');
    raw[raw.length - 1] ^= 1;
    for (const token of [
      `${raw.toString('base64')}.${nonce}`,
      `${sealed}.${flip(nonce, 5)}`,
      `${sealed}.${nonce.toUpperCase()}`,
      `${sealed.slice(0, 40)}.${nonce}`,
    ]) {
      await rejectsWith(ST.refreshSession(token), UNAUTHORISED).catch((e) => assert.fail(`${token}: ${e.message}`));
    }
  });

  it("a token of the original's form signed with another deployment's keys is rejected", async () => {
    const OTHER = 'switch_other';
    await h.dropTables(OTHER);
    const other = await originalSessions(OTHER, 1);
    await rejectsWith(ST.getSession(other.parent[0].access, other.parent[0].antiCsrf), TRY_REFRESH_TOKEN);
    await rejectsWith(ST.refreshSession(other.parent[0].refresh), UNAUTHORISED);
    await h.dropTables(OTHER);
  });

  it('tokens.acceptOriginalTokens: false turns the acceptance off; our own tokens keep working', async () => {
    const s = made.parent[PER_STATE - 2];
    const ours = await ST.createNewSession('after-migration', { a: 1 });
    await ST.close();
    await ST.init(h.configFor(PREFIX, { tokens: { acceptOriginalTokens: false } }));
    try {
      await rejectsWith(ST.getSession(made.promoted[1].access, made.promoted[1].antiCsrf), TRY_REFRESH_TOKEN);
      await rejectsWith(ST.refreshSession(made.promoted[1].refresh), UNAUTHORISED);
      assert.equal((await ST.getSession(ours.accessToken.value, ours.antiCsrfToken)).session.userId, 'after-migration');
      assert.equal((await ST.refreshSession(ours.refreshToken.value)).session.userId, 'after-migration');
      // Not even a well-formed parent of the original's is let through.
      await rejectsWith(ST.getSession(s.access, s.antiCsrf), TRY_REFRESH_TOKEN);
    } finally {
      await ST.close();
      await ST.init(h.configFor(PREFIX));
    }
  });
});

describe("over HTTP: a browser logged in by the original's Express app continues on ours", () => {
  const PREFIX = 'switch_http';
  let original;
  let originalUrl;
  let ours;

  function startOriginal() {
    return new Promise((resolve, reject) => {
      original = spawn(process.execPath, [FIXTURE, 'express', PREFIX], {
        env: originalEnv(),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      original.stdout.once('data', (d) => resolve(String(d).trim()));
      original.once('exit', (code) => reject(new Error(`the original's app exited (${code})`)));
    });
  }

  function ourApp() {
    const fail = (res, e) => res.status(STx.Error.isErrorFromAuth(e) ? 440 : 500).send(String(e.errType ?? e.stack));
    return h.makeApp(
      express,
      {
        'GET /user': async (req, res) => {
          const s = await STx.getSession(req, res, true);
          res.send(`${s.getUserId()} ${JSON.stringify(s.getJWTPayload())}`);
        },
        'POST /refresh': h.refreshOkRoute(STx),
      },
      { onError: fail },
    );
  }

  before(async () => {
    await h.dropTables(PREFIX);
    originalUrl = await startOriginal();
    await STx.init(h.configFor(PREFIX));
    ours = await h.listen(ourApp());
  });
  after(async () => {
    original.kill();
    await ours.close();
    await STx.close();
    await h.endQueries();
  });

  it('parent and child states: verify, refresh into our cookies, verify again', async () => {
    const results = [];
    for (let i = 0; i < 10; i++) {
      const jar = new h.CookieJar();
      const login = await h.send(originalUrl, jar, `/login?user=web-${i}`, { method: 'POST' });
      assert.equal(login.status, 200, login.text_);
      let antiCsrf = login.headers.get('anti-csrf');
      if (i % 2 === 1) {
        // A child state: the original refreshed once before the switch.
        const r = await h.send(originalUrl, jar, '/refresh', { method: 'POST' });
        assert.equal(r.status, 200, r.text_);
        antiCsrf = r.headers.get('anti-csrf');
      }
      const before = await h.send(ours.url, jar, '/user', { headers: { 'anti-csrf': antiCsrf } });
      const refreshed = await h.send(ours.url, jar, '/refresh', { method: 'POST' });
      const after = await h.send(ours.url, jar, '/user', {
        headers: { 'anti-csrf': refreshed.headers.get('anti-csrf') },
      });
      results.push([before.status, before.text_, refreshed.status, after.status, isOurs(jar.get('sRefreshToken'))]);
    }
    for (const [i, r] of results.entries()) {
      assert.deepEqual(r, [200, `web-${i} {"role":"user"}`, 200, 200, true], `session ${i}`);
    }
  });
});

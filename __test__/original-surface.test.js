'use strict';
/**
 * The original's Session surface and 5.x names (issue 13.5): read-only `userId`,
 * `sessionHandle` and `jwtUserPayload` on the Express `Session`, and `getSessionInfo` /
 * `updateSessionInfo` as aliases of `getSessionData` / `updateSessionData` on Session and
 * in both entry points.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const ST = require('../express.js');
const core = require('../index.js');
const h = require('./helpers.js');

const PREFIX = 'surface';

h.initOnTables(ST, PREFIX);

function response() {
  return new http.ServerResponse(new http.IncomingMessage(new net.Socket()));
}

/** A request carrying the cookies `res` set (name=value of each Set-Cookie). */
function requestWithCookiesOf(res) {
  const req = new http.IncomingMessage(new net.Socket());
  const cookies = [res.getHeader('set-cookie')].flat().map((line) => line.split(';')[0]);
  req.headers = { cookie: cookies.join('; ') };
  return req;
}

test('Session has read-only userId, sessionHandle and jwtUserPayload, as the original', async () => {
  const payload = { role: 'admin', n: [1, 2] };
  const res = response();
  const created = await ST.createNewSession(res, 'surface-user', payload, { d: 1 });
  const verified = await ST.getSession(requestWithCookiesOf(res), response(), false);
  for (const s of [created, verified]) {
    assert.equal(s.userId, 'surface-user');
    assert.equal(s.userId, s.getUserId());
    assert.equal(s.sessionHandle, s.getHandle());
    assert.match(s.sessionHandle, /\S/);
    assert.deepEqual(s.jwtUserPayload, payload);
    assert.equal(s.jwtUserPayload, s.getJWTPayload(), 'the same value as getJWTPayload()');
    // read-only: assignment throws in strict code and changes nothing
    assert.throws(() => {
      s.userId = 'mallory';
    }, TypeError);
    assert.throws(() => {
      s.sessionHandle = 'other';
    }, TypeError);
    assert.throws(() => {
      s.jwtUserPayload = {};
    }, TypeError);
    assert.equal(s.getUserId(), 'surface-user');
    assert.deepEqual(s.jwtUserPayload, payload);
  }
  assert.equal(created.sessionHandle, verified.sessionHandle);
  // Not own enumerable fields: JSON.stringify(session) and spreading stay as they were.
  assert.deepEqual(Object.keys(created), []);
});

test('Session.getSessionInfo / updateSessionInfo are getSessionData / updateSessionData', async () => {
  const res = response();
  const s = await ST.createNewSession(res, 'surface-info', undefined, { v: 1 });
  assert.deepEqual(await s.getSessionInfo(), { v: 1 });
  await s.updateSessionInfo({ v: 2 });
  assert.deepEqual(await s.getSessionData(), { v: 2 });
  await s.updateSessionData({ v: 3 });
  assert.deepEqual(await s.getSessionInfo(), { v: 3 });

  // UNAUTHORISED once the session is gone, and the cookies are cleared, as for the 4.0.X names
  await core.revokeSessionUsingSessionHandle(s.getHandle());
  const gone = response();
  const again = await ST.getSession(requestWithCookiesOf(res), gone, false);
  await h.rejectsWith(again.getSessionInfo(), core.Error.UNAUTHORISED);
  const cleared = [gone.getHeader('set-cookie')].flat().join('\n');
  assert.match(cleared, /sAccessToken=;/);
  const gone2 = response();
  const again2 = await ST.getSession(requestWithCookiesOf(res), gone2, false);
  await h.rejectsWith(again2.updateSessionInfo({}), core.Error.UNAUTHORISED);
  assert.match([gone2.getHeader('set-cookie')].flat().join('\n'), /sRefreshToken=;/);
});

test('getSessionInfo / updateSessionInfo in both entry points are the 4.0.X functions', async () => {
  for (const m of [ST, core]) {
    assert.equal(m.getSessionInfo, m.getSessionData);
    assert.equal(m.updateSessionInfo, m.updateSessionData);
  }
  const r = await core.createNewSession('surface-module', undefined, ['a']);
  assert.deepEqual(await core.getSessionInfo(r.session.handle), ['a']);
  await ST.updateSessionInfo(r.session.handle, ['b']);
  assert.deepEqual(await ST.getSessionInfo(r.session.handle), ['b']);
  await h.rejectsWith(core.getSessionInfo('no-such-handle'), core.Error.UNAUTHORISED);
  await h.rejectsWith(core.updateSessionInfo('no-such-handle', 1), core.Error.UNAUTHORISED);
});

'use strict';
/**
 * mergeSessionData (issue 14.5): an RFC 7386 JSON merge patch applied in one statement on
 * the server, so concurrent merges of different keys all survive (where read-modify-write
 * with updateSessionData loses updates); the same limits and errors as updateSessionData;
 * through the framework-free API and the Express Session, against the real MySQL.
 */

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const express = require('express');
const ST = require('../index.js');
const STx = require('../express.js');
const h = require('./helpers.js');

const PREFIX = 'merge';
const { GENERAL_ERROR, UNAUTHORISED } = ST.Error;

h.initOnTables(ST, PREFIX);

describe('framework-free mergeSessionData', () => {
  it('merges as RFC 7386 says: set, replace, remove with null, objects recursively', async () => {
    const s = await ST.createNewSession('m1', null, { a: 1, keep: 'x', nested: { x: 1, y: 2 }, list: [1, 2] });
    await ST.mergeSessionData(s.session.handle, { a: 2, b: 'new', keep: null, nested: { y: null, z: 3 }, list: [3] });
    assert.deepEqual(await ST.getSessionData(s.session.handle), { a: 2, b: 'new', nested: { x: 1, z: 3 }, list: [3] });
    await ST.mergeSessionData(s.session.handle, {});
    assert.deepEqual(await ST.getSessionData(s.session.handle), { a: 2, b: 'new', nested: { x: 1, z: 3 }, list: [3] });
  });

  it('merges into undefined, null and non-object data as into {}', async () => {
    for (const data of [undefined, null, [1, 2], 'text', 7]) {
      const s = await ST.createNewSession('m2', null, data);
      await ST.mergeSessionData(s.session.handle, { k: 'v', gone: null });
      assert.deepEqual(await ST.getSessionData(s.session.handle), { k: 'v' }, JSON.stringify(data));
    }
  });

  it('100 concurrent merges of different keys all survive', async () => {
    const s = await ST.createNewSession('m3', null, {});
    await Promise.all(Array.from({ length: 100 }, (_, i) => ST.mergeSessionData(s.session.handle, { [`k${i}`]: i })));
    const data = await ST.getSessionData(s.session.handle);
    assert.equal(Object.keys(data).length, 100);
    for (let i = 0; i < 100; i++) assert.equal(data[`k${i}`], i);
  });

  it('(the problem it solves) concurrent read-modify-write with updateSessionData loses updates', async () => {
    const s = await ST.createNewSession('m4', null, {});
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const data = await ST.getSessionData(s.session.handle);
        await ST.updateSessionData(s.session.handle, { ...data, [`k${i}`]: i });
      }),
    );
    assert.ok(Object.keys(await ST.getSessionData(s.session.handle)).length < 50, 'some updates were lost');
  });

  it('bad patches are GENERAL_ERRORs naming the argument; nothing is written', async () => {
    const s = await ST.createNewSession('m5', null, { safe: true });
    const cases = [
      [undefined, /patch must be a plain object.*undefined/],
      [null, /patch must be a plain object.*null/],
      [[1], /patch must be a plain object.*an array/],
      ['{"a":1}', /patch must be a plain object.*a string/],
      [5, /patch must be a plain object.*a number/],
      [{ big: 10n }, /patch is not JSON-serialisable/],
      [{ big: 'x'.repeat(70_000) }, /patch is .* bytes of JSON; at most 65535 fit/],
    ];
    for (const [patch, message] of cases) {
      await h.rejectsWith(ST.mergeSessionData(s.session.handle, patch), GENERAL_ERROR, message);
    }
    for (const handle of [undefined, null, 42, {}]) {
      await h.rejectsWith(ST.mergeSessionData(handle, { a: 1 }), GENERAL_ERROR, /sessionHandle/);
    }
    assert.deepEqual(await ST.getSessionData(s.session.handle), { safe: true });
  });

  it('a result over the column size is a GENERAL_ERROR and leaves the data as it was', async () => {
    const s = await ST.createNewSession('m6', null, { a: 'x'.repeat(40_000) });
    await h.rejectsWith(
      ST.mergeSessionData(s.session.handle, { b: 'y'.repeat(40_000) }),
      GENERAL_ERROR,
      /over 65535 bytes/,
    );
    const data = await ST.getSessionData(s.session.handle);
    assert.deepEqual(Object.keys(data), ['a']);
  });

  it('stored data that is not JSON is not merged into (GENERAL_ERROR), and is left alone', async () => {
    const s = await ST.createNewSession('m7', null, { a: 1 });
    await h.query(`UPDATE ${PREFIX}_sessions SET session_info = 'not json' WHERE session_handle = ?`, [
      s.session.handle,
    ]);
    await h.rejectsWith(ST.mergeSessionData(s.session.handle, { b: 2 }), GENERAL_ERROR, /not JSON/);
    const [{ session_info: stored }] = await h.query(
      `SELECT session_info FROM ${PREFIX}_sessions WHERE session_handle = ?`,
      [s.session.handle],
    );
    assert.equal(stored, 'not json');
  });

  it('an unknown, revoked or differently-cased handle is UNAUTHORISED', async () => {
    const s = await ST.createNewSession('m8', null, { a: 1 });
    await h.rejectsWith(ST.mergeSessionData('no-such-handle', { a: 1 }), UNAUTHORISED);
    await h.rejectsWith(ST.mergeSessionData(s.session.handle.toUpperCase(), { a: 2 }), UNAUTHORISED);
    await ST.revokeSessionUsingSessionHandle(s.session.handle);
    await h.rejectsWith(ST.mergeSessionData(s.session.handle, { a: 1 }), UNAUTHORISED);
  });
});

describe('Express Session.mergeSessionData', () => {
  let server;

  before(async () => {
    const app = h.makeApp(
      express,
      {
        'POST /login': h.loginOkRoute('web', null, { visits: 0 }),
        'POST /note': async (req, res) => {
          const s = await STx.getSession(req, res, false);
          await s.mergeSessionData({ [String(req.query.k)]: Number(req.query.v) });
          res.json(await s.getSessionData());
        },
      },
      { onError: h.sendErrType },
    );
    server = await h.listen(app);
  });
  after(() => server.close());

  it('merges over HTTP; once the session is revoked it is UNAUTHORISED and clears the cookies', async () => {
    const jar = new h.CookieJar();
    await h.send(server.url, jar, '/login', { method: 'POST' });
    const r = await h.send(server.url, jar, '/note?k=a&v=1', { method: 'POST' });
    assert.equal(r.status, 200, r.text_);
    assert.deepEqual(JSON.parse(r.text_), { visits: 0, a: 1 });
    const [handle] = await STx.getAllSessionHandlesForUser('web');
    // Revoked between getSession (no database) and the merge.
    await STx.revokeSessionUsingSessionHandle(handle);
    const gone = await h.send(server.url, jar, '/note?k=b&v=2', { method: 'POST' });
    assert.equal(gone.text_, String(UNAUTHORISED));
    h.shouldClearAuthCookies(gone);
  });
});

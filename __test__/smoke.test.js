'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const express = require('express');
const ST = require('../express.js');
const h = require('./helpers.js');

const PREFIX = 'smoke';

test('login, verify, refresh and logout through Express', async (t) => {
  await h.dropTables(PREFIX);
  await ST.init(h.configFor(PREFIX));
  const app = h.makeApp(express, {
    'POST /login': h.loginOkRoute('user-1', { name: 'a' }, { things: [1] }),
    'GET /me': async (req, res) => {
      const s = await ST.getSession(req, res, false);
      res.json({ userId: s.getUserId(), payload: s.getJWTPayload() });
    },
    'POST /refresh': h.refreshOkRoute(),
  });
  const server = await h.listen(app);
  t.after(async () => {
    await server.close();
    await ST.close();
    await h.endQueries();
  });
  const jar = new h.CookieJar();
  const login = await h.send(server.url, jar, '/login', { method: 'POST' });
  assert.equal(login.status, 200);
  h.shouldSetCookie(login, 'sAccessToken', {
    httponly: true,
    path: '/',
    domain: 'localhost',
    samesite: 'Lax',
    secure: false,
  });
  const me = await h.send(server.url, jar, '/me');
  assert.deepEqual(JSON.parse(me.text_), { userId: 'user-1', payload: { name: 'a' } });
  const refreshed = await h.send(server.url, jar, '/refresh', { method: 'POST' });
  assert.equal(refreshed.status, 200);
  const rows = await h.query(`SELECT user_id FROM ${PREFIX}_sessions`);
  assert.deepEqual(
    rows.map((r) => r.user_id),
    ['user-1'],
  );
});

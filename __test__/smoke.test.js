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
  const app = express();
  app.post('/login', async (req, res) => {
    await ST.createNewSession(res, 'user-1', { name: 'a' }, { things: [1] });
    res.send('ok');
  });
  app.get('/me', async (req, res) => {
    try {
      const s = await ST.getSession(req, res, false);
      res.json({ userId: s.getUserId(), payload: s.getJWTPayload() });
    } catch (e) {
      res.status(ST.Error.isErrorFromAuth(e) ? 440 : 500).send(String(e.errType));
    }
  });
  app.post('/refresh', async (req, res) => {
    try {
      await ST.refreshSession(req, res);
      res.send('ok');
    } catch (e) {
      res.status(401).send(String(e.errType));
    }
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
  h.shouldSetCookie(login, 'sAccessToken', { httponly: true, path: '/', domain: 'localhost', samesite: 'Lax', secure: false });
  const me = await h.send(server.url, jar, '/me');
  assert.deepEqual(JSON.parse(me.text_), { userId: 'user-1', payload: { name: 'a' } });
  const refreshed = await h.send(server.url, jar, '/refresh', { method: 'POST' });
  assert.equal(refreshed.status, 200);
  const rows = await h.query(`SELECT user_id FROM ${PREFIX}_sessions`);
  assert.deepEqual(rows.map((r) => r.user_id), ['user-1']);
});

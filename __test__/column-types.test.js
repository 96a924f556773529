'use strict';
/**
 * Existing tables are used as they are (issue 12.8): a column whose stored value does not
 * convert to what the package reads (a hand-made table, a DBA's edit) must be a
 * GENERAL_ERROR naming the column, never a panic, a hang or a wrong answer.
 */

const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const ST = require('../index.js');
const h = require('./helpers.js');

const PREFIX = 'coltypes';
const SESSIONS = `${PREFIX}_sessions`;
const GENERAL_ERROR = 1000;

before(async () => {
  await h.dropTables(PREFIX);
  // Loose column types (text for a number, bytes for text), so a bad edit is possible.
  await h.query(`CREATE TABLE ${SESSIONS} (session_handle VARCHAR(255) NOT NULL, user_id VARCHAR(128) NOT NULL,
    refresh_token_hash_2 VARCHAR(128) NOT NULL, session_info BLOB, expires_at VARCHAR(40) NOT NULL, jwt_user_payload TEXT,
    PRIMARY KEY(session_handle)) DEFAULT CHARSET=utf8mb4`);
  await ST.init(h.configFor(PREFIX, { tokens: { accessToken: { blacklisting: true } } }));
});

h.closeAfter(ST);

test('a session row whose expires_at is not a number: GENERAL_ERROR naming the column, and the process lives on', async () => {
  const s = await ST.createNewSession('alice', null, { a: 1 });
  assert.equal(
    (await ST.getSession(s.accessToken.value, s.antiCsrfToken)).session.userId,
    'alice',
    'a well-formed row works',
  );
  await h.query(`UPDATE ${SESSIONS} SET expires_at = 'next tuesday' WHERE session_handle = ?`, [s.session.handle]);
  await h.rejectsWith(ST.refreshSession(s.refreshToken.value), GENERAL_ERROR, /expires_at/);
  // Still serving.
  const t = await ST.createNewSession('bob', null, null);
  assert.equal((await ST.refreshSession(t.refreshToken.value)).session.userId, 'bob');
});

test('session data that is not UTF-8 text: GENERAL_ERROR naming the column for reads, writes still work', async () => {
  const s = await ST.createNewSession('carol', null, { c: 1 });
  assert.deepEqual(await ST.getSessionData(s.session.handle), { c: 1 });
  await h.query(`UPDATE ${SESSIONS} SET session_info = UNHEX('FFFE00') WHERE session_handle = ?`, [s.session.handle]);
  await h.rejectsWith(ST.getSessionData(s.session.handle), GENERAL_ERROR, /session_info/);
  await ST.updateSessionData(s.session.handle, { c: 2 });
  assert.deepEqual(await ST.getSessionData(s.session.handle), { c: 2 });
});

'use strict';
/**
 * Tables created by the original library (its DDL: no column collation, so the database's
 * utf8mb4_general_ci, case-insensitive and PAD SPACE) are used as they are, and session
 * handles passed by the app still match byte for byte (issue 12.5): an upper-cased or
 * space-padded handle is no session, never the real one.
 */

const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const ST = require('../index.js');
const h = require('./helpers.js');

const PREFIX = 'origtables';
const UNAUTHORISED = 2000;

before(async () => {
  await h.dropTables(PREFIX);
  // The original's CREATE TABLE statements (lib/build/helpers/dbQueries.js), on a utf8mb4
  // database with its default collation.
  await h.query(`CREATE TABLE ${PREFIX}_keys (key_name VARCHAR(128), key_value VARCHAR(255), created_at_time BIGINT UNSIGNED,
    PRIMARY KEY(key_name)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`);
  await h.query(`CREATE TABLE ${PREFIX}_sessions (session_handle VARCHAR(255) NOT NULL, user_id VARCHAR(128) NOT NULL,
    refresh_token_hash_2 VARCHAR(128) NOT NULL, session_info TEXT, expires_at BIGINT UNSIGNED NOT NULL, jwt_user_payload TEXT,
    PRIMARY KEY(session_handle)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`);
  await ST.init(h.configFor(PREFIX));
});

h.closeAfter(ST);

test('a handle that differs in case or trailing spaces matches no session on the original tables', async () => {
  const s = await ST.createNewSession('alice', null, { secret: 1 });
  const handle = s.session.handle;
  const [{ n }] = await h.query(`SELECT COUNT(*) AS n FROM ${PREFIX}_sessions WHERE session_handle = ?`, [
    handle.toUpperCase(),
  ]);
  assert.equal(n, 1, 'the table itself compares case-insensitively (the premise of this test)');
  for (const other of [
    handle.toUpperCase(),
    `${handle} `,
    `${handle}  `,
    handle.replace(/[a-f]/, (c) => c.toUpperCase()),
  ]) {
    await h.rejectsWith(ST.getSessionData(other), UNAUTHORISED);
    await h.rejectsWith(ST.updateSessionData(other, { stolen: true }), UNAUTHORISED);
    assert.equal(await ST.revokeSessionUsingSessionHandle(other), false, JSON.stringify(other));
  }
  assert.deepEqual(await ST.getSessionData(handle), { secret: 1 }, 'the real session is untouched');
  assert.equal((await ST.getSession(s.accessToken.value, s.antiCsrfToken)).session.userId, 'alice');
  assert.equal(await ST.revokeSessionUsingSessionHandle(handle), true);
});

test('user ids match exactly on the original tables as well', async () => {
  const a = await ST.createNewSession('Bob', null, null);
  await ST.createNewSession('bob', null, null);
  assert.deepEqual(await ST.getAllSessionHandlesForUser('Bob'), [a.session.handle]);
  await ST.revokeAllSessionsForUser('BOB');
  assert.deepEqual(await ST.getAllSessionHandlesForUser('Bob'), [a.session.handle]);
});

'use strict';
/**
 * `mysql.hosts` against the single test MySQL (issue 11.5): the first server that answers
 * is used, a list where none answers fails init with a clear GENERAL_ERROR in bounded time,
 * and every entry is validated. Failover under a killed node is in galera.test.js.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const ST = require('../index.js');
const h = require('./helpers.js');
const { freePorts } = require('../scripts/ports.js');

const PREFIX = 'hosts';
const GENERAL_ERROR = 1000;

h.closeAfter(ST);

/** The test config with `hosts` in place of host/port. */
function withHosts(hosts) {
  const c = h.configFor(PREFIX);
  delete c.mysql.host;
  delete c.mysql.port;
  c.mysql.hosts = hosts;
  return c;
}

test('the first server that answers is used: dead entries before it do not stop init', async () => {
  await h.dropTables(PREFIX);
  const [a, b] = await freePorts(2);
  const dead = [
    { host: '127.0.0.1', port: a },
    { host: '127.0.0.1', port: b },
  ];
  await ST.init(withHosts([...dead, { host: h.db.host, port: h.db.port }]));
  const s = await ST.createNewSession('alice', { a: 1 }, { d: 1 });
  assert.equal((await ST.getSession(s.accessToken.value, s.antiCsrfToken)).session.userId, 'alice');
  assert.deepEqual(await ST.getSessionData(s.session.handle), { d: 1 });
  const rows = await h.query(`SELECT user_id FROM ${PREFIX}_sessions WHERE session_handle = ?`, [s.session.handle]);
  assert.equal(rows[0].user_id, 'alice');
  await ST.close();
});

test('no server answering: init rejects with GENERAL_ERROR within seconds', async () => {
  const hosts = (await freePorts(2)).map((port) => ({ host: '127.0.0.1', port }));
  const started = Date.now();
  await h.rejectsWith(ST.init(withHosts(hosts)), GENERAL_ERROR, /database error/);
  assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
});

test('every entry is validated and host/port cannot be combined with hosts', async () => {
  const good = { host: h.db.host, port: h.db.port };
  const cases = [
    [[], /mysql\.hosts must be an array of 1 to 16/],
    ['127.0.0.1', /mysql\.hosts must be an array/],
    [[good, 'db2'], /mysql\.hosts\[1\] must be an object/],
    [[good, { port: 3306 }], /mysql\.hosts\[1\]\.host must be a string/],
    [[good, { host: 'db2', port: '3306x' }], /mysql\.hosts\[1\]\.port must be/],
    [[good, { host: 'db2', port: 70000 }], /mysql\.hosts\[1\]\.port must be/],
    [[good, { host: 'db2', prot: 3307 }], /mysql\.hosts\[1\]\.prot is not an option/],
    [[good, { ...good }], /mysql\.hosts\[1\] repeats/],
    [Array.from({ length: 17 }, (_, i) => ({ host: `db${i}` })), /1 to 16/],
  ];
  for (const [hosts, message] of cases) {
    await h.rejectsWith(ST.init(withHosts(hosts)), GENERAL_ERROR, message);
  }
  const both = { ...withHosts([good]), mysql: { ...withHosts([good]).mysql, host: h.db.host } };
  await h.rejectsWith(ST.init(both), GENERAL_ERROR, /mysql\.hosts cannot be combined with mysql\.host/);
  // None of them initialised the package.
  await assert.rejects(ST.createNewSession('x'), (e) => e.errType === GENERAL_ERROR && /init/.test(e.message));
});

'use strict';
/**
 * `init(config)` (SPEC §2): every invalid field, and every unknown key (with a close option
 * suggested), is a GENERAL_ERROR naming the field and creates nothing; the init lifecycle
 * (before init, twice, after failure, after close); MySQL errors; and the tables a valid
 * init creates (SPEC §5).
 */

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const ST = require('../express.js');
const core = require('../index.js');
const h = require('./helpers.js');

const PREFIX = 'cfg';
const GENERAL_ERROR = 1000;
const DELETE = Symbol('delete');

/** A valid config for `prefix` with `path` set to `value` (DELETE removes the key). */
function configWith(path, value, prefix = PREFIX) {
  const config = h.configFor(prefix);
  if (path === '') return value;
  const keys = path.split('.');
  let cur = config;
  for (const k of keys.slice(0, -1)) {
    if (cur[k] === null || typeof cur[k] !== 'object') cur[k] = {};
    cur = cur[k];
  }
  const last = keys[keys.length - 1];
  if (value === DELETE) delete cur[last];
  else cur[last] = value;
  return config;
}

/** Names of the given tables that exist in the test database. */
async function existingTables(names) {
  if (names.length === 0) return [];
  const rows = await h.query(
    'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? AND table_name IN (?)',
    [h.db.database, names],
  );
  return rows.map((r) => r.name);
}

async function assertNoTables(names) {
  assert.deepEqual(await existingTables(names), [], `tables must not exist: ${names.join(', ')}`);
}

/** A config value as a test title shows it. */
function show(value) {
  if (value === DELETE) return 'missing';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'number' || value === undefined) return String(value);
  return JSON.stringify(value);
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Asserts `init(config)` rejects with a GENERAL_ERROR whose message names `field`. */
async function assertInvalid(config, field, extra) {
  await h.rejectsWith(ST.init(config), GENERAL_ERROR, new RegExp(escapeRe(field)));
  if (extra) await h.rejectsWith(ST.init(config), GENERAL_ERROR, extra);
}

/** A res usable before init (the Express functions check it first). */
function fakeReqRes() {
  const req = new http.IncomingMessage(null);
  req.headers = { cookie: 'sAccessToken=a; sRefreshToken=b; sIdRefreshToken=c' };
  return { req, res: new http.ServerResponse(req) };
}

h.closeAfter(ST);

// ---------------------------------------------------------------------------------------

describe('before init', () => {
  const { req, res } = fakeReqRes();
  const calls = [
    ['express createNewSession', () => ST.createNewSession(res, 'u', {}, {})],
    ['express getSession', () => ST.getSession(req, res, false)],
    ['express refreshSession', () => ST.refreshSession(req, res)],
    ['createNewSession', () => core.createNewSession('u', {}, {})],
    ['getSession', () => core.getSession('a.b.c', null)],
    ['refreshSession', () => core.refreshSession('token')],
    ['revokeAllSessionsForUser', () => core.revokeAllSessionsForUser('u')],
    ['revokeSessionUsingSessionHandle', () => core.revokeSessionUsingSessionHandle('h')],
    ['getAllSessionHandlesForUser', () => core.getAllSessionHandlesForUser('u')],
    ['getSessionData', () => core.getSessionData('h')],
    ['updateSessionData', () => core.updateSessionData('h', {})],
  ];

  for (const [name, call] of calls) {
    test(`${name} → GENERAL_ERROR telling to call init first`, async () => {
      await h.rejectsWith(Promise.resolve().then(call), GENERAL_ERROR, /\binit\b/);
    });
  }

  test('close() before init is harmless', async () => {
    await ST.close();
    await core.close();
  });
});

// ---------------------------------------------------------------------------------------

describe('invalid configs: GENERAL_ERROR naming the field, nothing created', () => {
  const fn = () => {};
  const long65 = 't'.repeat(65);
  // [path ('' = the whole config), its invalid values, the field named if not the path]
  const groups = [
    ['', [undefined, null, 'config', 42, []]],

    ['mysql', [DELETE, 'localhost']],
    ['mysql.host', [127, fn]],
    ['mysql.port', [0, -1, 65536, 3306.5, '3306abc', ' 3306', '1e3', '0x10', '', '0', '65536', NaN]],
    ['mysql.user', [DELETE, 1]],
    ['mysql.password', [DELETE, 1234]],
    ['mysql.database', [DELETE, 1, '']],
    ['mysql.connectionLimit', [0, -5, '10x', '-5', 2.5]],
    ['mysql.tables', ['cfg_keys']],
    ['mysql.tables.signingKey', ['a-b', 'x; DROP TABLE y', long65, '', 'tâble', 'a`b', 7]],
    ['mysql.tables.refreshTokens', ['a-b', 'x; DROP TABLE y', long65, '']],
    ['mysql.tables.refreshTokens', ['cfg_keys'], 'mysql.tables'], // same as signingKey
    ['mysql.ssl', ['yes']],

    ['tokens', [DELETE, true]],
    ['tokens.accessToken', ['x']],
    ['tokens.accessToken.signingKey', ['secret']],
    ['tokens.accessToken.signingKey.dynamic', ['yes']],
    ['tokens.accessToken.signingKey.updateInterval', [0, 0.5, 721, '24.5']],
    ['tokens.accessToken.signingKey.get', ['secret', 5, {}, '\u0000function']],
    ['tokens.accessToken.validity', [9, 9.99, 86400001, -3600, '3600 ', '9', Infinity]],
    ['tokens.accessToken.blacklisting', ['true', 1]],
    ['tokens.accessToken.accessTokenPath', [5, '', 'api', '/a; Domain=evil.com']],
    ['tokens.refreshToken', [DELETE, '/refresh']],
    ['tokens.refreshToken.validity', [0, 8761, '+100']],
    [
      'tokens.refreshToken.removalCronjobInterval',
      ['0 0 * * *', '0 0 0 32 * *', '61 * * * * *', '0 0 25 * * *', '0 0 0 1 13 *', 'every day', '', 60],
    ],
    ['tokens.refreshToken.renewTokenPath', [DELETE, 5, '', 'refresh']],
    ['tokens.enableAntiCsrf', ['false', 0]],

    ['logging', ['console']],
    ['logging.info', ['console.log', 5, '\u0000function']],
    ['logging.error', [true, {}]],

    ['cookie', [DELETE, 'localhost']],
    ['cookie.domain', [DELETE, 5, '', 'a.com; Path=/x']],
    ['cookie.secure', ['true', 1]],
    ['cookie.sameSite', ['bogus', '', true, 'none']], // 'none' with secure: false (configFor's default)
  ];
  const cases = groups.flatMap(([path, values, field = path || 'config']) =>
    values.map((value) => [path, value, field]),
  );

  for (const [path, value, field] of cases) {
    const shown = show(value);
    test(`${path || 'config'} = ${shown} → names ${field}`, async (t) => {
      // Isolation: should init wrongly succeed, the next case starts clean again.
      await h.dropTables(PREFIX);
      t.after(() => ST.close());
      await assertInvalid(configWith(path, value), field);
      const tableNames = [`${PREFIX}_keys`, `${PREFIX}_sessions`];
      if (path.startsWith('mysql.tables.') && typeof value === 'string' && value.length > 0) tableNames.push(value);
      await assertNoTables(tableNames);
      await assertNoTables(['y']);
      // Still not initialised: the next call says to call init.
      await h.rejectsWith(core.getAllSessionHandlesForUser('u'), GENERAL_ERROR, /\binit\b/);
    });
  }

  test('messages also name the allowed values', async () => {
    await assertInvalid(
      configWith('tokens.accessToken.validity', 5),
      'tokens.accessToken.validity',
      /10\b[\s\S]*86,?400,?000/,
    );
    await assertInvalid(
      configWith('tokens.accessToken.signingKey.updateInterval', 0),
      'updateInterval',
      /1\b[\s\S]*720/,
    );
    await assertInvalid(
      configWith('tokens.refreshToken.validity', 0),
      'tokens.refreshToken.validity',
      /1\b[\s\S]*8,?760/,
    );
    await assertInvalid(configWith('mysql.port', 0), 'mysql.port', /65,?535/);
    await assertInvalid(configWith('cookie.sameSite', 'bogus'), 'cookie.sameSite', /strict[\s\S]*lax[\s\S]*none/i);
    await assertInvalid(
      configWith('mysql.tables.signingKey', 'a-b'),
      'mysql.tables.signingKey',
      /A-Z[\s\S]*0-9[\s\S]*_|64/,
    );
  });

  test('sameSite "none" is accepted with secure: true', async (t) => {
    t.after(() => ST.close());
    await ST.init(h.configFor(PREFIX, { cookie: { secure: true, sameSite: 'none' } }));
  });
});

// ---------------------------------------------------------------------------------------

describe('unknown keys: GENERAL_ERROR naming the full path and a close option, nothing created', () => {
  const fn = () => {};
  // [path of the unknown key, its value, the exact message]
  const cases = [
    [
      'tokens.accessToken.blacklistng',
      true,
      'config: tokens.accessToken.blacklistng is not an option; did you mean blacklisting?',
    ],
    ['cookies', { domain: 'localhost' }, 'config: cookies is not an option; did you mean cookie?'],
    ['mysql.pasword', 'x', 'config: mysql.pasword is not an option; did you mean password?'],
    ['mysql.tables.signingkey', 'cfg_k2', 'config: mysql.tables.signingkey is not an option; did you mean signingKey?'],
    [
      'mysql.ssl',
      { rejectUnauthorised: false },
      'config: mysql.ssl.rejectUnauthorised is not an option; did you mean rejectUnauthorized?',
    ],
    [
      'tokens.acessToken',
      { blacklisting: true },
      'config: tokens.acessToken is not an option; did you mean accessToken?',
    ],
    ['tokens.enableAntiCSRF', false, 'config: tokens.enableAntiCSRF is not an option; did you mean enableAntiCsrf?'],
    [
      'tokens.accessToken.signingKey.updateIntervall',
      48,
      'config: tokens.accessToken.signingKey.updateIntervall is not an option; did you mean updateInterval?',
    ],
    ['tokens.refreshToken.valdity', 1, 'config: tokens.refreshToken.valdity is not an option; did you mean validity?'],
    ['logging.eror', fn, 'config: logging.eror is not an option; did you mean error?'],
    ['cookie.samesite', 'strict', 'config: cookie.samesite is not an option; did you mean sameSite?'],
  ];

  async function assertUnknown(config, message) {
    await h.dropTables(PREFIX);
    await assert.rejects(ST.init(config), (e) => {
      assert.equal(e.errType, GENERAL_ERROR, e.message);
      assert.equal(e.err.message, message);
      return true;
    });
    await assertNoTables([`${PREFIX}_keys`, `${PREFIX}_sessions`, 'cfg_k2']);
    await h.rejectsWith(core.getAllSessionHandlesForUser('u'), GENERAL_ERROR, /\binit\b/);
  }

  for (const [path, value, message] of cases) {
    test(`${path} = ${show(value)} → ${message}`, async (t) => {
      t.after(() => ST.close());
      await assertUnknown(configWith(path, value), message);
    });
  }

  test('a key close to no option gets no suggestion, only the options of its section', async (t) => {
    t.after(() => ST.close());
    await assertUnknown(
      configWith('tokens.accessToken.colour', 'blue'),
      'config: tokens.accessToken.colour is not an option (the options are signingKey, validity, blacklisting, revocationPollMs, accessTokenPath)',
    );
    const hosts = configWith('mysql.hosts', [{ host: h.db.host, port: h.db.port, weight: 2 }]);
    delete hosts.mysql.host;
    delete hosts.mysql.port;
    await assertUnknown(hosts, 'config: mysql.hosts[0].weight is not an option (the options are host, port)');
  });

  test('an unknown key whose value is null or a function is rejected too', async (t) => {
    t.after(() => ST.close());
    await assertUnknown(
      configWith('cookie.secur', null),
      'config: cookie.secur is not an option; did you mean secure?',
    );
    await assertUnknown(
      configWith('logging.warn', fn),
      'config: logging.warn is not an option (the options are info, error)',
    );
  });
});

// ---------------------------------------------------------------------------------------

describe('boundary values are accepted', () => {
  // [path, its accepted boundary values]
  const cases = [
    ['tokens.accessToken.validity', [10, 86400000]],
    ['tokens.accessToken.signingKey.updateInterval', [1, 720]],
    ['tokens.refreshToken.validity', [1, 8760]],
    ['mysql.connectionLimit', [1]],
    ['mysql.password', ['']],
    ['tokens.refreshToken.removalCronjobInterval', ['*/5 * * * * *']],
    ['tokens.accessToken.signingKey.get', [async () => 'an-app-supplied-secret']],
    ['logging.info', [() => {}]],
    ['cookie.sameSite', ['strict', 'lax']],
  ].flatMap(([path, values]) => values.map((value) => [path, value]));
  for (const [path, value] of cases) {
    const shown = show(value);
    test(`${path} = ${shown}`, async (t) => {
      t.after(() => ST.close());
      await ST.init(configWith(path, value));
      const r = await core.createNewSession('boundary-user', { ok: true });
      assert.equal((await core.getSession(r.accessToken.value, null)).session.userId, 'boundary-user');
    });
  }

  test('table names of exactly 64 characters', async (t) => {
    const keys = `cfg2_${'k'.repeat(59)}`;
    const sessions = `cfg2_${'s'.repeat(59)}`;
    assert.equal(keys.length, 64);
    const drop = () => h.query(`DROP TABLE IF EXISTS \`${keys}\`, \`${sessions}\``);
    await drop();
    t.after(async () => {
      await ST.close();
      await drop();
    });
    const config = h.configFor(PREFIX);
    config.mysql.tables = { signingKey: keys, refreshTokens: sessions };
    await ST.init(config);
    assert.deepEqual((await existingTables([keys, sessions])).sort(), [keys, sessions].sort());
  });
});

// ---------------------------------------------------------------------------------------

describe('integer options from the environment: a string of decimal digits is its value', () => {
  test('mysql.port as a string connects to that port', async (t) => {
    t.after(() => ST.close());
    await ST.init(configWith('mysql.port', String(h.db.port)));
    const r = await core.createNewSession('string-port');
    assert.equal((await core.getSession(r.accessToken.value, null)).session.userId, 'string-port');
  });

  test('mysql.port as a string of a closed port fails to connect (the port is used, not 3306)', async () => {
    await h.dropTables(PREFIX);
    await h.rejectsWith(
      ST.init(configWith('mysql.port', '1')),
      GENERAL_ERROR,
      /refused|unreachable|connect(ion)? (error|failed)/i,
    );
    await assertNoTables([`${PREFIX}_keys`, `${PREFIX}_sessions`]);
  });

  test('mysql.hosts[].port as a string', async (t) => {
    t.after(() => ST.close());
    const config = configWith('mysql.hosts', [{ host: h.db.host, port: String(h.db.port) }]);
    delete config.mysql.host;
    delete config.mysql.port;
    await ST.init(config);
    await core.createNewSession('string-hosts-port');
  });

  test('validities as strings are used', async (t) => {
    t.after(() => ST.close());
    const config = h.configFor(PREFIX, {
      mysql: { connectionLimit: '3' },
      tokens: {
        accessToken: { validity: '60', signingKey: { updateInterval: '48' } },
        refreshToken: { validity: '2' },
      },
    });
    await ST.init(config);
    const before = Date.now();
    const r = await core.createNewSession('string-validity');
    const after = Date.now();
    assert.ok(
      r.accessToken.expires >= before + 60_000 && r.accessToken.expires <= after + 60_000,
      'access token: 60 s',
    );
    const twoHours = 2 * 3_600_000;
    assert.ok(
      r.refreshToken.expires >= before + twoHours && r.refreshToken.expires <= after + twoHours,
      'refresh token: 2 h',
    );
  });
});

// ---------------------------------------------------------------------------------------

describe('the init lifecycle', () => {
  before(() => h.dropTables(PREFIX));

  test('init twice with the same config resolves (the original ignored it); the first stays in use', async (t) => {
    t.after(() => ST.close());
    const logged = [];
    const info = (m) => logged.push(m);
    const config = h.configFor(PREFIX, { logging: { info } });
    await ST.init(config);
    const r = await core.createNewSession('still-works');
    await ST.init(config); // the same object
    await ST.init(h.configFor(PREFIX, { logging: { info } })); // deep-equal, the same function
    // key order does not matter, nor keys set to undefined (JSON drops them too)
    const reordered = {
      cookie: config.cookie,
      tokens: config.tokens,
      logging: { info },
      mysql: { ...config.mysql, ssl: undefined },
    };
    await ST.init(reordered);
    assert.equal((await core.getSession(r.accessToken.value, null)).session.userId, 'still-works');
  });

  test('init again with another config → GENERAL_ERROR naming where it differs; the first stays in use', async (t) => {
    t.after(() => ST.close());
    const info = () => {};
    const config = h.configFor(PREFIX, { logging: { info } });
    await ST.init(config);
    await h.rejectsWith(
      ST.init(configWith('cookie.domain', 'other.example')),
      GENERAL_ERROR,
      /another config.*cookie\.domain.*close\(\)/,
    );
    await h.rejectsWith(
      ST.init(h.configFor(PREFIX, { tokens: { enableAntiCsrf: true } })),
      GENERAL_ERROR,
      /differs at tokens\.enableAntiCsrf/,
    );
    // functions are compared by identity
    await h.rejectsWith(
      ST.init(h.configFor(PREFIX, { logging: { info: () => {} } })),
      GENERAL_ERROR,
      /differs at logging\.info/,
    );
    // the password's value never appears, only its name
    const pw = h.configFor(PREFIX, { logging: { info }, mysql: { password: 'a-secret-1234' } });
    await assert.rejects(ST.init(pw), (e) => {
      assert.match(e.message, /differs at mysql\.password/);
      assert.ok(!e.message.includes('a-secret-1234'));
      return true;
    });
    await h.rejectsWith(ST.init({}), GENERAL_ERROR, /another config/);
    await h.rejectsWith(ST.init(undefined), GENERAL_ERROR, /config object/);
    // a mutation of the first config object after init is a different config, too
    config.cookie.domain = 'mutated.example';
    await h.rejectsWith(ST.init(config), GENERAL_ERROR, /differs at cookie\.domain/);
    const r = await core.createNewSession('still-works');
    assert.equal((await core.getSession(r.accessToken.value, null)).session.userId, 'still-works');
    assert.equal(require('../lib/core.js').getSettings().cookieDomain, 'localhost');
  });

  test('two concurrent inits with the same config both resolve, on one engine', async (t) => {
    t.after(() => ST.close());
    const results = await Promise.allSettled([
      ST.init(h.configFor(PREFIX)),
      ST.init(h.configFor(PREFIX)),
      ST.init(h.configFor(PREFIX)),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'fulfilled'],
    );
    const r = await core.createNewSession('concurrent');
    assert.equal((await core.getSession(r.accessToken.value, null)).session.userId, 'concurrent');
  });

  test('two concurrent inits with different configs: the first resolves, the other is a GENERAL_ERROR', async (t) => {
    t.after(() => ST.close());
    const results = await Promise.allSettled([
      ST.init(h.configFor(PREFIX)),
      ST.init(configWith('cookie.domain', 'other.example')),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected'],
    );
    await h.rejectsWith(Promise.reject(results[1].reason), GENERAL_ERROR, /another config.*cookie\.domain/);
    assert.equal(require('../lib/core.js').getSettings().cookieDomain, 'localhost');
  });

  test('concurrent inits with the same invalid config reject alike; a valid init works afterwards', async (t) => {
    t.after(() => ST.close());
    const bad = configWith('mysql.port', 1);
    const results = await Promise.allSettled([ST.init(bad), ST.init(bad)]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    assert.equal(results[0].reason, results[1].reason, 'the second joined the first');
    await ST.init(h.configFor(PREFIX));
    await core.createNewSession('after-failed-pair');
  });

  test('after close(), init with another config works', async (t) => {
    t.after(() => ST.close());
    await ST.init(h.configFor(PREFIX));
    await ST.close();
    await ST.init(configWith('cookie.domain', 'other.example'));
    assert.equal(require('../lib/core.js').getSettings().cookieDomain, 'other.example');
  });

  test('after an invalid init, a valid init works', async (t) => {
    t.after(() => ST.close());
    await assertInvalid(configWith('mysql.port', 0), 'mysql.port');
    await ST.init(h.configFor(PREFIX));
    const r = await core.createNewSession('after-invalid');
    assert.equal((await core.getSession(r.accessToken.value, null)).session.userId, 'after-invalid');
  });

  test('close() then init again works, with the same keys (old tokens still verify)', async (t) => {
    t.after(() => ST.close());
    await ST.init(h.configFor(PREFIX));
    const r = await core.createNewSession('across-close', { n: 1 }, { d: 2 });
    await ST.close();
    await h.rejectsWith(core.getSession(r.accessToken.value, null), GENERAL_ERROR, /\binit\b/);
    await ST.init(h.configFor(PREFIX));
    const v = await core.getSession(r.accessToken.value, null);
    assert.deepEqual(v.session, { handle: r.session.handle, userId: 'across-close', jwtPayload: { n: 1 } });
    assert.deepEqual(await core.getSessionData(r.session.handle), { d: 2 });
  });

  test('close() twice is harmless, and init works after it', async (t) => {
    t.after(() => ST.close());
    await ST.init(h.configFor(PREFIX));
    await ST.close();
    await ST.close();
    await ST.init(h.configFor(PREFIX));
    await core.createNewSession('after-double-close');
  });
});

// ---------------------------------------------------------------------------------------

describe('MySQL errors → GENERAL_ERROR (and a valid init works afterwards)', () => {
  const WRONG_PASSWORD = 'Zebra-Wr0ng-Pa55w0rd-7731';
  let logged;
  const withLogger = (config) => {
    logged = [];
    config.logging = {
      info: (m) => logged.push(String(m && m.stack ? m.stack : m)),
      error: (e) => logged.push(String(e && e.stack ? e.stack : e)),
    };
    return config;
  };

  before(() => h.dropTables(PREFIX));

  test('wrong password: the driver message, never the password', async () => {
    const config = withLogger(configWith('mysql.password', WRONG_PASSWORD));
    await assert.rejects(ST.init(config), (e) => {
      assert.equal(e.errType, GENERAL_ERROR, e.message);
      assert.match(e.message, /denied/i);
      assert.ok(!e.message.includes(WRONG_PASSWORD), `password in message: ${e.message}`);
      assert.ok(!String(e.stack).includes(WRONG_PASSWORD), 'password in stack');
      assert.ok(!JSON.stringify({ ...e, err: String(e.err) }).includes(WRONG_PASSWORD), 'password in error fields');
      return true;
    });
    for (const line of logged) assert.ok(!line.includes(WRONG_PASSWORD), `password in log line: ${line}`);
    await assertNoTables([`${PREFIX}_keys`, `${PREFIX}_sessions`]);
  });

  test('unreachable port → GENERAL_ERROR carrying the driver message', async () => {
    const started = Date.now();
    await h.rejectsWith(
      ST.init(configWith('mysql.port', 1)),
      GENERAL_ERROR,
      /refused|unreachable|connect(ion)? (error|failed)/i,
    );
    assert.ok(Date.now() - started < 15_000);
    await assertNoTables([`${PREFIX}_keys`, `${PREFIX}_sessions`]);
  });

  test('missing database → GENERAL_ERROR naming it', async () => {
    await h.rejectsWith(
      ST.init(configWith('mysql.database', 'cfg_no_such_database_41')),
      GENERAL_ERROR,
      /unknown database/i,
    );
    const dbs = await h.query("SHOW DATABASES LIKE 'cfg_no_such_database_41'");
    assert.equal(dbs.length, 0, 'the database must not be created');
  });

  test('a valid init works after the MySQL errors', async (t) => {
    t.after(() => ST.close());
    await ST.init(h.configFor(PREFIX));
    await core.createNewSession('after-db-errors');
  });
});

// ---------------------------------------------------------------------------------------

describe('tables created by a valid init (SPEC §5)', () => {
  before(async () => {
    await h.dropTables(PREFIX);
    await ST.init(h.configFor(PREFIX));
  });
  after(() => ST.close());

  async function columns(table) {
    const rows = await h.query(
      `SELECT column_name AS name, column_type AS type, is_nullable AS nullable, column_key AS k
         FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position`,
      [h.db.database, table],
    );
    // MariaDB and MySQL 5.7 write bigint(20); MySQL 8 writes bigint.
    return rows.map((r) => ({
      name: r.name,
      type: r.type.toLowerCase().replace(/^bigint\(\d+\)/, 'bigint'),
      nullable: r.nullable,
      key: r.k,
    }));
  }

  test('the signing-key table has the documented columns', async () => {
    const cols = await columns(`${PREFIX}_keys`);
    const byName = Object.fromEntries(cols.map((c) => [c.name, c]));
    assert.deepEqual(Object.keys(byName).sort(), ['created_at_time', 'key_name', 'key_value']);
    assert.equal(byName.key_name.type, 'varchar(128)');
    assert.equal(byName.key_name.key, 'PRI');
    assert.equal(byName.key_value.type, 'varchar(255)');
    assert.equal(byName.created_at_time.type, 'bigint unsigned');
  });

  test('the refresh-token table has the documented columns', async () => {
    const cols = await columns(`${PREFIX}_sessions`);
    const byName = Object.fromEntries(cols.map((c) => [c.name, c]));
    assert.deepEqual(Object.keys(byName).sort(), [
      'created_at',
      'expires_at',
      'ip',
      'jwt_user_payload',
      'last_refreshed_at',
      'previous_refresh_token_hash_2',
      'refresh_token_hash_1',
      'refresh_token_hash_2',
      'rotated_at',
      'session_handle',
      'session_info',
      'user_agent',
      'user_id',
    ]);
    // This package's columns are nullable, so the original library can still insert rows.
    for (const added of [
      'created_at',
      'last_refreshed_at',
      'ip',
      'user_agent',
      'previous_refresh_token_hash_2',
      'rotated_at',
      'refresh_token_hash_1',
    ]) {
      assert.equal(byName[added].nullable, 'YES', added);
    }
    assert.equal(byName.session_handle.type, 'varchar(255)');
    assert.equal(byName.session_handle.key, 'PRI');
    assert.deepEqual([byName.user_id.type, byName.user_id.nullable], ['varchar(128)', 'NO']);
    assert.deepEqual([byName.refresh_token_hash_2.type, byName.refresh_token_hash_2.nullable], ['varchar(128)', 'NO']);
    assert.equal(byName.session_info.type, 'text');
    assert.deepEqual([byName.expires_at.type, byName.expires_at.nullable], ['bigint unsigned', 'NO']);
    assert.equal(byName.jwt_user_payload.type, 'text');
  });

  test('the refresh-token table has indexes on user_id and expires_at', async () => {
    const rows = await h.query(`SHOW INDEX FROM \`${PREFIX}_sessions\``);
    const firstColumnOf = (col) =>
      rows.filter((r) => r.Column_name === col && r.Seq_in_index === 1 && r.Key_name !== 'PRIMARY');
    assert.ok(firstColumnOf('user_id').length >= 1, 'an index on user_id');
    assert.ok(firstColumnOf('expires_at').length >= 1, 'an index on expires_at');
    const primary = rows.filter((r) => r.Key_name === 'PRIMARY').map((r) => r.Column_name);
    assert.deepEqual(primary, ['session_handle']);
  });

  test('the key table holds one access-token key and one refresh-token key', async () => {
    const rows = await h.query(`SELECT key_name, key_value, created_at_time FROM \`${PREFIX}_keys\``);
    assert.equal(rows.length, 2, JSON.stringify(rows.map((r) => r.key_name)));
    for (const r of rows) {
      assert.ok(r.key_value.length >= 32, `${r.key_name} has a real key`);
      assert.ok(
        Math.abs(Number(r.created_at_time) - Date.now()) < 60_000,
        `${r.key_name} created_at_time is ms since epoch`,
      );
    }
    assert.notEqual(rows[0].key_value, rows[1].key_value);
  });
});

describe('existing tables with the documented columns are used as they are', () => {
  const P = 'cfg3';
  before(async () => {
    await ST.close();
    await h.dropTables(P);
    await h.query(
      `CREATE TABLE ${P}_keys (key_name VARCHAR(128), key_value VARCHAR(255), created_at_time BIGINT UNSIGNED, PRIMARY KEY (key_name))`,
    );
    await h.query(
      `CREATE TABLE ${P}_sessions (session_handle VARCHAR(255), user_id VARCHAR(128) NOT NULL,
        refresh_token_hash_2 VARCHAR(128) NOT NULL, session_info TEXT, expires_at BIGINT UNSIGNED NOT NULL,
        jwt_user_payload TEXT, PRIMARY KEY (session_handle))`,
    );
  });
  after(async () => {
    await ST.close();
    await h.dropTables(P);
  });

  test('init uses them and sessions land in them', async () => {
    await ST.init(h.configFor(P));
    const r = await core.createNewSession('pre-existing', { a: 1 }, { b: 2 });
    const rows = await h.query(`SELECT user_id, session_info FROM ${P}_sessions WHERE session_handle = ?`, [
      r.session.handle,
    ]);
    assert.deepEqual(
      rows.map((x) => ({ ...x })),
      [{ user_id: 'pre-existing', session_info: '{"b":2}' }],
    );
    const keys = await h.query(`SELECT COUNT(*) AS n FROM ${P}_keys`);
    assert.equal(Number(keys[0].n), 2);
  });
});

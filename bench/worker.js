'use strict';
/**
 * One measuring process: `node worker.js <ours|original|raw> <0|1|poll>` (no DB check,
 * blacklisting, or ours with revocationPollMs), driven by
 * run.js over IPC. Each library is a process-global singleton, so every (library, config)
 * pair gets its own process, initialised once.
 *
 * Every operation verifies its own result (right session handle and user, promotion really
 * happened, session data round-trips, …) and throws otherwise, so a wrong result counts as an
 * error and never as a fast operation. After a measurement, untimed checks look at the
 * database (rows actually written) and re-verify a sample of the tokens produced.
 */

const crypto = require('node:crypto');
const mysql = require('mysql');
const { serve } = require('./rpc.js');
const { run, describe } = require('./runner.js');
const { configFor, tablesFor, load } = require('./libs.js');
const { fail, checkCreated, checkParent, checkData, checkRefreshed, checkPromoted } = require('./checks.js');
const { settingsFromEnv } = require('../scripts/mysql.js');

// The raw ceiling's driver. Swap this one line for require('./raw-native.js') once the addon
// exports benchRawInsert/benchRawSelect (mysql_async); see bench/README.md.
const RAW_DRIVER = require('./raw-native.js');

const [kind, blArg] = process.argv.slice(2);
// The raw ceiling goes through the bench hooks, which only the test build has (see
// lib/native.js); the libraries themselves are measured as shipped.
if (kind === 'raw') process.env.SUPERTOKENS_TEST_BUILD = '1';
const blacklisting = blArg === '1';
/** Ours with revocationPollMs: revocation without a DB check per getSession. */
const POLL_MS = 1000;
const polling = blArg === 'poll';
const CONNECTION_LIMIT = 50;

let lib = null; // the library under test (for `raw`: ours, only to create the table)
let raw = null; // raw driver (kind === 'raw')
let sessionsTable = null;
let seq = 0; // running number, unique per process, used in user ids and payloads
let createBase = 0; // first number of the current createNewSession measurement
const tag = `${kind}${blacklisting ? '-bl' : ''}${polling ? '-poll' : ''}-${process.pid}`;

// Verification connection: plain SQL, used only outside timed sections.
let verifyConn = null;
function sql(text, params = []) {
  return new Promise((resolve, reject) => verifyConn.query(text, params, (e, rows) => (e ? reject(e) : resolve(rows))));
}
async function rowCount() {
  const rows = await sql(`SELECT COUNT(*) AS n FROM ${sessionsTable}`);
  return Number(rows[0].n);
}

// ---- sessions ------------------------------------------------------------------------------

function userFor(n) {
  return { userId: `user-${tag}-${n}`, payload: { role: 'member', n }, data: { cart: [1, 2, 3], n } };
}

function newUser() {
  return userFor(seq++);
}

async function createChecked() {
  const u = newUser();
  return checkCreated(u, await lib.createNewSession(u.userId, u.payload, u.data));
}

async function getSessionParentChecked(t) {
  checkParent(t, await lib.getSession(t.at, t.csrf));
}

async function getSessionDataChecked(t) {
  checkData(t, await lib.getSessionData(t.handle));
}

// State built by `prepare`.
let pool = []; // parent tokens for getSession and getSessionData
let coldPool = []; // more parent tokens than our verified-token cache holds, for the cold getSession
let chain = []; // sessions for refresh -> promotion: {handle, userId, n, rt (current parent), child}
let recent = []; // a sample of sessions made by the last createNewSession measurement
let rawRows = []; // rows for the raw SELECT

function rawRow() {
  const u = newUser();
  return {
    sessionHandle: crypto.randomUUID(),
    userId: u.userId,
    refreshTokenHash2: crypto.randomBytes(32).toString('hex'),
    sessionInfo: JSON.stringify(u.data),
    expiresAt: Date.now() + 2400 * 3600 * 1000,
    jwtPayload: JSON.stringify(u.payload),
    n: u.payload.n,
  };
}

// ---- operations (one call = one measured operation) ----------------------------------------

// Each op is {call(i) -> the library's promise, verify(i, result)}: the runner awaits the call
// directly and verifies synchronously (see runner.js).
const ops = {
  create: {
    // The user of operation i is derived from i (and the measurement), so verify can rebuild it.
    call(i) {
      const u = userFor(createBase + i);
      return lib.createNewSession(u.userId, u.payload, u.data);
    },
    verify(i, r) {
      const s = checkCreated(userFor(createBase + i), r);
      if (recent.length < 200) recent.push(s);
      else if (Math.random() < 0.05) recent[Math.floor(Math.random() * recent.length)] = s;
    },
  },
  getSessionParent: {
    call(i) {
      const t = pool[i % pool.length];
      return lib.getSession(t.at, t.csrf);
    },
    verify: (i, r) => checkParent(pool[i % pool.length], r),
  },
  getSessionParentCold: {
    call(i) {
      const t = coldPool[i % coldPool.length];
      return lib.getSession(t.at, t.csrf);
    },
    verify: (i, r) => checkParent(coldPool[i % coldPool.length], r),
  },
  getSessionData: {
    call: (i) => lib.getSessionData(pool[i % pool.length].handle),
    verify: (i, d) => checkData(pool[i % pool.length], d),
  },
  // Session-data writes on the hot pool: ours merges one key on the server (no lost updates),
  // the original replaces the whole data (its only write); both keep `n` for checkData.
  mergeSessionData: {
    call: (i) => lib.mergeSessionData(pool[i % pool.length].handle, { touched: i }),
    verify: () => {},
  },
  updateSessionData: {
    call(i) {
      const t = pool[i % pool.length];
      return lib.updateSessionData(t.handle, { cart: [1, 2, 3], n: t.n, touched: i });
    },
    verify: () => {},
  },
  refresh: {
    call(i) {
      const c = chain[i];
      c.child = null;
      return lib.refreshSession(c.rt);
    },
    verify(i, r) {
      const c = chain[i];
      checkRefreshed(c, r);
      c.child = { at: r.newAccessToken.value, csrf: r.newAntiCsrfToken, rt: r.newRefreshToken.value };
    },
  },
  getSessionChild: {
    call(i) {
      const c = chain[i];
      const child = c.child;
      if (!child) return Promise.reject(new Error('getSession child: no child token (its refreshSession failed)'));
      c.child = null;
      c.pending = child;
      return lib.getSession(child.at, child.csrf);
    },
    verify(i, r) {
      const c = chain[i];
      checkPromoted(c, r);
      c.rt = c.pending.rt; // now the parent in the database
      c.csrf = c.pending.csrf;
      c.promotedAt = r.newAccessToken.value;
      c.pending = null;
    },
  },
  rawInsert: {
    call: () => raw.insert(rawRow()),
    verify(_i, n) {
      if (n !== 1) fail(`raw INSERT: ${n} rows inserted`);
    },
  },
  rawSelect: {
    call: (i) => raw.select(rawRows[i % rawRows.length].sessionHandle),
    verify(i, text) {
      if (text === null) fail('raw SELECT: row not found');
      if (JSON.parse(text).n !== rawRows[i % rawRows.length].n) fail('raw SELECT: wrong session_info');
    },
  },
};

/** Untimed checks after a measurement; returns a list of problems. */
const afterChecks = {
  async create(res, before) {
    const problems = [];
    const after = await rowCount();
    if (after - before !== res.ok) problems.push(`createNewSession: ${res.ok} sessions reported, ${after - before} rows written`);
    for (const s of recent.slice(0, 30)) {
      try {
        await getSessionParentChecked(s);
        await getSessionDataChecked(s);
      } catch (e) {
        problems.push(`a created session does not verify: ${describe(e)}`);
      }
    }
    return problems;
  },
  async getSessionChild() {
    // A promoted session's new access token must now be a plain parent token.
    const problems = [];
    for (const c of chain.slice(0, 30)) {
      if (!c.promotedAt) continue;
      try {
        await getSessionParentChecked({ handle: c.handle, userId: c.userId, n: c.n, at: c.promotedAt, csrf: c.csrf });
      } catch (e) {
        problems.push(`a promoted access token does not verify as a parent: ${describe(e)}`);
      }
    }
    return problems;
  },
  async rawInsert(res, before) {
    const after = await rowCount();
    return after - before === res.ok ? [] : [`raw INSERT: ${res.ok} reported, ${after - before} rows written`];
  },
};

function gc() {
  if (typeof global.gc === 'function') {
    global.gc();
    global.gc();
  }
}

serve({
  async init() {
    const db = settingsFromEnv();
    verifyConn = mysql.createConnection(db);
    if (kind === 'raw') {
      // Our library creates the raw table, so it has exactly our sessions table's shape
      // (indexes included); the raw driver then writes to it directly.
      lib = load('ours');
      const config = configFor('raw', { blacklisting: false });
      await lib.init(config);
      sessionsTable = tablesFor('raw').refreshTokens;
      raw = await RAW_DRIVER.open({ sessionsTable, connectionLimit: CONNECTION_LIMIT });
      return { label: raw.label };
    }
    lib = load(kind);
    await lib.init(configFor(kind, { blacklisting, revocationPollMs: polling ? POLL_MS : undefined }));
    sessionsTable = tablesFor(kind).refreshTokens;
    return { label: kind };
  },

  /** Builds the token pools (untimed). */
  async prepare({ poolSize = 0, coldPoolSize = 0, chainSize = 0, rawSize = 0 }) {
    const conc = { concurrency: 32 };
    const problems = [];
    const collect = (res) => problems.push(...res.errorSamples.slice(0, res.errors));
    pool = new Array(poolSize);
    collect(await run({ ...conc, count: poolSize }, async (i) => (pool[i] = await createChecked())));
    coldPool = new Array(coldPoolSize);
    collect(await run({ ...conc, count: coldPoolSize }, async (i) => (coldPool[i] = await createChecked())));
    chain = new Array(chainSize);
    collect(await run({ ...conc, count: chainSize }, async (i) => (chain[i] = { ...(await createChecked()), child: null })));
    rawRows = [];
    collect(
      await run({ ...conc, count: rawSize }, async () => {
        const row = rawRow();
        if ((await raw.insert(row)) !== 1) fail('raw INSERT (prepare) failed');
        rawRows.push(row);
      }),
    );
    if (problems.length) throw new Error(`prepare failed: ${problems.join('; ')}`);
    return { pool: pool.length, coldPool: coldPool.length, chain: chain.length, raw: rawRows.length };
  },

  /** One measurement: {op, durationMs | count, concurrency}. */
  async measure({ op, durationMs, count, concurrency }) {
    const fn = ops[op];
    if (!fn) throw new Error(`unknown op ${op}`);
    if (op === 'create') {
      recent = [];
      createBase = seq;
      seq += 1e8; // numbers createBase + i stay unique
    }
    const before = op === 'create' || op === 'rawInsert' ? await rowCount() : 0;
    const plan = count !== undefined ? { count: count === 'chain' ? chain.length : count, concurrency } : { durationMs, concurrency };
    const res = await run(plan, fn);
    const check = afterChecks[op];
    if (check) {
      const problems = await check(res, before);
      if (problems.length) {
        res.errors += problems.length;
        res.errorSamples.push(...problems.slice(0, 5));
      }
    }
    return res;
  },

  /**
   * RSS growth over `calls` getSession calls (parent token, no DB) after `warmup` calls,
   * with a full GC before each reading (the process runs with --expose-gc).
   */
  async memory({ warmup, calls, concurrency }) {
    const w = await run({ count: warmup, concurrency }, ops.getSessionParent);
    gc();
    const before = process.memoryUsage();
    const res = await run({ count: calls, concurrency }, ops.getSessionParent);
    gc();
    const after = process.memoryUsage();
    return {
      calls,
      warmup,
      errors: w.errors + res.errors,
      errorSamples: [...w.errorSamples, ...res.errorSamples].slice(0, 5),
      opsPerSec: res.opsPerSec,
      rssBefore: before.rss,
      rssAfter: after.rss,
      heapBefore: before.heapUsed,
      heapAfter: after.heapUsed,
      gcForced: typeof global.gc === 'function',
    };
  },

  /** Final functional checks of the configuration this process runs. */
  async verify() {
    const problems = [];
    if (kind !== 'raw' && (blacklisting || polling)) {
      // A revoked session must be refused at once (blacklisting: the DB is consulted; polling:
      // this process's own revocation is in its revoked set).
      const s = await createChecked();
      await getSessionParentChecked(s);
      if ((await lib.revokeSession(s.handle)) !== true) problems.push('revokeSessionUsingSessionHandle did not remove the session');
      try {
        await lib.getSession(s.at, s.csrf);
        problems.push('blacklisting: a revoked session was still accepted');
      } catch (e) {
        if (!lib.isUnauthorised(e)) problems.push(`blacklisting: revoked session gave ${describe(e)}, expected UNAUTHORISED`);
      }
    }
    if (kind !== 'raw' && !blacklisting && !polling) {
      // Without blacklisting a parent token is accepted without looking at the database: even
      // after its row is gone. Shows the no-DB row measured the path it claims to.
      const s = await createChecked();
      await lib.revokeSession(s.handle);
      try {
        await getSessionParentChecked(s);
      } catch (e) {
        problems.push(`no-DB getSession: a parent token was refused once its row was deleted (${describe(e)}), so the path consults the DB`);
      }
    }
    if (kind !== 'raw') {
      // A wrong anti-CSRF token must be refused (the check is really on).
      const s = pool[0] || (await createChecked());
      try {
        await lib.getSession(s.at, 'not-the-anti-csrf-token');
        problems.push('anti-CSRF: a wrong anti-csrf token was accepted');
      } catch (e) {
        if (!(e && e.errType === 3000)) problems.push(`anti-CSRF: wrong token gave ${describe(e)}, expected TRY_REFRESH_TOKEN`);
      }
    }
    return { problems };
  },
});

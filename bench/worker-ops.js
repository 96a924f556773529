'use strict';
/**
 * What one measuring process (bench/worker.js) measures: the sessions it holds (built by
 * `prepare`, untimed) and the operations on them, one call per measured operation, each
 * verifying its own result, with the untimed checks after a measurement that look at the
 * database (rows actually written) and re-verify a sample of the tokens produced.
 *
 * The state lives in this module's variables rather than in an object: the operations read
 * it on every call of the measured loop, and both libraries should pay as little harness as
 * possible there.
 */

const crypto = require('node:crypto');
const { run, describe } = require('./runner.js');
const { fail, checkCreated, checkParent, checkData, checkRefreshed, checkPromoted } = require('./checks.js');

let lib = null; // the library under test (for `raw`: ours, only to create the table)
let raw = null; // raw driver (the raw worker only)
let sessionsTable = null;
let tag = ''; // names this process in user ids
let seq = 0; // running number, unique per process, used in user ids and payloads
let createBase = 0; // first number of the current createNewSession measurement

// Verification connection: plain SQL, used only outside timed sections.
let verifyConn = null;
function sql(text, params = []) {
  return new Promise((resolve, reject) => verifyConn.query(text, params, (e, rows) => (e ? reject(e) : resolve(rows))));
}
async function rowCount() {
  const rows = await sql(`SELECT COUNT(*) AS n FROM ${sessionsTable}`);
  return Number(rows[0].n);
}

/**
 * Sets what the operations run on (worker.js init).
 * @param {{lib: object, raw?: object, sessionsTable: string, verifyConn: object, tag: string}} on
 *   the loaded library, the raw driver (raw worker), the sessions table rows are counted in,
 *   a plain mysql connection for those counts, this process's name in user ids
 */
function use(on) {
  ({ lib, sessionsTable, verifyConn, tag } = on);
  raw = on.raw ?? null;
}

// ---- sessions ------------------------------------------------------------------------------

function userFor(n) {
  return { userId: `user-${tag}-${n}`, payload: { role: 'member', n }, data: { cart: [1, 2, 3], n } };
}

function newUser() {
  return userFor(seq++);
}

/** Creates one session for a new user and checks the result; resolves to its token record. */
async function createChecked() {
  const u = newUser();
  return checkCreated(u, await lib.createNewSession(u.userId, u.payload, u.data));
}

/** getSession on the parent token of record `t`, checked (throws on a wrong result). */
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

/**
 * The measured operations by name. Each is {call(i) -> the library's promise, verify(i,
 * result)}: the runner awaits the call directly and verifies synchronously (see runner.js).
 */
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
    if (after - before !== res.ok)
      problems.push(`createNewSession: ${res.ok} sessions reported, ${after - before} rows written`);
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

/**
 * Builds the token pools (untimed): `poolSize` parent tokens for getSession/getSessionData,
 * `coldPoolSize` for the cold getSession, `chainSize` sessions for refresh -> promotion,
 * `rawSize` rows for the raw SELECT. Throws when any creation failed.
 */
async function prepare({ poolSize = 0, coldPoolSize = 0, chainSize = 0, rawSize = 0 }) {
  const conc = { concurrency: 32 };
  const problems = [];
  const collect = (res) => problems.push(...res.errorSamples.slice(0, res.errors));
  pool = new Array(poolSize);
  collect(await run({ ...conc, count: poolSize }, async (i) => (pool[i] = await createChecked())));
  coldPool = new Array(coldPoolSize);
  collect(await run({ ...conc, count: coldPoolSize }, async (i) => (coldPool[i] = await createChecked())));
  chain = new Array(chainSize);
  collect(
    await run({ ...conc, count: chainSize }, async (i) => (chain[i] = { ...(await createChecked()), child: null })),
  );
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
}

/**
 * One measurement: `op` for `durationMs`, or `count` operations (`'chain'`: one per chain
 * session), `concurrency` in flight; the untimed checks' problems count as its errors.
 */
async function measure({ op, durationMs, count, concurrency }) {
  const fn = ops[op];
  if (!fn) throw new Error(`unknown op ${op}`);
  if (op === 'create') {
    recent = [];
    createBase = seq;
    seq += 1e8; // numbers createBase + i stay unique
  }
  const before = op === 'create' || op === 'rawInsert' ? await rowCount() : 0;
  const plan =
    count !== undefined
      ? { count: count === 'chain' ? chain.length : count, concurrency }
      : { durationMs, concurrency };
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
}

/** The first session of the hot pool (for the final checks), or undefined before prepare. */
const firstPooled = () => pool[0];

module.exports = { use, prepare, measure, ops, createChecked, getSessionParentChecked, firstPooled };

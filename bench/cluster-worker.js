'use strict';
/**
 * One measuring process of `--cluster` mode:
 *   node cluster-worker.js <ours|original> <single|galera> <blacklisting 0|1> <node index>
 * driven by cluster.js over IPC. Its MYSQL_* variables point at its own server (one Galera
 * node, or the single MySQL); the three workers of a library and mode share their tables, so
 * a session created by one is used by the others.
 *
 * The coordinator moves the sessions between workers: it stages the items one measurement
 * works on (`stage`, untimed), then starts the three workers together (`measure` with a
 * common start time). Each measurement returns its start and end on the wall clock, so the
 * coordinator can take the total over the three, and what the next step needs (new tokens).
 * Results are verified as in worker.js; errors are also tallied by message, so the report can
 * say which errors a library gave and how often.
 */

const { performance } = require('node:perf_hooks');
const mysql = require('mysql');
const { serve } = require('./rpc.js');
const { run, describe } = require('./runner.js');
const { configFor, tablesFor, load } = require('./libs.js');
const { checkCreated, checkParent, checkData, checkRefreshed, checkPromoted } = require('./checks.js');
const { settingsFromEnv } = require('../scripts/mysql.js');

const [libName, mode, blArg, nodeArg] = process.argv.slice(2);
const blacklisting = blArg === '1';
const tag = `${libName}-${mode}-${nodeArg}${blacklisting ? 'b' : ''}-${process.pid}`;
const SAMPLE = 30; // created sessions handed back for the cross-node check

let lib = null;
let sessionsTable = null;
let verifyConn = null;
let seq = 0; // running number, unique per process: user ids and payloads
let measureNo = 0;
const stages = {}; // name -> items, set by `stage`

/** The wall clock with sub-millisecond resolution: comparable across processes. */
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function sql(text, params = []) {
  return new Promise((resolve, reject) => verifyConn.query(text, params, (e, rows) => (e ? reject(e) : resolve(rows))));
}

function userFor(prefix, n) {
  return { userId: `${prefix}${n}`, payload: { role: 'member', n }, data: { cart: [1, 2, 3], n } };
}

/** Error messages and how often each came; capped so a storm of distinct ones stays small. */
function tally() {
  const kinds = {};
  return {
    kinds,
    add(e) {
      const k = describe(e).slice(0, 200);
      if (k in kinds || Object.keys(kinds).length < 20) kinds[k] = (kinds[k] || 0) + 1;
      else kinds['(other messages)'] = (kinds['(other messages)'] || 0) + 1;
      throw e;
    },
  };
}

/**
 * The measured operations over `items`: {call(i), verify(i, r)} as runner.js wants,
 * and what each hands back to the coordinator in `results`.
 */
function opFor(op, items, out) {
  switch (op) {
    case 'create': {
      const prefix = `u-${tag}-m${measureNo}-`;
      const base = seq;
      seq += 1e8; // base + i stays unique
      out.prefix = prefix;
      out.created = [];
      return {
        call(i) {
          const u = userFor(prefix, base + i);
          return lib.createNewSession(u.userId, u.payload, u.data);
        },
        verify(i, r) {
          // Keep the newest: the ones most likely not yet applied on the other nodes.
          out.created.push(checkCreated(userFor(prefix, base + i), r));
          if (out.created.length > 2 * SAMPLE) out.created.splice(0, SAMPLE);
        },
      };
    }
    case 'getSession':
      return {
        call: (i) => lib.getSession(items[i % items.length].at, items[i % items.length].csrf),
        verify: (i, r) => checkParent(items[i % items.length], r),
      };
    case 'getSessionData':
      return {
        call: (i) => lib.getSessionData(items[i % items.length].handle),
        verify: (i, d) => checkData(items[i % items.length], d),
      };
    case 'refresh':
      out.results = new Array(items.length).fill(null);
      return {
        call: (i) => lib.refreshSession(items[i].rt),
        verify(i, r) {
          checkRefreshed(items[i], r);
          out.results[i] = { at: r.newAccessToken.value, csrf: r.newAntiCsrfToken, rt: r.newRefreshToken.value };
        },
      };
    case 'promote':
      out.results = new Array(items.length).fill(null);
      return {
        call: (i) => lib.getSession(items[i].at, items[i].csrf),
        verify(i, r) {
          checkPromoted(items[i], r);
          out.results[i] = r.newAccessToken.value;
        },
      };
    default:
      throw new Error(`unknown op ${op}`);
  }
}

/** Untimed checks of sessions made elsewhere; each returns a problem text or null. */
const checks = {
  async parent(t) {
    checkParent(t, await lib.getSession(t.at, t.csrf));
  },
  async data(t) {
    checkData(t, await lib.getSessionData(t.handle));
  },
  /** A revoked session must be refused (getSession with blacklisting, getSessionData). */
  async refused(t) {
    try {
      if (blacklisting) await lib.getSession(t.at, t.csrf);
      else await lib.getSessionData(t.handle);
    } catch (e) {
      if (lib.isUnauthorised(e)) return;
      throw new Error(`gave ${describe(e)}, expected UNAUTHORISED`, { cause: e });
    }
    throw new Error('was still accepted');
  },
  /** A wrong anti-CSRF token must be refused with TRY_REFRESH_TOKEN (the check is really on). */
  async wrongCsrf(t) {
    try {
      await lib.getSession(t.at, 'not-the-anti-csrf-token');
    } catch (e) {
      if (e && e.errType === 3000) return;
      throw new Error(`gave ${describe(e)}, expected TRY_REFRESH_TOKEN`, { cause: e });
    }
    throw new Error('a wrong anti-csrf token was accepted');
  },
};

/** What each check calls, for its problem texts. */
const CHECK_NAMES = {
  parent: () => 'getSession (parent token)',
  data: () => 'getSessionData',
  refused: () => `${blacklisting ? 'getSession with blacklisting' : 'getSessionData'} of a revoked session`,
  wrongCsrf: () => 'getSession with a wrong anti-CSRF token',
};

serve({
  async init() {
    const db = settingsFromEnv();
    verifyConn = mysql.createConnection(db);
    // Galera applies other nodes' writes asynchronously; the bench's own checks must see the
    // cluster's state, not this node's (the library's reads get no such help).
    if (mode === 'galera') await sql('SET SESSION wsrep_sync_wait = 1');
    lib = load(libName);
    const tables = tablesFor(libName, mode);
    await lib.init(configFor(libName, { blacklisting, tables }));
    sessionsTable = tables.refreshTokens;
    return { pid: process.pid };
  },

  /** Creates `count` sessions (untimed, for the pools); returns their token records. */
  async create({ count, concurrency }) {
    const prefix = `p-${tag}-`;
    const made = new Array(count).fill(null);
    const res = await run({ count, concurrency }, async (i) => {
      const u = userFor(prefix, seq++);
      made[i] = checkCreated(u, await lib.createNewSession(u.userId, u.payload, u.data));
    });
    return { made: made.filter(Boolean), errors: res.errors, errorSamples: res.errorSamples };
  },

  /** Keeps `items` under `name` for later measurements (untimed, so IPC is not measured). */
  async stage({ name, items }) {
    stages[name] = items;
    return { staged: items.length };
  },

  /**
   * One measurement over the items staged as `stage`, starting at `startAt` (Date.now()
   * time, the same for the three workers): `durationMs` for create/getSession/getSessionData,
   * one operation per item for refresh/promote.
   */
  async measure({ op, stage, durationMs, concurrency, startAt }) {
    measureNo++;
    const items = stage === undefined ? [] : stages[stage];
    if (items === undefined) throw new Error(`nothing staged as ${stage}`);
    const out = {};
    const t = tally();
    const fn = opFor(op, items, out);
    const wrapped = {
      call(i) {
        try {
          return Promise.resolve(fn.call(i)).catch(t.add);
        } catch (e) {
          return t.add(e); // a synchronous throw: tallied, rethrown
        }
      },
      verify(i, r) {
        try {
          fn.verify(i, r);
        } catch (e) {
          t.add(e);
        }
      },
    };
    const plan = durationMs !== undefined ? { durationMs, concurrency } : { count: items.length, concurrency };
    await sleep(startAt - Date.now());
    const start = now();
    const res = await run(plan, wrapped);
    const end = now();
    const problems = [];
    if (op === 'create') {
      // Every reported session must be a row (read back with causal reads on Galera).
      const rows = await sql(`SELECT COUNT(*) AS n FROM ${sessionsTable} WHERE user_id LIKE ?`, [`${out.prefix}%`]);
      const written = Number(rows[0].n);
      if (written !== res.ok) problems.push(`createNewSession: ${res.ok} sessions reported, ${written} rows written`);
    }
    for (const p of problems) t.kinds[p] = (t.kinds[p] || 0) + 1;
    return {
      ok: res.ok,
      errors: res.errors + problems.length,
      attempted: res.ok + res.errors,
      start,
      end,
      errorKinds: t.kinds,
      sample: out.created ? out.created.slice(-SAMPLE) : undefined,
      results: out.results,
    };
  },

  /** Runs check `what` on each item; returns {failed, problems} (at most 10 texts). */
  async check({ what, items }) {
    let failed = 0;
    const problems = [];
    for (const item of items) {
      try {
        await checks[what](item);
      } catch (e) {
        failed++;
        if (problems.length < 10)
          problems.push(`${CHECK_NAMES[what]()} on node ${nodeArg}, session made on node ${item.node}: ${describe(e)}`);
      }
    }
    return { failed, problems };
  },

  /** Revokes the sessions `handles`; returns how many were removed. */
  async revoke({ handles }) {
    let removed = 0;
    for (const h of handles) if ((await lib.revokeSession(h)) === true) removed++;
    return { removed };
  },
});

'use strict';
/**
 * One measuring process: `node worker.js <ours|original|raw> <0|1|poll>` (no DB check,
 * blacklisting, or ours with revocationPollMs), driven by run.js over IPC. Each library is a
 * process-global singleton, so every (library, config) pair gets its own process,
 * initialised once.
 *
 * What it measures, and how each result is verified, is in bench/worker-ops.js; this file
 * sets the process up and adds the memory run and the final functional checks of its
 * configuration.
 */

const mysql = require('mysql');
const { serve } = require('./rpc.js');
const { run, describe } = require('./runner.js');
const { configFor, tablesFor, load } = require('./libs.js');
const { use, prepare, measure, ops, createChecked, getSessionParentChecked, firstPooled } = require('./worker-ops.js');
const { settingsFromEnv } = require('../scripts/mysql.js');

// The raw ceiling's driver: the addon's own pool through its bench hooks. raw-node-mysql.js
// runs the same statements through the node mysql driver instead, for comparison.
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
const tag = `${kind}${blacklisting ? '-bl' : ''}${polling ? '-poll' : ''}-${process.pid}`;

let lib = null; // the library under test (for `raw`: ours, only to create the table)

function gc() {
  if (typeof global.gc === 'function') {
    global.gc();
    global.gc();
  }
}

serve({
  async init() {
    const verifyConn = mysql.createConnection(settingsFromEnv());
    if (kind === 'raw') {
      // Our library creates the raw table, so it has exactly our sessions table's shape
      // (indexes included); the raw driver then writes to it directly.
      lib = load('ours');
      await lib.init(configFor('raw', { blacklisting: false }));
      const sessionsTable = tablesFor('raw').refreshTokens;
      const raw = await RAW_DRIVER.open({ sessionsTable, connectionLimit: CONNECTION_LIMIT });
      use({ lib, raw, sessionsTable, verifyConn, tag });
      return { label: raw.label };
    }
    lib = load(kind);
    await lib.init(configFor(kind, { blacklisting, revocationPollMs: polling ? POLL_MS : undefined }));
    use({ lib, sessionsTable: tablesFor(kind).refreshTokens, verifyConn, tag });
    return { label: kind };
  },

  /** Builds the token pools (untimed); see worker-ops.js prepare. */
  prepare,

  /** One measurement: {op, durationMs | count, concurrency}; see worker-ops.js measure. */
  measure,

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
      if ((await lib.revokeSession(s.handle)) !== true)
        problems.push('revokeSessionUsingSessionHandle did not remove the session');
      try {
        await lib.getSession(s.at, s.csrf);
        problems.push('blacklisting: a revoked session was still accepted');
      } catch (e) {
        if (!lib.isUnauthorised(e))
          problems.push(`blacklisting: revoked session gave ${describe(e)}, expected UNAUTHORISED`);
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
        problems.push(
          `no-DB getSession: a parent token was refused once its row was deleted (${describe(e)}), so the path consults the DB`,
        );
      }
    }
    if (kind !== 'raw') {
      // A wrong anti-CSRF token must be refused (the check is really on).
      const s = firstPooled() || (await createChecked());
      try {
        await lib.getSession(s.at, 'not-the-anti-csrf-token');
        problems.push('anti-CSRF: a wrong anti-csrf token was accepted');
      } catch (e) {
        if (!(e && e.errType === 3000))
          problems.push(`anti-CSRF: wrong token gave ${describe(e)}, expected TRY_REFRESH_TOKEN`);
      }
    }
    return { problems };
  },
});

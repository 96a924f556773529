'use strict';
/**
 * `npm run bench` — ours vs the original JavaScript library (supertokens-node-mysql-ref-jwt
 * 5.0.4), same MySQL, same run, same config (anti-CSRF on, dynamic keys), 32 operations in
 * flight, interleaved rounds, medians. Prints one table and writes bench/RESULTS.md.
 *
 *   node scripts/with-mysql.js node bench/run.js [--quick] [--rounds N] [--strict] [--cluster]
 *
 * --quick   short measurements, finishes in under a minute
 * --rounds  number of measured rounds (default 5, quick 3)
 * --strict  exit 2 when a target is not met (errors always exit 1)
 * --cluster single MySQL vs a private 3-node Galera cluster instead (bench/cluster.js)
 *
 * Processes (each library is a process-global singleton, so one process per configuration):
 *   worker ours / original          (blacklisting off)  createNewSession, getSession, refresh, …
 *   worker ours-bl / original-bl    (blacklisting on)   getSession with the DB check
 *   worker ours-poll                (revocationPollMs)  getSession with revocation, no DB check
 *   worker raw                                          raw INSERT / point SELECT (the ceiling)
 *   http-server ours / original                          Express endpoints
 *   http-load                                            autocannon, drives the HTTP servers
 * Only one measurement runs at a time; the others sit idle.
 */

const os = require('node:os');
const path = require('node:path');
const mysql = require('mysql');
const rpc = require('./rpc.js');
const report = require('./report.js');
const { LIBS, tablesFor } = require('./libs.js');
const { settingsFromEnv } = require('../scripts/mysql.js');

const CONCURRENCY = 32;
const HTTP_SLICE_SEC = 1; // HTTP measurements are split into slices of this length (see measureHttp)
// The cold getSession row: more distinct tokens than our verified-token cache holds (CAPACITY
// in src/token_cache.rs, 10,000), cycled in order, so every call misses the cache (and the
// decoded sessions in lib/fast-session.js) and verifies the token in full. Both modes.
const TOKEN_CACHE_CAPACITY = 10000;
const COLD_POOL_SIZE = 12000;

const MODES = {
  full: {
    budgetSec: 600,
    rounds: 5,
    dbMs: 2000, // each DB-level measurement, per library, per round
    httpSec: 10, // each HTTP measurement (bare, ours, original), per round, in 1-s slices
    warmDbMs: 500,
    warmHttpSec: 2,
    poolSize: 1000, // parent tokens cycled by getSession / getSessionData (the hot row)
    coldPoolSize: COLD_POOL_SIZE, // parent tokens cycled by the cold getSession row
    chainSize: 3000, // sessions refreshed (then promoted) once per round: one fresh child per op
    warmChain: 500,
    rawSize: 1000,
    memWarmup: 200000,
    memCalls: 1000000,
  },
  quick: {
    budgetSec: 60,
    rounds: 3,
    dbMs: 250,
    httpSec: 1,
    warmDbMs: 100,
    warmHttpSec: 0.5,
    poolSize: 500,
    coldPoolSize: COLD_POOL_SIZE,
    chainSize: 400,
    warmChain: 100,
    rawSize: 500,
    memWarmup: 50000,
    memCalls: 1000000,
  },
};

function parseArgs(argv) {
  const o = { quick: false, strict: false, cluster: false, rounds: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--strict') o.strict = true;
    else if (a === '--cluster') o.cluster = true;
    else if (a === '--rounds') o.rounds = Number(argv[++i]);
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/with-mysql.js node bench/run.js [--quick] [--rounds N] [--strict] [--cluster]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (o.rounds !== undefined && !(Number.isInteger(o.rounds) && o.rounds >= 1)) throw new Error('--rounds needs a positive integer');
  return o;
}

function log(msg) {
  process.stderr.write(`${msg}\n`);
}

function query(conn, sql) {
  return new Promise((resolve, reject) => conn.query(sql, (e, rows) => (e ? reject(e) : resolve(rows))));
}

// Six measuring processes each hold up to CONCURRENCY pooled connections (plus our pool's
// idle minimum of 10), the HTTP servers a few more: about 240 at peak. MariaDB's default
// max_connections is 151, so the bench raises it for its run when it is lower, and restores it.
const NEEDED_CONNECTIONS = 400;

/**
 * Drops the bench's own tables so every run starts from empty tables, and makes sure the
 * server accepts enough connections. Returns the server version and a restore function.
 */
async function prepareDatabase() {
  const conn = mysql.createConnection(settingsFromEnv());
  try {
    const version = (await query(conn, 'SELECT VERSION() AS v'))[0].v;
    const tables = [...LIBS, 'raw'].flatMap((l) => Object.values(tablesFor(l)));
    await query(conn, `DROP TABLE IF EXISTS ${tables.join(', ')}`);
    const max = Number((await query(conn, 'SELECT @@GLOBAL.max_connections AS m'))[0].m);
    let restore = async () => {};
    if (max < NEEDED_CONNECTIONS) {
      try {
        await query(conn, `SET GLOBAL max_connections = ${NEEDED_CONNECTIONS}`);
      } catch (e) {
        throw new Error(
          `the bench needs max_connections >= ${NEEDED_CONNECTIONS} (server has ${max}) and could not raise it (${e.code}); ` +
            `run \`SET GLOBAL max_connections = ${NEEDED_CONNECTIONS}\` as an admin, or start the server with --max-connections=${NEEDED_CONNECTIONS}`,
        );
      }
      log(`bench: raised max_connections from ${max} to ${NEEDED_CONNECTIONS} for this run`);
      restore = async () => {
        const c = mysql.createConnection(settingsFromEnv());
        try {
          await query(c, `SET GLOBAL max_connections = ${max}`);
          log(`bench: restored max_connections to ${max}`);
        } catch (e) {
          log(`bench: could not restore max_connections to ${max}: ${e.message}`);
        } finally {
          c.end();
        }
      };
    }
    return { version, restore };
  } finally {
    conn.end();
  }
}

async function main() {
  const t0 = Date.now();
  const loadBefore = os.loadavg();
  const args = parseArgs(process.argv.slice(2));
  if (args.cluster) return require('./cluster.js').main(args);
  const modeName = args.quick ? 'quick' : 'full';
  const M = { ...MODES[modeName] };
  if (args.rounds !== undefined) M.rounds = args.rounds;

  const db = await prepareDatabase();
  const mariadb = db.version;
  const env = { ...process.env };
  const children = [];
  const startChild = (file, argv, name, execArgv) => {
    const c = rpc.start(path.join(__dirname, file), argv, { name, env, execArgv });
    children.push(c);
    return c;
  };

  const failures = []; // {what, count, samples}
  const perRound = {}; // key -> lib -> [ops/s per round]
  const whatOf = {}; // measurement key -> its label, for the per-round table
  const record = (key, lib, round, res, what) => {
    whatOf[key] = what;
    if (round >= 0) {
      perRound[key] ??= {};
      (perRound[key][lib] ??= []).push(res.opsPerSec);
    }
    const tag = round >= 0 ? `round ${round + 1}/${M.rounds}` : 'warm-up';
    log(`  [${tag}] ${what.padEnd(34)} ${lib.padEnd(9)} ${report.fmtOps(res.opsPerSec).padStart(7)} ops/s  (${res.ok} ok, ${res.errors} errors)`);
    if (res.errors > 0) {
      failures.push({ what: `${what} (${lib}, ${tag})`, count: res.errors, samples: res.errorSamples });
      for (const s of res.errorSamples) log(`      error: ${s}`);
    }
  };

  // Ctrl-C / SIGTERM: stop the children and restore max_connections before leaving.
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, async () => {
      log(`bench: ${sig}, stopping`);
      await Promise.all(children.map((c) => c.stop()));
      await db.restore();
      process.exit(130);
    });
  }

  let exitCode = 0;
  try {
    log(`bench: ${modeName} mode, ${M.rounds} rounds, ${CONCURRENCY} in flight, MySQL ${mariadb}`);

    // ---- start and initialise every process (one at a time: no init races) ---------------
    const W = {};
    const BL = {};
    const POLL = {};
    const S = {};
    for (const lib of LIBS) {
      W[lib] = startChild('worker.js', [lib, '0'], `worker ${lib}`, ['--expose-gc']);
      await W[lib].call('init');
      BL[lib] = startChild('worker.js', [lib, '1'], `worker ${lib}-blacklisting`);
      await BL[lib].call('init');
    }
    POLL.ours = startChild('worker.js', ['ours', 'poll'], 'worker ours-revocationPollMs');
    await POLL.ours.call('init');
    const RAW = startChild('worker.js', ['raw', '0'], 'worker raw');
    const rawLabel = (await RAW.call('init')).label;
    const target = {};
    for (const lib of LIBS) {
      S[lib] = startChild('http-server.js', [lib], `http-server ${lib}`);
      target[lib] = await S[lib].call('init');
    }
    const LOAD = startChild('http-load.js', [], 'http-load');

    log(
      `bench: preparing tokens (${M.poolSize} sessions for getSession/getSessionData, ${M.coldPoolSize} for cold getSession, ${M.chainSize} for refresh/promotion)`,
    );
    for (const lib of LIBS) {
      await W[lib].call('prepare', { poolSize: M.poolSize, coldPoolSize: M.coldPoolSize, chainSize: M.chainSize }, 300000);
      await BL[lib].call('prepare', { poolSize: M.poolSize }, 300000);
    }
    await POLL.ours.call('prepare', { poolSize: M.poolSize }, 300000);
    await RAW.call('prepare', { rawSize: M.rawSize }, 300000);
    log(`bench: ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // ---- the measurement sequence of one round ---------------------------------------------
    // Each operation is measured for both libraries back to back; a ceiling is measured
    // between the two (ours, ceiling, original — or the reverse), so whatever the previous
    // measurement left behind (InnoDB flushing after a burst of INSERTs, a cold cache) hits
    // the ceiling alike in every round and both libraries alike over the rounds.
    const rawCeiling = (key, op, what) => ({ key, what, run: (ms) => RAW.call('measure', { op, durationMs: ms, concurrency: CONCURRENCY }) });
    const sequence = [
      { key: 'create', what: 'createNewSession', on: W, op: 'create', ceiling: rawCeiling('rawInsert', 'rawInsert', 'raw INSERT (ceiling)') },
      { key: 'getParent', what: 'getSession parent (no DB) hot', on: W, op: 'getSessionParent' },
      { key: 'getParentCold', what: 'getSession parent (no DB) cold', on: W, op: 'getSessionParentCold' },
      { key: 'getBlacklist', what: 'getSession blacklisting', on: BL, op: 'getSessionParent', ceiling: rawCeiling('rawSelectBl', 'rawSelect', 'raw point SELECT (ceiling, blacklisting pair)') },
      // Ours only: compared with the original's blacklisting row (its one way to reject revoked sessions).
      { key: 'getPoll', what: 'getSession revocationPollMs', on: POLL, op: 'getSessionParent', libs: ['ours'] },
      { key: 'getData', what: 'getSessionData', on: W, op: 'getSessionData', ceiling: rawCeiling('rawSelect', 'rawSelect', 'raw point SELECT (ceiling)') },
      // Ours merges a patch; the original can only replace the data (its updateSessionInfo).
      { key: 'writeData', what: 'session data write', on: W, op: { ours: 'mergeSessionData', original: 'updateSessionData' } },
      { key: 'refresh', what: 'refreshSession', on: W, op: 'refresh', chain: true },
      { key: 'getChild', what: 'getSession child (promotion)', on: W, op: 'getSessionChild', chain: true },
    ];

    // HTTP: the two session endpoints and the bare one (on the ours server process; no session
    // code runs for it). Two processes share the two cores here, so a burst of other work
    // moves a 5-second measurement by ±15 %: each round measures the three in 1-second
    // slices, interleaved (ours, bare, original, then the reverse), and sums them, so a burst
    // hits all three alike.
    const httpEndpoints = (order) => [
      { key: 'httpSession', lib: order[0], what: 'HTTP getSession endpoint', url: `${target[order[0]].url}/session`, t: target[order[0]] },
      { key: 'httpBare', lib: 'ceiling', what: 'HTTP bare endpoint (ceiling)', url: `${target.ours.url}/bare`, t: { ...target.ours, expectBody: 'ok' } },
      { key: 'httpSession', lib: order[1], what: 'HTTP getSession endpoint', url: `${target[order[1]].url}/session`, t: target[order[1]] },
    ];
    const measureHttp = async (order, sec, round) => {
      const endpoints = httpEndpoints(order);
      const sums = endpoints.map(() => ({ ok: 0, errors: 0, elapsedMs: 0, errorSamples: [] }));
      const slices = Math.max(1, Math.round(sec / HTTP_SLICE_SEC));
      for (let slice = 0; slice < slices; slice++) {
        const turn = slice % 2 === 0 ? [0, 1, 2] : [2, 1, 0];
        for (const i of turn) {
          const { url, t } = endpoints[i];
          const r = await LOAD.call('load', { url, headers: t.headers, durationSec: sec / slices, connections: CONCURRENCY, expectBody: t.expectBody });
          sums[i].ok += r.ok;
          sums[i].errors += r.errors;
          sums[i].elapsedMs += r.elapsedMs;
          sums[i].errorSamples.push(...r.errorSamples);
        }
      }
      endpoints.forEach((e, i) => record(e.key, e.lib, round, { ...sums[i], opsPerSec: (sums[i].ok * 1000) / sums[i].elapsedMs }, e.what));
    };

    const runRound = async (round) => {
      const warm = round < 0;
      const dbMs = warm ? M.warmDbMs : M.dbMs;
      const httpSec = warm ? M.warmHttpSec : M.httpSec;
      // Alternate which library goes first, so neither always runs right after the other.
      const order = round % 2 === 0 ? LIBS : [...LIBS].reverse();
      for (const step of sequence) {
        for (const [k, lib] of (step.libs ?? order).entries()) {
          const plan = step.chain ? { count: warm ? Math.min(M.warmChain, M.chainSize) : 'chain' } : { durationMs: dbMs };
          const op = typeof step.op === 'string' ? step.op : step.op[lib];
          const res = await step.on[lib].call('measure', { op, ...plan, concurrency: CONCURRENCY }, 300000);
          record(step.key, lib, round, res, step.what);
          if (k === 0 && step.ceiling) {
            record(step.ceiling.key, 'ceiling', round, await step.ceiling.run(dbMs), step.ceiling.what);
          }
        }
      }
      await measureHttp(order, httpSec, round);
    };

    log('bench: warm-up round (not counted)');
    await runRound(-1);
    for (let r = 0; r < M.rounds; r++) {
      log(`bench: round ${r + 1}/${M.rounds}`);
      await runRound(r);
    }

    // ---- memory ----------------------------------------------------------------------------
    log(`bench: memory: ${M.memCalls.toLocaleString('en')} getSession calls (ours) after ${M.memWarmup.toLocaleString('en')} warm-up calls`);
    const mem = await W.ours.call('memory', { warmup: M.memWarmup, calls: M.memCalls, concurrency: CONCURRENCY }, 300000);
    const growth = mem.rssAfter - mem.rssBefore;
    log(`  RSS ${report.mb(mem.rssBefore)} -> ${report.mb(mem.rssAfter)} (${growth >= 0 ? '+' : ''}${report.mb(growth)}), heap ${report.mb(mem.heapBefore)} -> ${report.mb(mem.heapAfter)}, ${report.fmtOps(mem.opsPerSec)} ops/s`);
    if (mem.errors) failures.push({ what: 'memory run getSession (ours)', count: mem.errors, samples: mem.errorSamples });

    // ---- final functional checks -------------------------------------------------------------
    for (const c of [...Object.values(W), ...Object.values(BL), ...Object.values(POLL)]) {
      const { problems } = await c.call('verify');
      if (problems.length) failures.push({ what: `final checks (${c.name})`, count: problems.length, samples: problems });
    }

    // ---- table --------------------------------------------------------------------------------
    const pr = (key, lib) => (perRound[key] && perRound[key][lib]) || [];
    const rawInsert = pr('rawInsert', 'ceiling');
    const rawSelect = pr('rawSelect', 'ceiling');
    const defs = [
      { label: 'createNewSession', ours: pr('create', 'ours'), original: pr('create', 'original'), ceiling: rawInsert, ceilingName: 'raw INSERT', minRatio: 3, minCeiling: 0.7 },
      { label: `getSession, parent token (no DB), hot: ${M.poolSize.toLocaleString('en')} tokens`, ours: pr('getParent', 'ours'), original: pr('getParent', 'original'), minRatio: 10 },
      {
        label: `getSession, parent token (no DB), cold: ${M.coldPoolSize.toLocaleString('en')} tokens (every call a cache miss)`,
        ours: pr('getParentCold', 'ours'),
        original: pr('getParentCold', 'original'),
        minRatio: 10,
      },
      { label: 'getSession, blacklisting on', ours: pr('getBlacklist', 'ours'), original: pr('getBlacklist', 'original'), ceiling: pr('rawSelectBl', 'ceiling'), ceilingName: 'raw SELECT', minRatio: 2, minCeiling: 0.7 },
      {
        label: 'getSession with revocation: ours revocationPollMs (no DB) vs the original\'s blacklisting',
        ours: pr('getPoll', 'ours'),
        original: pr('getBlacklist', 'original'),
        minRatio: 20,
      },
      { label: 'session data write: ours mergeSessionData vs the original\'s updateSessionInfo', ours: pr('writeData', 'ours'), original: pr('writeData', 'original'), minRatio: 2 },
      { label: 'getSession, child token (promotion)', ours: pr('getChild', 'ours'), original: pr('getChild', 'original'), minRatio: 3 },
      { label: 'refreshSession', ours: pr('refresh', 'ours'), original: pr('refresh', 'original'), minRatio: 3 },
      { label: 'getSessionData', ours: pr('getData', 'ours'), original: pr('getData', 'original'), ceiling: rawSelect, ceilingName: 'raw SELECT', minRatio: 2, minCeiling: 0.7 },
      { label: `ceiling: raw single-row INSERT (${rawLabel})`, ours: rawInsert, isCeiling: true },
      { label: `ceiling: raw point SELECT by PK (${rawLabel})`, ours: rawSelect, isCeiling: true },
      { label: 'HTTP: Express GET calling getSession(req, res, true)', ours: pr('httpSession', 'ours'), original: pr('httpSession', 'original'), ceiling: pr('httpBare', 'ceiling'), ceilingName: 'bare', minRatio: 1.15, minCeiling: 0.9 },
      { label: 'HTTP: bare Express GET, no session check (ceiling)', ours: pr('httpBare', 'ceiling'), isCeiling: true },
    ];
    const rows = report.summarise(defs);
    const memMet = growth < 20 * 1048576;
    rows.push({
      label: `memory: RSS growth over ${M.memCalls.toLocaleString('en')} getSession calls (ours, after warm-up)`,
      ours: `${growth >= 0 ? '+' : ''}${report.mb(growth)}`,
      original: '—',
      ratio: '—',
      ceiling: '—',
      target: '< 20 MB',
      status: memMet ? 'met' : `**NOT met** (${report.mb(growth)})`,
      met: memMet,
    });
    const table = report.markdownTable(rows);
    const missed = rows.filter((r) => r.met === false);
    const elapsedSec = (Date.now() - t0) / 1000;

    console.log('');
    console.log(table);
    console.log('');
    console.log(
      `Medians of ${M.rounds} rounds; ratio and ours/ceiling are medians of per-round ratios (pairs measured back to back). ` +
        `${missed.length === 0 ? 'All targets met.' : `${missed.length} target(s) NOT met: ${missed.map((r) => r.label).join('; ')}.`}`,
    );
    if (failures.length) {
      console.log(`\nFAILURES (${failures.reduce((a, f) => a + f.count, 0)} errors):`);
      for (const f of failures) console.log(`- ${f.what}: ${f.count} — ${f.samples.join(' | ')}`);
    }
    const overBudget = elapsedSec > M.budgetSec ? ` — OVER the ${M.budgetSec} s budget of ${modeName} mode` : ` (budget ${M.budgetSec} s)`;
    console.log(`\nTotal run time: ${elapsedSec.toFixed(1)} s${overBudget}`);

    // ---- RESULTS.md ----------------------------------------------------------------------------
    const m = report.machine(mariadb);
    const roundsTable = [
      `| measurement | ${Array.from({ length: M.rounds }, (_, i) => `round ${i + 1}`).join(' | ')} |`,
      `|---|${Array.from({ length: M.rounds }, () => '---:').join('|')}|`,
    ];
    for (const [key, byLib] of Object.entries(perRound)) {
      for (const [lib, xs] of Object.entries(byLib)) roundsTable.push(`| ${whatOf[key]} — ${lib} | ${xs.map(report.fmtOps).join(' | ')} |`);
    }
    const md = [
      '# Benchmark results',
      '',
      `Written by \`npm run bench${args.quick ? ' -- --quick' : ''}\` (${modeName} mode) — see [README.md](README.md) for what each row means.`,
      '',
      '## Machine',
      '',
      ...report.machineLines(m),
      '',
      '## Settings',
      '',
      `- ${M.rounds} measured rounds after one warm-up round; libraries interleaved in every round (first library alternates by round).`,
      `- ${CONCURRENCY} operations in flight for every measurement (HTTP: ${CONCURRENCY} connections, no pipelining).`,
      `- Parent-token getSession: hot, ${M.poolSize} sessions cycled (cached after the first pass); cold, ${M.coldPoolSize} sessions cycled in order, more than our verified-token cache holds (${TOKEN_CACHE_CAPACITY}), so every call verifies the token in full (the original has no such cache: every call verifies in both rows).`,
      `- Library measurements and raw ceilings: ${M.dbMs} ms each; refreshSession and child-token getSession: a fixed ${M.chainSize} operations each (one fresh child token per operation).`,
      `- HTTP: ${M.httpSec} s per endpoint per round, in ${HTTP_SLICE_SEC}-s slices interleaved across the three endpoints; autocannon in its own process, Express 4 server in another.`,
      '- Both libraries: anti-CSRF on, dynamic signing keys (24 h), access tokens 3600 s, refresh tokens 2400 h, 50 pooled connections, own tables in the same database.',
      `- Raw ceiling driver: ${rawLabel}.`,
      `- Load average (1/5/15 min) at start: ${loadBefore.map((x) => x.toFixed(2)).join(' / ')}; at end: ${os.loadavg().map((x) => x.toFixed(2)).join(' / ')} (${os.cpus().length} cores; anything well above the bench's own ~1–2 means other work was running).`,
      '',
      '## Results',
      '',
      table,
      '',
      'ops/s columns are medians over rounds; `ratio` (ours / original) and `ours/ceiling` are medians of the per-round ratios.',
      '',
      `Memory: RSS ${report.mb(mem.rssBefore)} → ${report.mb(mem.rssAfter)}, heap ${report.mb(mem.heapBefore)} → ${report.mb(mem.heapAfter)} over ${M.memCalls.toLocaleString('en')} calls after ${M.memWarmup.toLocaleString('en')} warm-up calls (${mem.gcForced ? 'full GC before each reading' : 'no forced GC'}).`,
      '',
      `Errors: ${failures.length === 0 ? 'none (every result verified).' : ''}`,
      ...failures.map((f) => `- ${f.what}: ${f.count} — ${f.samples.join(' | ')}`),
      '',
      `Total run time: ${elapsedSec.toFixed(1)} s${overBudget}.`,
      '',
      '## Per-round ops/s',
      '',
      ...roundsTable,
      '',
    ].join('\n');
    report.writeResults(path.join(__dirname, 'RESULTS.md'), md); // keeps the --cluster section
    log('bench: wrote bench/RESULTS.md');

    if (failures.length) exitCode = 1;
    else if (args.strict && missed.length) exitCode = 2;
  } catch (e) {
    console.error(`bench: FAILED: ${e && e.stack ? e.stack : e}`);
    exitCode = 1;
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await db.restore();
  }
  process.exit(exitCode);
}

main();

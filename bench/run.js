'use strict';
/**
 * `npm run bench` — ours vs the original JavaScript library (supertokens-node-mysql-ref-jwt
 * 5.0.4), same MySQL, same run, same config (anti-CSRF on, dynamic keys), 32 operations in
 * flight, interleaved rounds, medians. Prints one table and writes bench/RESULTS.md.
 *
 *   node scripts/with-mysql.js node bench/run.js [--quick] [--rounds N] [--strict] [--cluster]
 *
 * The flags are in bench/cli.js (`--cluster` hands over to bench/cluster.js), what is
 * measured and the targets in bench/plan.js, the table and RESULTS.md in bench/report.js.
 * This file runs it.
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
const rpc = require('./rpc.js');
const report = require('./report.js');
const db = require('./db.js');
const plan = require('./plan.js');
const { parseArgs, modeSettings, log, runToExit } = require('./cli.js');
const { LIBS, tablesFor } = require('./libs.js');
const { settingsFromEnv } = require('../scripts/mysql.js');

const { CONCURRENCY } = plan;

/**
 * Collects the measurements: the per-round rates (`perRound`: key -> lib -> ops/s per round;
 * the warm-up, round < 0, is logged but not counted), each key's label, and every failure.
 */
function recorder(rounds) {
  const failures = []; // {what, count, samples}
  const perRound = {};
  const whatOf = {}; // measurement key -> its label, for the per-round table
  const record = (key, lib, round, res, what) => {
    whatOf[key] = what;
    if (round >= 0) {
      perRound[key] ??= {};
      (perRound[key][lib] ??= []).push(res.opsPerSec);
    }
    const tag = round >= 0 ? `round ${round + 1}/${rounds}` : 'warm-up';
    log(
      `  [${tag}] ${what.padEnd(34)} ${lib.padEnd(9)} ${report.fmtOps(res.opsPerSec).padStart(7)} ops/s  (${res.ok} ok, ${res.errors} errors)`,
    );
    if (res.errors > 0) {
      failures.push({ what: `${what} (${lib}, ${tag})`, count: res.errors, samples: res.errorSamples });
      for (const s of res.errorSamples) log(`      error: ${s}`);
    }
  };
  const pr = (key, lib) => (perRound[key] && perRound[key][lib]) || [];
  return { failures, perRound, whatOf, record, pr };
}

/**
 * Starts and initialises every process, one at a time (no init races), then has the workers
 * prepare their tokens. `startChild(file, argv, name, execArgv)` starts one.
 */
async function startProcesses(startChild, M, t0) {
  const P = { W: {}, BL: {}, POLL: {}, target: {} };
  for (const lib of LIBS) {
    P.W[lib] = startChild('worker.js', [lib, '0'], `worker ${lib}`, ['--expose-gc']);
    await P.W[lib].call('init');
    P.BL[lib] = startChild('worker.js', [lib, '1'], `worker ${lib}-blacklisting`);
    await P.BL[lib].call('init');
  }
  P.POLL.ours = startChild('worker.js', ['ours', 'poll'], 'worker ours-revocationPollMs');
  await P.POLL.ours.call('init');
  P.RAW = startChild('worker.js', ['raw', '0'], 'worker raw');
  P.rawLabel = (await P.RAW.call('init')).label;
  for (const lib of LIBS) {
    const server = startChild('http-server.js', [lib], `http-server ${lib}`);
    P.target[lib] = await server.call('init');
  }
  P.LOAD = startChild('http-load.js', [], 'http-load');

  log(
    `bench: preparing tokens (${M.poolSize} sessions for getSession/getSessionData, ${M.coldPoolSize} for cold getSession, ${M.chainSize} for refresh/promotion)`,
  );
  for (const lib of LIBS) {
    await P.W[lib].call(
      'prepare',
      { poolSize: M.poolSize, coldPoolSize: M.coldPoolSize, chainSize: M.chainSize },
      300000,
    );
    await P.BL[lib].call('prepare', { poolSize: M.poolSize }, 300000);
  }
  await P.POLL.ours.call('prepare', { poolSize: M.poolSize }, 300000);
  await P.RAW.call('prepare', { rawSize: M.rawSize }, 300000);
  log(`bench: ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return P;
}

/**
 * The HTTP rows of one round. The server and autocannon share the two cores, so a burst of
 * other work lands on a whole measurement: each round measures the three endpoints in
 * HTTP_SLICE_SEC slices, interleaved (ours, bare, original, then the reverse), and sums them,
 * so a burst hits all three alike.
 */
async function measureHttp(P, record, order, sec, round) {
  const endpoints = plan.httpEndpoints(order, P.target);
  const sums = endpoints.map(() => ({ ok: 0, errors: 0, elapsedMs: 0, errorSamples: [] }));
  const slices = Math.max(1, Math.round(sec / plan.HTTP_SLICE_SEC));
  for (let slice = 0; slice < slices; slice++) {
    const turn = slice % 2 === 0 ? [0, 1, 2] : [2, 1, 0];
    for (const i of turn) {
      const { url, t } = endpoints[i];
      const r = await P.LOAD.call('load', {
        url,
        headers: t.headers,
        durationSec: sec / slices,
        connections: CONCURRENCY,
        expectBody: t.expectBody,
      });
      sums[i].ok += r.ok;
      sums[i].errors += r.errors;
      sums[i].elapsedMs += r.elapsedMs;
      sums[i].errorSamples.push(...r.errorSamples);
    }
  }
  endpoints.forEach((e, i) =>
    record(e.key, e.lib, round, { ...sums[i], opsPerSec: (sums[i].ok * 1000) / sums[i].elapsedMs }, e.what),
  );
}

/** One round of plan.SEQUENCE and the HTTP rows (round < 0: the warm-up, shorter and not counted). */
async function runRound(P, M, record, round) {
  const warm = round < 0;
  const dbMs = warm ? M.warmDbMs : M.dbMs;
  const httpSec = warm ? M.warmHttpSec : M.httpSec;
  // Alternate which library goes first, so neither always runs right after the other.
  const order = round % 2 === 0 ? LIBS : [...LIBS].reverse();
  for (const step of plan.SEQUENCE) {
    for (const [k, lib] of (step.libs ?? order).entries()) {
      const size = step.chain ? { count: warm ? Math.min(M.warmChain, M.chainSize) : 'chain' } : { durationMs: dbMs };
      const op = typeof step.op === 'string' ? step.op : step.op[lib];
      const res = await P[step.on][lib].call('measure', { op, ...size, concurrency: CONCURRENCY }, 300000);
      record(step.key, lib, round, res, step.what);
      if (k === 0 && step.ceiling) {
        const c = step.ceiling;
        record(
          c.key,
          'ceiling',
          round,
          await P.RAW.call('measure', { op: c.op, durationMs: dbMs, concurrency: CONCURRENCY }),
          c.what,
        );
      }
    }
  }
  await measureHttp(P, record, order, httpSec, round);
}

/** RSS growth of our worker over the memory run; its errors count as failures. */
async function measureMemory(P, M, failures) {
  log(
    `bench: memory: ${M.memCalls.toLocaleString('en')} getSession calls (ours) after ${M.memWarmup.toLocaleString('en')} warm-up calls`,
  );
  const mem = await P.W.ours.call(
    'memory',
    { warmup: M.memWarmup, calls: M.memCalls, concurrency: CONCURRENCY },
    300000,
  );
  const growth = mem.rssAfter - mem.rssBefore;
  log(
    `  RSS ${report.mb(mem.rssBefore)} -> ${report.mb(mem.rssAfter)} (${growth >= 0 ? '+' : ''}${report.mb(growth)}), heap ${report.mb(mem.heapBefore)} -> ${report.mb(mem.heapAfter)}, ${report.fmtOps(mem.opsPerSec)} ops/s`,
  );
  if (mem.errors) failures.push({ what: 'memory run getSession (ours)', count: mem.errors, samples: mem.errorSamples });
  return { mem, growth };
}

async function main() {
  const t0 = Date.now();
  const loadBefore = os.loadavg();
  const args = parseArgs(process.argv.slice(2));
  if (args.cluster) return require('./cluster.js').main(args);
  const { modeName, M } = modeSettings(args, plan.MODES);
  const env = { ...process.env };
  const children = [];
  const startChild = (file, argv, name, execArgv) => {
    const c = rpc.start(path.join(__dirname, file), argv, { name, env, execArgv });
    children.push(c);
    return c;
  };
  let restore = async () => {};
  const cleanup = async () => {
    await Promise.all(children.map((c) => c.stop()));
    await restore();
  };

  return runToExit(
    async () => {
      // Every run starts from empty tables of its own; the server must accept the connections.
      const settings = settingsFromEnv();
      const mariadb = await db.serverVersion(settings);
      await db.dropTables(
        settings,
        [...LIBS, 'raw'].flatMap((l) => Object.values(tablesFor(l))),
      );
      restore = await db.ensureConnections(settings, plan.NEEDED_CONNECTIONS);
      log(`bench: ${modeName} mode, ${M.rounds} rounds, ${CONCURRENCY} in flight, MySQL ${mariadb}`);

      const P = await startProcesses(startChild, M, t0);
      const { failures, perRound, whatOf, record, pr } = recorder(M.rounds);
      log('bench: warm-up round (not counted)');
      await runRound(P, M, record, -1);
      for (let r = 0; r < M.rounds; r++) {
        log(`bench: round ${r + 1}/${M.rounds}`);
        await runRound(P, M, record, r);
      }
      const { mem, growth } = await measureMemory(P, M, failures);

      // Final functional checks.
      for (const c of [...Object.values(P.W), ...Object.values(P.BL), ...Object.values(P.POLL)]) {
        const { problems } = await c.call('verify');
        if (problems.length)
          failures.push({ what: `final checks (${c.name})`, count: problems.length, samples: problems });
      }

      const rows = report.summarise(plan.tableDefs(pr, M, P.rawLabel));
      rows.push(plan.memoryRow(growth, M));
      const table = report.markdownTable(rows);
      const missed = rows.filter((r) => r.met === false);
      const elapsedSec = (Date.now() - t0) / 1000;
      const overBudget =
        elapsedSec > M.budgetSec
          ? ` — OVER the ${M.budgetSec} s budget of ${modeName} mode`
          : ` (budget ${M.budgetSec} s)`;
      const runTime = `Total run time: ${elapsedSec.toFixed(1)} s${overBudget}`;
      console.log(report.plainSummary({ table, rounds: M.rounds, missed, failures, runTime }));

      const run = {
        quick: args.quick,
        modeName,
        M,
        mariadb,
        plan,
        rawLabel: P.rawLabel,
        loadBefore,
        table,
        mem,
        failures,
        runTime,
        perRound,
        whatOf,
      };
      report.writeResults(path.join(__dirname, 'RESULTS.md'), report.plainResults(run)); // keeps the --cluster section
      log('bench: wrote bench/RESULTS.md');

      if (failures.length) return 1;
      return args.strict && missed.length ? 2 : 0;
    },
    cleanup,
    'the bench processes',
  );
}

main();

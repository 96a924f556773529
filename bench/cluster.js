'use strict';
/**
 * `npm run bench -- --cluster [--quick] [--rounds N]`: the session operations on the single
 * MySQL of the plain bench and on a private 3-node multi-primary Galera cluster, both
 * libraries, in the same run. Prints one table and writes the "Cluster (3-node Galera)"
 * section of bench/RESULTS.md.
 *
 * Per library and server ("mode": single or galera) a Setup (bench/cluster-setup.js): six
 * worker processes (bench/cluster-worker.js), three with blacklisting off and three with it
 * on, worker i talking to node i (in single mode all three to the one server, so the two
 * modes differ only in the server). The six share their tables, so a session made by one is
 * used by the others, and every step of a session goes to the next node. 32 operations are
 * in flight in total (11 + 11 + 10 lanes, one share per worker). This file starts the
 * cluster, runs the rounds over the setups, and prints and writes the results
 * (bench/cluster-report.js).
 */

const os = require('node:os');
const path = require('node:path');
const report = require('./report.js');
const creport = require('./cluster-report.js');
const db = require('./db.js');
const { Setup, NODES, LANES, firstLine } = require('./cluster-setup.js');
const { modeSettings, log, runToExit } = require('./cli.js');
const { LIBS, tablesFor } = require('./libs.js');
const { settingsFromEnv } = require('../scripts/mysql.js');
const { startCluster } = require('../scripts/galera.js');
const { measureCausalCost } = require('./causal-cost.js');

const MODES = {
  // budgetSec covers the ~20 s cluster start and the untimed preparation too.
  full: { budgetSec: 600, rounds: 5, dbMs: 1500, warmDbMs: 300, poolSize: 3000, chainSize: 1500, warmChain: 300 },
  quick: { budgetSec: 180, rounds: 3, dbMs: 500, warmDbMs: 150, poolSize: 1500, chainSize: 600, warmChain: 120 },
};

// Twelve processes (2 libraries × 6) share the single server: up to 32 in flight plus our
// pool's idle minimum of 10 per process, about 200 connections. Raised like run.js does.
const NEEDED_CONNECTIONS = 300;

/** What is measured: key, a short name for the progress lines, the table's label. */
const OPS = [
  { key: 'create', short: 'createNewSession', label: 'createNewSession' },
  { key: 'refresh', short: 'refreshSession', label: 'refreshSession (parent made on another node)' },
  {
    key: 'promote',
    short: 'getSession promotion',
    label: 'getSession, child token: promotion (child from a refresh on another node)',
  },
  { key: 'getData', short: 'getSessionData', label: 'getSessionData (session made on another node)' },
  {
    key: 'getBl',
    short: 'getSession blacklisting',
    label: 'getSession, blacklisting on (session made on another node)',
  },
];

/**
 * Runs `fn` for setup `s`; when it throws (a worker crashed, a call went unanswered) the
 * setup is reported and left out from then on, and the others carry on.
 * @returns {Promise<any>} what fn resolved to, or null when it failed
 */
async function guarded(s, what, fn) {
  try {
    return await fn();
  } catch (e) {
    s.dead = `${what} failed: ${firstLine(e.message)}`;
    log(`  ${s.key}: ${s.dead}; left out from now on`);
    return null;
  }
}

/** One round over the setups still `live()` (round < 0: the warm-up, whose rates are not counted). */
async function runRound(live, stats, M, round) {
  const warm = round < 0;
  const ms = warm ? M.warmDbMs : M.dbMs;
  // Alternate the order, so no setup always runs right after the same other one.
  const order = () => (round % 2 === 0 ? live() : live().reverse());
  const when = warm ? 'warm-up' : `round ${round + 1}`;
  const step = async (s, op, fn) => {
    const res = await guarded(s, `${op} (${when})`, fn);
    if (res !== null) creport.record(stats, op, s.key, round, res, log);
  };
  for (const s of order()) await step(s, 'create', () => s.create(ms));
  for (const s of order()) {
    const r = await guarded(s, `refresh/promotion (${when})`, () =>
      s.refreshAndPromote(warm ? M.warmChain : M.chainSize),
    );
    if (r !== null) for (const op of ['refresh', 'promote']) creport.record(stats, op, s.key, round, r[op], log);
  }
  for (const s of order()) await step(s, 'getData', () => s.getSessionData(ms));
  for (const s of order()) await step(s, 'getBl', () => s.getBlacklisting(ms));
}

/** @param {{quick: boolean, rounds?: number}} args parsed by run.js */
async function main(args) {
  const t0 = Date.now();
  const loadBefore = os.loadavg();
  const { modeName, M } = modeSettings(args, MODES);
  const single = settingsFromEnv();
  const children = new Set();
  let cluster = null;
  let clusterStarting = null;
  let restore = async () => {};
  const cleanup = async () => {
    await Promise.all([...children].map((c) => c.stop()));
    const c = cluster || (clusterStarting && (await clusterStarting.catch(() => null)));
    if (c) await c.stop().catch((e) => log(`bench: stopping the cluster: ${e.message}`));
    await restore();
  };

  return runToExit(
    async () => {
      log(
        `bench: cluster ${modeName} mode, ${M.rounds} rounds, 32 in flight over 3 workers (${LANES.join(' + ')}), single MySQL ${single.host}:${single.port}`,
      );
      log('bench: starting a private 3-node Galera cluster');
      clusterStarting = startCluster({ nodes: NODES });
      cluster = await clusterStarting;
      log(
        `bench: cluster up after ${((Date.now() - t0) / 1000).toFixed(1)} s on ports ${cluster.nodes.map((n) => n.port).join(', ')}`,
      );
      // After the cluster start, the riskiest step: a crash there must not leave the server changed.
      await db.dropTables(
        single,
        LIBS.flatMap((l) => Object.values(tablesFor(l, 'single'))),
      );
      restore = await db.ensureConnections(single, NEEDED_CONNECTIONS);
      const galera = cluster.nodes.map((n) => ({
        host: n.host,
        port: n.port,
        user: 'root',
        password: '',
        database: 'test',
      }));
      const versions = {
        single: await db.serverVersion(single),
        galera: `${await db.serverVersion(galera[0])}, Galera ${(await db.query(galera[0], "SHOW STATUS LIKE 'wsrep_provider_version'"))[0].Value}`,
      };

      const setups = [];
      for (const lib of LIBS) {
        setups.push(new Setup(lib, 'single', [single, single, single], children));
        setups.push(new Setup(lib, 'galera', galera, children));
      }
      for (const s of setups) {
        log(`bench: starting the 6 workers of ${s.key}`);
        await s.start();
        if (s.dead) log(`  ${s.key}: ${s.dead}; its measurements are skipped`);
      }
      const live = () => setups.filter((s) => !s.dead);
      log(`bench: preparing ${M.poolSize} pool and ${M.chainSize} chain sessions per library and mode`);
      for (const s of live()) await guarded(s, 'preparing the pools', () => s.prepare(M.poolSize, M.chainSize));
      log(`bench: ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`);

      const stats = creport.newStats(OPS, setups);
      log('bench: warm-up round (not counted)');
      await runRound(live, stats, M, -1);
      for (let r = 0; r < M.rounds; r++) {
        log(`bench: round ${r + 1}/${M.rounds}`);
        await runRound(live, stats, M, r);
      }
      const finalProblems = {};
      for (const s of live()) finalProblems[s.key] = (await guarded(s, 'final checks', () => s.finalChecks())) || [];

      log('bench: the raw cost of a causal read (point SELECT, plain vs wsrep_sync_wait=1)');
      const causal = await measureCausalCost(galera, M.dbMs * M.rounds);

      const elapsedSec = (Date.now() - t0) / 1000;
      const out = creport.build({
        stats,
        setups,
        finalProblems,
        M,
        modeName,
        versions,
        elapsedSec,
        loadBefore,
        lanes: LANES,
        causal,
      });
      console.log(
        `\n${out.table}\n\n${out.causalText}\n\n${out.errorText}\n\nTotal run time: ${elapsedSec.toFixed(1)} s (budget ${M.budgetSec} s)`,
      );
      report.writeClusterSection(path.join(__dirname, 'RESULTS.md'), out.section);
      log('bench: wrote the cluster section of bench/RESULTS.md');
      return out.anyErrors ? 1 : 0;
    },
    cleanup,
    'the workers and the cluster',
  );
}

module.exports = { main };

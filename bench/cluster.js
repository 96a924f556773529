'use strict';
/**
 * `npm run bench -- --cluster [--quick] [--rounds N]`: the session operations on the single
 * MySQL of the plain bench and on a private 3-node multi-primary Galera cluster, both
 * libraries, in the same run. Prints one table and writes the "Cluster (3-node Galera)"
 * section of bench/RESULTS.md.
 *
 * Per library and server ("mode": single or galera) six worker processes
 * (bench/cluster-worker.js): three with blacklisting off and three with it on, worker i
 * talking to node i (in single mode all three to the one server, so the two modes differ only
 * in the server). The six share their tables, so a session made by one is used by the others.
 * Every step of a session goes to the next node, as a load balancer would spread them:
 *   createNewSession on node j -> refreshSession on j+1 -> first use of the child token
 *   (promotion, a write) on j+2 -> the next round's refresh on j+3 = j -> …
 * and getSessionData / getSession with blacklisting read sessions made on the other two
 * nodes. 32 operations are in flight in total (11 + 11 + 10 lanes, one share per worker).
 */

const os = require('node:os');
const path = require('node:path');
const mysql = require('mysql');
const rpc = require('./rpc.js');
const report = require('./report.js');
const creport = require('./cluster-report.js');
const { LIBS, tablesFor } = require('./libs.js');
const { settingsFromEnv } = require('../scripts/mysql.js');
const { startCluster } = require('../scripts/galera.js');
const { measureCausalCost } = require('./causal-cost.js');

const NODES = 3;
const LANES = [11, 11, 10]; // 32 in flight in total, as in the plain bench
const INIT_ATTEMPTS = 3;
const SAMPLE_CHECKS = 30; // promoted sessions re-checked on the next node after each promotion run
const WORKER = path.join(__dirname, 'cluster-worker.js');

const MODES = {
  // budgetSec covers the ~20 s cluster start and the untimed preparation too.
  full: { budgetSec: 600, rounds: 5, dbMs: 1500, warmDbMs: 300, poolSize: 3000, chainSize: 1500, warmChain: 300 },
  quick: { budgetSec: 180, rounds: 3, dbMs: 500, warmDbMs: 150, poolSize: 1500, chainSize: 600, warmChain: 120 },
};

const log = (msg) => process.stderr.write(`${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const firstLine = (s) => String(s).split('\n').find((l) => l.trim()) || String(s);
const next = (node) => (node + 1) % NODES;

function query(settings, sql) {
  const conn = mysql.createConnection(settings);
  return new Promise((resolve, reject) =>
    conn.query(sql, (e, rows) => {
      conn.end();
      return e ? reject(e) : resolve(rows);
    }),
  );
}

// Twelve processes (2 libraries × 6) share the single server: up to 32 in flight plus our
// pool's idle minimum of 10 per process, about 200 connections. Raised like run.js does.
const NEEDED_CONNECTIONS = 300;

/** Drops this mode's tables on the single server and raises max_connections; returns a restore function. */
async function prepareSingle(settings) {
  const tables = LIBS.flatMap((l) => Object.values(tablesFor(l, 'single')));
  await query(settings, `DROP TABLE IF EXISTS ${tables.join(', ')}`);
  const max = Number((await query(settings, 'SELECT @@GLOBAL.max_connections AS m'))[0].m);
  if (max >= NEEDED_CONNECTIONS) return async () => {};
  await query(settings, `SET GLOBAL max_connections = ${NEEDED_CONNECTIONS}`);
  log(`bench: raised max_connections from ${max} to ${NEEDED_CONNECTIONS} for this run`);
  return () => query(settings, `SET GLOBAL max_connections = ${max}`).catch((e) => log(`bench: could not restore max_connections: ${e.message}`));
}

/** Merges the three workers' parts of one measurement: the total rate over the common span. */
function combine(parts) {
  const r = { ok: 0, errors: 0, attempted: 0, errorKinds: {}, start: Infinity, end: -Infinity };
  for (const p of parts) {
    r.ok += p.ok;
    r.errors += p.errors;
    r.attempted += p.attempted;
    r.start = Math.min(r.start, p.start);
    r.end = Math.max(r.end, p.end);
    for (const [k, n] of Object.entries(p.errorKinds)) r.errorKinds[k] = (r.errorKinds[k] || 0) + n;
  }
  r.opsPerSec = r.end > r.start ? (r.ok * 1000) / (r.end - r.start) : NaN;
  return r;
}

/** Adds the failures of an untimed check to a measurement's result, so they show as its errors. */
function addProblems(res, { failed, problems }) {
  res.errors += failed;
  for (const p of problems) res.errorKinds[p] = (res.errorKinds[p] || 0) + 1;
  if (failed > problems.length) res.errorKinds['(further check failures)'] = (res.errorKinds['(further check failures)'] || 0) + failed - problems.length;
}

/**
 * One library on one server: its six workers, its session pools and its measurements.
 * `servers[i]` is the server of worker i.
 */
class Setup {
  constructor(lib, mode, servers, children) {
    Object.assign(this, { lib, mode, servers, children, key: `${lib} ${mode}`, W: [], B: [], pool: [], chain: [], initFailures: [], prepErrors: [], prepFailed: 0, dead: null });
  }

  env(node) {
    const s = this.servers[node];
    return { ...process.env, MYSQL_HOST: s.host, MYSQL_PORT: String(s.port), MYSQL_USER: s.user, MYSQL_PASSWORD: s.password, MYSQL_DATABASE: s.database };
  }

  /** Starts and initialises one worker, in a fresh process for each attempt. */
  async startWorker(bl, node) {
    const name = `${this.key} node${node}${bl ? ' blacklisting' : ''}`;
    for (let attempt = 1; ; attempt++) {
      const c = rpc.start(WORKER, [this.lib, this.mode, bl ? '1' : '0', String(node)], { name, env: this.env(node) });
      this.children.add(c);
      try {
        await c.call('init', {}, 60000);
        return c;
      } catch (e) {
        this.initFailures.push(`init of ${name}, attempt ${attempt}/${INIT_ATTEMPTS}: ${firstLine(e.message.replace(`${name}: `, ''))}`);
        log(`  ${this.initFailures.at(-1)}`);
        await c.stop();
        this.children.delete(c);
        if (attempt === INIT_ATTEMPTS) throw new Error(`${name} did not initialise`);
        await sleep(1000);
      }
    }
  }

  async start() {
    try {
      // The first worker alone: it creates the tables and the signing key, the other five then
      // find them. All six at once on an empty Galera cluster race on creating them (and ours
      // currently loses that race at times); that race is not what this bench measures.
      this.W[0] = await this.startWorker(false, 0);
      // allSettled: every start finishes (and is tracked for cleanup) before a failure counts.
      const rest = await Promise.allSettled([1, 2].map((i) => this.startWorker(false, i)).concat([0, 1, 2].map((i) => this.startWorker(true, i))));
      const failed = rest.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      this.W.push(rest[0].value, rest[1].value);
      this.B = rest.slice(2).map((r) => r.value);
    } catch (e) {
      this.dead = e.message;
    }
  }

  /**
   * Untimed: about `count` sessions spread over the nodes; each record says which node made
   * it. Failures do not stop the run; they are reported with the errors.
   */
  async createSessions(count) {
    const made = await Promise.all(
      this.W.map(async (w, i) => {
        const r = await w.call('create', { count: Math.ceil(count / NODES), concurrency: LANES[i] }, 300000);
        for (const e of r.errorSamples) this.prepErrors.push(`creating sessions on node ${i}: ${e}`);
        this.prepFailed += r.errors;
        return r.made.map((t) => ({ ...t, node: i }));
      }),
    );
    return made.flat();
  }

  /** The pools: read-only sessions for getSessionData and getSession, and the refresh chain. */
  async prepare(poolSize, chainSize) {
    this.pool = await this.createSessions(poolSize);
    this.chain = (await this.createSessions(chainSize)).map((t) => ({ ...t, last: t.node, child: null }));
    // Each worker reads only sessions made on the other two nodes.
    const stageOthers = (w, i) => w.call('stage', { name: 'pool', items: this.pool.filter((t) => t.node !== i) }, 60000);
    await Promise.all([...this.W.map(stageOthers), ...this.B.map(stageOthers)]);
  }

  /** One measurement on the three workers `ws` at once (a common start time); each worker's part. */
  measureParts(ws, op, extra) {
    const startAt = Date.now() + 50;
    return Promise.all(ws.map((w, i) => w.call('measure', { op, startAt, concurrency: LANES[i], ...extra }, 300000)));
  }

  async create(durationMs) {
    const parts = await this.measureParts(this.W, 'create', { durationMs });
    const res = combine(parts);
    // Right away, each node's newest sessions on the next node: one that is not there yet is
    // what an app behind a load balancer would see on its next request.
    for (const [i, p] of parts.entries()) {
      const items = p.sample.map((t) => ({ ...t, node: i }));
      addProblems(res, await this.W[next(i)].call('check', { what: 'data', items }, 60000));
      addProblems(res, await this.W[next(i)].call('check', { what: 'parent', items }, 60000));
    }
    return res;
  }

  async getSessionData(durationMs) {
    return combine(await this.measureParts(this.W, 'getSessionData', { stage: 'pool', durationMs }));
  }

  async getBlacklisting(durationMs) {
    return combine(await this.measureParts(this.B, 'getSession', { stage: 'pool', durationMs }));
  }

  /**
   * Refreshes `entries` (each on the node after its last step), then uses each child once on
   * the node after that (the promotion). Entries whose refresh or promotion failed get a
   * fresh session, so one failure does not turn into failures in every later round.
   * @returns {Promise<{refresh: object, promote: object}>}
   */
  async refreshAndPromote(count) {
    const entries = this.chain.slice(0, count);
    const refreshed = await this.stepOn(entries, 'refresh', (e) => next(e.last), (e) => ({ handle: e.handle, userId: e.userId, n: e.n, rt: e.rt }), (e, child, node) => {
      e.child = child;
      e.last = node;
    });
    const promotable = entries.filter((e) => e.child !== null && !e.broken);
    const promoted = await this.stepOn(promotable, 'promote', (e) => next(e.last), (e) => ({ handle: e.handle, userId: e.userId, n: e.n, at: e.child.at, csrf: e.child.csrf }), (e, at, node) => {
      Object.assign(e, { rt: e.child.rt, csrf: e.child.csrf, at, child: null, last: node });
    });
    // A promoted session's new access token must now be a plain parent token, on any node.
    const sample = promotable.filter((e) => !e.broken).slice(0, SAMPLE_CHECKS);
    for (let i = 0; i < NODES; i++) {
      const items = sample.filter((e) => e.last === i).map((e) => ({ handle: e.handle, userId: e.userId, n: e.n, at: e.at, csrf: e.csrf, node: i }));
      if (items.length) addProblems(promoted, await this.W[next(i)].call('check', { what: 'parent', items }, 60000));
    }
    promoted.skipped = entries.length - promotable.length;
    await this.replaceBroken();
    return { refresh: refreshed, promote: promoted };
  }

  /** Stages `entries` on the node `nodeOf` picks for each, measures `op` there, applies the results. */
  async stepOn(entries, op, nodeOf, itemOf, apply) {
    const byNode = Array.from({ length: NODES }, () => []);
    for (const e of entries) byNode[nodeOf(e)].push(e);
    await Promise.all(this.W.map((w, i) => w.call('stage', { name: op, items: byNode[i].map(itemOf) }, 60000)));
    const parts = await this.measureParts(this.W, op, { stage: op });
    parts.forEach((p, i) =>
      p.results.forEach((r, k) => {
        if (r === null) byNode[i][k].broken = true;
        else apply(byNode[i][k], r, i);
      }),
    );
    return combine(parts);
  }

  async replaceBroken() {
    const broken = this.chain.filter((e) => e.broken).length;
    if (broken === 0) return;
    const fresh = (await this.createSessions(broken)).map((t) => ({ ...t, last: t.node, child: null }));
    this.chain = [...this.chain.filter((e) => !e.broken), ...fresh.slice(0, broken)];
  }

  /**
   * Final checks across nodes: a wrong anti-CSRF token is refused; a session revoked on one
   * node is refused right away on another (getSession with blacklisting, getSessionData).
   * @returns {Promise<string[]>} problems
   */
  async finalChecks() {
    const problems = [];
    const note = (r) => {
      problems.push(...r.problems);
      if (r.failed > r.problems.length) problems[problems.length - 1] += ` (and ${r.failed - r.problems.length} more like it)`;
    };
    note(await this.W[1].call('check', { what: 'wrongCsrf', items: this.pool.filter((t) => t.node === 0).slice(0, 5) }));
    const made = (await this.W[0].call('create', { count: 20, concurrency: 10 })).made.map((t) => ({ ...t, node: 0 }));
    const { removed } = await this.W[1].call('revoke', { handles: made.map((t) => t.handle) });
    if (removed !== made.length) problems.push(`revokeSessionUsingSessionHandle on node 1 removed ${removed} of ${made.length} sessions made on node 0`);
    note(await this.B[2].call('check', { what: 'refused', items: made }));
    note(await this.W[2].call('check', { what: 'refused', items: made }));
    return problems;
  }
}

/** What is measured: key, a short name for the progress lines, the table's label. */
const OPS = [
  { key: 'create', short: 'createNewSession', label: 'createNewSession' },
  { key: 'refresh', short: 'refreshSession', label: 'refreshSession (parent made on another node)' },
  { key: 'promote', short: 'getSession promotion', label: 'getSession, child token: promotion (child from a refresh on another node)' },
  { key: 'getData', short: 'getSessionData', label: 'getSessionData (session made on another node)' },
  { key: 'getBl', short: 'getSession blacklisting', label: 'getSession, blacklisting on (session made on another node)' },
];

/** @param {{quick: boolean, rounds?: number}} args parsed by run.js */
async function main(args) {
  const t0 = Date.now();
  const loadBefore = os.loadavg();
  const modeName = args.quick ? 'quick' : 'full';
  const M = { ...MODES[modeName], ...(args.rounds !== undefined ? { rounds: args.rounds } : {}) };
  const single = settingsFromEnv();
  const children = new Set();
  let cluster = null;
  let clusterStarting = null;
  let restore = async () => {};
  let cleaning = null;
  // One cleanup, however many ask for it (a signal and the main flow's finally may both).
  const cleanup = () =>
    (cleaning ??= (async () => {
      await Promise.all([...children].map((c) => c.stop()));
      const c = cluster || (clusterStarting && (await clusterStarting.catch(() => null)));
      if (c) await c.stop().catch((e) => log(`bench: stopping the cluster: ${e.message}`));
      await restore();
    })());
  // `on`, not `once`: Ctrl-C reaches this process twice (from the terminal and from
  // with-mysql.js), and a second, default-handled signal would skip the cleanup.
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, async () => {
      if (cleaning) return;
      log(`bench: ${sig}, stopping the workers and the cluster`);
      await cleanup();
      process.exit(130);
    });
  }

  let exitCode = 0;
  try {
    log(`bench: cluster ${modeName} mode, ${M.rounds} rounds, 32 in flight over 3 workers (${LANES.join(' + ')}), single MySQL ${single.host}:${single.port}`);
    log('bench: starting a private 3-node Galera cluster');
    clusterStarting = startCluster({ nodes: NODES });
    cluster = await clusterStarting;
    log(`bench: cluster up after ${((Date.now() - t0) / 1000).toFixed(1)} s on ports ${cluster.nodes.map((n) => n.port).join(', ')}`);
    // After the cluster start, the riskiest step: a crash there must not leave the server changed.
    restore = await prepareSingle(single);
    const galera = cluster.nodes.map((n) => ({ host: n.host, port: n.port, user: 'root', password: '', database: 'test' }));
    const versions = {
      single: (await query(single, 'SELECT VERSION() AS v'))[0].v,
      galera: `${(await query(galera[0], 'SELECT VERSION() AS v'))[0].v}, Galera ${(await query(galera[0], "SHOW STATUS LIKE 'wsrep_provider_version'"))[0].Value}`,
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
    // A setup whose worker fails mid-run (a crash, an unanswered call) is reported and left
    // out from then on; the others carry on.
    const live = () => setups.filter((s) => !s.dead);
    const guarded = async (s, what, fn) => {
      try {
        return await fn();
      } catch (e) {
        s.dead = `${what} failed: ${firstLine(e.message)}`;
        log(`  ${s.key}: ${s.dead}; left out from now on`);
        return null;
      }
    };
    log(`bench: preparing ${M.poolSize} pool and ${M.chainSize} chain sessions per library and mode`);
    for (const s of live()) await guarded(s, 'preparing the pools', () => s.prepare(M.poolSize, M.chainSize));
    log(`bench: ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const stats = creport.newStats(OPS, setups);
    const runRound = async (round) => {
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
        const r = await guarded(s, `refresh/promotion (${when})`, () => s.refreshAndPromote(warm ? M.warmChain : M.chainSize));
        if (r !== null) for (const op of ['refresh', 'promote']) creport.record(stats, op, s.key, round, r[op], log);
      }
      for (const s of order()) await step(s, 'getData', () => s.getSessionData(ms));
      for (const s of order()) await step(s, 'getBl', () => s.getBlacklisting(ms));
    };
    log('bench: warm-up round (not counted)');
    await runRound(-1);
    for (let r = 0; r < M.rounds; r++) {
      log(`bench: round ${r + 1}/${M.rounds}`);
      await runRound(r);
    }
    const finalProblems = {};
    for (const s of live()) finalProblems[s.key] = (await guarded(s, 'final checks', () => s.finalChecks())) || [];

    log('bench: the raw cost of a causal read (point SELECT, plain vs wsrep_sync_wait=1)');
    const causal = await measureCausalCost(galera, M.dbMs * M.rounds);

    const elapsedSec = (Date.now() - t0) / 1000;
    const out = creport.build({ stats, setups, finalProblems, M, modeName, versions, elapsedSec, loadBefore, lanes: LANES, causal });
    console.log(`\n${out.table}\n\n${out.causalText}\n\n${out.errorText}\n\nTotal run time: ${elapsedSec.toFixed(1)} s (budget ${M.budgetSec} s)`);
    report.writeClusterSection(path.join(__dirname, 'RESULTS.md'), out.section);
    log('bench: wrote the cluster section of bench/RESULTS.md');
    if (out.anyErrors) exitCode = 1;
  } catch (e) {
    console.error(`bench: FAILED: ${e && e.stack ? e.stack : e}`);
    exitCode = 1;
  } finally {
    await cleanup();
  }
  process.exit(exitCode);
}

module.exports = { main };

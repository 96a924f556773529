'use strict';
/**
 * One library on one server ("mode": single or galera) in `--cluster` mode (bench/cluster.js):
 * its six worker processes (bench/cluster-worker.js), three with blacklisting off and three
 * with it on, worker i talking to node i; its session pools; and its measurements, each on
 * the three workers at once. Every step of a session goes to the next node, as a load
 * balancer would spread them:
 *   createNewSession on node j -> refreshSession on j+1 -> first use of the child token
 *   (promotion, a write) on j+2 -> the next round's refresh on j+3 = j -> …
 * and getSessionData / getSession with blacklisting read sessions made on the other two nodes.
 */

const path = require('node:path');
const rpc = require('./rpc.js');
const { log } = require('./cli.js');

/** Nodes of the cluster, and workers per library, mode and blacklisting setting. */
const NODES = 3;
/** Lanes of worker i: 32 in flight in total, as in the plain bench. */
const LANES = [11, 11, 10];
const INIT_ATTEMPTS = 3;
const SAMPLE_CHECKS = 30; // promoted sessions re-checked on the next node after each promotion run
const WORKER = path.join(__dirname, 'cluster-worker.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The first non-blank line of an error message (a stack's first line says what failed). */
const firstLine = (s) =>
  String(s)
    .split('\n')
    .find((l) => l.trim()) || String(s);
const next = (node) => (node + 1) % NODES;

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
  if (failed > problems.length)
    res.errorKinds['(further check failures)'] =
      (res.errorKinds['(further check failures)'] || 0) + failed - problems.length;
}

/**
 * One library on one server: its six workers, its session pools and its measurements.
 * `servers[i]` is the server of worker i.
 */
class Setup {
  constructor(lib, mode, servers, children) {
    Object.assign(this, {
      lib,
      mode,
      servers,
      children,
      key: `${lib} ${mode}`,
      W: [],
      B: [],
      pool: [],
      chain: [],
      initFailures: [],
      prepErrors: [],
      prepFailed: 0,
      dead: null,
    });
  }

  env(node) {
    const s = this.servers[node];
    return {
      ...process.env,
      MYSQL_HOST: s.host,
      MYSQL_PORT: String(s.port),
      MYSQL_USER: s.user,
      MYSQL_PASSWORD: s.password,
      MYSQL_DATABASE: s.database,
    };
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
        this.initFailures.push(
          `init of ${name}, attempt ${attempt}/${INIT_ATTEMPTS}: ${firstLine(e.message.replace(`${name}: `, ''))}`,
        );
        log(`  ${this.initFailures.at(-1)}`);
        await c.stop();
        this.children.delete(c);
        if (attempt === INIT_ATTEMPTS) throw new Error(`${name} did not initialise`, { cause: e });
        await sleep(1000);
      }
    }
  }

  async start() {
    try {
      // The first worker alone: it creates the tables and the signing key, the other five then
      // find them. All six at once on an empty cluster would race on creating them: a race
      // __test__/galera.test.js covers for ours, and not what this bench measures.
      this.W[0] = await this.startWorker(false, 0);
      // allSettled: every start finishes (and is tracked for cleanup) before a failure counts.
      const rest = await Promise.allSettled(
        [1, 2].map((i) => this.startWorker(false, i)).concat([0, 1, 2].map((i) => this.startWorker(true, i))),
      );
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
    const stageOthers = (w, i) =>
      w.call('stage', { name: 'pool', items: this.pool.filter((t) => t.node !== i) }, 60000);
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
    const refreshed = await this.stepOn(
      entries,
      'refresh',
      (e) => next(e.last),
      (e) => ({ handle: e.handle, userId: e.userId, n: e.n, rt: e.rt }),
      (e, child, node) => {
        e.child = child;
        e.last = node;
      },
    );
    const promotable = entries.filter((e) => e.child !== null && !e.broken);
    const promoted = await this.stepOn(
      promotable,
      'promote',
      (e) => next(e.last),
      (e) => ({ handle: e.handle, userId: e.userId, n: e.n, at: e.child.at, csrf: e.child.csrf }),
      (e, at, node) => {
        Object.assign(e, { rt: e.child.rt, csrf: e.child.csrf, at, child: null, last: node });
      },
    );
    // A promoted session's new access token must now be a plain parent token, on any node.
    const sample = promotable.filter((e) => !e.broken).slice(0, SAMPLE_CHECKS);
    for (let i = 0; i < NODES; i++) {
      const items = sample
        .filter((e) => e.last === i)
        .map((e) => ({ handle: e.handle, userId: e.userId, n: e.n, at: e.at, csrf: e.csrf, node: i }));
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
      if (r.failed > r.problems.length)
        problems[problems.length - 1] += ` (and ${r.failed - r.problems.length} more like it)`;
    };
    note(
      await this.W[1].call('check', { what: 'wrongCsrf', items: this.pool.filter((t) => t.node === 0).slice(0, 5) }),
    );
    const made = (await this.W[0].call('create', { count: 20, concurrency: 10 })).made.map((t) => ({ ...t, node: 0 }));
    const { removed } = await this.W[1].call('revoke', { handles: made.map((t) => t.handle) });
    if (removed !== made.length)
      problems.push(
        `revokeSessionUsingSessionHandle on node 1 removed ${removed} of ${made.length} sessions made on node 0`,
      );
    note(await this.B[2].call('check', { what: 'refused', items: made }));
    note(await this.W[2].call('check', { what: 'refused', items: made }));
    return problems;
  }
}

module.exports = { Setup, NODES, LANES, firstLine };

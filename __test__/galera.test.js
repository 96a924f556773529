'use strict';
/**
 * Issue 11: a real 3-node multi-primary MariaDB Galera cluster (scripts/galera.js), one app
 * process per node (fixtures/node-app.js), framework-free flows where every next call lands
 * on another node, as behind a load balancer. Each test is one row of the table:
 * concurrent init, cross-node flows, stale reads, revocation with blacklisting, the same
 * refresh token on two nodes, key rotation on all nodes, and a node killed under load with
 * and without `mysql.hosts`. Ordering comes from awaiting answers, never from sleeps.
 */

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const readline = require('node:readline');
const { spawn } = require('node:child_process');
const mysql = require('mysql');
const { startCluster } = require('../scripts/galera.js');
const h = require('./helpers.js');

const APP = path.join(__dirname, 'fixtures', 'node-app.js');
const NODES = 3;
const TIMEOUT_MS = 60_000;

let cluster;
const apps = [];

/** One app process; `send(cmd, ...args)` resolves to its `{ok, value | errType, message}`. */
class App {
  constructor(name) {
    this.name = name;
    this.child = spawn(process.execPath, [APP], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.pending = new Map();
    this.nextId = 0;
    this.exited = new Promise((resolve) => this.child.once('exit', resolve));
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => {
      const answer = JSON.parse(line);
      this.pending.get(answer.id)?.(answer);
      this.pending.delete(answer.id);
    });
    apps.push(this);
  }

  send(cmd, ...args) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name}: no answer to ${cmd} within ${TIMEOUT_MS} ms`)),
        TIMEOUT_MS,
      );
      this.pending.set(id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
      this.child.stdin.write(`${JSON.stringify({ id, cmd, args })}\n`);
    });
  }

  /** A call on the framework-free API; resolves to its value or rejects with the answer. */
  async call(fn, ...args) {
    const a = await this.send('call', fn, ...args);
    if (!a.ok) throw Object.assign(new Error(`${this.name} ${fn}: ${a.errType} ${a.message}`), a);
    return a.value;
  }

  /** Like `call`, but resolves to the whole answer, success or not. */
  attempt(fn, ...args) {
    return this.send('call', fn, ...args);
  }

  async must(cmd, ...args) {
    const a = await this.send(cmd, ...args);
    if (!a.ok) throw new Error(`${this.name} ${cmd}: ${a.errType} ${a.message}`);
    return a.value;
  }

  async stop() {
    this.child.stdin.end();
    this.child.kill();
    await this.exited;
  }
}

/** The config of an app on node `i` (or on `hosts`, a list of node indexes). */
function configFor(prefix, i, overrides = {}) {
  const c = h.configFor(prefix, overrides);
  const node = cluster.nodes[i];
  c.mysql.host = node.host;
  c.mysql.port = node.port;
  c.mysql.connectionLimit = 20;
  return c;
}

function hostsConfig(prefix, order) {
  const c = configFor(prefix, 0);
  delete c.mysql.host;
  delete c.mysql.port;
  c.mysql.hosts = order.map((i) => ({ host: cluster.nodes[i].host, port: cluster.nodes[i].port }));
  return c;
}

/** Three apps, app i on node i, initialised at the same instant on `prefix`'s tables. */
async function appsOnEveryNode(prefix, overrides) {
  const group = Array.from({ length: NODES }, (_, i) => new App(`${prefix}@node${i}`));
  await Promise.all(group.map((a) => a.must('ready')));
  const at = Date.now() + 100;
  const inits = await Promise.all(group.map((a, i) => a.send('initAt', configFor(prefix, i, overrides), at)));
  return { group, inits };
}

/** Runs `fn(i)` for i in 0..n with at most `width` running at once. */
async function inParallel(n, width, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

before(async () => {
  // The database the app processes are configured with (MYSQL_DATABASE), created on the cluster.
  cluster = await startCluster({ nodes: NODES, database: h.db.database });
});

after(async () => {
  await Promise.all(apps.map((a) => a.stop().catch(() => {})));
  await cluster?.stop();
});

test('3 apps calling init at once on an empty database, one per node: all succeed the first time and agree on one key (5 rounds)', async () => {
  let failures = 0;
  for (let round = 0; round < 5; round++) {
    const prefix = `gi${round}`;
    const { group, inits } = await appsOnEveryNode(prefix);
    failures += inits.filter((r) => !r.ok).length;
    assert.deepEqual(
      inits.filter((r) => !r.ok),
      [],
      `round ${round}`,
    );
    for (let n = 0; n < NODES; n++) {
      const rows = await cluster.query(
        cluster.nodes[n],
        `SELECT key_name, key_value FROM \`${h.db.database}\`.${prefix}_keys ORDER BY key_name`,
      );
      assert.equal(rows.length, 2, `node${n} holds one signing key and one refresh-token key`);
    }
    // Every app verifies every other app's tokens: one key in use.
    const made = await Promise.all(group.map((a, i) => a.call('createNewSession', `u${i}`, { i }, null)));
    for (let i = 0; i < NODES; i++) {
      for (let j = 0; j < NODES; j++) {
        const s = await group[j].call('getSession', made[i].accessToken, made[i].antiCsrf);
        assert.equal(s.userId, `u${i}`);
      }
      await group[(i + 1) % NODES].call('refreshSession', made[i].refreshToken);
    }
    await Promise.all(group.map((a) => a.stop()));
  }
  assert.equal(failures, 0);
});

test('cross-node flows and causal reads', async (t) => {
  const { group, inits } = await appsOnEveryNode('gf');
  assert.ok(inits.every((r) => r.ok));
  const on = (k) => group[k % NODES];

  await t.test('600 logins, each next call on another node: no false logout, theft still detected', async () => {
    const wrong = [];
    await inParallel(600, 24, async (n) => {
      const check = async (label, p, expect) => {
        try {
          const v = await p;
          if (expect) expect(v);
          return v;
        } catch (e) {
          wrong.push(`${label}: ${e.message}`);
          throw e;
        }
      };
      try {
        const s = await check('create', on(n).call('createNewSession', `flow${n}`, { n }, { n }));
        await check('getSessionData', on(n + 1).call('getSessionData', s.handle), (d) => assert.deepEqual(d, { n }));
        const r1 = await check('refresh', on(n + 2).call('refreshSession', s.refreshToken));
        const used = await check('first use', on(n + 3).call('getSession', r1.accessToken, null), (v) =>
          assert.ok(v.newAccessToken),
        );
        assert.equal(used.userId, `flow${n}`);
        const r2 = await check('second refresh', on(n + 4).call('refreshSession', r1.refreshToken));
        await check('second first use', on(n + 5).call('getSession', r2.accessToken, null));
        // The login's refresh token was rotated out twice: replaying it is theft.
        const replay = await on(n + 6).attempt('refreshSession', s.refreshToken);
        if (replay.errType !== 4000) wrong.push(`replay: ${replay.errType} ${replay.message}`);
      } catch {
        // counted in `wrong`
      }
    });
    assert.deepEqual(wrong, []);
  });

  await t.test(
    'updateSessionData on one node, getSessionData on the next right after: no stale read (200)',
    async () => {
      const stale = [];
      await inParallel(200, 20, async (n) => {
        const s = await on(n).call('createNewSession', `data${n}`, null, { v: 0 });
        for (let v = 1; v <= 3; v++) {
          await on(n + v).call('updateSessionData', s.handle, { v });
          const d = await on(n + v + 1).call('getSessionData', s.handle);
          if (d?.v !== v) stale.push(`${n}: wrote ${v}, read ${JSON.stringify(d)}`);
        }
      });
      assert.deepEqual(stale, []);
    },
  );

  await t.test('getAllSessionHandlesForUser on another node right after logins is complete', async () => {
    const incomplete = [];
    await inParallel(100, 10, async (n) => {
      const made = [];
      for (let k = 0; k < 3; k++) made.push((await on(n + k).call('createNewSession', `many${n}`, null, null)).handle);
      const seen = await on(n + 3).call('getAllSessionHandlesForUser', `many${n}`);
      if (made.some((x) => !seen.includes(x))) incomplete.push(n);
    });
    assert.deepEqual(incomplete, []);
  });

  await t.test(
    'the same refresh token on two nodes at once (150): never GENERAL_ERROR, the user keeps a working session',
    async () => {
      const bad = [];
      await inParallel(150, 10, async (n) => {
        let s = await on(n).call('createNewSession', `tabs${n}`, null, null);
        // Half the users send a parent token twice, half a child token (after one refresh).
        let token = s.refreshToken;
        if (n % 2) token = (await on(n + 1).call('refreshSession', token)).refreshToken;
        const both = await Promise.all([
          on(n + 1).attempt('refreshSession', token),
          on(n + 2).attempt('refreshSession', token),
        ]);
        const ok = both.filter((r) => r.ok);
        for (const r of both) if (!r.ok) bad.push(`${n}: ${r.errType} ${r.message}`);
        if (ok.length === 0) return;
        // The browser keeps the cookies of the answer it got last.
        const kept = ok[ok.length - 1].value;
        const used = await on(n + 3).attempt('getSession', kept.accessToken, null);
        const next = await on(n + 4).attempt('refreshSession', kept.refreshToken);
        if (!used.ok || !next.ok) bad.push(`${n}: no working session (${used.message ?? ''} ${next.message ?? ''})`);
      });
      assert.deepEqual(bad, []);
    },
  );

  await Promise.all(group.map((a) => a.stop()));
});

test('blacklisting on: a session revoked on one node is rejected on every other right after (300)', async () => {
  const { group, inits } = await appsOnEveryNode('gb', { tokens: { accessToken: { blacklisting: true } } });
  assert.ok(inits.every((r) => r.ok));
  const accepted = [];
  await inParallel(300, 20, async (n) => {
    const s = await group[n % NODES].call('createNewSession', `bl${n}`, null, null);
    await group[(n + 1) % NODES].call('getSession', s.accessToken, null);
    const revoked = await group[(n + 1) % NODES].call('revokeSessionUsingSessionHandle', s.handle);
    assert.equal(revoked, true);
    const after = await group[(n + 2) % NODES].attempt('getSession', s.accessToken, null);
    if (after.ok || after.errType !== 2000) accepted.push(`${n}: ${after.ok ? 'accepted' : after.errType}`);
  });
  assert.deepEqual(accepted, []);
  await Promise.all(group.map((a) => a.stop()));
});

test('key rotation on every node at once ends with one new key that every node accepts', async () => {
  const { group, inits } = await appsOnEveryNode('gr');
  assert.ok(inits.every((r) => r.ok));
  const [before] = await cluster.query(
    cluster.nodes[0],
    `SELECT key_value FROM \`${h.db.database}\`.gr_keys WHERE key_name = 'access_token_signing_key'`,
  );
  const old = await group[0].call('createNewSession', 'old', null, null);
  // Past the 24-h update interval on every app, then all sign at once: all try to rotate.
  await Promise.all(group.map((a) => a.must('offset', 25 * 3600 * 1000)));
  const made = await Promise.all(group.map((a, i) => a.call('createNewSession', `rot${i}`, null, null)));
  const rows = await cluster.query(
    cluster.nodes[1],
    `SELECT key_name, key_value FROM \`${h.db.database}\`.gr_keys ORDER BY key_name`,
  );
  const current = rows.find((r) => r.key_name === 'access_token_signing_key').key_value;
  const previous = rows.find((r) => r.key_name === 'access_token_signing_key_previous')?.key_value;
  assert.notEqual(current, before.key_value, 'the key was rotated');
  assert.equal(previous, before.key_value, 'the old key is kept as the previous one');
  for (let i = 0; i < NODES; i++) {
    for (let j = 0; j < NODES; j++)
      assert.equal((await group[j].call('getSession', made[i].accessToken, made[i].antiCsrf)).userId, `rot${i}`);
  }
  // A token of the old key is past its validity now (the clock moved 25 h): refresh works.
  await group[2].call('refreshSession', old.refreshToken);
  await Promise.all(group.map((a) => a.stop()));
});

test('a node killed under load: apps on other nodes see no error, an app with mysql.hosts fails ≤ 1 % and keeps serving, nothing created is lost', async (t) => {
  const prefix = 'gk';
  const survivors = [new App('node0-only'), new App('node1-only')];
  const onDead = new App('node2-only');
  const withHosts = new App('hosts-2-0-1');
  await survivors[0].must('init', configFor(prefix, 0));
  await Promise.all([
    survivors[1].must('init', configFor(prefix, 1)),
    onDead.must('init', configFor(prefix, 2)),
    withHosts.must('init', hostsConfig(prefix, [2, 0, 1])),
  ]);
  const all = [...survivors, onDead, withHosts];
  await Promise.all(all.map((a, i) => a.must('loadStart', `${prefix}${i}`, 8)));

  // A generous bound, not a sleep: a cluster that lost quorum fails the test instead of
  // hanging it.
  const until = async (cond) => {
    const deadline = Date.now() + 180_000;
    for (;;) {
      const stats = await Promise.all(all.map((a) => a.must('loadStats')));
      if (cond(stats)) return stats;
      assert.ok(Date.now() < deadline, `the load did not get there within 180 s: ${JSON.stringify(stats)}`);
      await new Promise((r) => setImmediate(r));
    }
  };
  const beforeKill = await until((s) => s.every((x) => x.ops >= 300));
  await cluster.kill(2);
  // Wait until every app that can still serve has done 500 more calls, and the app on the
  // dead node has seen its failure.
  await until((s) => [0, 1, 3].every((i) => s[i].ops >= beforeKill[i].ops + 500) && s[2].failures > 0);
  const results = await Promise.all(all.map((a) => a.must('loadStop')));

  for (const [i, r] of results.entries())
    t.diagnostic(`${all[i].name}: ${r.ops} calls ok, ${r.failures.length} failed`);
  for (const i of [0, 1]) assert.deepEqual(results[i].failures, [], `${all[i].name} saw no error`);
  assert.ok(results[2].failures.length > 0, 'the app bound to the dead node alone fails');
  const hostsFailures = results[3].failures.length;
  const share = hostsFailures / (results[3].ops + hostsFailures);
  assert.ok(
    share <= 0.01,
    `the app with mysql.hosts failed ${hostsFailures} of ${results[3].ops + hostsFailures} calls`,
  );

  // Every session whose create resolved, in any app, is on the surviving nodes.
  const created = results.flatMap((r) => r.created);
  const conn = mysql.createConnection({
    host: cluster.nodes[0].host,
    port: cluster.nodes[0].port,
    user: 'root',
    password: '',
    database: h.db.database,
  });
  const count = await new Promise((resolve, reject) =>
    conn.query(`SELECT COUNT(*) AS n FROM ${prefix}_sessions WHERE session_handle IN (?)`, [created], (e, rows) =>
      e ? reject(e) : resolve(rows[0].n),
    ),
  );
  conn.end();
  assert.equal(count, created.length, 'no created session is lost');
  t.diagnostic(`${created.length} sessions created, ${count} found on the surviving nodes`);

  // The node comes back: the app with mysql.hosts returns to it (its first host).
  await onDead.stop();
  await cluster.restart(2);
  const usesNode2 = async () => {
    const rows = await cluster.query(
      cluster.nodes[2],
      `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = '${h.db.database}'`,
    );
    return rows[0].n > 0;
  };
  const restarted = Date.now();
  for (let i = 0; !(await usesNode2()); i++) {
    assert.ok(i < 600, 'the app with mysql.hosts went back to its first host');
    await withHosts.call('createNewSession', `back${i}`, null, null);
    await new Promise((r) => setTimeout(r, 50));
  }
  t.diagnostic(`back on its first host ${Date.now() - restarted} ms after that node was Synced`);
  await Promise.all([...survivors, withHosts].map((a) => a.stop()));
});

'use strict';
/**
 * Issue 6.5 (and 6.6 for this file): 4 Node processes (node:cluster) behind one port, one
 * MySQL. They start together on an empty database (so they must agree on one key), and a
 * session created on any worker verifies, refreshes and revokes on any other. Each worker
 * answers with its pid; a step can be pinned to a worker (`x-want-pid`, see the fixture),
 * so "on another worker" is proven, not hoped for.
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const cluster = require('node:cluster');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const h = require('./helpers.js');

const PREFIX = `cluster_${process.pid}`;
const WORKERS = 4;

const said = [];
const rawRefreshTokens = new Set();
const workers = [];
let port;
let pids = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

/** A browser-like client: cookie jar, the anti-csrf header it was given, fresh connections. */
class Client {
  constructor() {
    this.jar = new h.CookieJar();
    this.antiCsrf = undefined;
  }

  /**
   * One request on a new connection (so the cluster spreads them), optionally pinned to a
   * worker; retried while it lands on another one. Returns {status, pid, body}.
   */
  async call(method, p, { pid, csrf = false, cookie } = {}) {
    for (let attempt = 0; attempt < 60; attempt++) {
      const headers = { connection: 'close' };
      const c = cookie ?? this.jar.header(p.split('?')[0]);
      if (c) headers.cookie = c;
      if (pid !== undefined) headers['x-want-pid'] = String(pid);
      if (csrf && this.antiCsrf) headers['anti-csrf'] = this.antiCsrf;
      const r = await request(method, p, headers);
      if (r.status === 421) continue;
      if (cookie === undefined) this.jar.store({ headers: { getSetCookie: () => r.setCookie } });
      if (r.headers['anti-csrf']) this.antiCsrf = r.headers['anti-csrf'];
      for (const line of r.setCookie) {
        const sc = h.parseSetCookie(line);
        if (sc.name === 'sRefreshToken' && sc.value) rawRefreshTokens.add(sc.value);
      }
      assert.equal(Number(r.headers['x-pid']), r.body.pid, 'the worker names itself');
      if (pid !== undefined) assert.equal(r.body.pid, pid, 'pinned step served by the chosen worker');
      if (r.status !== 200) said.push(JSON.stringify(r.body));
      return { status: r.status, pid: r.body.pid, body: r.body };
    }
    throw new Error(`${method} ${p}: never reached worker ${pid}`);
  }
}

function request(method, p, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let body;
        try {
          body = JSON.parse(text);
        } catch {
          body = { raw: text };
        }
        resolve({
          status: res.statusCode,
          headers: res.headers,
          setCookie: [].concat(res.headers['set-cookie'] || []),
          body,
        });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

test.before(async () => {
  await h.dropTables(PREFIX); // empty database: the 4 workers create the keys concurrently
  port = await freePort();
  cluster.schedulingPolicy = cluster.SCHED_RR;
  cluster.setupPrimary({ exec: path.join(__dirname, 'fixtures', 'cluster-worker.js'), execArgv: [], silent: true });
  const ready = [];
  for (let i = 0; i < WORKERS; i++) {
    const w = cluster.fork({ CLUSTER_PREFIX: PREFIX, CLUSTER_PORT: String(port) });
    workers.push(w);
    w.process.stdout.on('data', (d) => said.push(String(d)));
    w.process.stderr.on('data', (d) => said.push(String(d)));
    w.on('message', (m) => {
      if (m && m.type === 'said') said.push(m.text);
    });
    ready.push(
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('worker not ready within 30 s')), 30_000);
        w.on('message', (m) => {
          if (m && m.type === 'ready') {
            clearTimeout(timer);
            resolve(m.pid);
          }
          if (m && m.type === 'failed') {
            clearTimeout(timer);
            reject(new Error(`worker failed to start: ${m.message}`));
          }
        });
        w.on('exit', (code) => reject(new Error(`worker exited with ${code} before ready`)));
      }),
    );
  }
  pids = await Promise.all(ready);
});

test.after(async () => {
  await Promise.all(
    workers.map(
      (w) =>
        new Promise((resolve) => {
          if (w.isDead()) return resolve();
          const timer = setTimeout(() => {
            w.process.kill('SIGKILL');
          }, 5000);
          w.on('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          w.send({ type: 'shutdown' });
        }),
    ),
  );
  await h.dropTables(PREFIX);
  await h.endQueries();
});

test('4 workers started together on an empty database agree on one key', async () => {
  assert.equal(new Set(pids).size, WORKERS, 'four distinct processes');
  const keys = await h.query(`SELECT key_name FROM ${PREFIX}_keys ORDER BY key_name`);
  assert.deepEqual(
    keys.map((k) => k.key_name),
    ['access_token_signing_key', 'refresh_token_key'],
  );
});

test('unpinned requests on fresh connections are spread over all workers', async () => {
  const c = new Client();
  const seen = new Set();
  for (let i = 0; i < 16; i++) seen.add((await c.call('GET', '/me')).pid);
  assert.equal(seen.size, WORKERS, `served by ${[...seen].join(', ')}`);
});

test('a session created on any worker verifies, refreshes and revokes on any other', async (t) => {
  for (const creator of pids) {
    await t.test(`created on worker ${pids.indexOf(creator)}`, async () => {
      const others = pids.filter((p) => p !== creator);
      const c = new Client();
      const user = `cluster-user-${creator}`;
      const login = await c.call('POST', `/login?u=${user}`, { pid: creator });
      assert.equal(login.status, 200, JSON.stringify(login.body));
      const handle = login.body.handle;
      // verified by every other worker (no database needed)
      for (const o of others) {
        const me = await c.call('GET', '/me', { pid: o });
        assert.equal(me.status, 200, JSON.stringify(me.body));
        assert.equal(me.body.handle, handle);
        assert.deepEqual(me.body.payload, { by: creator }, 'payload written by the creator');
        const csrf = await c.call('POST', '/me', { pid: o, csrf: true });
        assert.equal(csrf.status, 200, 'the anti-csrf token issued by the creator is accepted elsewhere');
      }
      // session data (database) read on another worker
      const data = await c.call('GET', '/data', { pid: others[0] });
      assert.deepEqual(data.body.data, { createdBy: creator });
      // refreshed on another worker; the child token's first use (promotion) on a third one
      const savedParent = c.jar.get('sRefreshToken');
      const r1 = await c.call('POST', '/refresh', { pid: others[0] });
      assert.equal(r1.status, 200, JSON.stringify(r1.body));
      assert.equal(r1.body.handle, handle);
      const use = await c.call('GET', '/me', { pid: others[1] });
      assert.equal(use.status, 200, JSON.stringify(use.body));
      const [row] = await h.query(`SELECT refresh_token_hash_2 FROM ${PREFIX}_sessions WHERE session_handle = ?`, [
        handle,
      ]);
      assert.ok(row, 'row present');
      // refreshed again on the creator, then the old parent replayed on yet another worker: theft
      const r2 = await c.call('POST', '/refresh', { pid: creator });
      assert.equal(r2.status, 200, JSON.stringify(r2.body));
      const afterR2 = await c.call('GET', '/me', { pid: others[2] });
      assert.equal(afterR2.status, 200);
      const thief = new Client();
      const stolen = await thief.call('POST', '/refresh', {
        pid: others[2],
        cookie: `sRefreshToken=${savedParent}; sIdRefreshToken=x`,
      });
      assert.equal(stolen.status, 403, `theft detected on another worker: ${JSON.stringify(stolen.body)}`);
      // logged out on another worker (anti-csrf from the latest refresh)
      const saved = { rt: c.jar.get('sRefreshToken'), id: c.jar.get('sIdRefreshToken'), at: c.jar.get('sAccessToken') };
      const out = await c.call('POST', '/logout', { pid: others[1], csrf: true });
      assert.equal(out.status, 200, JSON.stringify(out.body));
      assert.equal(c.jar.get('sAccessToken'), undefined, 'logout cleared the cookies');
      // ... and the revocation holds on every worker
      for (const p of pids) {
        const rr = await new Client().call('POST', '/refresh', {
          pid: p,
          cookie: `sRefreshToken=${saved.rt}; sIdRefreshToken=${saved.id}`,
        });
        assert.equal(rr.status, 401, `refresh after logout on worker ${p}: ${JSON.stringify(rr.body)}`);
        const dd = await new Client().call('GET', '/data', {
          pid: p,
          cookie: `sAccessToken=${saved.at}; sIdRefreshToken=${saved.id}`,
        });
        assert.equal(dd.status, 401, `session data after logout on worker ${p}`);
      }
      const rows = await h.query(`SELECT COUNT(*) AS n FROM ${PREFIX}_sessions WHERE session_handle = ?`, [handle]);
      assert.equal(rows[0].n, 0, 'row gone');
    });
  }
});

test('revokeAllSessionsForUser on one worker ends sessions created on all the others', async () => {
  const user = 'cluster-many';
  const clients = [];
  for (const p of pids) {
    const c = new Client();
    assert.equal((await c.call('POST', `/login?u=${user}`, { pid: p })).status, 200);
    clients.push(c);
  }
  const listed = await new Client().call('GET', `/handles?u=${user}`, { pid: pids[1] });
  assert.equal(listed.body.handles.length, WORKERS);
  const revoked = await new Client().call('POST', `/revoke-user?u=${user}`, { pid: pids[2] });
  assert.equal(revoked.status, 200);
  for (const [i, c] of clients.entries()) {
    const p = pids[(i + 3) % WORKERS];
    const r = await c.call('POST', '/refresh', { pid: p });
    assert.equal(r.status, 401, `refresh on worker ${p} after revoke-all`);
  }
});

test('concurrent logins and refreshes spread over the workers', async () => {
  const clients = Array.from({ length: 40 }, () => new Client());
  const logins = await Promise.all(clients.map((c, i) => c.call('POST', `/login?u=cluster-conc-${i}`)));
  assert.deepEqual(
    logins.map((r) => r.status).filter((s) => s !== 200),
    [],
  );
  assert.ok(new Set(logins.map((r) => r.pid)).size >= 3, 'logins served by several workers');
  const refreshed = await Promise.all(clients.map((c) => c.call('POST', '/refresh')));
  assert.deepEqual(
    refreshed.map((r) => r.status).filter((s) => s !== 200),
    [],
  );
  refreshed.forEach((r, i) => assert.equal(r.body.handle, logins[i].body.handle));
  const me = await Promise.all(clients.map((c) => c.call('GET', '/me')));
  assert.deepEqual(
    me.map((r) => r.status).filter((s) => s !== 200),
    [],
  );
  const rows = await h.query(`SELECT COUNT(*) AS n FROM ${PREFIX}_sessions WHERE user_id LIKE 'cluster-conc-%'`);
  assert.equal(rows[0].n, 40);
});

test('all workers still alive; no key or raw refresh token in their messages or logs', async () => {
  for (const w of workers) assert.equal(w.isDead(), false, `worker ${w.process.pid} died`);
  const keys = await h.query(`SELECT key_value FROM ${PREFIX}_keys`);
  assert.equal(keys.length, 2);
  assert.ok(said.length > 5, `${said.length} lines captured from the workers`);
  assert.ok(rawRefreshTokens.size > 40);
  const text = said.join('\n');
  for (const k of keys) assert.ok(!text.includes(k.key_value), 'a key appears in a worker message');
  for (const r of rawRefreshTokens) assert.ok(!text.includes(r), 'a raw refresh token appears in a worker message');
});

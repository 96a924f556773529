'use strict';
/**
 * Concurrent `init`s on an empty database agree on one set of keys (SPEC §2, §6): four
 * processes start at the same moment on the same fresh tables, each creates a session, then
 * each verifies every other's access token; this process checks the key table and verifies
 * and refreshes every worker's tokens too.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const readline = require('node:readline');
const { spawn } = require('node:child_process');
const ST = require('../index.js');
const h = require('./helpers.js');

const PREFIX = 'conc';
const WORKERS = 4;
const ROUNDS = 3;
const WORKER = path.join(__dirname, 'fixtures', 'init-worker.js');
const CHILD_TIMEOUT_MS = 30_000;

h.closeAfter(ST);

/**
 * Starts one worker; `next(phase)` resolves to its next message of that phase.
 * @returns {{name: string, child: import('child_process').ChildProcess, next: Function, exited: Promise<number>, stderr: () => string}}
 */
function startWorker(name, startAt) {
  const child = spawn(process.execPath, [WORKER, PREFIX, name, String(startAt)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: process.env,
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const messages = [];
  const waiters = [];
  const deliver = () => {
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i];
      const m = messages.find((x) => x.phase === w.phase || x.phase === 'error');
      if (m) {
        waiters.splice(i--, 1);
        if (m.phase === 'error') w.reject(new Error(`worker ${name} failed: ${m.message}`));
        else w.resolve(m);
      }
    }
  };
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      messages.push(JSON.parse(line));
    } catch {
      messages.push({ phase: 'error', message: `unparsable output: ${line}` });
    }
    deliver();
  });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  exited.then((code) => {
    for (const w of waiters.splice(0))
      w.reject(new Error(`worker ${name} exited (${code}) before "${w.phase}": ${stderr}`));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  exited.then(() => clearTimeout(timer));
  const next = (phase) =>
    new Promise((resolve, reject) => {
      waiters.push({ phase, resolve, reject });
      deliver();
    });
  return { name, child, next, exited, stderr: () => stderr };
}

async function keyRows() {
  return h.query(`SELECT key_name, key_value, created_at_time FROM \`${PREFIX}_keys\` ORDER BY key_name`);
}

for (let round = 1; round <= ROUNDS; round++) {
  test(`round ${round}: ${WORKERS} processes init at once on empty tables and agree on the keys`, async (t) => {
    await h.dropTables(PREFIX);
    const startAt = Date.now() + 1500;
    const workers = Array.from({ length: WORKERS }, (_, i) => startWorker(`w${i + 1}`, startAt));
    t.after(() => {
      for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    });

    // Phase 1: every worker created a session.
    const created = await Promise.all(workers.map((w) => w.next('created')));
    for (const c of created) {
      assert.match(c.accessToken, /^[\w-]+\.[\w-]+\.[\w-]+$/);
      assert.ok(c.refreshToken.length > 0);
    }

    // Phase 2: every worker verifies every worker's access token.
    const list = `${JSON.stringify(created.map(({ name, accessToken, antiCsrf }) => ({ name, accessToken, antiCsrf })))}\n`;
    for (const w of workers) w.child.stdin.end(list);
    const verified = await Promise.all(workers.map((w) => w.next('verified')));
    for (const v of verified) {
      assert.equal(v.results.length, WORKERS);
      for (const r of v.results) {
        assert.ok(r.ok, `worker ${v.name} could not verify ${r.of}'s token: ${r.message}`);
        assert.equal(r.userId, `worker-${r.of}`);
        assert.deepEqual(r.jwtPayload, { worker: r.of });
      }
    }
    const codes = await Promise.all(workers.map((w) => w.exited));
    assert.deepEqual(codes, Array(WORKERS).fill(0), `exit codes; stderr: ${workers.map((w) => w.stderr()).join('\n')}`);

    // One access-token signing key and one refresh-token key, nothing else.
    const keys = await keyRows();
    assert.equal(keys.length, 2, `key rows: ${keys.map((k) => k.key_name).join(', ')}`);
    assert.equal(keys.filter((k) => /access/i.test(k.key_name)).length, 1, 'one access-token signing key');
    assert.equal(keys.filter((k) => /refresh/i.test(k.key_name)).length, 1, 'one refresh-token key');
    assert.notEqual(keys[0].key_value, keys[1].key_value);

    const sessions = await h.query(`SELECT user_id FROM \`${PREFIX}_sessions\` ORDER BY user_id`);
    assert.deepEqual(
      sessions.map((s) => s.user_id),
      created.map((c) => `worker-${c.name}`).sort(),
    );

    // This process joins later: it loads the same keys, so every token verifies and refreshes here.
    await ST.init(h.configFor(PREFIX));
    t.after(() => ST.close());
    for (const c of created) {
      const v = await ST.getSession(c.accessToken, c.antiCsrf);
      assert.deepEqual(v.session, { handle: c.handle, userId: `worker-${c.name}`, jwtPayload: { worker: c.name } });
      assert.equal(v.newAccessToken, undefined);

      const r = await ST.refreshSession(c.refreshToken);
      assert.equal(r.session.handle, c.handle);
      assert.equal(r.session.userId, `worker-${c.name}`);
      const refreshed = await ST.getSession(r.newAccessToken.value, r.newAntiCsrfToken);
      assert.equal(refreshed.session.handle, c.handle);
      assert.deepEqual(refreshed.session.jwtPayload, { worker: c.name });
    }
    assert.deepEqual(
      (await keyRows()).map((k) => [k.key_name, k.key_value]),
      keys.map((k) => [k.key_name, k.key_value]),
      'joining later did not change the keys',
    );
  });
}

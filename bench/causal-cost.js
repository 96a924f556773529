'use strict';
/**
 * The cost of a causal read on the Galera cluster, without either library in the way: the
 * point SELECT of getSessionData, spread over the nodes, plain and
 * as `SET STATEMENT wsrep_sync_wait=1 FOR …` (what ours sends on Galera), 32 in flight
 * spread over the nodes, the two forms alternating in slices so noise hits both alike.
 */

const mysql = require('mysql');

const IN_FLIGHT = 32;
const ROWS = 1000;
const SLICE_MS = 250;

const PLAIN = (table) => `SELECT session_info FROM ${table} WHERE session_handle = ?`;
const CAUSAL = (table) => `SET STATEMENT wsrep_sync_wait=1 FOR ${PLAIN(table)}`;

function q(pool, sql, params = []) {
  return new Promise((resolve, reject) => pool.query(sql, params, (e, rows) => (e ? reject(e) : resolve(rows))));
}

/** Ops/s of `sql` for `ms` over the pools, `IN_FLIGHT` at a time, round-robin over the nodes. */
async function measure(pools, sql, handles, ms) {
  let done = 0;
  const end = Date.now() + ms;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async (_, lane) => {
      for (let i = lane; Date.now() < end; i += IN_FLIGHT) {
        const rows = await q(pools[i % pools.length], sql, [handles[i % handles.length]]);
        if (rows.length !== 1) throw new Error(`causal-cost: row ${handles[i % handles.length]} not found`);
        done++;
      }
    }),
  );
  return (done * 1000) / (Date.now() - started);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Measures both forms on `nodes` ([{host, port, user, password, database}]) for about
 * `totalMs` each; resolves to {plain, causal, ratio} in ops/s (medians over slices).
 */
async function measureCausalCost(nodes, totalMs) {
  const table = 'bench_causal_cost';
  const pools = nodes.map((n) => mysql.createPool({ ...n, connectionLimit: Math.ceil(IN_FLIGHT / nodes.length) }));
  try {
    await q(pools[0], `DROP TABLE IF EXISTS ${table}`);
    await q(pools[0], `CREATE TABLE ${table} (session_handle VARCHAR(255) PRIMARY KEY, session_info TEXT)`);
    const handles = Array.from({ length: ROWS }, (_, i) => `h${i}`);
    for (let i = 0; i < ROWS; i += 100) {
      const batch = handles.slice(i, i + 100);
      await q(
        pools[0],
        `INSERT INTO ${table} VALUES ${batch.map(() => '(?, ?)').join(',')}`,
        batch.flatMap((h) => [h, '{"n":1}']),
      );
    }
    const plain = [];
    const causal = [];
    for (let spent = 0; spent < totalMs; spent += SLICE_MS) {
      plain.push(await measure(pools, PLAIN(table), handles, SLICE_MS));
      causal.push(await measure(pools, CAUSAL(table), handles, SLICE_MS));
    }
    await q(pools[0], `DROP TABLE ${table}`);
    const p = median(plain);
    const c = median(causal);
    return { plain: p, causal: c, ratio: c / p };
  } finally {
    await Promise.all(pools.map((pool) => new Promise((r) => pool.end(() => r()))));
  }
}

module.exports = { measureCausalCost };

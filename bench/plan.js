'use strict';
/**
 * What the plain bench measures (bench/run.js runs it): the settings of each mode, the
 * measurements of one round and the order they run in, the HTTP endpoints, and the table's
 * rows with the targets.
 */

const report = require('./report.js');

/** Operations in flight in every measurement (HTTP: connections). */
const CONCURRENCY = 32;
/** HTTP measurements are split into slices of this length (see run.js measureHttp). */
const HTTP_SLICE_SEC = 1;
// The cold getSession row: more distinct tokens than our verified-token cache holds (CAPACITY
// in src/token_cache.rs, 10,000), cycled in order, so every call misses the cache (and the
// decoded sessions in lib/fast-session.js) and verifies the token in full. Both modes.
const TOKEN_CACHE_CAPACITY = 10000;
const COLD_POOL_SIZE = 12000;

/** Per mode: the time budget, the rounds, each measurement's length and the pool sizes. */
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

// Six measuring processes each hold up to CONCURRENCY pooled connections (plus our pool's
// idle minimum of 10), the HTTP servers a few more: about 240 at peak. MariaDB's default
// max_connections is 151, so the bench raises it for its run when it is lower, and restores it.
const NEEDED_CONNECTIONS = 400;

/** A ceiling measured by the raw worker: `op` there, recorded under `key`. */
const rawCeiling = (key, op, what) => ({ key, op, what });

/**
 * The measurements of one round, in order. `on` names the worker group (run.js: W blacklisting
 * off, BL blacklisting on, POLL ours with revocationPollMs); `op` is the worker's operation (per
 * library when they differ); `chain` ones run a fixed count (one fresh child token per
 * operation) instead of a fixed duration; `libs` limits a row to some libraries.
 *
 * Each operation is measured for both libraries back to back; a ceiling is measured between
 * the two (ours, ceiling, original — or the reverse), so whatever the previous measurement
 * left behind (InnoDB flushing after a burst of INSERTs, a cold cache) hits the ceiling alike
 * in every round and both libraries alike over the rounds.
 */
const SEQUENCE = [
  {
    key: 'create',
    what: 'createNewSession',
    on: 'W',
    op: 'create',
    ceiling: rawCeiling('rawInsert', 'rawInsert', 'raw INSERT (ceiling)'),
  },
  { key: 'getParent', what: 'getSession parent (no DB) hot', on: 'W', op: 'getSessionParent' },
  { key: 'getParentCold', what: 'getSession parent (no DB) cold', on: 'W', op: 'getSessionParentCold' },
  {
    key: 'getBlacklist',
    what: 'getSession blacklisting',
    on: 'BL',
    op: 'getSessionParent',
    ceiling: rawCeiling('rawSelectBl', 'rawSelect', 'raw point SELECT (ceiling, blacklisting pair)'),
  },
  // Ours only: compared with the original's blacklisting row (its one way to reject revoked sessions).
  { key: 'getPoll', what: 'getSession revocationPollMs', on: 'POLL', op: 'getSessionParent', libs: ['ours'] },
  {
    key: 'getData',
    what: 'getSessionData',
    on: 'W',
    op: 'getSessionData',
    ceiling: rawCeiling('rawSelect', 'rawSelect', 'raw point SELECT (ceiling)'),
  },
  // Ours merges a patch; the original can only replace the data (its updateSessionInfo).
  {
    key: 'writeData',
    what: 'session data write',
    on: 'W',
    op: { ours: 'mergeSessionData', original: 'updateSessionData' },
  },
  { key: 'refresh', what: 'refreshSession', on: 'W', op: 'refresh', chain: true },
  { key: 'getChild', what: 'getSession child (promotion)', on: 'W', op: 'getSessionChild', chain: true },
];

/**
 * The three HTTP endpoints of a round, in the order of its first slice: the session endpoint
 * of `order[0]`, the bare one (on the ours server process; no session code runs for it), the
 * session endpoint of `order[1]`.
 * @param {string[]} order the two libraries, first one first
 * @param {{[lib: string]: {url: string, headers: object, expectBody: string}}} target what each HTTP server's init returned
 */
function httpEndpoints(order, target) {
  return [
    {
      key: 'httpSession',
      lib: order[0],
      what: 'HTTP getSession endpoint',
      url: `${target[order[0]].url}/session`,
      t: target[order[0]],
    },
    {
      key: 'httpBare',
      lib: 'ceiling',
      what: 'HTTP bare endpoint (ceiling)',
      url: `${target.ours.url}/bare`,
      t: { ...target.ours, expectBody: 'ok' },
    },
    {
      key: 'httpSession',
      lib: order[1],
      what: 'HTTP getSession endpoint',
      url: `${target[order[1]].url}/session`,
      t: target[order[1]],
    },
  ];
}

/**
 * The table's rows (for report.summarise) with the targets.
 * @param {(key: string, lib: string) => number[]} pr the per-round ops/s of a measurement
 * @param {object} M the mode's settings
 * @param {string} rawLabel the raw ceiling's driver
 */
function tableDefs(pr, M, rawLabel) {
  const rawInsert = pr('rawInsert', 'ceiling');
  const rawSelect = pr('rawSelect', 'ceiling');
  return [
    {
      label: 'createNewSession',
      ours: pr('create', 'ours'),
      original: pr('create', 'original'),
      ceiling: rawInsert,
      ceilingName: 'raw INSERT',
      minRatio: 3,
      minCeiling: 0.7,
    },
    {
      label: `getSession, parent token (no DB), hot: ${M.poolSize.toLocaleString('en')} tokens`,
      ours: pr('getParent', 'ours'),
      original: pr('getParent', 'original'),
      minRatio: 10,
    },
    {
      label: `getSession, parent token (no DB), cold: ${M.coldPoolSize.toLocaleString('en')} tokens (every call a cache miss)`,
      ours: pr('getParentCold', 'ours'),
      original: pr('getParentCold', 'original'),
      minRatio: 10,
    },
    {
      label: 'getSession, blacklisting on',
      ours: pr('getBlacklist', 'ours'),
      original: pr('getBlacklist', 'original'),
      ceiling: pr('rawSelectBl', 'ceiling'),
      ceilingName: 'raw SELECT',
      minRatio: 2,
      minCeiling: 0.7,
    },
    {
      label: "getSession with revocation: ours revocationPollMs (no DB) vs the original's blacklisting",
      ours: pr('getPoll', 'ours'),
      original: pr('getBlacklist', 'original'),
      minRatio: 20,
    },
    {
      label: "session data write: ours mergeSessionData vs the original's updateSessionInfo",
      ours: pr('writeData', 'ours'),
      original: pr('writeData', 'original'),
      minRatio: 2,
    },
    {
      label: 'getSession, child token (promotion)',
      ours: pr('getChild', 'ours'),
      original: pr('getChild', 'original'),
      minRatio: 3,
    },
    { label: 'refreshSession', ours: pr('refresh', 'ours'), original: pr('refresh', 'original'), minRatio: 3 },
    {
      label: 'getSessionData',
      ours: pr('getData', 'ours'),
      original: pr('getData', 'original'),
      ceiling: rawSelect,
      ceilingName: 'raw SELECT',
      minRatio: 2,
      minCeiling: 0.7,
    },
    { label: `ceiling: raw single-row INSERT (${rawLabel})`, ours: rawInsert, isCeiling: true },
    { label: `ceiling: raw point SELECT by PK (${rawLabel})`, ours: rawSelect, isCeiling: true },
    {
      label: 'HTTP: Express GET calling getSession(req, res, true)',
      ours: pr('httpSession', 'ours'),
      original: pr('httpSession', 'original'),
      ceiling: pr('httpBare', 'ceiling'),
      ceilingName: 'bare',
      minRatio: 1.15,
      minCeiling: 0.9,
    },
    { label: 'HTTP: bare Express GET, no session check (ceiling)', ours: pr('httpBare', 'ceiling'), isCeiling: true },
  ];
}

/** The memory target: RSS growth over the memory run. */
const MAX_MEMORY_GROWTH = 20 * 1048576;

/**
 * The memory row of the table (a summarised row, as report.summarise returns them).
 * @param {number} growth RSS growth in bytes
 * @param {object} M the mode's settings
 */
function memoryRow(growth, M) {
  const met = growth < MAX_MEMORY_GROWTH;
  return {
    label: `memory: RSS growth over ${M.memCalls.toLocaleString('en')} getSession calls (ours, after warm-up)`,
    ours: `${growth >= 0 ? '+' : ''}${report.mb(growth)}`,
    original: '—',
    ratio: '—',
    ceiling: '—',
    target: '< 20 MB',
    status: met ? 'met' : `**NOT met** (${report.mb(growth)})`,
    met,
  };
}

module.exports = {
  CONCURRENCY,
  HTTP_SLICE_SEC,
  TOKEN_CACHE_CAPACITY,
  MODES,
  NEEDED_CONNECTIONS,
  SEQUENCE,
  httpEndpoints,
  tableDefs,
  memoryRow,
};

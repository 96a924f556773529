'use strict';
/**
 * Summarising and printing: medians, paired per-round ratios, the target column, the machine
 * description and the sections of bench/RESULTS.md.
 */

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/** The median of the finite numbers in `xs` (NaN when there are none). */
function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Median over rounds of a[r] / b[r] (the two measured in the same round, back to back). */
function pairedRatio(a, b) {
  const rs = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) rs.push(a[i] / b[i]);
  return median(rs);
}

/** A rate for the table: `123k`, `12.3k`, `1234`, `—` when not a number. */
function fmtOps(x) {
  if (!Number.isFinite(x)) return '—';
  if (x >= 100000) return `${(x / 1000).toFixed(0)}k`;
  if (x >= 10000) return `${(x / 1000).toFixed(1)}k`;
  return x.toFixed(0);
}

/** A ratio for the table: `1.23x`, `—` when not a number. */
function fmtRatio(x, digits = 2) {
  return Number.isFinite(x) ? `${x.toFixed(digits)}x` : '—';
}

/** A fraction for the table: `0.85`, `—` when not a number. */
function fmtFrac(x, digits = 2) {
  return Number.isFinite(x) ? x.toFixed(digits) : '—';
}

/** Bytes in MB with one decimal: `1.5 MB`. */
function mb(bytes) {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/**
 * Builds the table rows.
 * @param {Array} defs definitions: {label, ours, original, ceiling?, minRatio?, minCeiling?, isCeiling?}
 *   where ours/original/ceiling are per-round ops/s arrays
 */
function summarise(defs) {
  return defs.map((d) => {
    const oursMed = median(d.ours);
    const origMed = d.original ? median(d.original) : NaN;
    const ratio = d.original ? pairedRatio(d.ours, d.original) : NaN;
    const ceilingFrac = d.ceiling ? pairedRatio(d.ours, d.ceiling) : NaN;
    const targets = [];
    const misses = [];
    if (d.minRatio !== undefined) {
      targets.push(`≥${d.minRatio}x orig`);
      if (!(ratio >= d.minRatio)) misses.push(`ratio ${fmtRatio(ratio, 3)} < ${d.minRatio}x`);
    }
    if (d.minCeiling !== undefined) {
      targets.push(`≥${d.minCeiling} of ${d.ceilingName}`);
      if (!(ceilingFrac >= d.minCeiling))
        misses.push(`${fmtFrac(ceilingFrac, 3)} of ${d.ceilingName} < ${d.minCeiling}`);
    }
    let status = '';
    if (targets.length) status = misses.length ? `**NOT met** (${misses.join('; ')})` : 'met';
    return {
      label: d.label,
      ours: fmtOps(oursMed),
      original: d.original ? fmtOps(origMed) : '—',
      ratio: d.original ? fmtRatio(ratio) : '—',
      ceiling: d.ceiling ? `${fmtFrac(ceilingFrac)} (${d.ceilingName})` : '—',
      target: targets.length ? targets.join(', ') : d.isCeiling ? '(ceiling)' : '—',
      status,
      met: targets.length ? misses.length === 0 : null,
      raw: { oursMed, origMed, ratio, ceilingFrac },
    };
  });
}

/** The summarised rows as the markdown table printed and written to RESULTS.md. */
function markdownTable(rows) {
  const head = ['operation', 'ours ops/s', 'original ops/s', 'ratio', 'ours/ceiling', 'target', 'met?'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i === 0 || i >= 5 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) {
    lines.push(`| ${[r.label, r.ours, r.original, r.ratio, r.ceiling, r.target, r.status].join(' | ')} |`);
  }
  return lines.join('\n');
}

/** A description of this machine and the software under test. */
function machine(mariadbVersion) {
  const cpus = os.cpus();
  let commit = 'unknown';
  try {
    const root = path.join(__dirname, '..');
    commit = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (dirty) commit += ' (+ uncommitted changes)';
  } catch {
    // not a git checkout
  }
  let original = 'unknown';
  try {
    original = require('supertokens-original/package.json').version;
  } catch {
    // not installed
  }
  return {
    cpu: cpus.length ? cpus[0].model.trim() : 'unknown',
    cores: cpus.length,
    memory: `${(os.totalmem() / 1073741824).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    mariadb: mariadbVersion,
    date: new Date().toISOString(),
    commit,
    original: `supertokens-node-mysql-ref-jwt ${original} (npm alias supertokens-original)`,
  };
}

/** The description `machine` returned, as the lines of RESULTS.md's Machine section. */
function machineLines(m) {
  return [
    `- CPU: ${m.cpu}, ${m.cores} cores`,
    `- Memory: ${m.memory}`,
    `- OS: ${m.os}`,
    `- Node.js: ${m.node}`,
    `- MySQL server: ${m.mariadb}`,
    `- Date: ${m.date}`,
    `- Ours: commit ${m.commit}; original: ${m.original}`,
  ];
}

/** The heading of the section `--cluster` writes into RESULTS.md (the plain bench keeps it). */
const CLUSTER_HEADING = '## Cluster (3-node Galera)';

/**
 * The section of markdown `text` that starts with the line `heading` and runs to the next
 * `## ` heading (or the end), or null when there is none.
 */
function sectionOf(text, heading) {
  const lines = text.split('\n');
  const from = lines.indexOf(heading);
  if (from < 0) return null;
  let to = from + 1;
  while (to < lines.length && !lines[to].startsWith('## ')) to++;
  return lines.slice(from, to).join('\n').trimEnd();
}

/** `text` with the section `heading` (see sectionOf) replaced by `section`, or `section` appended. */
function withSection(text, heading, section) {
  const old = sectionOf(text, heading);
  if (old === null) return `${text.trimEnd()}\n\n${section.trimEnd()}\n`;
  const at = text.indexOf(old);
  return `${text.slice(0, at)}${section.trimEnd()}${text.slice(at + old.length)}`;
}

function readIfExists(file) {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

/** Writes the plain bench's RESULTS.md `md`, keeping the cluster section the file had. */
function writeResults(file, md) {
  const cluster = sectionOf(readIfExists(file), CLUSTER_HEADING);
  fs.writeFileSync(file, cluster === null ? md : withSection(md, CLUSTER_HEADING, cluster));
}

/** Replaces (or appends) the cluster section of RESULTS.md, keeping everything else. */
function writeClusterSection(file, section) {
  const text = readIfExists(file) || '# Benchmark results\n';
  fs.writeFileSync(file, withSection(text, CLUSTER_HEADING, section));
}

const failureLine = (f) => `- ${f.what}: ${f.count} — ${f.samples.join(' | ')}`;

/**
 * What the plain bench prints on stdout after its run: the table, the medians note with the
 * missed targets, the failures, the run time.
 * @param {{table: string, rounds: number, missed: Array<{label: string}>, failures: Array<{what: string, count: number, samples: string[]}>, runTime: string}} r
 * @returns {string}
 */
function plainSummary({ table, rounds, missed, failures, runTime }) {
  const lines = [
    '',
    table,
    '',
    `Medians of ${rounds} rounds; ratio and ours/ceiling are medians of per-round ratios (pairs measured back to back). ` +
      `${missed.length === 0 ? 'All targets met.' : `${missed.length} target(s) NOT met: ${missed.map((r) => r.label).join('; ')}.`}`,
  ];
  if (failures.length) {
    lines.push(`\nFAILURES (${failures.reduce((a, f) => a + f.count, 0)} errors):`, ...failures.map(failureLine));
  }
  lines.push(`\n${runTime}`);
  return lines.join('\n');
}

/**
 * The plain bench's RESULTS.md (writeResults adds the cluster section the file had).
 * @param {object} r the run: `quick`, `modeName`, `M` (the mode's settings), `mariadb` (server
 *   version), `plan` (CONCURRENCY, HTTP_SLICE_SEC, TOKEN_CACHE_CAPACITY), `rawLabel`,
 *   `loadBefore` (os.loadavg() at the start), `table`, `mem` (the memory run), `failures`,
 *   `runTime`, `perRound` (key -> lib -> ops/s per round), `whatOf` (key -> label)
 * @returns {string}
 */
function plainResults({
  quick,
  modeName,
  M,
  mariadb,
  plan,
  rawLabel,
  loadBefore,
  table,
  mem,
  failures,
  runTime,
  perRound,
  whatOf,
}) {
  const { CONCURRENCY, HTTP_SLICE_SEC, TOKEN_CACHE_CAPACITY } = plan;
  const roundsTable = [
    `| measurement | ${Array.from({ length: M.rounds }, (_, i) => `round ${i + 1}`).join(' | ')} |`,
    `|---|${Array.from({ length: M.rounds }, () => '---:').join('|')}|`,
  ];
  for (const [key, byLib] of Object.entries(perRound)) {
    for (const [lib, xs] of Object.entries(byLib))
      roundsTable.push(`| ${whatOf[key]} — ${lib} | ${xs.map(fmtOps).join(' | ')} |`);
  }
  return [
    '# Benchmark results',
    '',
    `Written by \`npm run bench${quick ? ' -- --quick' : ''}\` (${modeName} mode) — see [README.md](README.md) for what each row means.`,
    '',
    '## Machine',
    '',
    ...machineLines(machine(mariadb)),
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
    `- Load average (1/5/15 min) at start: ${loadBefore.map((x) => x.toFixed(2)).join(' / ')}; at end: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(
        ' / ',
      )} (${os.cpus().length} cores; anything well above the bench's own ~1–2 means other work was running).`,
    '',
    '## Results',
    '',
    table,
    '',
    'ops/s columns are medians over rounds; `ratio` (ours / original) and `ours/ceiling` are medians of the per-round ratios.',
    '',
    `Memory: RSS ${mb(mem.rssBefore)} → ${mb(mem.rssAfter)}, heap ${mb(mem.heapBefore)} → ${mb(mem.heapAfter)} over ${M.memCalls.toLocaleString('en')} calls after ${M.memWarmup.toLocaleString('en')} warm-up calls (${mem.gcForced ? 'full GC before each reading' : 'no forced GC'}).`,
    '',
    `Errors: ${failures.length === 0 ? 'none (every result verified).' : ''}`,
    ...failures.map(failureLine),
    '',
    `${runTime}.`,
    '',
    '## Per-round ops/s',
    '',
    ...roundsTable,
    '',
  ].join('\n');
}

module.exports = {
  median,
  pairedRatio,
  summarise,
  markdownTable,
  machine,
  machineLines,
  fmtOps,
  fmtRatio,
  fmtFrac,
  mb,
  CLUSTER_HEADING,
  sectionOf,
  withSection,
  writeResults,
  writeClusterSection,
  plainSummary,
  plainResults,
};

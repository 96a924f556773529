'use strict';
/**
 * The numbers of `--cluster` mode: collecting them per operation and setup (library × mode),
 * the table, the error list and the "Cluster (3-node Galera)" section of RESULTS.md.
 */

const os = require('node:os');
const report = require('./report.js');

const MODE_NAME = { single: 'single', galera: 'cluster' };

/** Empty statistics for `ops` × `setups`. */
function newStats(ops, setups) {
  const byOp = {};
  for (const op of ops) {
    byOp[op.key] = {};
    for (const s of setups)
      byOp[op.key][s.key] = { perRound: [], ok: 0, errors: 0, attempted: 0, skipped: 0, kinds: {} };
  }
  return { ops, setups, byOp };
}

/**
 * Adds one measurement (round < 0: the warm-up, whose rate is not counted but whose errors
 * are) and logs it.
 */
function record(stats, op, key, round, res, log) {
  const st = stats.byOp[op][key];
  if (round >= 0) st.perRound.push(res.opsPerSec);
  st.ok += res.ok;
  st.errors += res.errors;
  st.attempted += res.attempted;
  st.skipped += res.skipped || 0;
  for (const [k, n] of Object.entries(res.errorKinds)) st.kinds[k] = (st.kinds[k] || 0) + n;
  const label = stats.ops.find((o) => o.key === op).short;
  const tag = round >= 0 ? `round ${round + 1}` : 'warm-up';
  const skipped = res.skipped ? `, ${res.skipped} skipped: their refresh failed` : '';
  log(
    `  [${tag}] ${label.padEnd(24)} ${key.padEnd(16)} ${report.fmtOps(res.opsPerSec).padStart(7)} ops/s  (${res.ok} ok, ${res.errors} errors${skipped})`,
  );
  for (const [k, n] of Object.entries(res.errorKinds).slice(0, 3)) log(`      error ×${n}: ${k}`);
}

const fmtCount = (n) => n.toLocaleString('en');

/** The errors cell: every setup with errors, as `<lib> <mode>: <errors>/<attempted>`. */
function errorsCell(byKey, setups) {
  const parts = setups
    .filter((s) => s.dead || byKey[s.key].errors > 0)
    .map((s) => {
      const st = byKey[s.key];
      const counts = `${fmtCount(st.errors)}/${fmtCount(st.attempted)}`;
      // A setup left out after a failure (see the list below) may have measured some rounds.
      const cut = s.dead ? (st.attempted ? ', then left out' : 'not run') : '';
      return `${s.lib} ${MODE_NAME[s.mode]}: ${s.dead && !st.attempted ? cut : counts + cut}`;
    });
  return parts.length ? parts.join('; ') : 'none';
}

function table(stats, finalProblems) {
  const head = [
    'op',
    'ours single',
    'ours cluster',
    'cluster/single',
    'original single',
    'original cluster',
    'cluster/single',
    'ours/original on cluster',
    'errors',
  ];
  const lines = [
    `| ${head.join(' | ')} |`,
    `|---|${head
      .slice(1, -1)
      .map(() => '---:')
      .join('|')}|---|`,
  ];
  for (const op of stats.ops) {
    const byKey = stats.byOp[op.key];
    const pr = (lib, mode) => byKey[`${lib} ${mode}`].perRound;
    const cells = [op.label];
    for (const lib of ['ours', 'original']) {
      cells.push(
        report.fmtOps(report.median(pr(lib, 'single'))),
        report.fmtOps(report.median(pr(lib, 'galera'))),
        report.fmtRatio(report.pairedRatio(pr(lib, 'galera'), pr(lib, 'single'))),
      );
    }
    cells.push(
      report.fmtRatio(report.pairedRatio(pr('ours', 'galera'), pr('original', 'galera'))),
      errorsCell(byKey, stats.setups),
    );
    lines.push(`| ${cells.join(' | ')} |`);
  }
  // The untimed cross-node checks get a row too, so a failure shows in the table itself.
  const failedChecks = stats.setups
    .filter((s) => s.dead || (finalProblems[s.key] || []).length)
    .map((s) => `${s.lib} ${MODE_NAME[s.mode]}: ${s.dead ? 'not run' : `${finalProblems[s.key].length} problem(s)`}`);
  lines.push(
    `| final checks: revoked on another node, refused on a third; wrong anti-CSRF refused | ${Array(7).fill('—').join(' | ')} | ${failedChecks.join('; ') || 'none'} |`,
  );
  return lines.join('\n');
}

const kindsText = (kinds) =>
  Object.entries(kinds)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `\`${k.replace(/`/g, "'")}\` ×${fmtCount(n)}`)
    .join('; ');

/** The error list, per operation and library, then what went wrong outside the measurements. */
function errorLines(stats, finalProblems) {
  const lines = [];
  for (const op of stats.ops) {
    for (const s of stats.setups) {
      const st = stats.byOp[op.key][s.key];
      if (st.errors === 0 && st.skipped === 0) continue;
      const skipped = st.skipped ? ` (${fmtCount(st.skipped)} more not attempted: their refresh had failed)` : '';
      lines.push(
        `- ${op.label}, ${s.lib} ${MODE_NAME[s.mode]}: ${fmtCount(st.errors)} of ${fmtCount(st.attempted)}${skipped} — ${kindsText(st.kinds)}`,
      );
    }
  }
  for (const s of stats.setups) {
    const who = `${s.lib} ${MODE_NAME[s.mode]}`;
    for (const f of s.initFailures) lines.push(`- ${who}: ${f}`);
    if (s.dead) lines.push(`- ${who}: LEFT OUT (not measured from then on) — ${s.dead}`);
    if (s.prepFailed)
      lines.push(
        `- ${who}: ${s.prepFailed} untimed session creations failed (pools/refills) — ${[...new Set(s.prepErrors)].slice(0, 5).join(' | ')}`,
      );
    for (const p of finalProblems[s.key] || []) lines.push(`- ${who}, final cross-node checks: ${p}`);
  }
  return lines;
}

/**
 * The printed table, the error text and the RESULTS.md section.
 * @returns {{table: string, causalText: string, errorText: string, section: string, anyErrors: boolean}}
 */
function build({ stats, setups, finalProblems, M, modeName, versions, elapsedSec, loadBefore, lanes, causal }) {
  const t = table(stats, finalProblems);
  const causalText =
    `Causal reads, raw (node mysql, 32 in flight over the 3 nodes, no library): point SELECT ${Math.round(causal.plain)} ops/s plain, ` +
    `${Math.round(causal.causal)} ops/s with \`SET STATEMENT wsrep_sync_wait=1 FOR\` (${causal.ratio.toFixed(2)}x).`;
  const errs = errorLines(stats, finalProblems);
  const errorText = errs.length
    ? `ERRORS (per operation and library, all rounds, warm-up included; each message with how often it came):\n${errs.join('\n')}`
    : 'Errors: none (every result verified).';
  const m = report.machine(versions.single);
  const section = [
    report.CLUSTER_HEADING,
    '',
    `Written by \`npm run bench -- --cluster${modeName === 'quick' ? ' --quick' : ''}\` (${modeName} mode) — see [README.md](README.md#cluster-mode---cluster) for how to read it.`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memory}, ${m.os}, Node.js ${m.node}; single: ${versions.single}; cluster: 3 nodes of ${versions.galera} on this same machine; ours: commit ${m.commit}; original: ${m.original}; ${m.date}.`,
    '',
    `Settings: ${M.rounds} measured rounds after a warm-up round; per library and mode 3 workers (one per node; in single mode all on the one server) plus 3 with blacklisting on; ` +
      `32 operations in flight in total (${lanes.join(' + ')} lanes); createNewSession, getSessionData and blacklisting getSession ${M.dbMs} ms each; ` +
      `refresh and promotion one operation per session of a ${fmtCount(M.chainSize)}-session chain; a pool of ${fmtCount(M.poolSize)} sessions for the reads. ` +
      `Load average at start ${loadBefore.map((x) => x.toFixed(2)).join(' / ')}, at end ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' / ')}.`,
    '',
    t,
    '',
    'ops/s are medians over rounds, each the total of the three workers over their common span; both `cluster/single` columns and `ours/original on cluster` are medians of per-round ratios.',
    '',
    causalText,
    '',
    errs.length ? 'Errors (all rounds, warm-up included):' : 'Errors: none (every result verified).',
    ...errs,
    '',
    `Total run time: ${elapsedSec.toFixed(1)} s (budget ${M.budgetSec} s).`,
  ].join('\n');
  return { table: t, causalText, errorText, section, anyErrors: errs.length > 0 || setups.some((s) => s.dead) };
}

module.exports = { newStats, record, build };

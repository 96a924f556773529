'use strict';
/**
 * Summarising and printing: medians, paired per-round ratios, the target column, the machine
 * description and the sections of bench/RESULTS.md.
 */

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

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

function fmtOps(x) {
  if (!Number.isFinite(x)) return '—';
  if (x >= 100000) return `${(x / 1000).toFixed(0)}k`;
  if (x >= 10000) return `${(x / 1000).toFixed(1)}k`;
  return x.toFixed(0);
}

function fmtRatio(x, digits = 2) {
  return Number.isFinite(x) ? `${x.toFixed(digits)}x` : '—';
}

function fmtFrac(x, digits = 2) {
  return Number.isFinite(x) ? x.toFixed(digits) : '—';
}

function mb(bytes) {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/**
 * Builds the table rows.
 * @param {Array} rows definitions: {label, ours, original, ceiling?, minRatio?, minCeiling?, isCeiling?}
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
      if (!(ceilingFrac >= d.minCeiling)) misses.push(`${fmtFrac(ceilingFrac, 3)} of ${d.ceilingName} < ${d.minCeiling}`);
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
    commit = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
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
};

'use strict';
/**
 * Runs the node test suites: all of __test__/ against Express 4, then every suite that uses
 * Express again against Express 5 (via __test__/express5.js), then the Galera cluster suite
 * on its own. Expects MYSQL_* to be set
 * (run it through scripts/with-mysql.js, as `npm test` does).
 */

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const dir = path.join(__dirname, '..', '__test__');
// The Galera suite runs 3 database nodes and 4–6 app processes: alone, so it neither slows
// the timing-sensitive suites on a 2-core machine nor is slowed by them.
const CLUSTER_SUITES = ['galera.test.js'];
const suites = fs.readdirSync(dir).filter((f) => /\.test\.(c|m)?js$/.test(f) && !CLUSTER_SUITES.includes(f));
const usesExpress = suites.filter((f) => /require\(['"]express['"]\)/.test(fs.readFileSync(path.join(dir, f), 'utf8')));

/** Every suite runs against the build with test hooks (npm run build:test; lib/native.js). */
const TEST_BUILD = { SUPERTOKENS_TEST_BUILD: '1' };

function run(label, files, env = {}) {
  console.log(`\n# ${label}: ${files.length} suites`);
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files.map((f) => path.join(dir, f))], {
    stdio: 'inherit',
    env: { ...process.env, ...TEST_BUILD, ...env },
  });
  return r.status === 0;
}

const express4 = run('Express 4 (and framework-free)', suites);
const express5 = run('Express 5', usesExpress, {
  NODE_OPTIONS: `${process.env.NODE_OPTIONS || ''} --require=${path.join(dir, 'express5.js')}`.trim(),
});
const clusterSuites = run('Galera cluster', CLUSTER_SUITES);
process.exit(express4 && express5 && clusterSuites ? 0 : 1);

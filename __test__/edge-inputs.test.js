'use strict';
/**
 * The original's outcome for every framework-free edge input (issue 13.2): each row of
 * `fixtures/edge-rows.js` runs against the original library 5.0.4 (in a process of its own,
 * `fixtures/edge-original.js`) and against ours, on the same MySQL, and ours must resolve or
 * reject with the same error kind — or, on a documented deviation row, give the outcome
 * SPEC-DEVIATIONS.md documents while the original still gives the one written there.
 */

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFile } = require('node:child_process');
const ST = require('../index.js');
const h = require('./helpers.js');
const { groups, runGroup } = require('./fixtures/edge-rows.js');

const ORIGINAL = path.join(__dirname, 'fixtures', 'edge-original.js');

/** The original's outcomes for group `i`, from a process of its own. */
function originalOutcomes(i) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [ORIGINAL, String(i)], { env: process.env, timeout: 120_000 }, (err, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith('EDGE_RESULT '));
      if (err || line === undefined) reject(new Error(`original run of group ${i} failed: ${err}\n${stderr}`));
      else resolve(JSON.parse(line.slice('EDGE_RESULT '.length)));
    });
  });
}

before(async () => {
  await h.dropTables('edge_orig');
  await h.dropTables('edge_ours');
});

h.closeAfter(ST);

const counts = { rows: 0, same: 0, deviations: 0 };

groups.forEach((group, i) => {
  test(`edge inputs, ${group.name}: ours answers as the original, or as documented`, async (t) => {
    const theirs = await originalOutcomes(i);
    const config = h.configFor('edge_ours', group.config);
    await ST.init(config);
    t.after(() => ST.close());
    const ours = await runGroup(ST, group, config);

    const wrong = [];
    for (const r of group.rows) {
      counts.rows++;
      const want = r.deviation ? r.deviation.ours : theirs[r.name];
      if (r.deviation) {
        counts.deviations++;
        if (theirs[r.name] !== r.deviation.original) {
          wrong.push(`${r.name}: the original now answers ${theirs[r.name]}, documented ${r.deviation.original}`);
        }
      } else {
        counts.same++;
      }
      if (ours[r.name] !== want)
        wrong.push(`${r.name}: ours ${ours[r.name]}, expected ${want} (original ${theirs[r.name]})`);
    }
    assert.deepEqual(wrong, [], `${wrong.length} of ${group.rows.length} rows differ:\n${wrong.join('\n')}`);
  });
});

test('the table covers every framework-free export with edge inputs', () => {
  const called = new Set();
  for (const g of groups) for (const r of g.rows) called.add(/^(?:Error\.)?(\w+)/.exec(r.name)[1]);
  // The original's exports (ours has more: the additions have their own suites).
  const original = Object.keys(require('supertokens-original'));
  const exported = Object.keys(ST).filter((k) => k !== 'close' && k !== 'Error' && original.includes(k));
  assert.ok(exported.length >= 9, `the shared exports: ${exported}`);
  for (const k of [...exported, 'isErrorFromAuth']) assert.ok(called.has(k), `no row calls ${k}`);
  // Every deviation says why (and SPEC-DEVIATIONS.md lists each reason).
  const spec = require('node:fs')
    .readFileSync(path.join(__dirname, '..', 'SPEC-DEVIATIONS.md'), 'utf8')
    .replace(/\s+/g, ' ');
  for (const g of groups) {
    for (const r of g.rows.filter((x) => x.deviation)) {
      assert.ok(spec.includes(r.deviation.why), `SPEC-DEVIATIONS.md documents "${r.deviation.why}" (${r.name})`);
    }
  }
});

after(() => {
  process.stdout.write(
    `# edge table: ${counts.rows} rows, ${counts.same} as the original, ${counts.deviations} documented deviations\n`,
  );
});

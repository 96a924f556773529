'use strict';
/**
 * Loads the napi-panic-check addon (built by `cargo build --release` here) and reports, for
 * each export and panic kind, whether the panic became a JS error / rejected promise or
 * killed the process, and what the package's error conversion (lib/errors.js fromNativeThrow)
 * makes of it. Each case runs in a child process, since an abort kills the whole process.
 *   node fuzz/napi-panic-check/check.js
 */

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const so = path.join(__dirname, 'target/release/libnapi_panic_check.so');
const node = path.join(__dirname, 'target/napi_panic_check.node');

if (process.argv[2] === 'child') {
  const addon = require(node);
  const { fromNativeThrow } = require('../../lib/errors.js');
  const [fn, kind] = process.argv.slice(3);
  const report = (how, e) => {
    const converted = fromNativeThrow(e);
    console.log(JSON.stringify({ how, message: e.message, code: e.code, errType: converted.errType }));
  };
  if (fn === 'asyncFn') {
    addon.asyncFn(kind).then(
      (v) => console.log(JSON.stringify({ how: 'resolved', value: v })),
      (e) => report('rejected', e),
    );
  } else {
    try {
      console.log(JSON.stringify({ how: 'returned', value: addon[fn](kind) }));
    } catch (e) {
      report('threw', e);
    }
  }
  return;
}

fs.copyFileSync(so, node);
let abortsWhereExpected = true;
let failures = 0;
for (const fn of ['syncCatchUnwind', 'rawCallback', 'asyncFn', 'syncPlain']) {
  for (const kind of ['ok', 'str', 'string', 'index', 'unwrap']) {
    const r = spawnSync(process.execPath, [__filename, 'child', fn, kind], { encoding: 'utf8', timeout: 20000 });
    const out = r.stdout.trim().split('\n').pop() || '';
    const died = r.status === null ? `killed by ${r.signal}` : r.status !== 0 ? `exit ${r.status}` : '';
    console.log(`${fn}(${JSON.stringify(kind)}): ${died || out}`);
    if (died && r.stderr) console.log(`    stderr: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
    const survived = !died && out !== '';
    if (fn !== 'syncPlain' && !survived) failures++;
    if (fn !== 'syncPlain' && kind !== 'ok' && survived && JSON.parse(out).errType !== 1000) failures++;
    if (fn === 'syncPlain' && kind !== 'ok' && survived) abortsWhereExpected = false;
  }
}
console.log(
  failures === 0
    ? 'catch_unwind sync, hand-registered callback and async: every panic became a JS error / rejection, GENERAL_ERROR after fromNativeThrow'
    : `${failures} case(s) did not become a GENERAL_ERROR`,
);
console.log(`plain #[napi] sync: ${abortsWhereExpected ? 'a panic aborts the process' : 'a panic did not abort'}`);
process.exit(failures === 0 ? 0 : 1);

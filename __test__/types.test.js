'use strict';
/**
 * The TypeScript declarations (index.d.ts, express.d.ts) describe exactly the documented API
 * (SPEC §3, §4): the typed usage files in `types/positive/` (every export, the config with every
 * option, the seed page's example, ES-module named imports) compile with `tsc --noEmit --strict`
 * under Node.js and bundler module resolution, and every file in `types/negative/` fails to
 * compile with exactly the diagnostics its `// @error TSxxxx: message` markers name.
 *
 * `supertokens-node-mysql-ref-jwt` resolves to this repository by package self-reference (the
 * usage files sit inside the package), i.e. through package.json's `exports` map.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFile } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
const TYPES = path.join(__dirname, 'types');
const TSC = path.join(ROOT, 'node_modules', '.bin', 'tsc');
/** The one original documentation page the project holds (outside the repository). */
const SEED_PAGE = '/work/shared/seed/user-login.md';

/** The options of types/tsconfig.json, as command-line flags (tsc takes no tsconfig with files). */
const NEGATIVE_FLAGS = [
  '--ignoreConfig',
  '--noEmit',
  '--strict',
  '--pretty',
  'false',
  '--target',
  'es2022',
  '--lib',
  'es2022',
  '--module',
  'nodenext',
  '--moduleResolution',
  'nodenext',
  '--esModuleInterop',
  '--types',
  'node',
  // The declarations themselves are checked (skipLibCheck false) by the positive project.
  '--skipLibCheck',
];

/** Runs tsc in types/; resolves {code, output} (never rejects on a non-zero exit). */
function tsc(args) {
  return new Promise((resolve, reject) => {
    execFile(TSC, args, { cwd: TYPES, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: err ? err.code : 0, output: `${stdout}${stderr}` });
    });
  });
}

/** Parses `file(line,col): error TSxxxx: message` diagnostics (continuation lines appended). */
function diagnostics(output) {
  const out = [];
  for (const line of output.split('\n')) {
    const m = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(line);
    if (m) out.push({ file: m[1], line: Number(m[2]), code: m[4], message: m[5] });
    else if (/^\s+\S/.test(line) && out.length > 0) out[out.length - 1].message += ` ${line.trim()}`;
  }
  return out;
}

/** The `// @error TSxxxx: fragment ... fragment` markers of a negative file. */
function expectedErrors(file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out = [];
  lines.forEach((text, i) => {
    const m = /\/\/ @error (TS\d+): (.*)$/.exec(text);
    if (m) out.push({ line: i + 1, code: m[1], fragments: m[2].split(' ... ').map((s) => s.trim()) });
  });
  return out;
}

function includesInOrder(message, fragments) {
  let at = 0;
  for (const f of fragments) {
    const i = message.indexOf(f, at);
    if (i === -1) return false;
    at = i + f.length;
  }
  return true;
}

/** The quoted names of a union type's text. */
const quotedNames = (text) => [...text.matchAll(/'([A-Za-z]+)'/g)].map((x) => x[1]);

/**
 * Names in the `keyof typeof SuperTokens` union asserted by a positive usage file, with
 * `SharedValueExports` (positive/export-names.ts) spelled out.
 */
function declaredValueExports(file) {
  const src = fs.readFileSync(path.join(TYPES, 'positive', file), 'utf8');
  const m = /keyof typeof SuperTokens,([\s\S]*?)>\s*>\(\);/.exec(src);
  assert.ok(m, `${file} asserts keyof typeof SuperTokens`);
  const names = quotedNames(m[1]);
  if (/\bSharedValueExports\b/.test(m[1])) {
    const shared = fs.readFileSync(path.join(TYPES, 'positive', 'export-names.ts'), 'utf8');
    const union = /type SharedValueExports =([^;]*);/.exec(shared);
    assert.ok(union, 'export-names.ts declares SharedValueExports');
    names.push(...quotedNames(union[1]));
  }
  return names.sort();
}

test('tsc is the project devDependency', () => {
  const pkg = require('../package.json');
  for (const dep of ['typescript', '@types/node', '@types/express']) {
    assert.ok(pkg.devDependencies[dep], `devDependencies has ${dep}`);
  }
  assert.ok(fs.existsSync(TSC), 'node_modules/.bin/tsc exists (npm install)');
  assert.match(require('@types/express/package.json').version, /^4\./, '@types/express for Express 4');
});

test('the usage files assert exactly the exports the runtime modules have', () => {
  // The positive files check `keyof typeof SuperTokens` against these names at compile time;
  // here the same names are checked against what require() really returns.
  assert.deepEqual(Object.keys(require('../express.js')).sort(), declaredValueExports('express-api.ts'));
  assert.deepEqual(Object.keys(require('../index.js')).sort(), declaredValueExports('index-api.ts'));
  const { Error: E } = require('../index.js');
  assert.deepEqual(
    { ...E },
    {
      GENERAL_ERROR: 1000,
      UNAUTHORISED: 2000,
      TRY_REFRESH_TOKEN: 3000,
      UNAUTHORISED_AND_TOKEN_THEFT_DETECTED: 4000,
      isErrorFromAuth: E.isErrorFromAuth,
    },
  );
});

for (const project of ['tsconfig.json', 'tsconfig.bundler.json']) {
  test(`positive usage files compile with --strict (${project})`, async () => {
    const files = await tsc(['-p', project, '--listFilesOnly']);
    assert.equal(files.code, 0, files.output);
    const listed = files.output.split('\n').map((l) => l.trim());
    // The package name resolved to this repository's declarations, through the exports map.
    assert.ok(listed.includes(path.join(ROOT, 'index.d.ts')), files.output);
    assert.ok(listed.includes(path.join(ROOT, 'express.d.ts')), files.output);
    // Every usage file takes part.
    for (const f of fs.readdirSync(path.join(TYPES, 'positive'))) {
      assert.ok(listed.includes(path.join(TYPES, 'positive', f)), `${f} is compiled`);
    }

    const r = await tsc(['-p', project, '--noEmit', '--strict', '--pretty', 'false']);
    assert.equal(r.output.trim(), '', 'no diagnostics');
    assert.equal(r.code, 0);
  });
}

test('the seed page example is in the positive project, verbatim', (t) => {
  const ts = fs.readFileSync(path.join(TYPES, 'positive', 'seed-user-login.ts'), 'utf8');
  if (!fs.existsSync(SEED_PAGE)) return t.skip(`${SEED_PAGE} is not on this machine`);
  const seed = fs.readFileSync(SEED_PAGE, 'utf8');
  const example = /## Example code\n```js\n([\s\S]*?)```/.exec(seed);
  assert.ok(example, 'the seed page has its example');
  for (const line of example[1].split('\n').filter((l) => l.trim() !== '')) {
    assert.ok(ts.includes(line), `seed line present verbatim: ${line}`);
  }
});

const negatives = fs
  .readdirSync(path.join(TYPES, 'negative'))
  .filter((f) => /\.m?ts$/.test(f))
  .sort();

test('negative files fail to compile with the expected diagnostics', { concurrency: 4 }, async (t) => {
  assert.ok(negatives.length >= 5);
  await Promise.all(
    negatives.map((name) =>
      t.test(name, async () => {
        const rel = `negative/${name}`;
        const expected = expectedErrors(path.join(TYPES, rel));
        assert.ok(expected.length > 0, `${name} has // @error markers`);
        const r = await tsc([...NEGATIVE_FLAGS, rel]);
        assert.notEqual(r.code, 0, `tsc must fail on ${name}`);
        const actual = diagnostics(r.output);
        assert.ok(actual.length > 0, `diagnostics expected, got: ${r.output}`);
        for (const d of actual) {
          assert.equal(d.file, rel, `an error in ${name} itself, not elsewhere: ${r.output}`);
          const e = expected.find((x) => x.line === d.line && x.code === d.code);
          assert.ok(e, `unexpected error at line ${d.line}: ${d.code}: ${d.message}`);
          assert.ok(
            includesInOrder(d.message, e.fragments),
            `line ${d.line} message "${d.message}" has "${e.fragments.join(' ... ')}"`,
          );
        }
        for (const e of expected) {
          assert.ok(
            actual.some((d) => d.line === e.line && d.code === e.code),
            `expected ${e.code} at ${name}:${e.line}; tsc said:\n${r.output}`,
          );
        }
      }),
    ),
  );
});

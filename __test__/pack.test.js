'use strict';
/**
 * The package as a user gets it: `npm pack` makes a tarball with the runtime files only (the
 * linux-x64-gnu binary included), which `npm install`s into a fresh Express app folder with no
 * Rust toolchain on PATH, and that app logs in, verifies, refreshes (and detects a reused
 * refresh token) over real HTTP against MySQL, with `require`, `import` and TypeScript.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile, spawnSync } = require('node:child_process');
const h = require('./helpers.js');

const ROOT = path.join(__dirname, '..');
const PKG = require('../package.json');
const BINARY = `${PKG.napi.binaryName}.linux-x64-gnu.node`;
const PREFIX = 'pack';

/** Runs a command; resolves {code, stdout, stderr} (never rejects on a non-zero exit). */
function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 << 20, ...opts }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}

/** Runs a command that must succeed; returns its stdout. */
async function ok(cmd, args, opts) {
  const r = await run(cmd, args, opts);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const RUST_TOOLS = ['cargo', 'rustc', 'rustup'];

/**
 * The environment of a user without Rust: PATH without any directory holding cargo, rustc or
 * rustup, no CARGO_/RUSTUP_/RUST variables, and none of the package's npm_* script variables.
 */
function envWithoutRust(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(CARGO|RUSTUP|RUST|RUSTC)/i.test(k)) continue;
    // A test runner's preloads (e.g. the Express 5 redirect) are no part of a user's app.
    if (k === 'NODE_OPTIONS') continue;
    // The suites' choice of the test build (lib/native.js): a user's app has only the release one.
    if (k === 'SUPERTOKENS_TEST_BUILD') continue;
    // What `npm test` adds about this package; npm_config_* (registry, cache...) are kept.
    if (/^npm_(lifecycle_|package_|command$|execpath$|node_execpath$|config_local_prefix$|config_call$)/i.test(k))
      continue;
    env[k] = v;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => dir !== '' && !RUST_TOOLS.some((t) => fs.existsSync(path.join(dir, t))))
    .join(path.delimiter);
  return { ...env, ...extra };
}

/** Packs the repository as `npm pack` does (scripts off: nothing may be built here). */
async function pack(args) {
  const out = await ok('npm', ['pack', '--json', '--ignore-scripts', ...args], { cwd: ROOT });
  const [info] = JSON.parse(out);
  return info;
}

const RUNTIME_FILES = [
  'package.json',
  'README.md',
  'index.js',
  'index.d.ts',
  'express.js',
  'express.d.ts',
  'native.js',
  'native.d.ts',
  'lib/core.js',
  'lib/cookies.js',
  'lib/errors.js',
  'lib/fast-session.js',
  'lib/native.js',
  BINARY,
];

test('npm pack --dry-run: the runtime files and the binary, nothing else', async () => {
  const info = await pack(['--dry-run']);
  const files = info.files.map((f) => f.path).sort();
  for (const f of RUNTIME_FILES) assert.ok(files.includes(f), `${f} is packed; got ${files.join(', ')}`);
  for (const f of files) {
    assert.doesNotMatch(
      f,
      /^(__test__|test|target|src|node_modules|npm|bench|examples|scripts|\.ci|\.git|\.mysql)\/|^Cargo\.|\.rs$|\.tgz$|^\.gitignore$/,
      `${f} must not be in the tarball`,
    );
    assert.ok(
      /^(lib\/[^/]+\.js|[^/]+\.(js|d\.ts|node|md|json)|LICENSE)$/.test(f),
      `${f}: only top-level runtime files and lib/*.js are expected`,
    );
  }
  // Every relative require() of the packed JavaScript is packed too (native.js, the generated
  // loader, tries every platform's binary; this platform's is checked above).
  for (const f of files.filter((x) => x.endsWith('.js') && x !== 'native.js')) {
    const src = fs.readFileSync(path.join(ROOT, f), 'utf8');
    for (const m of src.matchAll(/require\('(\.{1,2}\/[^']+)'\)/g)) {
      let target = path.posix.normalize(path.posix.join(path.posix.dirname(f), m[1]));
      if (!path.posix.extname(target)) target += '.js';
      assert.ok(files.includes(target), `${f} requires ${m[1]}, which is not packed`);
    }
  }
  // Every packed file but the build's outputs is in git: a hand-written file that a .gitignore
  // pattern hides exists only on the machine that wrote it, and a clean clone lacks it.
  const GENERATED = new Set(['native.js', 'native.d.ts', BINARY]);
  const sources = files.filter((f) => !GENERATED.has(f));
  const tracked = spawnSync('git', ['ls-files', '--error-unmatch', '--', ...sources], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(tracked.status, 0, `every packed source file is tracked by git:\n${tracked.stderr}`);
  // Nothing runs at install time, so nothing can need a compiler.
  for (const s of ['preinstall', 'install', 'postinstall']) {
    assert.equal(PKG.scripts?.[s], undefined, `no ${s} script`);
  }
  assert.equal(PKG.dependencies, undefined, 'no runtime dependencies');
});

test('npm/linux-x64-gnu follows the napi-rs platform-package convention', () => {
  assert.deepEqual(PKG.napi.targets, ['x86_64-unknown-linux-gnu']);
  const dir = path.join(ROOT, 'npm', 'linux-x64-gnu');
  const p = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  assert.equal(p.name, `${PKG.name}-linux-x64-gnu`);
  assert.equal(p.version, PKG.version, 'the platform package has the root version (napi version keeps them equal)');
  assert.equal(p.main, BINARY);
  assert.deepEqual(p.files, [BINARY]);
  assert.deepEqual(p.os, ['linux']);
  assert.deepEqual(p.cpu, ['x64']);
  assert.deepEqual(p.libc, ['glibc']);
  assert.equal(p.license, PKG.license);
  // The generated loader falls back to that package when the tarball has no binary.
  const loader = fs.readFileSync(path.join(ROOT, 'native.js'), 'utf8');
  assert.ok(loader.includes(`require('./${BINARY}')`), 'native.js loads the bundled binary first');
  assert.ok(loader.includes(`require('${p.name}')`), `native.js falls back to ${p.name}`);
});

test('the packed tarball installs into a fresh Express app without Rust and works', { timeout: 180_000 }, async (t) => {
  const started = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'st-pack-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  // 1. npm pack, as the publisher does.
  const info = await pack(['--pack-destination', tmp]);
  const tarball = path.join(tmp, info.filename);
  assert.ok(fs.existsSync(tarball), tarball);
  assert.ok(
    info.files.some((f) => f.path === BINARY),
    'the binary is in the tarball',
  );
  t.diagnostic(
    `tarball ${info.filename}: ${info.size} bytes packed, ${info.unpackedSize} unpacked, ${info.entryCount} files`,
  );

  // 2. A user's machine: no cargo, rustc or rustup reachable.
  const env = envWithoutRust();
  for (const tool of RUST_TOOLS) {
    const r = spawnSync(tool, ['--version'], { env });
    assert.equal(r.error?.code, 'ENOENT', `${tool} must not be on the stripped PATH`);
  }

  // 3. A fresh app folder with its own package.json; npm install the tarball and Express 4.
  const app = path.join(tmp, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify({ name: 'st-pack-smoke-app', version: '1.0.0', private: true, license: 'MIT' }, null, 2),
  );
  await ok('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, 'express@4'], { cwd: app, env });
  const installed = path.join(app, 'node_modules', PKG.name);
  assert.ok(fs.existsSync(path.join(installed, BINARY)), 'the binary was installed with the package');
  for (const d of ['src', 'target', '__test__', 'node_modules', 'npm']) {
    assert.ok(!fs.existsSync(path.join(installed, d)), `${d}/ is not installed`);
  }
  assert.ok(!fs.existsSync(path.join(installed, 'test-build')), 'the test build is not packed');
  // The shipped binary has no test or bench hooks at all (they are a cargo feature of the
  // test build only), so no code in an app's process can move the clock.
  const shippedExports = JSON.parse(
    await ok(
      process.execPath,
      ['-e', `console.log(JSON.stringify(Object.keys(require(${JSON.stringify(path.join(installed, BINARY))}))))`],
      { cwd: app, env },
    ),
  );
  assert.ok(shippedExports.includes('createNewSession'), `the binary loads: ${shippedExports}`);
  assert.deepEqual(
    shippedExports.filter((k) => /^(test|bench)/i.test(k)),
    [],
    'no hook is exported',
  );
  const appPkg = JSON.parse(fs.readFileSync(path.join(app, 'package.json'), 'utf8'));
  assert.match(appPkg.dependencies[PKG.name], /^file:/);
  assert.match(appPkg.dependencies.express, /^\^4\./);

  // 4. The app: login → verify → CSRF-protected POST → refresh → verify, and a reused
  //    refresh token detected, over real HTTP against MySQL.
  fs.writeFileSync(path.join(app, 'app.js'), APP_JS);
  fs.writeFileSync(path.join(app, 'esm.mjs'), ESM_MJS);
  await h.dropTables(PREFIX);
  t.after(() => h.endQueries());
  const config = h.configFor(PREFIX);
  const out = await ok(process.execPath, ['app.js'], {
    cwd: app,
    env: envWithoutRust({ ST_CONFIG: JSON.stringify(config) }),
  });
  const result = JSON.parse(out.trim().split('\n').pop());
  assert.equal(result.resolved, path.join(installed, 'express.js'), 'the installed package is the one used');
  assert.deepEqual(result.addons, [path.join(installed, BINARY)], 'the bundled binary is the addon loaded');
  assert.deepEqual(result.steps, {
    login: 200,
    loginCookies: ['sAccessToken', 'sIdRefreshToken', 'sRefreshToken'],
    antiCsrfHeader: true,
    me: { status: 200, userId: 'pack-user', payload: { via: 'tarball' }, data: { n: 1 } },
    postWithoutCsrf: 440,
    postWithCsrf: 200,
    refresh: 200,
    refreshedCookies: ['sAccessToken', 'sIdRefreshToken', 'sRefreshToken'],
    meAfterRefresh: { status: 200, userId: 'pack-user', payload: { via: 'tarball' }, data: { n: 1 } },
    refreshAgainWithNewToken: 200,
    reuseOldRefreshToken: { status: 401, errType: 4000 },
  });
  const rows = await h.query(`SELECT user_id FROM ${PREFIX}_sessions`);
  assert.deepEqual(rows, [], 'the stolen session was revoked');

  // 5. ES-module imports of the installed package (named exports through its exports map).
  const esm = JSON.parse((await ok(process.execPath, ['esm.mjs'], { cwd: app, env })).trim());
  assert.deepEqual(esm, {
    express: h.EXPRESS_EXPORTS,
    root: h.CORE_EXPORTS,
    namedIsNamespace: true,
    initFails: 1000,
  });

  // 6. TypeScript against the installed package (node_modules resolution, exports map types).
  fs.writeFileSync(path.join(app, 'app.ts'), APP_TS);
  fs.writeFileSync(
    path.join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'es2022',
        lib: ['es2022'],
        module: 'nodenext',
        moduleResolution: 'nodenext',
        types: ['node'],
        typeRoots: [path.join(ROOT, 'node_modules', '@types')],
        skipLibCheck: false,
      },
      files: ['app.ts'],
    }),
  );
  const tsc = await run(
    path.join(ROOT, 'node_modules', '.bin', 'tsc'),
    ['-p', 'tsconfig.json', '--pretty', 'false', '--listFiles'],
    { cwd: app },
  );
  assert.equal(tsc.code, 0, tsc.stdout + tsc.stderr);
  assert.ok(tsc.stdout.includes(path.join(installed, 'express.d.ts')), 'types come from the installed package');
  assert.ok(tsc.stdout.includes(path.join(installed, 'index.d.ts')));

  t.diagnostic(`pack → install → smoke took ${Date.now() - started} ms`);
});

/**
 * The app written into the fresh folder (CommonJS, as the README's require form). Its Express
 * is the app's own express@4; the require is interpolated so that scripts/run-tests.js does not
 * take this file for an Express suite to re-run against Express 5.
 */
const APP_JS = String.raw`'use strict';
const express = require(${JSON.stringify('express')});
const SuperTokens = require('supertokens-node-mysql-ref-jwt/express');

/** A minimal browser: keeps cookies by name, drops cleared ones. */
function jar() {
  const cookies = new Map();
  return {
    cookies,
    header: () => [...cookies].map(([k, v]) => k + '=' + v).join('; '),
    take(res) {
      for (const line of res.headers.getSetCookie()) {
        const [pair, ...attrs] = line.split(';');
        const i = pair.indexOf('=');
        const name = pair.slice(0, i).trim();
        const value = pair.slice(i + 1).trim();
        const expires = attrs.map((a) => a.trim()).find((a) => /^expires=/i.test(a));
        if (value === '' || (expires && Date.parse(expires.slice(8)) <= Date.now())) cookies.delete(name);
        else cookies.set(name, value);
      }
      return [...res.headers.getSetCookie()].map((l) => l.split('=')[0].trim()).sort();
    },
  };
}

async function main() {
  await SuperTokens.init(JSON.parse(process.env.ST_CONFIG));
  const app = express();
  app.post('/login', async (req, res, next) => {
    try {
      await SuperTokens.createNewSession(res, 'pack-user', { via: 'tarball' }, { n: 1 });
      res.send('ok');
    } catch (e) {
      next(e);
    }
  });
  const me = (csrf) => async (req, res) => {
    try {
      const session = await SuperTokens.getSession(req, res, csrf);
      res.json({ userId: session.getUserId(), payload: session.getJWTPayload(), data: await session.getSessionData() });
    } catch (e) {
      if (SuperTokens.Error.isErrorFromAuth(e) && e.errType === SuperTokens.Error.TRY_REFRESH_TOKEN) return res.status(440).send();
      res.status(401).json({ errType: e.errType });
    }
  };
  app.get('/me', me(false));
  app.post('/me', me(true));
  app.post('/refresh', async (req, res) => {
    try {
      await SuperTokens.refreshSession(req, res);
      res.send('ok');
    } catch (e) {
      if (SuperTokens.Error.isErrorFromAuth(e) && e.errType === SuperTokens.Error.UNAUTHORISED_AND_TOKEN_THEFT_DETECTED) {
        await SuperTokens.revokeSessionUsingSessionHandle(e.err.sessionHandle);
      }
      res.status(401).json({ errType: e.errType });
    }
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = 'http://127.0.0.1:' + server.address().port;
  const browser = jar();
  const send = (p, init = {}) =>
    fetch(base + p, { ...init, headers: { cookie: browser.header(), ...(init.headers || {}) } });
  const steps = {};

  const login = await send('/login', { method: 'POST' });
  steps.login = login.status;
  steps.loginCookies = browser.take(login);
  const antiCsrf = login.headers.get('anti-csrf');
  steps.antiCsrfHeader = typeof antiCsrf === 'string' && antiCsrf.length > 0;

  const r1 = await send('/me');
  steps.me = { status: r1.status, ...(await r1.json()) };
  steps.postWithoutCsrf = (await send('/me', { method: 'POST' })).status;
  steps.postWithCsrf = (await send('/me', { method: 'POST', headers: { 'anti-csrf': antiCsrf } })).status;

  const oldRefreshToken = browser.cookies.get('sRefreshToken');
  const refresh = await send('/refresh', { method: 'POST' });
  steps.refresh = refresh.status;
  steps.refreshedCookies = browser.take(refresh);
  const r2 = await send('/me');
  browser.take(r2);
  steps.meAfterRefresh = { status: r2.status, ...(await r2.json()) };
  const again = await send('/refresh', { method: 'POST' });
  steps.refreshAgainWithNewToken = again.status;
  browser.take(again);

  // An attacker replays the refresh token that has been rotated out.
  const replay = await fetch(base + '/refresh', {
    method: 'POST',
    headers: { cookie: 'sRefreshToken=' + oldRefreshToken + '; sIdRefreshToken=' + browser.cookies.get('sIdRefreshToken') },
  });
  steps.reuseOldRefreshToken = { status: replay.status, ...(await replay.json()) };

  server.close();
  await SuperTokens.close();
  const addons = Object.keys(require.cache).filter((k) => k.endsWith('.node'));
  console.log(JSON.stringify({ resolved: require.resolve('supertokens-node-mysql-ref-jwt/express'), addons, steps }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
`;

/** ES-module imports of the installed package. */
const ESM_MJS = String.raw`import { init, createNewSession, getSession, Error as AuthError } from 'supertokens-node-mysql-ref-jwt/express';
import * as SuperTokens from 'supertokens-node-mysql-ref-jwt/express';
import * as Core from 'supertokens-node-mysql-ref-jwt';

const named = (ns) => Object.keys(ns).filter((k) => k !== 'default').sort();
const initFails = await init({}).catch((e) => e.errType);
console.log(JSON.stringify({
  express: named(SuperTokens),
  root: named(Core),
  namedIsNamespace: init === SuperTokens.init && createNewSession === SuperTokens.createNewSession && getSession === SuperTokens.getSession && AuthError === Core.Error,
  initFails,
}));
`;

/** Strict TypeScript against the installed declarations. */
const APP_TS = `import * as SuperTokens from 'supertokens-node-mysql-ref-jwt/express';
import { createNewSession, getSession, type TypeInputConfig } from 'supertokens-node-mysql-ref-jwt';
import * as http from 'node:http';

const config: TypeInputConfig = {
  mysql: { user: 'root', password: '', database: 'test' },
  tokens: { refreshToken: { renewTokenPath: '/refresh' } },
  cookie: { domain: 'localhost', secure: false, sameSite: 'lax' },
};

export async function main(): Promise<void> {
  await SuperTokens.init(config);
  http.createServer(async (req, res) => {
    try {
      const session: SuperTokens.Session = req.url === '/refresh'
        ? await SuperTokens.refreshSession(req, res)
        : await SuperTokens.getSession(req, res, req.method !== 'GET');
      res.end(session.getUserId());
    } catch (e) {
      res.statusCode = SuperTokens.Error.isErrorFromAuth(e) && e.errType === SuperTokens.Error.TRY_REFRESH_TOKEN ? 440 : 401;
      res.end();
    }
  });
  const created = await createNewSession('User1', { name: 'Ada' });
  const verified = await getSession(created.accessToken.value, created.antiCsrfToken ?? null);
  const userId: string = verified.session.userId;
  void userId;
}
`;

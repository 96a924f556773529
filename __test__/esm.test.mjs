/**
 * Both entry points work from an ES module: named imports (Node.js finds the CommonJS
 * named exports with cjs-module-lexer), namespace imports and the default import, by relative
 * path and by package name (self-reference through package.json's `exports`), all sharing one
 * module instance with `require`. Then a session flow through the named imports against MySQL.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

// The named imports the session flow below uses; test 1 imports every export by name.
import {
  init,
  close,
  createNewSession,
  revokeAllSessionsForUser,
  revokeSessionUsingSessionHandle,
  getAllSessionHandlesForUser,
  updateSessionData,
  Error as AuthError,
} from '../express.js';
import * as SuperTokens from '../express.js';
import SuperTokensDefault from '../express.js';
import * as Core from '../index.js';
import {
  init as coreInit,
  createNewSession as coreCreate,
  getSession as coreGet,
  refreshSession as coreRefresh,
  getSessionData as coreGetData,
  Error as CoreError,
} from '../index.js';

const require = createRequire(import.meta.url);
const h = require('./helpers.js');
const PREFIX = 'esm';

const { EXPRESS_EXPORTS, CORE_EXPORTS } = h;

/**
 * Imports `names` from `file` (relative to this file) with a static named import, in an ES
 * module of its own made for them; resolves to {name: the imported binding}.
 */
async function importByName(file, names) {
  const list = names.join(', ');
  const source = `import { ${list} } from ${JSON.stringify(new URL(file, import.meta.url).href)}; export default { ${list} };`;
  return (await import(`data:text/javascript,${encodeURIComponent(source)}`)).default;
}

/** The named exports of an ES namespace (without `default`, which is module.exports). */
function named(ns) {
  return Object.keys(ns)
    .filter((k) => k !== 'default')
    .sort();
}

test('express.js: named, namespace and default imports expose every function', async () => {
  assert.deepEqual(named(SuperTokens), EXPRESS_EXPORTS);
  const cjs = require('../express.js');
  assert.equal(SuperTokensDefault, cjs, 'the default import is module.exports');
  assert.deepEqual(Object.keys(cjs).sort(), EXPRESS_EXPORTS, 'cjs-module-lexer found every export');
  for (const name of EXPRESS_EXPORTS) {
    assert.equal(SuperTokens[name], cjs[name], `${name} is the same object as require() gives`);
  }
  const byName = await importByName('../express.js', EXPRESS_EXPORTS);
  for (const name of EXPRESS_EXPORTS.filter((n) => n !== 'Error')) {
    assert.equal(typeof byName[name], 'function', `named import ${name}`);
    assert.equal(byName[name], cjs[name]);
  }
  assert.equal(byName.Error, cjs.Error);
  assert.equal(AuthError, cjs.Error);
  assert.equal(createNewSession, cjs.createNewSession, 'a named import at the top of this file too');
  assert.equal(AuthError.GENERAL_ERROR, 1000);
  assert.equal(AuthError.UNAUTHORISED, 2000);
  assert.equal(AuthError.TRY_REFRESH_TOKEN, 3000);
  assert.equal(AuthError.UNAUTHORISED_AND_TOKEN_THEFT_DETECTED, 4000);
  assert.equal(typeof AuthError.isErrorFromAuth, 'function');
});

test('index.js: named and namespace imports expose every function', () => {
  assert.deepEqual(named(Core), CORE_EXPORTS);
  const cjs = require('../index.js');
  assert.equal(Core.default, cjs);
  for (const name of CORE_EXPORTS) assert.equal(Core[name], cjs[name], name);
  assert.equal(coreInit, init, 'both entry points share init (one module state)');
  assert.equal(CoreError, AuthError);
});

test('by package name: the exports map resolves both entry points for import and require', async () => {
  const viaName = await import('supertokens-node-mysql-ref-jwt/express');
  const rootViaName = await import('supertokens-node-mysql-ref-jwt');
  assert.equal(viaName.createNewSession, createNewSession, 'same module instance as ../express.js');
  assert.equal(rootViaName.getSession, Core.getSession);
  assert.deepEqual(named(viaName), EXPRESS_EXPORTS);
  assert.deepEqual(named(rootViaName), CORE_EXPORTS);
  assert.equal(require('supertokens-node-mysql-ref-jwt/express'), SuperTokensDefault);
  await assert.rejects(import('supertokens-node-mysql-ref-jwt/lib/core.js'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
});

test('the named imports work: login → verify → refresh → data against MySQL', async (t) => {
  await h.dropTables(PREFIX);
  await init(h.configFor(PREFIX));
  t.after(async () => {
    await close();
    await h.endQueries();
  });

  const created = await coreCreate('esm-user', { via: 'esm' }, { n: 1 });
  const verified = await coreGet(created.accessToken.value, created.antiCsrfToken);
  assert.equal(verified.session.userId, 'esm-user');
  assert.deepEqual(verified.session.jwtPayload, { via: 'esm' });

  const refreshed = await coreRefresh(created.refreshToken.value);
  assert.equal(refreshed.session.handle, created.session.handle);
  const again = await Core.getSession(refreshed.newAccessToken.value, null);
  assert.equal(again.session.userId, 'esm-user');

  assert.deepEqual(await getAllSessionHandlesForUser('esm-user'), [created.session.handle]);
  await updateSessionData(created.session.handle, { n: 2 });
  assert.deepEqual(await coreGetData(created.session.handle), { n: 2 });

  // Errors thrown through the ESM imports are the documented objects.
  const err = await coreGet('not a token', null).catch((e) => e);
  assert.ok(AuthError.isErrorFromAuth(err));
  assert.equal(err.errType, AuthError.TRY_REFRESH_TOKEN);

  assert.equal(await revokeSessionUsingSessionHandle(created.session.handle), true);
  await revokeAllSessionsForUser('esm-user');
  assert.deepEqual(await getAllSessionHandlesForUser('esm-user'), []);
});

'use strict';
/**
 * The raw-MySQL ceiling through mysql_async, using the addon's own pool (so it must run in a
 * process where our library's `init` resolved with the raw tables, which worker.js does).
 *
 * Uses the addon's bench hooks (src/test_hooks.rs, in the test build only), which run the
 * package's own prepared INSERT and point SELECT without any protocol work:
 *   benchRawInsert(sessionHandle, userId, refreshTokenHash2, sessionInfo, expiresAt, jwtPayload): Promise<number>
 *   benchRawSelect(sessionHandle): Promise<string | null>
 */

const path = require('node:path');

const label = 'mysql_async, native';

/** Opens the driver (the addon's pool is the one our library's `init` opened). */
async function open() {
  // The test build (worker.js sets SUPERTOKENS_TEST_BUILD for the raw worker).
  const native = require(path.join(__dirname, '..', 'lib', 'native.js'));
  if (typeof native.benchRawInsert !== 'function' || typeof native.benchRawSelect !== 'function') {
    throw new Error('the addon does not export benchRawInsert/benchRawSelect; use raw-node-mysql.js');
  }
  return {
    label,
    insert: (r) =>
      native.benchRawInsert(r.sessionHandle, r.userId, r.refreshTokenHash2, r.sessionInfo, r.expiresAt, r.jwtPayload),
    select: (sessionHandle) => native.benchRawSelect(sessionHandle),
    close: async () => {},
  };
}

module.exports = { open, label };

'use strict';
/**
 * The addon the runtime modules use. Normally the release build (the generated ../native.js
 * loader). The test suites and the bench set SUPERTOKENS_TEST_BUILD=1 to load the separate
 * build with test and bench hooks (`npm run build:test`, test-build/), which is never packed:
 * an installed package has only the release binary, which contains no hooks at all.
 */

const fs = require('node:fs');
const path = require('node:path');

/** @returns {object} the test build's exports; throws naming the command when it is missing. */
function loadTestBuild() {
  const dir = path.join(__dirname, '..', 'test-build');
  const binary = fs.existsSync(dir) ? fs.readdirSync(dir).find((f) => f.endsWith('.node')) : undefined;
  if (!binary) {
    throw new Error(`SUPERTOKENS_TEST_BUILD=1 but ${dir} has no addon: run \`npm run build:test\` first`);
  }
  return require(path.join(dir, binary));
}

module.exports = process.env.SUPERTOKENS_TEST_BUILD === '1' ? loadTestBuild() : require('../native.js');

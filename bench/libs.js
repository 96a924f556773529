'use strict';
/**
 * The two libraries under test behind one shape, and the one config both get.
 *
 * Same settings for both: anti-CSRF on, dynamic signing keys (rotating every 24 h), access
 * tokens valid 3600 s, refresh tokens 2400 h, a pool of 50 connections, and tables of their own
 * in the same database (`bench_<lib>_keys`, `bench_<lib>_sessions`).
 */

const path = require('node:path');
const { settingsFromEnv } = require('../scripts/mysql.js');

const ROOT = path.join(__dirname, '..');
const LIBS = ['ours', 'original'];

/**
 * A library's two table names. `mode` (optional) gives a run mode tables of its own
 * (`--cluster` uses `single` and `galera`), so it never touches the plain bench's tables.
 */
function tablesFor(lib, mode) {
  const base = mode ? `bench_${lib}_${mode}` : `bench_${lib}`;
  return { signingKey: `${base}_keys`, refreshTokens: `${base}_sessions` };
}

/**
 * The config object, identical for both libraries except the table names. The server comes
 * from the MYSQL_* variables of this process (cluster workers get their own node's).
 */
function configFor(lib, { blacklisting, revocationPollMs, tables = tablesFor(lib) }) {
  return {
    mysql: { ...settingsFromEnv(), connectionLimit: 50, tables }, // host, port, user, password, database
    tokens: {
      accessToken: {
        signingKey: { dynamic: true, updateInterval: 24 },
        validity: 3600, // seconds, for both
        blacklisting,
        ...(revocationPollMs === undefined ? {} : { revocationPollMs }),
      },
      refreshToken: { validity: 2400, renewTokenPath: '/refresh' }, // hours, for both
      enableAntiCsrf: true,
    },
    cookie: { domain: 'localhost', secure: false },
  };
}

/** Where each library's two entry points are, and what it calls the session-data functions. */
const MODULES = {
  ours: {
    api: path.join(ROOT, 'index.js'),
    express: path.join(ROOT, 'express.js'),
    getSessionData: 'getSessionData',
    updateSessionData: 'updateSessionData',
  },
  original: {
    api: 'supertokens-original',
    express: 'supertokens-original/express',
    getSessionData: 'getSessionInfo',
    updateSessionData: 'updateSessionInfo',
  },
};

/**
 * Loads one library. Returns its framework-free functions under common names and its
 * Express module.
 */
function load(lib) {
  const m = MODULES[lib];
  if (m === undefined) throw new Error(`unknown library ${lib}`);
  const api = require(m.api);
  return {
    name: lib,
    init: api.init,
    createNewSession: api.createNewSession,
    getSession: api.getSession,
    refreshSession: api.refreshSession,
    getSessionData: api[m.getSessionData],
    updateSessionData: api[m.updateSessionData],
    /** Ours only: the merge patch (the original has no equivalent). */
    mergeSessionData: api.mergeSessionData,
    revokeSession: api.revokeSessionUsingSessionHandle,
    isUnauthorised: (e) => api.Error.isErrorFromAuth(e) && e.errType === api.Error.UNAUTHORISED,
    express: () => require(m.express),
  };
}

module.exports = { LIBS, configFor, tablesFor, load, ROOT };

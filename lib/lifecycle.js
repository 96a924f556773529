'use strict';
/**
 * The package's state in this process: `init` and `close`, the validated settings, the app's
 * logger and its signing-key function.
 */

const native = require('./native.js');
const { authError, generalError, callNative, setGeneralErrorListener } = require('./errors.js');
const { configValueForJson, snapshot, configDifference, at } = require('./config-json.js');
const { requireString, typeName } = require('./args.js');

/** Settings returned by the native init (cookie attributes etc.); null before init. */
let settings = null;
let appKeyGetter = null;
let loggers = { info: undefined, error: undefined };

/** Calls the app's logger; a logger that throws or rejects never breaks a request. */
function log(level, message) {
  const fn = loggers[level];
  if (typeof fn !== 'function') return;
  try {
    const result = fn(message);
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
      result.then(undefined, ignoreLoggerFailure);
    }
  } catch {
    ignoreLoggerFailure();
  }
}

function ignoreLoggerFailure() {
  // the app's logger failed; there is nowhere better to report that
}

setGeneralErrorListener((e) => log('error', e));

/**
 * A log line of the native core: info lines as text; error lines (background failures such
 * as the removal job's) as a GENERAL_ERROR, which reaches `logging.error` like any other.
 */
function fromNativeLog(line) {
  if (line.level === 'error') generalError(line.message);
  else log('info', line.message);
}

/**
 * Validated settings; GENERAL_ERROR before init resolved.
 * @returns {object}
 */
function getSettings() {
  if (settings === null) throw generalError(native.NOT_INITIALISED);
  return settings;
}

/**
 * A token argument the app passes through from a request: missing (`undefined`/`null`) is
 * answered as the original did (`kind`, after the init check); another non-string is a bug
 * in the app (GENERAL_ERROR).
 */
function requireToken(name, value, kind, missingMessage) {
  if (value === undefined || value === null) {
    getSettings();
    throw authError(kind, missingMessage);
  }
  requireString(name, value);
}

/** True when the app supplies the signing key (`tokens.accessToken.signingKey.get`). */
function hasAppKey() {
  return appKeyGetter !== null;
}

/**
 * The app-supplied signing key for this call, or undefined when keys are stored. The addon
 * checks the key itself (an empty one is a GENERAL_ERROR there).
 * @returns {Promise<string | undefined>}
 */
async function appKey() {
  if (appKeyGetter === null) return undefined;
  let key;
  try {
    key = await appKeyGetter();
  } catch (e) {
    throw generalError(`tokens.accessToken.signingKey.get rejected: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof key !== 'string') {
    throw generalError(`tokens.accessToken.signingKey.get must resolve to a string, got ${typeName(key)}`);
  }
  return key;
}

/** The init that succeeded or is in progress: `{config: snapshot, done: Promise<void>}`. */
let current = null;

/**
 * Initialises the package: validates the config, creates tables and keys, starts the
 * expired-session removal job. Call once per process, before anything else. Called again
 * with the same config (deep-equal, the same functions) it resolves when the first call
 * does; with another config it rejects with GENERAL_ERROR (call `close()` first).
 * @param {object} config see SPEC §2 / README
 * @returns {Promise<void>}
 */
async function init(config) {
  if (config === null || typeof config !== 'object') {
    throw generalError('config: init expects a config object');
  }
  let json;
  try {
    json = JSON.stringify(config, configValueForJson);
  } catch (e) {
    throw generalError(`config: could not be read (${e.message})`);
  }
  if (current !== null) {
    const where = configDifference(current.config, config);
    if (where === null) return current.done;
    throw generalError(
      `init has already been called with another config (it differs at ${where}); call close() before calling init with a new config`,
    );
  }
  const entry = { config: snapshot(config), done: undefined };
  current = entry;
  entry.done = start(config, json).catch((e) => {
    if (current === entry) current = null;
    throw e;
  });
  return entry.done;
}

async function start(config, json) {
  // Set before the native init so its key-creation messages reach the app's logger; put
  // back if this init fails.
  const previousLoggers = loggers;
  loggers = { info: at(config, 'logging', 'info'), error: at(config, 'logging', 'error') };
  let result;
  try {
    result = await callNative(() => native.init(json, fromNativeLog));
  } catch (e) {
    loggers = previousLoggers;
    throw e;
  }
  const get = at(config, 'tokens', 'accessToken', 'signingKey', 'get');
  appKeyGetter = result.appKey ? get : null;
  settings = result;
}

/**
 * Stops the removal job and closes the connection pool so the process can exit.
 * `init` may be called again afterwards.
 * @returns {Promise<void>}
 */
async function close() {
  settings = null;
  current = null;
  await callNative(() => native.close());
}

module.exports = { init, close, getSettings, requireToken, hasAppKey, appKey };

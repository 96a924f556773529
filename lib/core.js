'use strict';
/**
 * The framework-free API (SPEC §4) over the native addon: argument checks, JSON text in and
 * out, the app's key function and logger, and error conversion. No protocol logic here.
 */

const native = require('./native.js');
const {
  authError,
  generalError,
  fromNativeFailure,
  fromNativeThrow,
  isNativeFailure,
  setGeneralErrorListener,
  TRY_REFRESH_TOKEN,
  UNAUTHORISED,
} = require('./errors.js');
const { decodeFastSession } = require('./fast-session.js');

// Must equal config::FUNCTION_MARK in Rust: how a function is marked in the config JSON.
const FUNCTION_MARK = '\u0000function';

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

/** Validated settings; GENERAL_ERROR before init resolved. */
function getSettings() {
  if (settings === null) {
    throw generalError('init(config) must be called and have resolved before any other function');
  }
  return settings;
}

function at(obj, ...path) {
  let cur = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[k];
  }
  return cur;
}

/**
 * JSON text for a value (`undefined` for undefined); GENERAL_ERROR for non-JSON values.
 * @param {string} name argument name for the message
 */
function toJson(name, value) {
  if (value === undefined) return undefined;
  let text;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw generalError(`${name} is not JSON-serialisable: ${e.message}`);
  }
  if (text === undefined) throw generalError(`${name} is not JSON-serialisable (got a ${typeof value})`);
  return text;
}

function fromJson(text) {
  return text === undefined || text === null ? undefined : JSON.parse(text);
}

function typeName(value) {
  return value === null ? 'null' : typeof value;
}

function requireString(name, value) {
  if (typeof value !== 'string') {
    throw generalError(`${name} must be a string, got ${typeName(value)}`);
  }
}

/**
 * A user id: a string, but not the JSON of an object whose only key is `i` — the original
 * library stored a number user id `n` as `{"i":n}`, so such a string would read back as the
 * number (the original rejected it too).
 */
function requireUserId(userId) {
  requireString('userId', userId);
  if (userId.trimStart().startsWith('{')) {
    let parsed;
    try {
      parsed = JSON.parse(userId);
    } catch {
      return;
    }
    const keys = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.keys(parsed) : [];
    if (keys.length === 1 && keys[0] === 'i') {
      throw generalError('userId cannot be the JSON of an object whose only key is "i" (the original\'s form of a number user id)');
    }
  }
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

/** The app-supplied signing key for this call, or undefined when keys are stored. */
async function appKey() {
  if (appKeyGetter === null) return undefined;
  let key;
  try {
    key = await appKeyGetter();
  } catch (e) {
    throw generalError(`tokens.accessToken.signingKey.get rejected: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof key !== 'string' || key.length === 0) {
    throw generalError('tokens.accessToken.signingKey.get must resolve to a non-empty string');
  }
  return key;
}

/** Runs a native call: its result, or its failure (or throw) as the documented error. */
async function call(fn) {
  let r;
  try {
    r = await fn();
  } catch (e) {
    throw fromNativeThrow(e);
  }
  if (isNativeFailure(r)) throw fromNativeFailure(r);
  return r;
}

/**
 * How config values cross to Rust as JSON: functions become the mark (a string equal to the
 * mark is altered so it cannot pose as a function), and NaN/Infinity become strings so they
 * are rejected as non-numbers instead of turning into null (= "use the default").
 */
function configValueForJson(_key, v) {
  if (typeof v === 'function') return FUNCTION_MARK;
  if (v === FUNCTION_MARK) return `${v}\u0000`;
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}

/**
 * A copy of a config for comparing it with a later one: plain data copied deeply, functions
 * kept by identity, keys whose value is undefined left out (JSON drops them too).
 */
function snapshot(value) {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(snapshot);
  const out = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = snapshot(v);
  return out;
}

/**
 * Where config `b` differs from the snapshot `a` (a path such as `mysql.port`, or `config`
 * for the whole), or null when they are the same: deep equality of the data (key order
 * ignored), functions compared by identity.
 */
function configDifference(a, b, path = 'config') {
  if (Object.is(a, b)) return null;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return path;
  if (Array.isArray(a) !== Array.isArray(b)) return path;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (a[k] === undefined && b[k] === undefined) continue;
    const d = configDifference(a[k], b[k], path === 'config' ? k : `${path}.${k}`);
    if (d !== null) return d;
  }
  return null;
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
    result = await call(() => native.init(json, fromNativeLog));
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
  await call(() => native.close());
}

function tokensResult(t) {
  return {
    accessToken: { value: t.accessToken, expires: t.accessTokenExpires },
    refreshToken: { value: t.refreshToken, expires: t.refreshTokenExpires },
    idRefreshToken: { value: t.idRefreshToken, expires: t.refreshTokenExpires },
    antiCsrfToken: t.antiCsrfToken ?? undefined,
  };
}

/**
 * The optional `{ip, userAgent}` of a login or refresh, checked: undefined, or an object whose
 * two fields are strings when given.
 */
function clientInfo(client) {
  if (client === undefined) return undefined;
  if (client === null || typeof client !== 'object' || Array.isArray(client)) {
    throw generalError(`client must be an object {ip?, userAgent?}, got ${client === null ? 'null' : typeof client}`);
  }
  const { ip, userAgent } = client;
  if (ip !== undefined) requireString('client.ip', ip);
  if (userAgent !== undefined) requireString('client.userAgent', userAgent);
  return { ip, userAgent };
}

async function createSession(userId, jwtPayload, sessionData, forCookie, client) {
  requireUserId(userId);
  const payloadJson = toJson('jwtPayload', jwtPayload);
  const dataJson = toJson('sessionData', sessionData);
  const info = clientInfo(client);
  const key = await appKey();
  const t = await call(() => native.createNewSession(userId, payloadJson, dataJson, forCookie, key, info));
  return { session: { handle: t.handle, userId, jwtPayload }, ...tokensResult(t) };
}

/**
 * Creates a session: one row in MySQL and new access, refresh, id-refresh and anti-CSRF tokens.
 * @param {string} userId
 * @param {any} [jwtPayload] any JSON value, readable by anyone holding the access token
 * @param {any} [sessionData] any JSON value, kept server-side
 * @param {{ip?: string, userAgent?: string}} [client] where the login came from (stored
 *   with the session, listed by getAllSessionsForUser)
 */
function createNewSession(userId, jwtPayload, sessionData, client) {
  return createSession(userId, jwtPayload, sessionData, false, client);
}

/**
 * `createNewSession` for the Express adapter: also rejects an access token too big for a
 * browser cookie (4096 bytes) before anything is written.
 */
function createNewSessionForCookie(userId, jwtPayload, sessionData, client) {
  return createSession(userId, jwtPayload, sessionData, true, client);
}

function verifiedResult(v) {
  return {
    session: { handle: v.handle, userId: v.userId, jwtPayload: fromJson(v.jwtPayload) },
    newAccessToken:
      v.newAccessToken == null ? undefined : { value: v.newAccessToken, expires: v.newAccessTokenExpires },
  };
}

/** The native no-database verification: the result, or null when the database is needed. */
function verifyWithoutDb(accessToken, antiCsrfToken, key) {
  let fast;
  try {
    fast = native.getSessionWithoutDb(accessToken, antiCsrfToken, key);
  } catch (e) {
    throw fromNativeThrow(e);
  }
  if (typeof fast === 'string') return { session: decodeFastSession(fast), newAccessToken: undefined };
  if (fast === null) return null;
  throw fromNativeFailure(fast);
}

/** Verification through the database (blacklisting, a child token to promote, a new key). */
async function verifyWithDb(accessToken, antiCsrfToken, key) {
  return verifiedResult(await call(() => native.getSession(accessToken, antiCsrfToken, key)));
}

async function verifyWithAppKey(accessToken, antiCsrfToken) {
  const key = await appKey();
  return verifyWithoutDb(accessToken, antiCsrfToken, key) ?? verifyWithDb(accessToken, antiCsrfToken, key);
}

/**
 * An anti-CSRF argument that is neither a string nor null is an app bug (GENERAL_ERROR), but
 * as in the original the token is verified first: an invalid one is TRY_REFRESH_TOKEN, the
 * answer the app must act on. Nothing is written: a child token is not promoted. A token
 * this process cannot verify without the database (a child token, blacklisting, a key not
 * loaded yet) is taken as verified.
 */
function rejectAntiCsrfArgument(accessToken, antiCsrfToken) {
  const reject = (key) => {
    verifyWithoutDb(accessToken, null, key);
    throw generalError(
      antiCsrfToken === undefined
        ? 'antiCsrfToken is undefined: pass null to skip the anti-CSRF check'
        : `antiCsrfToken must be a string or null, got ${typeName(antiCsrfToken)}`,
    );
  };
  if (appKeyGetter === null) return reject(undefined);
  return appKey().then(reject);
}

/**
 * getSession's work: the result itself when neither the database nor the app's key function
 * is needed (the Express adapter then skips a promise on every request), else a promise of
 * it. Argument and verification errors are thrown at once.
 * @param {string} accessToken
 * @param {string | null} antiCsrfToken
 */
function verifySession(accessToken, antiCsrfToken) {
  requireToken('accessToken', accessToken, TRY_REFRESH_TOKEN, 'no access token: call the refresh API');
  if (antiCsrfToken !== null && typeof antiCsrfToken !== 'string') return rejectAntiCsrfArgument(accessToken, antiCsrfToken);
  if (appKeyGetter !== null) return verifyWithAppKey(accessToken, antiCsrfToken);
  return verifyWithoutDb(accessToken, antiCsrfToken, undefined) ?? verifyWithDb(accessToken, antiCsrfToken, undefined);
}

/**
 * Verifies an access token; normally without any database call.
 * @param {string} accessToken
 * @param {string | null} antiCsrfToken the request's anti-csrf header; null skips the check
 */
async function getSession(accessToken, antiCsrfToken) {
  return verifySession(accessToken, antiCsrfToken);
}

/**
 * Rotates the refresh token (with theft detection) and issues new tokens.
 * @param {string} refreshToken
 */
async function refreshSession(refreshToken, client) {
  requireToken('refreshToken', refreshToken, UNAUTHORISED, 'no refresh token: the session does not exist');
  const info = clientInfo(client);
  const key = await appKey();
  const t = await call(() => native.refreshSession(refreshToken, key, info));
  const r = tokensResult(t);
  return {
    session: { handle: t.handle, userId: t.userId, jwtPayload: fromJson(t.jwtPayload) },
    newAccessToken: r.accessToken,
    newRefreshToken: r.refreshToken,
    newIdRefreshToken: r.idRefreshToken,
    newAntiCsrfToken: r.antiCsrfToken,
  };
}

/**
 * Removes every session of a user (one statement).
 * @param {string} userId
 * @returns {Promise<void>}
 */
async function revokeAllSessionsForUser(userId) {
  requireUserId(userId);
  await call(() => native.revokeAllSessionsForUser(userId));
}

/**
 * Removes one session.
 * @param {string} sessionHandle
 * @returns {Promise<boolean>} true iff a session was removed
 */
async function revokeSessionUsingSessionHandle(sessionHandle) {
  requireString('sessionHandle', sessionHandle);
  return call(() => native.revokeSession(sessionHandle));
}

/**
 * @param {string} userId
 * @returns {Promise<string[]>} the handles of the user's sessions
 */
async function getAllSessionHandlesForUser(userId) {
  requireUserId(userId);
  return call(() => native.getAllSessionHandlesForUser(userId));
}

/**
 * The user's live sessions, newest first: when each was created and last refreshed, when it
 * expires (ms since the epoch) and the IP and user agent of its login or last refresh (null
 * where unknown, e.g. sessions created before this package recorded them).
 * @param {string} userId
 * @returns {Promise<Array<{sessionHandle: string, createdAt: number | null, lastRefreshedAt: number | null, expiresAt: number, ip: string | null, userAgent: string | null}>>}
 */
async function getAllSessionsForUser(userId) {
  requireString('userId', userId);
  const sessions = await call(() => native.getAllSessionsForUser(userId));
  return sessions.map((s) => ({
    sessionHandle: s.sessionHandle,
    createdAt: s.createdAt ?? null,
    lastRefreshedAt: s.lastRefreshedAt ?? null,
    expiresAt: s.expiresAt,
    ip: s.ip ?? null,
    userAgent: s.userAgent ?? null,
  }));
}

/**
 * Removes every session of `userId` but `keepHandle` (the Express Session's
 * revokeOtherSessions); resolves to how many were removed.
 * @param {string} userId
 * @param {string} keepHandle
 * @returns {Promise<number>}
 */
async function revokeOtherSessions(userId, keepHandle) {
  requireString('userId', userId);
  requireString('sessionHandle', keepHandle);
  return call(() => native.revokeOtherSessions(userId, keepHandle));
}

/**
 * Reads the server-side session data; UNAUTHORISED when the session is gone.
 * @param {string} sessionHandle
 */
async function getSessionData(sessionHandle) {
  requireString('sessionHandle', sessionHandle);
  return fromJson(await call(() => native.getSessionData(sessionHandle)));
}

/**
 * Replaces the server-side session data; UNAUTHORISED when the session is gone.
 * @param {string} sessionHandle
 * @param {any} newSessionData any JSON value
 * @returns {Promise<void>}
 */
async function updateSessionData(sessionHandle, newSessionData) {
  requireString('sessionHandle', sessionHandle);
  const json = toJson('newSessionData', newSessionData);
  await call(() => native.updateSessionData(sessionHandle, json));
}

/**
 * Merges `patch` into the server-side session data (RFC 7386 JSON merge patch: keys set to
 * `null` are removed, objects merge recursively, anything else replaces), in one statement on
 * the server, so concurrent merges never lose each other. UNAUTHORISED when the session is gone.
 * @param {string} sessionHandle
 * @param {object} patch a plain object
 * @returns {Promise<void>}
 */
async function mergeSessionData(sessionHandle, patch) {
  requireString('sessionHandle', sessionHandle);
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    const got = patch === null ? 'null' : Array.isArray(patch) ? 'an array' : `a ${typeof patch}`;
    throw generalError(`patch must be a plain object (a JSON merge patch), got ${got}; use updateSessionData to replace the data`);
  }
  const json = toJson('patch', patch);
  await call(() => native.mergeSessionData(sessionHandle, json));
}

/**
 * The package's counters (sessions created, verified, refreshed, theft detected, revoked,
 * database errors and retries) and database-latency histogram, as Prometheus text exposition
 * (format 0.0.4), for a `/metrics` route. Process-wide, from process start; no token, key or
 * user id appears in it. Works before `init` too.
 * @returns {Promise<string>}
 */
async function metrics() {
  return native.metrics();
}

module.exports = {
  init,
  close,
  createNewSession,
  createNewSessionForCookie,
  getSession,
  verifySession,
  refreshSession,
  revokeAllSessionsForUser,
  revokeSessionUsingSessionHandle,
  getAllSessionHandlesForUser,
  getAllSessionsForUser,
  revokeOtherSessions,
  getSessionData,
  updateSessionData,
  mergeSessionData,
  metrics,
  getSettings,
};

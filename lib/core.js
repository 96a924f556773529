'use strict';
/**
 * The framework-free API (SPEC §4) over the native addon: argument checks, JSON text in and
 * out, and the documented result shapes. No protocol logic here; `init`/`close` and the
 * settings are in lifecycle.js, getSession's strategy in verify.js.
 */

const native = require('./native.js');
const { callNative: call, generalError, UNAUTHORISED } = require('./errors.js');
const { requireString, requireUserId, toJson, fromJson, clientInfo } = require('./args.js');
const { init, close, getSettings, requireToken, appKey } = require('./lifecycle.js');
const { verifySession } = require('./verify.js');

/** The tokens of a native answer in the documented shape. */
function tokensResult(t) {
  return {
    accessToken: { value: t.accessToken, expires: t.accessTokenExpires },
    refreshToken: { value: t.refreshToken, expires: t.refreshTokenExpires },
    idRefreshToken: { value: t.idRefreshToken, expires: t.refreshTokenExpires },
    antiCsrfToken: t.antiCsrfToken ?? undefined,
  };
}

/**
 * `createNewSession` with a bound on the access token's length (the Express adapter's cookie
 * budget), checked before anything is written.
 * @param {string} userId
 * @param {any} jwtPayload
 * @param {any} sessionData
 * @param {{ip?: string, userAgent?: string} | undefined} client
 * @param {number | undefined} maxAccessTokenBytes
 */
async function createSession(userId, jwtPayload, sessionData, client, maxAccessTokenBytes) {
  requireUserId(userId);
  const payloadJson = toJson('jwtPayload', jwtPayload);
  const dataJson = toJson('sessionData', sessionData);
  const info = clientInfo(client);
  const key = await appKey();
  const t = await call(() => native.createNewSession(userId, payloadJson, dataJson, maxAccessTokenBytes, key, info));
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
  return createSession(userId, jwtPayload, sessionData, client, undefined);
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
 * A refresh, in the shape `createSession` answers (the Express adapter writes it as it is).
 * @param {string} refreshToken
 * @param {{ip?: string, userAgent?: string}} [client]
 */
async function refreshTokens(refreshToken, client) {
  requireToken('refreshToken', refreshToken, UNAUTHORISED, 'no refresh token: the session does not exist');
  const info = clientInfo(client);
  const key = await appKey();
  const r = await call(() => native.refreshSession(refreshToken, key, info));
  return {
    session: { handle: r.tokens.handle, userId: r.userId, jwtPayload: fromJson(r.jwtPayload) },
    ...tokensResult(r.tokens),
  };
}

/**
 * Rotates the refresh token (with theft detection) and issues new tokens.
 * @param {string} refreshToken
 * @param {{ip?: string, userAgent?: string}} [client] where the refresh came from
 */
async function refreshSession(refreshToken, client) {
  const r = await refreshTokens(refreshToken, client);
  return {
    session: r.session,
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
    throw generalError(
      `patch must be a plain object (a JSON merge patch), got ${got}; use updateSessionData to replace the data`,
    );
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
  createSession,
  getSession,
  verifySession,
  refreshSession,
  refreshTokens,
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

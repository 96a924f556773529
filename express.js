'use strict';
/**
 * supertokens-node-mysql-ref-jwt/express — the Express API (SPEC §3): the framework-free
 * core plus cookies and headers on `req`/`res`, and the `Session` class.
 */

const core = require('./lib/core.js');
const cookies = require('./lib/cookies.js');
const {
  AuthError,
  authError,
  generalError,
  isErrorFromAuth,
  UNAUTHORISED,
  TRY_REFRESH_TOKEN,
  UNAUTHORISED_AND_TOKEN_THEFT_DETECTED,
} = require('./lib/errors.js');

function requireResponse(res) {
  if (!cookies.isResponse(res)) {
    throw generalError('res must be an Express or Node.js response object');
  }
}

function requireRequest(req) {
  if (req === null || typeof req !== 'object' || req.headers === null || typeof req.headers !== 'object') {
    throw generalError('req must be an Express or Node.js request object');
  }
}

/** Clears the auth cookies when `e` is a package error of one of the `clearOn` types. */
function clearCookiesOn(clearOn, e, res) {
  if (isErrorFromAuth(e) && clearOn.includes(e.errType)) {
    cookies.clearTokens(res, core.getSettings());
  }
}

/** Runs `fn`; on an error of one of `clearOn`'s types, clears the auth cookies first. */
async function clearingCookiesOn(clearOn, res, fn) {
  try {
    return await fn();
  } catch (e) {
    clearCookiesOn(clearOn, e, res);
    throw e;
  }
}

/** A verified session, bound to the response it was verified for. */
class Session {
  #handle;
  #userId;
  #jwtPayload;
  #res;

  /**
   * @param {string} handle
   * @param {string} userId
   * @param {any} jwtPayload
   * @param {import('http').ServerResponse} res
   */
  constructor(handle, userId, jwtPayload, res) {
    this.#handle = handle;
    this.#userId = userId;
    this.#jwtPayload = jwtPayload;
    this.#res = res;
  }

  /** @returns {string} */
  getUserId() {
    return this.#userId;
  }

  /** @returns {any} the JWT payload given to createNewSession */
  getJWTPayload() {
    return this.#jwtPayload;
  }

  /** @returns {string} the session handle */
  getHandle() {
    return this.#handle;
  }

  /** @returns {string} the user id, as `getUserId()` (read-only; the original's field) */
  get userId() {
    return this.#userId;
  }

  /** @returns {string} the session handle, as `getHandle()` (read-only; the original's field) */
  get sessionHandle() {
    return this.#handle;
  }

  /** @returns {any} the JWT payload, as `getJWTPayload()` (read-only; the original's field) */
  get jwtUserPayload() {
    return this.#jwtPayload;
  }

  /**
   * Logs out: removes the session from MySQL and clears the auth cookies.
   * @returns {Promise<void>}
   */
  async revokeSession() {
    await core.revokeSessionUsingSessionHandle(this.#handle);
    cookies.clearTokens(this.#res, core.getSettings());
  }

  /**
   * Reads the session data from MySQL; UNAUTHORISED (cookies cleared) when the session is gone.
   * @returns {Promise<any>}
   */
  getSessionData() {
    return clearingCookiesOn([UNAUTHORISED], this.#res, () => core.getSessionData(this.#handle));
  }

  /**
   * Replaces the session data; UNAUTHORISED (cookies cleared) when the session is gone.
   * @param {any} newSessionData
   * @returns {Promise<void>}
   */
  updateSessionData(newSessionData) {
    return clearingCookiesOn([UNAUTHORISED], this.#res, () => core.updateSessionData(this.#handle, newSessionData));
  }

  /**
   * Merges a JSON merge patch into the session data on the server (concurrent merges all
   * survive); UNAUTHORISED (cookies cleared) when the session is gone.
   * @param {object} patch
   * @returns {Promise<void>}
   */
  mergeSessionData(patch) {
    return clearingCookiesOn([UNAUTHORISED], this.#res, () => core.mergeSessionData(this.#handle, patch));
  }

  /**
   * Logs the user out everywhere else: removes the user's other sessions, keeps this one.
   * @returns {Promise<number>} how many sessions were removed
   */
  revokeOtherSessions() {
    return core.revokeOtherSessions(this.#userId, this.#handle);
  }

  /**
   * @deprecated the original 5.x name of `getSessionData`.
   * @returns {Promise<any>}
   */
  getSessionInfo() {
    return this.getSessionData();
  }

  /**
   * @deprecated the original 5.x name of `updateSessionData`.
   * @param {any} newSessionData
   * @returns {Promise<void>}
   */
  updateSessionInfo(newSessionData) {
    return this.updateSessionData(newSessionData);
  }
}

/**
 * Where a request came from, as stored with its session: Express's `req.ip` (which honours
 * `trust proxy`), else the socket's address, and the User-Agent header. Nothing when the
 * response has no request (a bare ServerResponse built by hand).
 * @param {import('http').IncomingMessage | undefined} req
 */
function clientOf(req) {
  if (req === undefined || req === null || typeof req !== 'object') return undefined;
  const ip = typeof req.ip === 'string' ? req.ip : req.socket?.remoteAddress;
  const userAgent = req.headers?.['user-agent'];
  return {
    ip: typeof ip === 'string' ? ip : undefined,
    userAgent: typeof userAgent === 'string' ? userAgent : undefined,
  };
}

/**
 * Logs a user in: creates a session and writes its cookies and headers onto `res`,
 * replacing any session `res` already carried.
 * @param {import('http').ServerResponse} res
 * @param {string} userId
 * @param {any} [jwtPayload]
 * @param {any} [sessionData]
 * @returns {Promise<Session>}
 */
async function createNewSession(res, userId, jwtPayload, sessionData) {
  requireResponse(res);
  const s = core.getSettings();
  const r = await core.createSession(
    userId,
    jwtPayload,
    sessionData,
    clientOf(res.req),
    cookies.MAX_ACCESS_TOKEN_BYTES,
  );
  cookies.attachTokens(res, s, r);
  return new Session(r.session.handle, r.session.userId, r.session.jwtPayload, res);
}

/**
 * Verifies the request's session, normally without a database call.
 * @param {import('http').IncomingMessage} req
 * @param {import('http').ServerResponse} res
 * @param {boolean} enableCsrfProtection check the anti-csrf header (for non-GET APIs)
 * @returns {Promise<Session>}
 */
async function getSession(req, res, enableCsrfProtection) {
  requireRequest(req);
  requireResponse(res);
  const s = core.getSettings();
  if (typeof enableCsrfProtection !== 'boolean') {
    throw generalError('enableCsrfProtection must be a boolean');
  }
  // Inline try/catch rather than clearingCookiesOn: this is every request's path.
  try {
    const jar = cookies.cookieJar(req);
    if (cookies.readCookie(jar, cookies.ID_REFRESH_TOKEN) === undefined) {
      throw authError(UNAUTHORISED, 'no sIdRefreshToken cookie: the session does not exist');
    }
    const accessToken = cookies.readCookie(jar, cookies.ACCESS_TOKEN);
    if (accessToken === undefined) {
      throw authError(TRY_REFRESH_TOKEN, 'no sAccessToken cookie: call the refresh API');
    }
    const antiCsrf = enableCsrfProtection && s.antiCsrf ? (cookies.readAntiCsrfHeader(req) ?? '') : null;
    // Awaited only when verification needs the database or the app's key function.
    const verified = core.verifySession(accessToken, antiCsrf);
    const r = verified instanceof Promise ? await verified : verified;
    if (r.newAccessToken !== undefined) cookies.attachAccessToken(res, s, r.newAccessToken);
    return new Session(r.session.handle, r.session.userId, r.session.jwtPayload, res);
  } catch (e) {
    clearCookiesOn([UNAUTHORISED], e, res);
    throw e;
  }
}

/**
 * The refresh API: rotates the refresh token and writes the new tokens onto `res`.
 * @param {import('http').IncomingMessage} req
 * @param {import('http').ServerResponse} res
 * @returns {Promise<Session>}
 */
async function refreshSession(req, res) {
  requireRequest(req);
  requireResponse(res);
  const s = core.getSettings();
  return clearingCookiesOn([UNAUTHORISED, UNAUTHORISED_AND_TOKEN_THEFT_DETECTED], res, async () => {
    const jar = cookies.cookieJar(req);
    const refreshToken = cookies.readCookie(jar, cookies.REFRESH_TOKEN);
    if (refreshToken === undefined || cookies.readCookie(jar, cookies.ID_REFRESH_TOKEN) === undefined) {
      throw authError(UNAUTHORISED, 'no sRefreshToken or sIdRefreshToken cookie');
    }
    const r = await core.refreshTokens(refreshToken, clientOf(req));
    cookies.attachTokens(res, s, r);
    return new Session(r.session.handle, r.session.userId, r.session.jwtPayload, res);
  });
}

/**
 * Sets the CORS headers a preflight (OPTIONS) response needs so the browser may send the
 * anti-csrf and SDK headers with credentials.
 * @param {import('http').ServerResponse} res
 */
function setRelevantHeadersForOptionsAPI(res) {
  requireResponse(res);
  cookies.setPreflightHeaders(res);
}

exports.init = core.init;
exports.close = core.close;
exports.createNewSession = createNewSession;
exports.getSession = getSession;
exports.refreshSession = refreshSession;
exports.revokeAllSessionsForUser = core.revokeAllSessionsForUser;
exports.revokeSessionUsingSessionHandle = core.revokeSessionUsingSessionHandle;
exports.getAllSessionHandlesForUser = core.getAllSessionHandlesForUser;
exports.getSessionData = core.getSessionData;
exports.updateSessionData = core.updateSessionData;
exports.mergeSessionData = core.mergeSessionData;
exports.getAllSessionsForUser = core.getAllSessionsForUser;
exports.metrics = core.metrics;
/** @deprecated the original 5.x name of `getSessionData` (the same function). */
exports.getSessionInfo = core.getSessionData;
/** @deprecated the original 5.x name of `updateSessionData` (the same function). */
exports.updateSessionInfo = core.updateSessionData;
exports.setRelevantHeadersForOptionsAPI = setRelevantHeadersForOptionsAPI;
exports.Session = Session;
/** The error codes and `isErrorFromAuth`. */
exports.Error = AuthError;

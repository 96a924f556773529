'use strict';
/**
 * getSession's strategy: one native call verifies the token and answers at once for most
 * tokens; when the database is needed (blacklisting, a child token to promote, a key this
 * process has not loaded) the same call returns a promise of the rest, which goes on from
 * what it checked.
 */

const native = require('./native.js');
const { generalError, fromNativeFailure, fromNativeThrow, isNativeFailure, TRY_REFRESH_TOKEN } = require('./errors.js');
const { decodeFastSession } = require('./fast-session.js');
const { fromJson, typeName } = require('./args.js');
const { appKey, hasAppKey, requireToken } = require('./lifecycle.js');

/** The result of a verification that needed the database. */
function fromDatabaseVerification(v) {
  if (isNativeFailure(v)) throw fromNativeFailure(v);
  return {
    session: { handle: v.handle, userId: v.userId, jwtPayload: fromJson(v.jwtPayload) },
    newAccessToken:
      v.newAccessToken == null ? undefined : { value: v.newAccessToken, expires: v.newAccessTokenExpires },
  };
}

/**
 * The native verification: the result, a promise of it (the database was needed), or,
 * with `useDatabase` false, null where the database would be needed.
 */
function verifyAccessToken(accessToken, antiCsrfToken, key, useDatabase) {
  let r;
  try {
    r = native.verifyAccessToken(accessToken, antiCsrfToken, key, useDatabase);
  } catch (e) {
    throw fromNativeThrow(e);
  }
  if (typeof r === 'string') return { session: decodeFastSession(r), newAccessToken: undefined };
  if (r instanceof Promise) return r.then(fromDatabaseVerification, (e) => Promise.reject(fromNativeThrow(e)));
  if (r === null) return null;
  throw fromNativeFailure(r);
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
    verifyAccessToken(accessToken, null, key, false);
    throw generalError(
      antiCsrfToken === undefined
        ? 'antiCsrfToken is undefined: pass null to skip the anti-CSRF check'
        : `antiCsrfToken must be a string or null, got ${typeName(antiCsrfToken)}`,
    );
  };
  if (!hasAppKey()) return reject(undefined);
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
  if (antiCsrfToken !== null && typeof antiCsrfToken !== 'string')
    return rejectAntiCsrfArgument(accessToken, antiCsrfToken);
  if (hasAppKey()) return appKey().then((key) => verifyAccessToken(accessToken, antiCsrfToken, key, true));
  return verifyAccessToken(accessToken, antiCsrfToken, undefined, true);
}

module.exports = { verifySession };

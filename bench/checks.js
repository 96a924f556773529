'use strict';
/**
 * The result checks both measuring processes share (worker.js, cluster-worker.js). Each
 * throws on a wrong result, so the runner counts it as an error and never as a fast
 * operation. They only read; keeping state up to date is the caller's job.
 */

/** Throws an Error with `msg`: a wrong result. */
function fail(msg) {
  throw new Error(msg);
}

/**
 * Checks a createNewSession result has everything it promises; returns the token record
 * {handle, userId, n, at, csrf, rt}.
 * @param {{userId: string, payload: {n: number}}} u the user it was created for
 */
function checkCreated(u, r) {
  if (!r || !r.session || typeof r.session.handle !== 'string' || r.session.handle.length === 0)
    fail('createNewSession: no session handle');
  if (r.session.userId !== u.userId) fail('createNewSession: wrong userId');
  if (!r.accessToken || typeof r.accessToken.value !== 'string' || !(r.accessToken.expires > Date.now()))
    fail('createNewSession: bad accessToken');
  if (!r.refreshToken || typeof r.refreshToken.value !== 'string' || !(r.refreshToken.expires > Date.now()))
    fail('createNewSession: bad refreshToken');
  if (!r.idRefreshToken || typeof r.idRefreshToken.value !== 'string') fail('createNewSession: bad idRefreshToken');
  if (typeof r.antiCsrfToken !== 'string' || r.antiCsrfToken.length === 0)
    fail('createNewSession: no antiCsrfToken although anti-CSRF is on');
  return {
    handle: r.session.handle,
    userId: u.userId,
    n: u.payload.n,
    at: r.accessToken.value,
    csrf: r.antiCsrfToken,
    rt: r.refreshToken.value,
  };
}

/** getSession on a parent token `t`: right session, right payload, no new token. */
function checkParent(t, r) {
  if (!r || !r.session || r.session.handle !== t.handle) fail('getSession: wrong or missing session handle');
  if (r.session.userId !== t.userId) fail('getSession: wrong userId');
  if (!r.session.jwtPayload || r.session.jwtPayload.n !== t.n) fail('getSession: wrong jwtPayload');
  if (r.newAccessToken !== undefined) fail('getSession: a parent token got a new access token');
}

/** getSessionData of session `t`: the data it was created with. */
function checkData(t, d) {
  if (!d || d.n !== t.n || !Array.isArray(d.cart) || d.cart.length !== 3) fail('getSessionData: wrong session data');
}

/** refreshSession of chain entry `c` (current parent refresh token `c.rt`): a complete set of new tokens. */
function checkRefreshed(c, r) {
  if (!r || !r.session || r.session.handle !== c.handle || r.session.userId !== c.userId)
    fail('refreshSession: wrong session');
  if (!r.session.jwtPayload || r.session.jwtPayload.n !== c.n) fail('refreshSession: wrong jwtPayload');
  if (!r.newAccessToken || typeof r.newAccessToken.value !== 'string') fail('refreshSession: no new access token');
  if (!r.newRefreshToken || typeof r.newRefreshToken.value !== 'string' || r.newRefreshToken.value === c.rt)
    fail('refreshSession: no new refresh token');
  if (!r.newIdRefreshToken || typeof r.newIdRefreshToken.value !== 'string')
    fail('refreshSession: no new id-refresh token');
  if (typeof r.newAntiCsrfToken !== 'string') fail('refreshSession: no new anti-CSRF token');
}

/** getSession on the child access token of chain entry `c`: the right session, promoted (a new access token). */
function checkPromoted(c, r) {
  if (!r || !r.session || r.session.handle !== c.handle || r.session.userId !== c.userId)
    fail('getSession child: wrong session');
  if (!r.session.jwtPayload || r.session.jwtPayload.n !== c.n) fail('getSession child: wrong jwtPayload');
  if (!r.newAccessToken || typeof r.newAccessToken.value !== 'string')
    fail('getSession child: no promotion (no new access token)');
}

module.exports = { fail, checkCreated, checkParent, checkData, checkRefreshed, checkPromoted };

'use strict';
/**
 * supertokens-node-mysql-ref-jwt — the framework-free API (SPEC §4).
 * For Express, use `supertokens-node-mysql-ref-jwt/express`.
 */

const core = require('./lib/core.js');
const { AuthError } = require('./lib/errors.js');

exports.init = core.init;
exports.close = core.close;
exports.createNewSession = core.createNewSession;
exports.getSession = core.getSession;
exports.refreshSession = core.refreshSession;
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
/** The error codes and `isErrorFromAuth`. */
exports.Error = AuthError;

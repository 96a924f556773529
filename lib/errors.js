'use strict';
/**
 * The documented error objects: `{errType, err}` that are also `Error` instances.
 * A failed native call resolves to a failure value `{errType, message, sessionHandle?,
 * userId?}` (the kind as a number, never in the text), which is converted here.
 */

// The kinds' numbers are defined once, in the addon (src/error.rs).
const {
  GENERAL_ERROR,
  UNAUTHORISED,
  TRY_REFRESH_TOKEN,
  UNAUTHORISED_AND_TOKEN_THEFT_DETECTED,
} = require('./native.js');

const NAMES = {
  [GENERAL_ERROR]: 'GENERAL_ERROR',
  [UNAUTHORISED]: 'UNAUTHORISED',
  [TRY_REFRESH_TOKEN]: 'TRY_REFRESH_TOKEN',
  [UNAUTHORISED_AND_TOKEN_THEFT_DETECTED]: 'UNAUTHORISED_AND_TOKEN_THEFT_DETECTED',
};

// A registry symbol, so errors from two copies of the package still recognise each other.
const BRAND = Symbol.for('supertokens-node-mysql-ref-jwt.error');

/** Receives every GENERAL_ERROR cause (set by `init` from `logging.error`). */
let onGeneralError = () => {};

class SuperTokensError extends Error {
  /**
   * @param {number} errType one of the four codes
   * @param {Error | {sessionHandle: string, userId: string}} err the cause, or for token
   *   theft the affected session
   * @param {string} message
   */
  constructor(errType, err, message) {
    super(`${NAMES[errType]}: ${message}`);
    this.name = 'SuperTokensError';
    this.errType = errType;
    this.err = err;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/**
 * Builds an error of the given type; GENERAL_ERRORs are also reported to `logging.error`.
 * @param {number} errType
 * @param {string} message
 * @returns {SuperTokensError}
 */
function authError(errType, message) {
  const e = new SuperTokensError(errType, new Error(message), message);
  if (errType === GENERAL_ERROR) onGeneralError(e);
  return e;
}

/**
 * A GENERAL_ERROR naming what was wrong.
 * @param {string} message
 * @returns {SuperTokensError}
 */
function generalError(message) {
  return authError(GENERAL_ERROR, message);
}

/**
 * True for a native call's failure value. Native results are strings, booleans, arrays,
 * `null`/`undefined` or objects without `errType`, so the field alone identifies it.
 * @param {unknown} r
 * @returns {boolean}
 */
function isNativeFailure(r) {
  return r !== null && typeof r === 'object' && typeof r.errType === 'number';
}

/**
 * Converts a native failure value into the documented error object.
 * @param {{errType: number, message: string, sessionHandle?: string, userId?: string}} f
 * @returns {SuperTokensError}
 */
function fromNativeFailure(f) {
  if (f.errType === UNAUTHORISED_AND_TOKEN_THEFT_DETECTED) {
    const session = { sessionHandle: f.sessionHandle, userId: f.userId };
    return new SuperTokensError(f.errType, session, f.message);
  }
  return authError(NAMES[f.errType] === undefined ? GENERAL_ERROR : f.errType, f.message);
}

/**
 * Converts an error the addon threw (an argument napi-rs could not convert, a panic) into
 * a GENERAL_ERROR with its message.
 * @param {unknown} e
 * @returns {SuperTokensError}
 */
function fromNativeThrow(e) {
  if (isErrorFromAuth(e)) return e;
  return generalError(e instanceof Error ? e.message : String(e));
}

/**
 * Runs a native call: its result, or its failure (or throw) as the documented error.
 * @template T
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
 */
async function callNative(fn) {
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
 * True for an error produced by this package, false for anything else.
 * @param {unknown} err
 * @returns {boolean}
 */
function isErrorFromAuth(err) {
  return err !== null && typeof err === 'object' && err[BRAND] === true;
}

/**
 * Sets the receiver of GENERAL_ERRORs (the app's `logging.error`, guarded by the caller).
 * @param {(e: SuperTokensError) => void} fn
 */
function setGeneralErrorListener(fn) {
  onGeneralError = fn;
}

/** The documented `Error` export: the four codes and `isErrorFromAuth`. */
const AuthError = Object.freeze({
  GENERAL_ERROR,
  UNAUTHORISED,
  TRY_REFRESH_TOKEN,
  UNAUTHORISED_AND_TOKEN_THEFT_DETECTED,
  isErrorFromAuth,
});

module.exports = {
  AuthError,
  SuperTokensError,
  authError,
  generalError,
  callNative,
  fromNativeFailure,
  fromNativeThrow,
  isNativeFailure,
  isErrorFromAuth,
  setGeneralErrorListener,
  GENERAL_ERROR,
  UNAUTHORISED,
  TRY_REFRESH_TOKEN,
  UNAUTHORISED_AND_TOKEN_THEFT_DETECTED,
};

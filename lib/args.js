'use strict';
/**
 * Checks of the public functions' arguments and the JSON text they cross to the addon as.
 * Every failure is a GENERAL_ERROR naming the argument.
 */

const { generalError } = require('./errors.js');

/** `null` or the value's `typeof`, for messages. */
function typeName(value) {
  return value === null ? 'null' : typeof value;
}

/**
 * @param {string} name the argument's name, for the message
 * @param {unknown} value
 */
function requireString(name, value) {
  if (typeof value !== 'string') {
    throw generalError(`${name} must be a string, got ${typeName(value)}`);
  }
}

/**
 * A user id: a string, but not the JSON of an object whose only key is `i` — the original
 * library stored a number user id `n` as `{"i":n}`, so such a string would read back as the
 * number (the original rejected it too).
 * @param {unknown} userId
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
      throw generalError(
        'userId cannot be the JSON of an object whose only key is "i" (the original\'s form of a number user id)',
      );
    }
  }
}

/**
 * JSON text for a value (`undefined` for undefined); GENERAL_ERROR for non-JSON values.
 * @param {string} name argument name for the message
 * @param {unknown} value
 * @returns {string | undefined}
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

/**
 * The value of JSON text from the addon; `undefined` for none.
 * @param {string | null | undefined} text
 */
function fromJson(text) {
  return text === undefined || text === null ? undefined : JSON.parse(text);
}

/**
 * The optional `{ip, userAgent}` of a login or refresh, checked: undefined, or an object whose
 * two fields are strings when given.
 * @param {unknown} client
 * @returns {{ip?: string, userAgent?: string} | undefined}
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

module.exports = { typeName, requireString, requireUserId, toJson, fromJson, clientInfo };

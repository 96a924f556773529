'use strict';
/**
 * Decodes the native fast path's result,
 * `<serial>:<handle length>:<userId length>:<handle><userId><payload JSON>` (lengths in
 * UTF-16 code units; see src/hot_path.rs).
 *
 * A token is verified once and then used for many requests, so the session of each cached
 * verification (its serial: a number the native token cache never reuses; 0 = not cached)
 * is decoded once and kept here. Every call still gets its own copy of the payload, equal
 * to what JSON.parse gives: profiled, parsing even a small payload costs three copies.
 */

/** As many entries as the native token cache holds. */
const MAX_ENTRIES = 10000;
/** Longer payloads are parsed on every call: bounds the memory kept (and the copy's depth). */
const MAX_KEPT_PAYLOAD = 512;

/** @type {Map<number, {handle: string, userId: string, payload: any}>} */
const decoded = new Map();

/**
 * @param {string} s the native result
 * @returns {{handle: string, userId: string, jwtPayload: any}}
 */
function decodeFastSession(s) {
  let i = 0;
  let serial = 0;
  let c;
  while ((c = s.charCodeAt(i++)) !== 58 /* : */) serial = serial * 10 + c - 48;
  const kept = serial === 0 ? undefined : decoded.get(serial);
  if (kept !== undefined) return { handle: kept.handle, userId: kept.userId, jwtPayload: copyJson(kept.payload) };

  let handleLength = 0;
  let userIdLength = 0;
  while ((c = s.charCodeAt(i++)) !== 58) handleLength = handleLength * 10 + c - 48;
  while ((c = s.charCodeAt(i++)) !== 58) userIdLength = userIdLength * 10 + c - 48;
  const handleEnd = i + handleLength;
  const userIdEnd = handleEnd + userIdLength;
  const text = s.slice(userIdEnd);
  const session = {
    handle: s.slice(i, handleEnd),
    userId: s.slice(handleEnd, userIdEnd),
    jwtPayload: text === '' ? undefined : JSON.parse(text),
  };
  if (serial !== 0 && text.length <= MAX_KEPT_PAYLOAD) {
    if (decoded.size >= MAX_ENTRIES) decoded.clear();
    decoded.set(serial, { handle: session.handle, userId: session.userId, payload: copyJson(session.jwtPayload) });
  }
  return session;
}

/** A deep copy of a JSON.parse result, equal to parsing the same text again. */
function copyJson(v) {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    const copy = [];
    for (let i = 0; i < v.length; i++) copy.push(copyJson(v[i]));
    return copy;
  }
  const copy = {};
  for (const k of Object.keys(v)) {
    // JSON.parse makes "__proto__" an own property; assigning it would set the prototype.
    if (k === '__proto__') {
      Object.defineProperty(copy, k, { value: copyJson(v[k]), enumerable: true, writable: true, configurable: true });
    } else {
      copy[k] = copyJson(v[k]);
    }
  }
  return copy;
}

module.exports = { decodeFastSession };

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

const { generalError } = require('./errors.js');

/**
 * As many entries as the native token cache holds (`CAPACITY` in src/token_cache.rs; a test
 * checks they agree), evicted the same way: one at a time by CLOCK (second chance). A hit
 * marks its entry; when full, the hand skips (and unmarks) marked entries and replaces the
 * first unmarked one, so the sessions of tokens in use stay. A serial the native cache has
 * dropped is never returned again, so its entry stays unmarked and goes first.
 */
const MAX_ENTRIES = 10000;
/** Longer payloads are parsed on every call: bounds the memory kept (and the copy's depth). */
const MAX_KEPT_PAYLOAD = 512;
/** Digits of a serial or length: 15 always fit a double exactly (lengths are far shorter). */
const MAX_DIGITS = 15;

/** @type {Map<number, {handle: string, userId: string, payload: any, slot: number}>} */
const decoded = new Map();
/** The CLOCK ring: the serial kept in each slot, and whether it was used since the hand passed. */
const serials = new Float64Array(MAX_ENTRIES);
const marked = new Uint8Array(MAX_ENTRIES);
let slotsUsed = 0;
let hand = 0;

/**
 * @param {string} s the native result
 * @returns {{handle: string, userId: string, jwtPayload: any}}
 * @throws GENERAL_ERROR naming what is wrong when `s` is not in the format above (the
 *   native side always writes it correctly; this keeps a bug there from hanging a request)
 */
function decodeFastSession(s) {
  if (typeof s !== 'string') throw malformed(`it is ${typeof s}, not a string`);
  const serial = readNumber(s, 0, 'the serial');
  const kept = serial === 0 ? undefined : decoded.get(serial);
  if (kept !== undefined) {
    marked[kept.slot] = 1;
    return { handle: kept.handle, userId: kept.userId, jwtPayload: copyJson(kept.payload) };
  }

  const handleLength = readNumber(s, numberEnd, 'the handle length');
  const userIdLength = readNumber(s, numberEnd, 'the userId length');
  const handleEnd = numberEnd + handleLength;
  const userIdEnd = handleEnd + userIdLength;
  if (userIdEnd > s.length) {
    throw malformed(`the handle and userId lengths (${handleLength} + ${userIdLength}) run past its end (${s.length - numberEnd} characters left)`);
  }
  const text = s.slice(userIdEnd);
  let jwtPayload;
  try {
    jwtPayload = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw malformed(`the payload after the userId is not JSON (${text.length} characters)`);
  }
  const session = { handle: s.slice(numberEnd, handleEnd), userId: s.slice(handleEnd, userIdEnd), jwtPayload };
  if (serial !== 0 && text.length <= MAX_KEPT_PAYLOAD) keep(serial, session);
  return session;
}

/** Where the number `readNumber` read last ends, past its ':'. */
let numberEnd = 0;

/** The decimal number at `i`, which must end with ':' (sets numberEnd). */
function readNumber(s, i, what) {
  const start = i;
  let n = 0;
  let c;
  // charCodeAt is NaN past the end, which is neither a digit nor ':'.
  while ((c = s.charCodeAt(i)) >= 48 && c <= 57) {
    n = n * 10 + c - 48;
    i++;
  }
  if (c !== 58 || i === start || i - start > MAX_DIGITS) {
    const found = i === start ? 'no digits' : i - start > MAX_DIGITS ? `${i - start} digits` : 'digits';
    const after = i >= s.length ? 'then the end' : `then character code ${c}`;
    throw malformed(`${what} at offset ${start} should be 1 to ${MAX_DIGITS} digits and ':', found ${found}, ${after}`);
  }
  numberEnd = i + 1;
  return n;
}

function malformed(what) {
  return generalError(`the native getSession result is malformed: ${what}`);
}

/** Keeps a decoded session under its serial, replacing the CLOCK's choice when full. */
function keep(serial, session) {
  let slot;
  if (slotsUsed < MAX_ENTRIES) {
    slot = slotsUsed++;
  } else {
    while (marked[hand] === 1) {
      marked[hand] = 0;
      hand = hand + 1 === MAX_ENTRIES ? 0 : hand + 1;
    }
    slot = hand;
    hand = hand + 1 === MAX_ENTRIES ? 0 : hand + 1;
    decoded.delete(serials[slot]);
  }
  serials[slot] = serial;
  decoded.set(serial, { handle: session.handle, userId: session.userId, payload: copyJson(session.jwtPayload), slot });
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

/** For tests: how many sessions are kept, and whether `serial`'s is. */
function keptStats(serial) {
  return { size: decoded.size, has: decoded.has(serial) };
}

module.exports = { decodeFastSession, MAX_ENTRIES, keptStats };

'use strict';
/**
 * Decodes the native fast path's result,
 * `<serial>:<handle length>:<userId length>:<handle><userId><payload JSON>` (lengths in
 * UTF-16 code units; see src/hot_path.rs; `verifyAccessToken` in lib/verify.js calls it).
 *
 * A token is verified once and then used for many requests, so the session of each cached
 * verification is decoded once and kept here. Its serial is a number the
 * native token cache never reuses, and the serial modulo MAX_ENTRIES is the position of the
 * entry in that cache (src/token_cache.rs `next_serial`): the session is kept at the same
 * position here, so it lives exactly as long as the native entry (the native cache decides
 * what to evict, one entry at a time) and is found without a map. The serial is 0 (keep
 * nothing) on the call that verified the token in full, and on a token no cache holds: only
 * a token that comes back is kept (with more tokens than the cache holds, keeping each miss
 * cost array writes and scavenges for entries never used again), so a payload is parsed at
 * most twice: on the full verification and on the first cache hit. Every call still gets its
 * own copy of the payload, equal to what JSON.parse gives: copying is cheaper than parsing
 * the text again.
 */

const { generalError } = require('./errors.js');
const native = require('./native.js');

/** The native cache's size: its positions are the positions here. */
const MAX_ENTRIES = native.VERIFIED_TOKEN_CACHE_CAPACITY;
/** Longer payloads are parsed on every call: bounds the memory kept (and the copy's depth). */
const MAX_KEPT_PAYLOAD = 512;
/** Digits of a serial or length: 15 always fit a double exactly (lengths are far shorter). */
const MAX_DIGITS = 15;

// By position: the serial whose session is kept there (0: none), and that session.
const keptSerial = new Float64Array(MAX_ENTRIES);
const keptHandle = new Array(MAX_ENTRIES).fill('');
const keptUserId = new Array(MAX_ENTRIES).fill('');
/** @type {any[]} the parsed payload, or undefined for an empty text */
const keptPayload = new Array(MAX_ENTRIES).fill(undefined);

/**
 * @param {string} s the native result
 * @returns {{handle: string, userId: string, jwtPayload: any}}
 * @throws GENERAL_ERROR naming what is wrong when `s` is not in the format above (the
 *   native side always writes it correctly; this keeps a bug there from hanging a request)
 */
function decodeFastSession(s) {
  if (typeof s !== 'string') throw malformed(`it is ${typeof s}, not a string`);
  const serial = readNumber(s, 0, 'the serial');
  const at = serial % MAX_ENTRIES;
  if (serial !== 0 && keptSerial[at] === serial) return keptSession(at);

  const handleLength = readNumber(s, numberEnd, 'the handle length');
  const userIdLength = readNumber(s, numberEnd, 'the userId length');
  const handleEnd = numberEnd + handleLength;
  const userIdEnd = handleEnd + userIdLength;
  if (userIdEnd > s.length) {
    throw malformed(
      `the handle and userId lengths (${handleLength} + ${userIdLength}) run past its end (${s.length - numberEnd} characters left)`,
    );
  }
  const handle = s.slice(numberEnd, handleEnd);
  const userId = s.slice(handleEnd, userIdEnd);
  const text = s.slice(userIdEnd);
  const jwtPayload = parsePayload(text);
  if (serial === 0) return { handle, userId, jwtPayload };
  if (text.length > MAX_KEPT_PAYLOAD) {
    keptSerial[at] = 0;
    return { handle, userId, jwtPayload };
  }
  // A cache hit (its token came back): keep the parse, hand out a copy.
  keptSerial[at] = serial;
  keptHandle[at] = handle;
  keptUserId[at] = userId;
  keptPayload[at] = jwtPayload;
  return keptSession(at);
}

function keptSession(at) {
  return { handle: keptHandle[at], userId: keptUserId[at], jwtPayload: copyJson(keptPayload[at]) };
}

function parsePayload(text) {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw malformed(`the payload after the userId is not JSON (${text.length} characters)`);
  }
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

/** For tests: whether the session of `serial` is kept. */
function isKept(serial) {
  return serial !== 0 && keptSerial[serial % MAX_ENTRIES] === serial;
}

module.exports = { decodeFastSession, MAX_ENTRIES, isKept };

'use strict';
/**
 * Issue 6.1 (and 6.6 for this file): hostile tokens and requests, table-driven. Every case
 * expects the documented error type, no database write (row snapshot) and — for access
 * tokens and forged refresh tokens — no database statement at all (testQueryCount).
 * Exercised through the framework-free API, the Express API with hand-made req objects, and
 * real HTTP through Express (with and without cookie-parser). The process must survive all
 * of it, and no key, password or raw refresh token may show up in any message or log line.
 */

process.env.SUPERTOKENS_TEST_BUILD = '1';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const express = require('express');
const cookieParser = require('cookie-parser');
const ST = require('../index.js');
const STX = require('../express.js');
const native = require('../lib/native.js');
const h = require('./helpers.js');

// Per-run table names (all starting with "hostile"), so two runs of this file at the same
// time (e.g. a full-suite run next to a single-file run) cannot drop each other's tables.
const PREFIX = `hostile_${process.pid}`;
const OTHER_PREFIX = `hostile_${process.pid}_other`;
const { GENERAL_ERROR, UNAUTHORISED, TRY_REFRESH_TOKEN, UNAUTHORISED_AND_TOKEN_THEFT_DETECTED } = ST.Error;
const STATUS = {
  [GENERAL_ERROR]: 500,
  [UNAUTHORISED]: 401,
  [TRY_REFRESH_TOKEN]: 440,
  [UNAUTHORISED_AND_TOKEN_THEFT_DETECTED]: 403,
};
const ONE_MB = 1024 * 1024;

// ---------------------------------------------------------------------------------------
// Everything the package says: log lines and rejection messages (scanned for secrets).
const said = [];
const rawRefreshTokens = new Set();

function remember(e) {
  if (e === null || e === undefined) return;
  said.push(String(e.message), String(e.stack));
  if (e.err !== undefined)
    said.push(e.err instanceof Error ? `${e.err.message}\n${e.err.stack}` : JSON.stringify(e.err));
}

/** Awaits a promise that must reject with a package error; returns the error. */
async function rejection(promise) {
  let value;
  try {
    value = await promise;
  } catch (e) {
    remember(e);
    assert.ok(ST.Error.isErrorFromAuth(e), `expected a package error, got ${e && e.stack}`);
    assert.ok(e instanceof Error, 'package errors are Error instances');
    return e;
  }
  assert.fail(
    `expected a rejection, but it resolved: ${JSON.stringify(value && (value.session || value)).slice(0, 200)}`,
  );
}

// ---------------------------------------------------------------------------------------
// JWT and token surgery.
const b64u = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');
const unb64u = (s) => JSON.parse(Buffer.from(s, 'base64url').toString());
const HMAC = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
function hmac(alg, key, data) {
  return crypto.createHmac(HMAC[alg], key).update(data).digest('base64url');
}
/** A JWT with any header/payload (objects or raw segment text), HMAC-signed with `key`. */
function jwt(header, payload, key, alg = 'HS256') {
  const seg = (x) => (typeof x === 'string' ? x : b64u(x));
  const data = `${seg(header)}.${seg(payload)}`;
  return `${data}.${hmac(alg, key, data)}`;
}
function asymJwt(header, payload, signer) {
  const data = `${b64u(header)}.${b64u(payload)}`;
  return `${data}.${signer(Buffer.from(data)).toString('base64url')}`;
}
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Replaces the char at `i` (negative: from the end) by another base64url char. */
function flip(s, i) {
  const at = i < 0 ? s.length + i : i;
  const c = s[at];
  return s.slice(0, at) + (c === 'A' ? 'B' : 'A') + s.slice(at + 1);
}
/** Changes only the unused low bit of the last base64url char: same bytes, other text. */
function flipTrailingBit(s) {
  const c = s[s.length - 1];
  return s.slice(0, -1) + B64URL[B64URL.indexOf(c) ^ 1];
}
const hex2 = (s) =>
  crypto.createHash('sha256').update(crypto.createHash('sha256').update(s).digest('hex')).digest('hex');

// ---------------------------------------------------------------------------------------
// State shared by the tests of this file.
const ctx = {};

async function sessionRows() {
  return h.query(
    `SELECT session_handle, user_id, refresh_token_hash_2, session_info, expires_at, jwt_user_payload FROM ${PREFIX}_sessions ORDER BY session_handle`,
  );
}

async function newSession(userId, payload, data) {
  const s = await ST.createNewSession(userId, payload, data);
  rawRefreshTokens.add(s.refreshToken.value);
  return s;
}

test.before(async () => {
  await h.dropTables(PREFIX);
  await ST.init(
    h.configFor(PREFIX, {
      logging: {
        info: (m) => said.push(String(m)),
        error: (e) => said.push(String(e && e.stack), String(e && e.message)),
      },
    }),
  );
  // Another deployment (other tables = other keys) in a process of its own.
  const out = execFileSync(
    process.execPath,
    [path.join(__dirname, 'fixtures', 'hostile-other-deployment.js'), OTHER_PREFIX],
    {
      env: process.env,
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  ctx.other = JSON.parse(out);
  rawRefreshTokens.add(ctx.other.refreshToken);

  ctx.A = await newSession('user-a', { role: 'a' }, { data: 'a' });
  ctx.B = await newSession('user-b', { role: 'b' }, { data: 'b' });
  // C: minted while this process's clock was 2 h behind, so its access token is expired now.
  native.testSetClockOffset(-2 * 3600 * 1000);
  try {
    ctx.C = await newSession('user-c', null, null);
  } finally {
    native.testSetClockOffset(0);
  }
  // D: rotated twice, so its first refresh token is a rotated-out one (theft if replayed).
  ctx.D = await newSession('user-d', undefined, undefined);
  const d1 = await ST.refreshSession(ctx.D.refreshToken.value);
  rawRefreshTokens.add(d1.newRefreshToken.value);
  const d2 = await ST.refreshSession(d1.newRefreshToken.value);
  rawRefreshTokens.add(d2.newRefreshToken.value);
  // E: revoked.
  ctx.E = await newSession('user-e', undefined, undefined);
  assert.equal(await ST.revokeSessionUsingSessionHandle(ctx.E.session.handle), true);
  // F: a child token pair (refresh of A) whose access token would promote on first use.
  ctx.F = await newSession('user-f', undefined, undefined);
  ctx.F1 = await ST.refreshSession(ctx.F.refreshToken.value);
  rawRefreshTokens.add(ctx.F1.newRefreshToken.value);

  const keys = await h.query(`SELECT key_name, key_value, created_at_time FROM ${PREFIX}_keys`);
  ctx.keyRows = keys;
  ctx.K = keys.find((k) => k.key_name === 'access_token_signing_key');
  ctx.RK = keys.find((k) => k.key_name === 'refresh_token_key');
  ctx.otherKeys = await h.query(`SELECT key_name, key_value FROM ${OTHER_PREFIX}_keys`);
  assert.ok(ctx.K && ctx.RK, 'both keys are stored');
  assert.equal(ctx.otherKeys.length, 2, 'the other deployment has keys of its own');
  assert.notEqual(ctx.otherKeys.find((k) => k.key_name === 'access_token_signing_key').key_value, ctx.K.key_value);

  ctx.rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  ctx.ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  ctx.ed = crypto.generateKeyPairSync('ed25519');
  ctx.rowsBefore = await sessionRows();
});

test.after(async () => {
  native.testSetClockOffset(0);
  await ctx.servers?.plain?.close();
  await ctx.servers?.parsed?.close();
  await ST.close();
  await h.dropTables(PREFIX);
  await h.dropTables(OTHER_PREFIX);
  await h.endQueries();
});

// ---------------------------------------------------------------------------------------
// 1. Hostile access tokens through the framework-free API.

/**
 * Cases (made by `c(name, token, expect)`) of a token argument of the wrong type, GENERAL_ERROR,
 * or missing (null, undefined), `missing` as the original answered it; `real` is the real token.
 */
function wrongTypeTokens(c, what, real, number, missing) {
  return [
    c(`${what} a number`, number, GENERAL_ERROR),
    c(`${what} null`, null, missing),
    c(`${what} undefined`, undefined, missing),
    c(`${what} an object with toString`, { toString: () => real }, GENERAL_ERROR),
    c(`${what} an array holding the real token`, [real], GENERAL_ERROR),
    c(`${what} a Buffer of the real token`, Buffer.from(real), GENERAL_ERROR),
  ];
}

function accessTokenCases() {
  const { A, B, C, K, RK, other } = ctx;
  const V = A.accessToken.value;
  const [H, P, S] = V.split('.');
  const hdr = unb64u(H);
  const pl = unb64u(P);
  const kid = hdr.kid;
  const foreign = crypto.randomBytes(32).toString('base64');
  const key = K.key_value;
  const otherParts = other.accessToken.split('.');
  const [, PB, SB] = B.accessToken.value.split('.');
  const csrf = A.antiCsrfToken;
  const T = TRY_REFRESH_TOKEN;
  const G = GENERAL_ERROR;
  const rsaSign = (d) => crypto.sign('sha256', d, ctx.rsa.privateKey);
  const psSign = (d) =>
    crypto.sign('sha256', d, { key: ctx.rsa.privateKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING });
  const ecSign = (d) => crypto.sign('sha256', d, { key: ctx.ec.privateKey, dsaEncoding: 'ieee-p1363' });
  const edSign = (d) => crypto.sign(null, d, ctx.ed.privateKey);
  const nowS = Math.floor(Date.now() / 1000);
  const c = (name, token, expect = T, ...anti) => ({ name, token, anti: anti.length ? anti[0] : null, expect });
  return [
    // alg: none and friends
    c('alg none, empty signature', `${b64u({ alg: 'none', typ: 'JWT', kid })}.${P}.`),
    c('alg none, no signature segment', `${b64u({ alg: 'none', typ: 'JWT', kid })}.${P}`),
    c('alg none, original signature kept', `${b64u({ alg: 'none', typ: 'JWT', kid })}.${P}.${S}`),
    c('alg None (capitalised), empty signature', `${b64u({ alg: 'None', kid })}.${P}.`),
    c('alg NONE, empty signature', `${b64u({ alg: 'NONE', kid })}.${P}.`),
    c('alg none, HMAC signature with the real key', jwt({ alg: 'none', kid }, P, key)),
    c('alg "" (empty), signed with the real key', jwt({ alg: '', kid }, P, key)),
    // other algorithms
    c('HS512 signed with the real key', jwt({ alg: 'HS512', typ: 'JWT', kid }, P, key, 'HS512')),
    c('HS384 signed with the real key', jwt({ alg: 'HS384', typ: 'JWT', kid }, P, key, 'HS384')),
    c('RS256 header, HMAC-SHA256 with the real key (key confusion)', jwt({ alg: 'RS256', typ: 'JWT', kid }, P, key)),
    c('RS256 header, real RSA signature', asymJwt({ alg: 'RS256', typ: 'JWT', kid }, pl, rsaSign)),
    c('PS256 header, real RSA-PSS signature', asymJwt({ alg: 'PS256', typ: 'JWT', kid }, pl, psSign)),
    c('ES256 header, real ECDSA signature', asymJwt({ alg: 'ES256', typ: 'JWT', kid }, pl, ecSign)),
    c('EdDSA header, real Ed25519 signature', asymJwt({ alg: 'EdDSA', typ: 'JWT', kid }, pl, edSign)),
    c('alg "hs256" (lower case), signed with the real key', jwt({ alg: 'hs256', typ: 'JWT', kid }, P, key)),
    c('alg missing, signed with the real key', jwt({ typ: 'JWT', kid }, P, key)),
    c('alg as an array, signed with the real key', jwt({ alg: ['HS256'], kid }, P, key)),
    c('alg null, signed with the real key', jwt({ alg: null, kid }, P, key)),
    c(
      'embedded jwk of the attacker, signed with it',
      jwt({ alg: 'HS256', kid, jwk: { kty: 'oct', k: b64u(foreign) } }, P, foreign),
    ),
    c('jku pointing elsewhere, foreign key', jwt({ alg: 'HS256', kid, jku: 'https://evil.example/jwks' }, P, foreign)),
    // wrong or foreign key
    c('HS256 with a random key, real kid', jwt({ alg: 'HS256', typ: 'JWT', kid }, P, foreign)),
    c('HS256 with the refresh-token key from the same table', jwt({ alg: 'HS256', typ: 'JWT', kid }, P, RK.key_value)),
    c(
      'HS256 with the base64-decoded bytes of the real key',
      jwt({ alg: 'HS256', typ: 'JWT', kid }, P, Buffer.from(key, 'base64')),
    ),
    c('HS256 with an empty key', jwt({ alg: 'HS256', typ: 'JWT', kid }, P, '')),
    c(
      "HS256 with the other deployment's key, our kid",
      jwt(
        { alg: 'HS256', typ: 'JWT', kid },
        P,
        ctx.otherKeys.find((k) => k.key_name === 'access_token_signing_key').key_value,
      ),
    ),
    c('real key, kid of an older unknown key (k0)', jwt({ alg: 'HS256', typ: 'JWT', kid: 'k0' }, P, key)),
    c('real key, kid missing', jwt({ alg: 'HS256', typ: 'JWT' }, P, key)),
    c('real key, kid "app"', jwt({ alg: 'HS256', typ: 'JWT', kid: 'app' }, P, key)),
    c('real key, kid a number', jwt({ alg: 'HS256', typ: 'JWT', kid: 42 }, P, key)),
    c('real key, kid an object', jwt({ alg: 'HS256', typ: 'JWT', kid: { k: kid } }, P, key)),
    c(
      'real key, kid names the previous-key row',
      jwt({ alg: 'HS256', kid: 'access_token_signing_key_previous' }, P, key),
    ),
    c('real key, kid with SQL', jwt({ alg: 'HS256', kid: "k1' OR '1'='1" }, P, key)),
    c('real key, kid of 10,000 chars', jwt({ alg: 'HS256', kid: `k${'9'.repeat(10_000)}` }, P, key)),
    c('foreign key, kid from the far future', jwt({ alg: 'HS256', kid: `k${Date.now() + 1e10}` }, P, foreign)),
    c('foreign key, kid of a negative time', jwt({ alg: 'HS256', kid: 'k-5' }, P, foreign)),
    c('other deployment payload+signature under our header', `${H}.${otherParts[1]}.${otherParts[2]}`),
    c(
      'other deployment token with its kid replaced by ours',
      `${b64u({ ...unb64u(otherParts[0]), kid })}.${otherParts[1]}.${otherParts[2]}`,
    ),
    // altered header (original signature)
    c('header typ changed', `${b64u({ ...hdr, typ: 'at+jwt' })}.${P}.${S}`),
    c('header with an extra field', `${b64u({ ...hdr, x: 1 })}.${P}.${S}`),
    c('header keys reordered', `${b64u({ kid: hdr.kid, alg: hdr.alg, typ: hdr.typ })}.${P}.${S}`),
    c('header with added whitespace', `${b64u(JSON.stringify(hdr, null, 1))}.${P}.${S}`),
    c('header not JSON', `${b64u('not json')}.${P}.${S}`),
    c('header a JSON array', `${b64u(['HS256', kid])}.${P}.${S}`),
    c('header JSON null', `${b64u('null')}.${P}.${S}`),
    c('header empty', `.${P}.${S}`),
    c(
      'header with a duplicate alg key',
      `${b64u(`{"alg":"none","typ":"JWT","kid":"${kid}","alg":"HS256"}`)}.${P}.${S}`,
    ),
    // altered payload (original signature)
    c('payload userId changed', `${H}.${b64u({ ...pl, userId: 'admin' })}.${S}`),
    c("payload sessionHandle changed to B's", `${H}.${b64u({ ...pl, sessionHandle: B.session.handle })}.${S}`),
    c('payload expiryTime extended', `${H}.${b64u({ ...pl, expiryTime: pl.expiryTime + 1 })}.${S}`),
    c('payload antiCsrfToken removed', `${H}.${b64u({ ...pl, antiCsrfToken: undefined })}.${S}`),
    c('payload userPayload changed', `${H}.${b64u({ ...pl, userPayload: { role: 'admin' } })}.${S}`),
    c('payload with a prt added', `${H}.${b64u({ ...pl, prt: 'a'.repeat(64) })}.${S}`),
    c('payload re-serialised with whitespace', `${H}.${b64u(JSON.stringify(pl, null, 2))}.${S}`),
    c("payload of session B under A's header and signature", `${H}.${PB}.${S}`),
    c('payload empty', `${H}..${S}`),
    c('payload not JSON', `${H}.${b64u('{{{')}.${S}`),
    c(
      'payload with a duplicate userId key (real key)',
      jwt(H, b64u(JSON.stringify(pl).replace('{', '{"userId":"admin",')), key),
    ),
    // altered signature
    c('signature: first char changed', `${H}.${P}.${flip(S, 0)}`),
    c('signature: middle char changed', `${H}.${P}.${flip(S, 20)}`),
    c('signature: last char changed', `${H}.${P}.${flip(S, -1)}`),
    c('signature: only the unused trailing bit changed', `${H}.${P}.${flipTrailingBit(S)}`),
    c('signature empty', `${H}.${P}.`),
    c('signature of session B', `${H}.${P}.${SB}`),
    c('signature doubled', `${H}.${P}.${S}${S}`),
    c('signature one char short', `${H}.${P}.${S.slice(0, -1)}`),
    c('signature one char long', `${H}.${P}.${S}A`),
    c('signature in standard base64 with padding', `${H}.${P}.${Buffer.from(S, 'base64url').toString('base64')}`),
    c('signature upper-cased', `${H}.${P}.${S.toUpperCase()}`),
    c('signature as hex', `${H}.${P}.${Buffer.from(S, 'base64url').toString('hex')}`),
    c('header and payload swapped', `${P}.${H}.${S}`),
    // expired / not yet valid
    c('expired: minted while the clock was 2 h behind', C.accessToken.value),
    c('not yet valid: nbf in the future, foreign key', jwt(hdr, { ...pl, nbf: nowS + 3600 }, foreign)),
    c('not yet valid: iat in the future, foreign key', jwt(hdr, { ...pl, iat: nowS + 3600 }, foreign)),
    c('expiryTime a string (real key)', jwt(hdr, { ...pl, expiryTime: String(pl.expiryTime) }, key)),
    c('expiryTime negative (real key)', jwt(hdr, { ...pl, expiryTime: -1 }, key)),
    c('expiryTime 1e300 (real key)', jwt(hdr, { ...pl, expiryTime: 1e300 }, key)),
    c('expiryTime 0 (real key)', jwt(hdr, { ...pl, expiryTime: 0 }, key)),
    c('sessionHandle a number (real key)', jwt(hdr, { ...pl, sessionHandle: 7 }, key)),
    c('claims missing rt (real key)', jwt(hdr, { ...pl, rt: undefined }, key)),
    c('payload a JSON array (real key)', jwt(hdr, b64u('[1,2,3]'), key)),
    c('payload a JSON string (real key)', jwt(hdr, b64u('"x"'), key)),
    // truncated
    c('empty string', ''),
    c('truncated to 1 char', V.slice(0, 1)),
    c('truncated to 10 chars', V.slice(0, 10)),
    c('truncated to the header', H),
    c('truncated to the header and a dot', `${H}.`),
    c('truncated to header.payload', `${H}.${P}`),
    c('truncated to header.payload.', `${H}.${P}.`),
    c('truncated by 1 char', V.slice(0, -1)),
    c('truncated by 10 chars', V.slice(0, -10)),
    c('truncated to half', V.slice(0, Math.floor(V.length / 2))),
    c('first char removed', V.slice(1)),
    // padded
    c('header padded with =', `${Buffer.from(H, 'base64url').toString('base64')}.${P}.${S}`),
    c('payload padded with ==', `${H}.${P}==.${S}`),
    c('signature padded with =', `${H}.${P}.${S}=`),
    c('leading space', ` ${V}`),
    c('trailing space', `${V} `),
    c('trailing newline', `${V}\n`),
    c('trailing CRLF', `${V}\r\n`),
    c('trailing dot', `${V}.`),
    c('extra segment', `${V}.eyJ9`),
    c('five segments (JWE-like)', `${H}.${P}.${S}.${S}.${S}`),
    c('tab inside', `${H}.\t${P}.${S}`),
    c('Bearer prefix', `Bearer ${V}`),
    c('token twice, comma-joined', `${V},${V}`),
    c('token twice, space-joined', `${V} ${V}`),
    // not base64url
    c('standard base64 alphabet (+ /) in the payload', `${H}.${P.replace(/-/g, '+').replace(/_/g, '/')}+/.${S}`),
    c('asterisk in the payload', `${H}.*${P}.${S}`),
    c('percent-encoded dots', V.replace(/\./g, '%2E')),
    c('non-ASCII letter in the signature', `${H}.${P}.${S.slice(0, -1)}é`),
    c('emoji in the header', `😀${H}.${P}.${S}`),
    c('only dots', '..'),
    c('three dots', '...'),
    c('JSON instead of a JWT', JSON.stringify({ ...hdr, ...pl })),
    c('the string "null"', 'null'),
    c('the string "undefined"', 'undefined'),
    c('HTML/script text', '<script>alert(1)</script>'),
    c('quoted token', `"${V}"`),
    c('URL-encoded token', encodeURIComponent(`${V}"`)),
    // huge
    c('1 MB of "a"', 'a'.repeat(ONE_MB)),
    c('1 MB payload under a valid header', `${H}.${'e'.repeat(ONE_MB)}.${S}`),
    c('1 MB of dots', '.'.repeat(ONE_MB)),
    c('the real token repeated to 1 MB', V.repeat(Math.ceil(ONE_MB / V.length))),
    c('16 KiB + 1 (just over the size limit)', `${H}.${'A'.repeat(16 * 1024 + 1 - H.length - S.length - 2)}.${S}`),
    c('a real-key token with a 20 KB payload', jwt(hdr, { ...pl, userPayload: 'x'.repeat(20_000) }, key)),
    // NUL and non-UTF-8
    c('a single NUL', '\0'),
    c('NUL appended', `${V}\0`),
    c('NUL in the middle', `${H}.${P}\0.${S}`),
    c('NUL prefix', `\0${V}`),
    c('lone high surrogate inside', `${V.slice(0, 10)}\uD800${V.slice(10)}`),
    c('lone low surrogate at the end', `${V}\uDC00`),
    c('U+FFFF inside', `${H}.${P}.\uFFFF${S}`),
    c('U+FFFD replacement chars', `${H}\uFFFD.${P}.${S}`),
    c('latin1 bytes 0xFF 0xFE as chars', `${V}\u00ff\u00fe`),
    c('bytes of invalid UTF-8 decoded as latin1', Buffer.from([0xc3, 0x28, 0xa0, 0xa1]).toString('latin1') + V),
    // same length, one character replaced by a look-alike whose low byte is the original
    // (Latin-1 reading would keep only that byte): never the real token
    ...sameLengthSubstitutions(V).map(([name, forged]) => c(`one char ${name}`, forged)),
    ...sameLengthSubstitutions(csrf).map(([name, forged]) =>
      c(`valid token, anti-csrf with one char ${name}`, V, T, forged),
    ),
    // other tokens of the package in the wrong place
    c('the refresh token sent as the access token', A.refreshToken.value),
    c('the id-refresh token sent as the access token', A.idRefreshToken.value),
    c('the anti-CSRF token sent as the access token', A.antiCsrfToken),
    c("the other deployment's refresh token as the access token", other.refreshToken),
    // anti-csrf
    c('valid token, wrong anti-csrf', V, T, 'wrong'),
    c('valid token, empty anti-csrf', V, T, ''),
    c('valid token, anti-csrf of session B', V, T, B.antiCsrfToken),
    c('valid token, anti-csrf upper-cased', V, T, csrf.toUpperCase()),
    c('valid token, anti-csrf with a trailing space', V, T, `${csrf} `),
    c('valid token, anti-csrf one char short', V, T, csrf.slice(0, -1)),
    c('valid token, anti-csrf with NUL appended', V, T, `${csrf}\0`),
    c('valid token, anti-csrf twice comma-joined', V, T, `${csrf}, ${csrf}`),
    c('valid token, anti-csrf of 1 MB', V, T, 'a'.repeat(ONE_MB)),
    c('valid token, anti-csrf is the access token', V, T, V),
    c('expired token, correct anti-csrf', C.accessToken.value, T, C.antiCsrfToken),
    // arguments of the wrong type; missing as the original (the app passed a missing cookie through)
    ...wrongTypeTokens(c, 'access token', V, 12345, T),
    c('access token a String object', new String(V), G),
    c('access token a Symbol', Symbol('x'), G),
    c('anti-csrf undefined', V, G, undefined),
    c('anti-csrf an array holding the right value', V, G, [csrf]),
    c('anti-csrf a number', V, G, 1),
    c('anti-csrf an object', V, G, { csrf }),
  ];
}

/**
 * `s` with one character at several positions replaced by U+0100+c, U+FF00+c (same low
 * byte) and U+0080+c&0x7F: [name, forged] pairs, each of the same length as `s`.
 */
function sameLengthSubstitutions(s) {
  const out = [];
  const positions = [0, 1, Math.floor(s.length / 3), Math.floor(s.length / 2), s.length - 2, s.length - 1];
  for (const i of [...new Set(positions)]) {
    const ch = s.charCodeAt(i);
    for (const high of [0x100, 0xff00, 0x80]) {
      const unit = high === 0x80 ? 0x80 | (ch & 0x7f) : high + ch;
      out.push([
        `${s[i]}→U+${unit.toString(16).padStart(4, '0')} at ${i}`,
        s.slice(0, i) + String.fromCharCode(unit) + s.slice(i + 1),
      ]);
    }
  }
  return out;
}

/**
 * One subtest per case: `call(case)` rejects with the case's `expect` without a database
 * statement (`reached` says what did if one was sent); then no session row changed.
 */
async function rejectedBeforeTheDatabase(t, cases, call, reached) {
  for (const k of cases) {
    await t.test(k.name, async () => {
      const q0 = native.testQueryCount();
      const e = await rejection(call(k));
      assert.equal(e.errType, k.expect, `errType (${e.message})`);
      assert.equal(native.testQueryCount() - q0, 0, reached);
    });
  }
  assert.deepEqual(await sessionRows(), ctx.rowsBefore, 'no session row changed');
}

test('hostile access tokens (framework-free): documented error, no database statement', (t) =>
  rejectedBeforeTheDatabase(
    t,
    accessTokenCases(),
    (k) => ST.getSession(k.token, k.anti),
    'a hostile access token reached the database',
  ));

test('expired access tokens (clock moved forward) are TRY_REFRESH_TOKEN without a database statement', async (t) => {
  const { A } = ctx;
  const cases = [
    ['1 s past expiry', A.accessToken.expires - Date.now() + 1000],
    ['exactly at expiry', A.accessToken.expires - Date.now()],
    ['a year past expiry', A.accessToken.expires - Date.now() + 365 * 24 * 3600 * 1000],
  ];
  for (const [name, offset] of cases) {
    await t.test(name, async () => {
      native.testSetClockOffset(offset);
      try {
        const q0 = native.testQueryCount();
        const e = await rejection(ST.getSession(A.accessToken.value, A.antiCsrfToken));
        assert.equal(e.errType, TRY_REFRESH_TOKEN, e.message);
        assert.equal(native.testQueryCount() - q0, 0);
      } finally {
        native.testSetClockOffset(0);
      }
    });
  }
  // Control: the same token is fine again with the clock back.
  const ok = await ST.getSession(A.accessToken.value, A.antiCsrfToken);
  assert.equal(ok.session.handle, A.session.handle);
});

// ---------------------------------------------------------------------------------------
// 2. Hostile refresh tokens through the framework-free API.

function refreshTokenCases() {
  const { A, B, other } = ctx;
  const R = A.refreshToken.value;
  const RB = B.refreshToken.value;
  const raw = Buffer.from(R, 'base64url');
  const rawB = Buffer.from(RB, 'base64url');
  const U = UNAUTHORISED;
  const c = (name, token, expect = U) => ({ name, token, expect });
  return [
    c('empty string', ''),
    c('one char', 'x'),
    c('truncated by 1 char', R.slice(0, -1)),
    c('truncated by 4 chars', R.slice(0, -4)),
    c('truncated to half', R.slice(0, R.length >> 1)),
    c('first 20 chars', R.slice(0, 20)),
    c('first char removed', R.slice(1)),
    c('nonce altered (first char)', flip(R, 0)),
    c('ciphertext altered (middle char)', flip(R, 30)),
    c('tag altered (last char)', flip(R, -1)),
    c('tag altered (third-last char)', flip(R, -3)),
    c('only the unused trailing bit changed', flipTrailingBit(R)),
    c('padded with =', `${R}=`),
    c('padded with ==', `${R}==`),
    c('standard base64 alphabet', raw.toString('base64')),
    c('hex of the same bytes', raw.toString('hex')),
    c('leading space', ` ${R}`),
    c('trailing space', `${R} `),
    c('trailing newline', `${R}\n`),
    c('NUL appended', `${R}\0`),
    c('a single NUL', '\0'),
    c('NUL in the middle', `${R.slice(0, 40)}\0${R.slice(40)}`),
    c('lone surrogate inside', `${R.slice(0, 40)}\uD800${R.slice(40)}`),
    c('latin1 0xFF appended', `${R}\u00ff`),
    c('emoji appended', `${R}😀`),
    c('1 MB of "A"', 'A'.repeat(ONE_MB)),
    c('the real token repeated to 1 MB', R.repeat(Math.ceil(ONE_MB / R.length))),
    c('1025 chars of valid base64url', crypto.randomBytes(800).toString('base64url').slice(0, 1025)),
    c('1000 chars of random base64url', crypto.randomBytes(750).toString('base64url')),
    c('28 random bytes (nonce + tag size, nothing inside)', crypto.randomBytes(28).toString('base64url')),
    c('27 random bytes (shorter than nonce + tag)', crypto.randomBytes(27).toString('base64url')),
    c('the access token sent as the refresh token', A.accessToken.value),
    c('the id-refresh token sent as the refresh token', A.idRefreshToken.value),
    c('the anti-CSRF token sent as the refresh token', A.antiCsrfToken),
    c("the other deployment's refresh token", other.refreshToken),
    c("the other deployment's access token", other.accessToken),
    c(
      'nonce of A with the ciphertext of B (other session)',
      Buffer.concat([raw.subarray(0, 12), rawB.subarray(12)]).toString('base64url'),
    ),
    c(
      'nonce of B with the ciphertext of A',
      Buffer.concat([rawB.subarray(0, 12), raw.subarray(12)]).toString('base64url'),
    ),
    c('tokens of A and B concatenated', R + RB),
    c('token of A with a dot and B', `${R}.${RB}`),
    c('reversed', [...R].reverse().join('')),
    c('lower-cased', R.toLowerCase()),
    c('upper-cased', R.toUpperCase()),
    c('quoted', `"${R}"`),
    c('percent prefix', `%${R}`),
    c('comma-joined with itself', `${R},${R}`),
    c('JSON array text', JSON.stringify([R])),
    c('SQL text', "' OR 1=1 -- "),
    ...wrongTypeTokens(c, 'refresh token', R, 1, U),
  ];
}

test('hostile refresh tokens (framework-free): UNAUTHORISED/GENERAL_ERROR before any database statement', (t) =>
  rejectedBeforeTheDatabase(
    t,
    refreshTokenCases(),
    (k) => ST.refreshSession(k.token),
    'a forged refresh token reached the database',
  ));

test('authentic refresh tokens of dead sessions and replays: documented errors, no write', async (t) => {
  const { D, E, A } = ctx;
  const noWrite = async (fn) => {
    const before = await sessionRows();
    await fn();
    assert.deepEqual(await sessionRows(), before, 'no session row changed');
  };
  await t.test('refresh token of a revoked session → UNAUTHORISED', () =>
    noWrite(async () => {
      const e = await rejection(ST.refreshSession(E.refreshToken.value));
      assert.equal(e.errType, UNAUTHORISED, e.message);
    }),
  );
  await t.test('rotated-out refresh token → UNAUTHORISED_AND_TOKEN_THEFT_DETECTED with {sessionHandle, userId}', () =>
    noWrite(async () => {
      const e = await rejection(ST.refreshSession(D.refreshToken.value));
      assert.equal(e.errType, UNAUTHORISED_AND_TOKEN_THEFT_DETECTED, e.message);
      assert.deepEqual(e.err, { sessionHandle: D.session.handle, userId: 'user-d' });
    }),
  );
  await t.test('refresh token of a session past its expiry (clock moved) → UNAUTHORISED', () =>
    noWrite(async () => {
      native.testSetClockOffset(A.refreshToken.expires - Date.now() + 1000);
      try {
        const e = await rejection(ST.refreshSession(A.refreshToken.value));
        assert.equal(e.errType, UNAUTHORISED, e.message);
      } finally {
        native.testSetClockOffset(0);
      }
    }),
  );
  await t.test('child tokens of a session revoked after their first use → UNAUTHORISED', async () => {
    const { F, F1 } = ctx;
    // First use of the child access token promotes its refresh token (a legitimate write).
    const first = await ST.getSession(F1.newAccessToken.value, F1.newAntiCsrfToken);
    assert.equal(first.session.handle, F.session.handle);
    assert.equal(await ST.revokeSessionUsingSessionHandle(F.session.handle), true);
    await noWrite(async () => {
      const e = await rejection(ST.refreshSession(F1.newRefreshToken.value));
      assert.equal(e.errType, UNAUTHORISED, e.message);
    });
  });
  ctx.rowsBefore = await sessionRows();
});

// ---------------------------------------------------------------------------------------
// 3. The Express API with hand-made req objects: arrays/objects where strings belong.

function fakeRes() {
  const req = new http.IncomingMessage(null);
  req.method = 'GET';
  return new http.ServerResponse(req);
}
function setCookieNames(res) {
  const v = res.getHeader('Set-Cookie');
  return (v === undefined ? [] : [].concat(v)).map((l) => h.parseSetCookie(String(l)));
}
function clearedAll(res) {
  const cs = setCookieNames(res);
  return ['sAccessToken', 'sRefreshToken', 'sIdRefreshToken'].every((n) =>
    cs.some((c) => c.name === n && c.value === ''),
  );
}

function expressApiCases() {
  const { A, B } = ctx;
  const V = A.accessToken.value;
  const R = A.refreshToken.value;
  const I = A.idRefreshToken.value;
  const csrf = A.antiCsrfToken;
  const G = GENERAL_ERROR;
  const U = UNAUTHORISED;
  const T = TRY_REFRESH_TOKEN;
  const get = (name, req, expect, { csrfOn = false, res, clears } = {}) => ({
    name: `getSession: ${name}`,
    run: (r) => STX.getSession(req, r, csrfOn),
    res,
    expect,
    clears: clears ?? expect === U,
  });
  const refresh = (name, req, expect, { res, clears } = {}) => ({
    name: `refreshSession: ${name}`,
    run: (r) => STX.refreshSession(req, r),
    res,
    expect,
    clears: clears ?? expect === U,
  });
  return [
    get(
      'req.cookies.sAccessToken an array holding the real token',
      { headers: {}, cookies: { sAccessToken: [V], sIdRefreshToken: I } },
      T,
    ),
    get(
      'req.cookies.sAccessToken an object with toString',
      { headers: {}, cookies: { sAccessToken: { toString: () => V }, sIdRefreshToken: I } },
      T,
    ),
    get('req.cookies.sAccessToken a number', { headers: {}, cookies: { sAccessToken: 5, sIdRefreshToken: I } }, T),
    get(
      'req.cookies.sAccessToken a Buffer',
      { headers: {}, cookies: { sAccessToken: Buffer.from(V), sIdRefreshToken: I } },
      T,
    ),
    get('req.cookies.sIdRefreshToken an array', { headers: {}, cookies: { sAccessToken: V, sIdRefreshToken: [I] } }, U),
    get(
      'req.cookies.sIdRefreshToken an object',
      { headers: {}, cookies: { sAccessToken: V, sIdRefreshToken: { v: I } } },
      U,
    ),
    get('req.cookies.sIdRefreshToken null', { headers: {}, cookies: { sAccessToken: V, sIdRefreshToken: null } }, U),
    get(
      'req.cookies an empty object (cookie header ignored)',
      { headers: { cookie: `sAccessToken=${V}; sIdRefreshToken=${I}` }, cookies: {} },
      U,
    ),
    get(
      'req.cookies a string, header garbage',
      { headers: { cookie: 'sAccessToken=x; sIdRefreshToken=y' }, cookies: 'sAccessToken=x' },
      T,
    ),
    get(
      'req.headers.cookie an array of cookie lines',
      { headers: { cookie: [`sAccessToken=${V}`, `sIdRefreshToken=${I}`] } },
      U,
    ),
    get('req.headers.cookie an object', { headers: { cookie: { sAccessToken: V, sIdRefreshToken: I } } }, U),
    get('req.headers.cookie a number', { headers: { cookie: 7 } }, U),
    get(
      'anti-csrf header an array [wrong, right]',
      { headers: { 'anti-csrf': ['wrong', csrf] }, cookies: { sAccessToken: V, sIdRefreshToken: I } },
      T,
      { csrfOn: true },
    ),
    get(
      'anti-csrf header an array of an array',
      { headers: { 'anti-csrf': [[csrf]] }, cookies: { sAccessToken: V, sIdRefreshToken: I } },
      T,
      { csrfOn: true },
    ),
    get(
      'anti-csrf header an empty array',
      { headers: { 'anti-csrf': [] }, cookies: { sAccessToken: V, sIdRefreshToken: I } },
      T,
      { csrfOn: true },
    ),
    get(
      'anti-csrf header an object',
      { headers: { 'anti-csrf': { csrf } }, cookies: { sAccessToken: V, sIdRefreshToken: I } },
      T,
      { csrfOn: true },
    ),
    get(
      'anti-csrf header a number',
      { headers: { 'anti-csrf': 1 }, cookies: { sAccessToken: V, sIdRefreshToken: I } },
      T,
      { csrfOn: true },
    ),
    get(
      'anti-csrf header of session B',
      { headers: { 'anti-csrf': B.antiCsrfToken }, cookies: { sAccessToken: V, sIdRefreshToken: I } },
      T,
      { csrfOn: true },
    ),
    get(
      'anti-csrf header in upper-case name only (Node lower-cases; a raw object is not)',
      { headers: { 'ANTI-CSRF': csrf }, cookies: { sAccessToken: V, sIdRefreshToken: I } },
      T,
      { csrfOn: true },
    ),
    get(
      'enableCsrfProtection the string "true"',
      { headers: {}, cookies: { sAccessToken: V, sIdRefreshToken: I } },
      G,
      { csrfOn: 'true', clears: false },
    ),
    get('req null', null, G),
    get('req a string', 'GET /', G),
    get('req.headers null', { headers: null }, G),
    get('req.headers a string', { headers: 'cookie: x' }, G),
    get('res a plain object', { headers: {}, cookies: { sAccessToken: V, sIdRefreshToken: I } }, G, { res: {} }),
    get('res null', { headers: {}, cookies: {} }, G, { res: null }),
    refresh(
      'req.cookies.sRefreshToken an array holding the real token',
      { headers: {}, cookies: { sRefreshToken: [R], sIdRefreshToken: I } },
      U,
    ),
    refresh(
      'req.cookies.sRefreshToken an object',
      { headers: {}, cookies: { sRefreshToken: { R }, sIdRefreshToken: I } },
      U,
    ),
    refresh(
      'req.cookies.sIdRefreshToken an array',
      { headers: {}, cookies: { sRefreshToken: R, sIdRefreshToken: [I] } },
      U,
    ),
    refresh(
      'req.cookies.sRefreshToken the access token',
      { headers: {}, cookies: { sRefreshToken: V, sIdRefreshToken: I } },
      U,
    ),
    refresh(
      "req.cookies.sRefreshToken the other deployment's",
      { headers: {}, cookies: { sRefreshToken: ctx.other.refreshToken, sIdRefreshToken: I } },
      U,
    ),
    refresh('req.headers.cookie an array', { headers: { cookie: [`sRefreshToken=${R}`, `sIdRefreshToken=${I}`] } }, U),
    refresh('req null', null, G),
    refresh('res a plain object', { headers: {}, cookies: { sRefreshToken: R, sIdRefreshToken: I } }, G, { res: {} }),
  ];
}

test('Express API with hand-made req/res: arrays and objects where strings belong', async (t) => {
  for (const k of expressApiCases()) {
    await t.test(k.name, async () => {
      const res = k.res === undefined ? fakeRes() : k.res;
      const q0 = native.testQueryCount();
      const e = await rejection(k.run(res));
      assert.equal(e.errType, k.expect, `errType (${e.message})`);
      assert.equal(native.testQueryCount() - q0, 0, 'reached the database');
      if (k.res === undefined) {
        if (k.clears) assert.ok(clearedAll(res), 'UNAUTHORISED clears all three auth cookies');
        else assert.deepEqual(setCookieNames(res), [], 'no cookie set or cleared');
      }
    });
  }
  await t.test("an exception thrown by the app's req getter passes through untouched", async () => {
    const boom = new Error('app boom');
    const req = { headers: {} };
    Object.defineProperty(req, 'cookies', {
      get() {
        throw boom;
      },
    });
    await assert.rejects(STX.getSession(req, fakeRes(), false), (e) => e === boom);
  });
  assert.deepEqual(await sessionRows(), ctx.rowsBefore, 'no session row changed');
});

// ---------------------------------------------------------------------------------------
// 4. Real HTTP through Express, with and without cookie-parser.

function app(withCookieParser) {
  const a = express();
  if (withCookieParser) a.use(cookieParser());
  const route = (fn) => async (req, res) => {
    try {
      const s = await fn(req, res);
      res.json({ handle: s.getHandle(), userId: s.getUserId() });
    } catch (e) {
      remember(e);
      const status = ST.Error.isErrorFromAuth(e) ? STATUS[e.errType] : 599;
      res.status(status).json({ errType: e.errType, message: String(e.message) });
    }
  };
  a.get(
    '/s',
    route((req, res) => STX.getSession(req, res, false)),
  );
  a.post(
    '/s',
    route((req, res) => STX.getSession(req, res, true)),
  );
  a.post(
    '/refresh',
    route((req, res) => STX.refreshSession(req, res)),
  );
  return a;
}

/** http.request without any normalisation of our headers (arrays → repeated lines). */
function request(base, { method = 'GET', path: p = '/s', headers = {} }) {
  return new Promise((resolve, reject) => {
    const r = http.request(base + p, { method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    r.on('error', reject);
    r.end();
  });
}

/** Raw bytes on a socket: for requests Node's client refuses to send (NUL, huge, non-UTF-8). */
function rawRequest(base, head) {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), '127.0.0.1');
    const chunks = [];
    s.on('data', (d) => chunks.push(d));
    s.on('error', (e) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? null : reject(e)));
    s.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text });
    });
    // write, not end: a half-closed socket makes Node drop a response that is not ready yet.
    s.write(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from('\r\nConnection: close\r\n\r\n')]));
    s.setTimeout(10_000, () => s.destroy());
  });
}

function httpCases() {
  const { A, B, other } = ctx;
  const V = A.accessToken.value;
  const R = A.refreshToken.value;
  const I = A.idRefreshToken.value;
  const csrf = A.antiCsrfToken;
  const cases = [];
  const c = (name, opts) => cases.push({ name, server: 'plain', method: 'GET', path: '/s', headers: {}, ...opts });
  const ck = (cookie, extra = {}) => ({ cookie, ...extra });
  // getSession, no cookie-parser (the package parses the Cookie header itself)
  c('no cookies at all', { expect: 401 });
  c('only sIdRefreshToken', { headers: ck(`sIdRefreshToken=${I}`), expect: 440 });
  c('only sAccessToken', { headers: ck(`sAccessToken=${V}`), expect: 401 });
  c('duplicate sAccessToken, garbage first', {
    headers: ck(`sAccessToken=garbage; sAccessToken=${V}; sIdRefreshToken=${I}`),
    expect: 440,
  });
  c("duplicate sAccessToken, B's expired-looking garbage then valid", {
    headers: ck(`sAccessToken=${flip(V, -2)}; sAccessToken=${V}; sIdRefreshToken=${I}`),
    expect: 440,
  });
  c('duplicate sAccessToken in two Cookie header lines, garbage first', {
    headers: { cookie: ['sAccessToken=garbage', `sAccessToken=${V}; sIdRefreshToken=${I}`] },
    expect: 440,
  });
  c('duplicate sIdRefreshToken, first empty', {
    headers: ck(`sIdRefreshToken=; sAccessToken=garbage; sIdRefreshToken=${I}`),
    expect: 440,
  });
  c('sAccessToken value with ; inside quotes', {
    headers: ck(`sAccessToken="${V};x"; sIdRefreshToken=${I}`),
    expect: 440,
  });
  c('sAccessToken value with a comma', { headers: ck(`sAccessToken=${V},x; sIdRefreshToken=${I}`), expect: 440 });
  c('comma-separated cookie pairs (RFC 2965 style)', {
    headers: ck(`sAccessToken=${V}, sIdRefreshToken=${I}`),
    expect: 401,
  });
  c('sAccessToken in single quotes', { headers: ck(`sAccessToken='${V}'; sIdRefreshToken=${I}`), expect: 440 });
  c('sAccessToken with an unbalanced double quote', {
    headers: ck(`sAccessToken="${V}; sIdRefreshToken=${I}`),
    expect: 440,
  });
  c('sAccessToken ""', { headers: ck(`sAccessToken=""; sIdRefreshToken=${I}`), expect: 440 });
  c('sAccessToken empty', { headers: ck(`sAccessToken=; sIdRefreshToken=${I}`), expect: 440 });
  c('sAccessToken %00 (NUL after decoding)', {
    headers: ck(`sAccessToken=${V}%00; sIdRefreshToken=${I}`),
    expect: 440,
  });
  c('sAccessToken with a broken percent escape', {
    headers: ck(`sAccessToken=${V}%E0%A4%A; sIdRefreshToken=${I}`),
    expect: 440,
  });
  c('sAccessToken with %3B (an encoded ;)', {
    headers: ck(`sAccessToken=${V}%3Bx; sIdRefreshToken=${I}`),
    expect: 440,
  });
  c('sAccessToken = the refresh token', { headers: ck(`sAccessToken=${R}; sIdRefreshToken=${I}`), expect: 440 });
  c("sAccessToken = the other deployment's refresh token", {
    headers: ck(`sAccessToken=${other.refreshToken}; sIdRefreshToken=${I}`),
    expect: 440,
  });
  c('sAccessToken with alg none', {
    headers: ck(
      `sAccessToken=${b64u({ alg: 'none', kid: unb64u(V.split('.')[0]).kid })}.${V.split('.')[1]}.; sIdRefreshToken=${I}`,
    ),
    expect: 440,
  });
  c('sAccessToken with altered payload', {
    headers: ck(
      `sAccessToken=${V.split('.')[0]}.${b64u({ ...unb64u(V.split('.')[1]), userId: 'admin' })}.${V.split('.')[2]}; sIdRefreshToken=${I}`,
    ),
    expect: 440,
  });
  c('cookie names in another case', { headers: ck(`SACCESSTOKEN=${V}; sidrefreshtoken=${I}`), expect: 401 });
  c('cookie names with spaces inside', { headers: ck(`s AccessToken=${V}; sIdRefreshToken =${I}`), expect: 440 });
  for (const [name, forged] of sameLengthSubstitutions(V)) {
    c(`sAccessToken percent-encoded, decoding to one char ${name}`, {
      headers: ck(`sAccessToken=${encodeURIComponent(forged)}; sIdRefreshToken=${I}`),
      expect: 440,
    });
  }
  c('latin1 (non-UTF-8) bytes in the cookie value', {
    headers: ck(`sAccessToken=${V}\u00ff\u00fe; sIdRefreshToken=${I}`),
    expect: 440,
  });
  c('POST without anti-csrf header', {
    method: 'POST',
    headers: ck(`sAccessToken=${V}; sIdRefreshToken=${I}`),
    expect: 440,
  });
  c('POST with wrong anti-csrf', {
    method: 'POST',
    headers: ck(`sAccessToken=${V}; sIdRefreshToken=${I}`, { 'anti-csrf': 'wrong' }),
    expect: 440,
  });
  c('POST with empty anti-csrf', {
    method: 'POST',
    headers: ck(`sAccessToken=${V}; sIdRefreshToken=${I}`, { 'anti-csrf': '' }),
    expect: 440,
  });
  c('POST with anti-csrf of session B', {
    method: 'POST',
    headers: ck(`sAccessToken=${V}; sIdRefreshToken=${I}`, { 'anti-csrf': B.antiCsrfToken }),
    expect: 440,
  });
  c('POST with the right anti-csrf sent twice (Node joins them)', {
    method: 'POST',
    headers: ck(`sAccessToken=${V}; sIdRefreshToken=${I}`, { 'anti-csrf': [csrf, csrf] }),
    expect: 440,
  });
  c('POST with anti-csrf [wrong, right]', {
    method: 'POST',
    headers: ck(`sAccessToken=${V}; sIdRefreshToken=${I}`, { 'anti-csrf': ['wrong', csrf] }),
    expect: 440,
  });
  c('POST with the anti-csrf quoted', {
    method: 'POST',
    headers: ck(`sAccessToken=${V}; sIdRefreshToken=${I}`, { 'anti-csrf': `"${csrf}"` }),
    expect: 440,
  });
  c('POST with anti-csrf having a trailing comma', {
    method: 'POST',
    headers: ck(`sAccessToken=${V}; sIdRefreshToken=${I}`, { 'anti-csrf': `${csrf},` }),
    expect: 440,
  });
  // refreshSession, no cookie-parser
  const r = (name, opts) => c(`refresh: ${name}`, { method: 'POST', path: '/refresh', ...opts });
  r('no cookies', { expect: 401 });
  r('only sRefreshToken', { headers: ck(`sRefreshToken=${R}`), expect: 401 });
  r('only sIdRefreshToken', { headers: ck(`sIdRefreshToken=${I}`), expect: 401 });
  r('garbage sRefreshToken', { headers: ck(`sRefreshToken=garbage; sIdRefreshToken=${I}`), expect: 401 });
  r('sRefreshToken altered', { headers: ck(`sRefreshToken=${flip(R, 30)}; sIdRefreshToken=${I}`), expect: 401 });
  r('the access token as sRefreshToken', { headers: ck(`sRefreshToken=${V}; sIdRefreshToken=${I}`), expect: 401 });
  r("the other deployment's sRefreshToken", {
    headers: ck(`sRefreshToken=${other.refreshToken}; sIdRefreshToken=${other.idRefreshToken}`),
    expect: 401,
  });
  r('duplicate sRefreshToken, garbage first', {
    headers: ck(`sRefreshToken=garbage; sRefreshToken=${R}; sIdRefreshToken=${I}`),
    expect: 401,
  });
  r('sRefreshToken with ; in quotes', { headers: ck(`sRefreshToken="${R};x"; sIdRefreshToken=${I}`), expect: 401 });
  r('sRefreshToken with a comma', { headers: ck(`sRefreshToken=${R},${R}; sIdRefreshToken=${I}`), expect: 401 });
  r('sRefreshToken %00', { headers: ck(`sRefreshToken=${R}%00; sIdRefreshToken=${I}`), expect: 401 });
  r('sRefreshToken of 4 KB', { headers: ck(`sRefreshToken=${'A'.repeat(4096)}; sIdRefreshToken=${I}`), expect: 401 });
  // cookie-parser: j: JSON cookies give arrays/objects/numbers
  const p = (name, opts) => c(`cookie-parser: ${name}`, { server: 'parsed', ...opts });
  p('sAccessToken=j:[token] (an array)', {
    headers: ck(`sAccessToken=j:${JSON.stringify([V])}; sIdRefreshToken=${I}`),
    expect: 440,
  });
  p('sAccessToken=j:{…} (an object)', {
    headers: ck(`sAccessToken=j:${JSON.stringify({ t: V })}; sIdRefreshToken=${I}`),
    expect: 440,
  });
  p('sAccessToken=j:123 (a number)', { headers: ck(`sAccessToken=j:123; sIdRefreshToken=${I}`), expect: 440 });
  p('sAccessToken=j:true', { headers: ck(`sAccessToken=j:true; sIdRefreshToken=${I}`), expect: 440 });
  p('sAccessToken=j:null (left as text)', { headers: ck(`sAccessToken=j:null; sIdRefreshToken=${I}`), expect: 440 });
  p('sAccessToken=j:"\\u0000" (NUL string)', {
    headers: ck(`sAccessToken=j:"\\u0000"; sIdRefreshToken=${I}`),
    expect: 440,
  });
  p('sAccessToken=j:{broken', { headers: ck(`sAccessToken=j:{broken; sIdRefreshToken=${I}`), expect: 440 });
  p('sIdRefreshToken=j:[1] (an array)', { headers: ck(`sAccessToken=${V}; sIdRefreshToken=j:[1]`), expect: 401 });
  p('sIdRefreshToken=j:{} (an object)', { headers: ck(`sAccessToken=${V}; sIdRefreshToken=j:{}`), expect: 401 });
  p('duplicate sAccessToken, garbage first', {
    headers: ck(`sAccessToken=garbage; sAccessToken=${V}; sIdRefreshToken=${I}`),
    expect: 440,
  });
  p('sAccessToken with ; in quotes', { headers: ck(`sAccessToken="${V};x"; sIdRefreshToken=${I}`), expect: 440 });
  p('POST, anti-csrf [wrong, right]', {
    method: 'POST',
    headers: ck(`sAccessToken=${V}; sIdRefreshToken=${I}`, { 'anti-csrf': ['wrong', csrf] }),
    expect: 440,
  });
  p('refresh: sRefreshToken=j:[token]', {
    method: 'POST',
    path: '/refresh',
    headers: ck(`sRefreshToken=j:${JSON.stringify([R])}; sIdRefreshToken=${I}`),
    expect: 401,
  });
  p('refresh: sRefreshToken=j:{…}', {
    method: 'POST',
    path: '/refresh',
    headers: ck(`sRefreshToken=j:${JSON.stringify({ R })}; sIdRefreshToken=${I}`),
    expect: 401,
  });
  p('refresh: sIdRefreshToken=j:[…]', {
    method: 'POST',
    path: '/refresh',
    headers: ck(`sRefreshToken=${R}; sIdRefreshToken=j:["x"]`),
    expect: 401,
  });
  p('refresh: sRefreshToken=j:42', {
    method: 'POST',
    path: '/refresh',
    headers: ck(`sRefreshToken=j:42; sIdRefreshToken=${I}`),
    expect: 401,
  });
  return cases;
}

test('real HTTP through Express: hostile cookies and headers', async (t) => {
  ctx.servers = { plain: await h.listen(app(false)), parsed: await h.listen(app(true)) };
  const { A } = ctx;
  // Controls: a genuine request works through both servers (so the failures below are real).
  for (const s of ['plain', 'parsed']) {
    const ok = await request(ctx.servers[s].url, {
      method: 'POST',
      headers: {
        cookie: `sAccessToken=${A.accessToken.value}; sIdRefreshToken=${A.idRefreshToken.value}`,
        'anti-csrf': A.antiCsrfToken,
      },
    });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(JSON.parse(ok.body).handle, A.session.handle);
  }
  for (const k of httpCases()) {
    await t.test(k.name, async () => {
      const q0 = native.testQueryCount();
      const res = await request(ctx.servers[k.server].url, k);
      said.push(res.body);
      assert.equal(res.status, k.expect, `status (body: ${res.body.slice(0, 300)})`);
      assert.equal(native.testQueryCount() - q0, 0, 'reached the database');
      const setCookies = [].concat(res.headers['set-cookie'] || []).map(h.parseSetCookie);
      if (k.expect === 401) {
        for (const n of ['sAccessToken', 'sRefreshToken', 'sIdRefreshToken']) {
          assert.ok(
            setCookies.some((sc) => sc.name === n && sc.value === ''),
            `UNAUTHORISED clears ${n}`,
          );
        }
      } else {
        assert.deepEqual(setCookies, [], 'TRY_REFRESH_TOKEN sets or clears no cookie');
      }
    });
  }
  const { V, I } = { V: A.accessToken.value, I: A.idRefreshToken.value };
  const raws = [
    [
      'NUL byte in the Cookie header → 400 from Node, server survives',
      `GET /s HTTP/1.1\r\nHost: x\r\nCookie: sAccessToken=${V}\0; sIdRefreshToken=${I}`,
      400,
    ],
    [
      '1 MB Cookie header → 431 from Node, server survives',
      `GET /s HTTP/1.1\r\nHost: x\r\nCookie: sAccessToken=${'a'.repeat(ONE_MB)}; sIdRefreshToken=${I}`,
      431,
    ],
    [
      'invalid UTF-8 bytes in the Cookie header → TRY_REFRESH_TOKEN',
      `GET /s HTTP/1.1\r\nHost: x\r\nCookie: sAccessToken=${V}\u00c3\u0028\u00ff; sIdRefreshToken=${I}`,
      440,
    ],
    [
      'invalid UTF-8 bytes as the whole access token → TRY_REFRESH_TOKEN',
      `GET /s HTTP/1.1\r\nHost: x\r\nCookie: sAccessToken=\u00ff\u00fe\u00fd; sIdRefreshToken=${I}`,
      440,
    ],
    [
      'invalid UTF-8 in the anti-csrf header → TRY_REFRESH_TOKEN',
      `POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nanti-csrf: \u00ff\u00fe\r\nCookie: sAccessToken=${V}; sIdRefreshToken=${I}`,
      440,
    ],
    [
      'invalid UTF-8 in sRefreshToken → UNAUTHORISED',
      `POST /refresh HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nCookie: sRefreshToken=\u00ff${A.refreshToken.value}; sIdRefreshToken=${I}`,
      401,
    ],
  ];
  for (const [name, head, status] of raws) {
    for (const s of ['plain', 'parsed']) {
      await t.test(`${s}: ${name}`, async () => {
        const q0 = native.testQueryCount();
        const res = await rawRequest(ctx.servers[s].url, head);
        said.push(res.text);
        assert.equal(res.status, status, res.text.slice(0, 300));
        assert.equal(native.testQueryCount() - q0, 0, 'reached the database');
        const alive = await request(ctx.servers[s].url, {
          headers: { cookie: `sAccessToken=${V}; sIdRefreshToken=${I}` },
        });
        assert.equal(alive.status, 200, 'the server still answers');
      });
    }
  }
  assert.deepEqual(await sessionRows(), ctx.rowsBefore, 'no session row changed');
});

// ---------------------------------------------------------------------------------------
// 5. Tokens naming a key id newer than ours (another deployment's, or forged): the package
//    may have missed a rotation by another process, so it re-reads the key table once (at
//    most once per second, issue 4); it never writes anything for them (issue 6).

test('tokens with a newer key id: at most one key-table read, no write', async (t) => {
  // Past the package's 1-s reload throttle, so a reload would really happen now.
  await new Promise((r) => setTimeout(r, 1100));
  await t.test("the other deployment's access token → TRY_REFRESH_TOKEN, at most one key read", async () => {
    const q0 = native.testQueryCount();
    const e = await rejection(ST.getSession(ctx.other.accessToken, null));
    assert.equal(e.errType, TRY_REFRESH_TOKEN, e.message);
    assert.ok(native.testQueryCount() - q0 <= 1, 'a token of another deployment cost more than one key read');
  });
  await new Promise((r) => setTimeout(r, 1100));
  await t.test('forged kid one ms newer than our key, foreign signature → at most one key read', async () => {
    const [, P] = ctx.A.accessToken.value.split('.');
    const forged = jwt({ alg: 'HS256', typ: 'JWT', kid: `k${Number(ctx.K.created_at_time) + 1}` }, P, 'attacker');
    const q0 = native.testQueryCount();
    const e = await rejection(ST.getSession(forged, null));
    assert.equal(e.errType, TRY_REFRESH_TOKEN, e.message);
    assert.ok(native.testQueryCount() - q0 <= 1, 'a forged key id cost more than one key read');
  });
  await t.test('a flood of 300 forged newer key ids costs at most one key query per second', async () => {
    const [, P] = ctx.A.accessToken.value.split('.');
    const q0 = native.testQueryCount();
    const started = Date.now();
    for (let i = 0; i < 300; i++) {
      const forged = jwt({ alg: 'HS256', kid: `k${Number(ctx.K.created_at_time) + 1 + i}` }, P, 'attacker');
      const e = await rejection(ST.getSession(forged, null));
      assert.equal(e.errType, TRY_REFRESH_TOKEN);
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 300));
    }
    const seconds = (Date.now() - started) / 1000;
    const queries = native.testQueryCount() - q0;
    assert.ok(queries <= Math.ceil(seconds) + 1, `${queries} key queries in ${seconds.toFixed(1)} s`);
  });
  assert.deepEqual(await sessionRows(), ctx.rowsBefore, 'no session row changed');
});

// ---------------------------------------------------------------------------------------
// 6. After all that: the process is alive, genuine use works, and nothing secret was said.

test('the process survived and still serves genuine sessions', async () => {
  const s = await newSession('after-hostile', { ok: true }, undefined);
  const v = await ST.getSession(s.accessToken.value, s.antiCsrfToken);
  assert.equal(v.session.userId, 'after-hostile');
  const r = await ST.refreshSession(s.refreshToken.value);
  rawRefreshTokens.add(r.newRefreshToken.value);
  const rows = await h.query(`SELECT refresh_token_hash_2 FROM ${PREFIX}_sessions WHERE session_handle = ?`, [
    s.session.handle,
  ]);
  assert.equal(rows[0].refresh_token_hash_2, hex2(s.refreshToken.value), 'stored as a hash of a hash');
});

test('no key, password or raw refresh token in any message or log line', async () => {
  const secrets = [
    ...ctx.keyRows.map((k) => ['key', k.key_value]),
    ...ctx.otherKeys.map((k) => ['other deployment key', k.key_value]),
    ...[...rawRefreshTokens].map((t) => ['raw refresh token', t]),
    ...(h.db.password ? [['password', h.db.password]] : []),
  ];
  assert.ok(said.length > 200, `captured ${said.length} messages`);
  const text = said.join('\n');
  for (const [kind, secret] of secrets) {
    assert.ok(secret.length >= 16, `${kind} is long enough to scan for`);
    assert.ok(!text.includes(secret), `a ${kind} appears in a message or log line`);
  }
});

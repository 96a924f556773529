'use strict';
/**
 * Fuzz harness for the Cookie-header parser, which is JavaScript (lib/cookies.js cookieJar
 * then readCookie, as express.js calls them), so it cannot be a cargo-fuzz target.
 * Generates and mutates Cookie headers, feeds them to the parser, and checks that it never
 * throws and always returns a string or undefined; for headers built from known name=value
 * pairs it also checks the value returned (first occurrence wins). Seeded PRNG: a run is
 * reproducible from its seed.
 *
 *   node fuzz/cookie-header.js [--seconds=600] [--seed=N] [--huge-rate=0.0002]
 *
 * Exits 1 on the first failure, printing the input (JSON and hex of its UTF-16 code units).
 * Not part of `npm test`.
 */

const { cookieJar, readCookie, ACCESS_TOKEN, REFRESH_TOKEN, ID_REFRESH_TOKEN } = require('../lib/cookies.js');

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = /^--([^=]+)=(.*)$/.exec(a);
    if (!m) throw new Error(`bad argument ${a}`);
    return [m[1], m[2]];
  }),
);
const SECONDS = Number(args.seconds ?? 600);
const SEED = Number(args.seed ?? Date.now() % 2 ** 31) >>> 0;
const HUGE_RATE = Number(args['huge-rate'] ?? 0.0002); // share of executions that get a huge header
const SLOW_MS = 1000; // one call slower than this on a <= 1 MiB header is reported

// mulberry32: small, fast, seedable.
let state = SEED || 1;
function rnd() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(rnd() * n);
const pick = (a) => a[int(a.length)];
const chance = (p) => rnd() < p;

const NAMES = [ACCESS_TOKEN, REFRESH_TOKEN, ID_REFRESH_TOKEN];
const OTHER_NAMES = [
  '',
  ' ',
  'a',
  'sAccessTokens',
  'saccesstoken',
  'SACCESSTOKEN',
  ' sAccessToken',
  'sAccessToken ',
  'sAccess Token',
  'sAccessToken\0',
  '\tsRefreshToken',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '"sAccessToken"',
  'sAccessToken%00',
  '$Version',
  'sIdRefreshToken=x',
];
const NASTY = [
  ';',
  '=',
  '"',
  '""',
  '%',
  '%%',
  '%2',
  '%zz',
  '%25',
  '%3B',
  '%3D',
  '%22',
  '%00',
  '%C3%A9',
  '%E0%A4%A',
  '%FF',
  '%C0%80',
  '%ED%A0%80',
  '%F4%90%80%80',
  '\0',
  '\x7f',
  '\r\n',
  '\n',
  '\t',
  ' ',
  ',',
  '\\',
  '\\"',
  '\u00ff',
  '\u00e9',
  '\u0080',
  '\ud800',
  '\udc00',
  '\ud83d\ude00',
  '\ufeff',
  '\u2028',
  '\uffff',
  '=;',
  ';;;',
  '===',
  '"=";',
  'sAccessToken=',
  'sRefreshToken=',
  'sIdRefreshToken=',
  '; ',
  ' ; ',
];
const SAFE = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!*+/:@';

function randomLatin1(n) {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = int(256);
  return b.toString('latin1'); // what Node's HTTP parser makes of non-UTF-8 header bytes
}

function randomUtf16(n) {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(chance(0.8) ? int(128) : int(0x10000));
  return s;
}

function randomSafe(n) {
  let s = '';
  for (let i = 0; i < n; i++) s += SAFE[int(SAFE.length)];
  return s;
}

function randomPiece() {
  switch (int(6)) {
    case 0:
      return pick(NASTY);
    case 1:
      return randomLatin1(1 + int(16));
    case 2:
      return randomUtf16(1 + int(8));
    case 3:
      return `%${int(256).toString(16).padStart(2, '0')}`;
    default:
      return randomSafe(1 + int(24));
  }
}

function randomValue() {
  let v = '';
  const n = int(6);
  for (let i = 0; i < n; i++) v += randomPiece();
  if (chance(0.2)) v = `"${v}"`;
  return v;
}

function randomName() {
  return chance(0.6) ? pick(NAMES) : chance(0.5) ? pick(OTHER_NAMES) : randomPiece();
}

/** A header from random parts: names, values, separators, duplicates. */
function generate() {
  const parts = [];
  const n = int(12);
  for (let i = 0; i < n; i++) {
    if (chance(0.1)) {
      parts.push(randomPiece()); // a part without '='
    } else {
      parts.push(`${randomName()}${pick(['=', '=', '=', ' = ', '==', '=\0'])}${randomValue()}`);
    }
  }
  return parts.join(pick(['; ', ';', ' ;', ';;', '; ; ', ',', ';\t']));
}

/** A huge header: many separators, quotes, escapes or duplicate names. */
function huge() {
  const size = chance(0.8) ? 64 * 1024 + int(256 * 1024) : 1024 * 1024 + int(3 * 1024 * 1024);
  const unit = pick([
    ';',
    '=',
    ';=',
    '"',
    '%',
    '%2',
    '%25',
    `${pick(NAMES)}=`,
    `${pick(NAMES)}=x; `,
    'a=b; ',
    ' ',
    '\0',
    () => randomLatin1(64),
    () => randomPiece(),
  ]);
  const chunks = [];
  let len = 0;
  while (len < size) {
    const c = typeof unit === 'function' ? unit() : unit;
    chunks.push(c);
    len += c.length || 1;
  }
  let h = chunks.join('');
  if (chance(0.5)) h = `${h}; ${pick(NAMES)}=${randomValue()}`;
  if (chance(0.5)) h = `${pick(NAMES)}=${chance(0.5) ? '%'.repeat(size) : '"'.repeat(3) + 'x'.repeat(size)}; ${h}`;
  return h;
}

function mutate(s) {
  const ops = 1 + int(4);
  for (let k = 0; k < ops; k++) {
    const i = int(s.length + 1);
    switch (int(7)) {
      case 0: // insert
        s = s.slice(0, i) + randomPiece() + s.slice(i);
        break;
      case 1: // delete a range
        s = s.slice(0, i) + s.slice(i + int(8));
        break;
      case 2: // replace one code unit
        s = s.slice(0, i) + String.fromCharCode(chance(0.5) ? int(256) : int(0x10000)) + s.slice(i + 1);
        break;
      case 3: // duplicate a range
        {
          const j = i + int(32);
          s = s.slice(0, j) + s.slice(i, j) + s.slice(j);
        }
        break;
      case 4: // splice with another corpus entry
        if (corpus.length > 0) {
          const o = pick(corpus);
          s = s.slice(0, i) + o.slice(int(o.length + 1));
        }
        break;
      case 5: // add a cookie
        s = `${s}${pick([';', '; '])}${randomName()}=${randomValue()}`;
        break;
      default: // prepend a cookie (it wins: first occurrence)
        s = `${randomName()}=${randomValue()}; ${s}`;
    }
  }
  return s.length > 16 * 1024 * 1024 ? s.slice(0, 16 * 1024 * 1024) : s;
}

/**
 * A header built from known pairs with plain values (no ; " % and no edge whitespace), and
 * the value readCookie must return for `name`: the first pair whose trimmed name matches.
 */
function structured() {
  const pairs = [];
  const n = 1 + int(8);
  for (let i = 0; i < n; i++) {
    const name = chance(0.7) ? pick(NAMES) : randomSafe(1 + int(12));
    const value = chance(0.1) ? '' : randomSafe(int(40)) + (chance(0.3) ? '=' + randomSafe(int(5)) : '');
    pairs.push([name, value]);
  }
  const header = pairs
    .map(([k, v]) => `${pick(['', ' ', '\t'])}${k}${pick(['', ' '])}=${pick(['', ' '])}${v}${pick(['', ' '])}`)
    .join(pick([';', '; ', ' ; ']));
  const name = pick(NAMES);
  const first = pairs.find(([k]) => k === name);
  return { header, name, expected: first === undefined ? undefined : first[1] };
}

function hexUnits(s) {
  const out = [];
  for (let i = 0; i < Math.min(s.length, 4096); i++) out.push(s.charCodeAt(i).toString(16).padStart(4, '0'));
  return out.join(' ') + (s.length > 4096 ? ` … (${s.length} code units)` : '');
}

function fail(why, header, name, extra) {
  console.error(`FAIL (seed ${SEED}, exec ${execs}): ${why}`);
  console.error(`name: ${JSON.stringify(name)}`);
  console.error(`header (${header.length} code units): ${JSON.stringify(header.slice(0, 4096))}`);
  console.error(`header hex (UTF-16 code units): ${hexUnits(header)}`);
  if (extra !== undefined) console.error(extra);
  process.exit(1);
}

/** Coarse behaviour of one call, to keep inputs that did something new. */
function signature(header, name, result) {
  const hasPct = result !== undefined && result.includes('%');
  const bucket = (n) => (n === 0 ? 0 : 1 + Math.floor(Math.log2(n)));
  return [
    NAMES.includes(name) ? name : 'other',
    result === undefined ? 'u' : 's',
    result === undefined ? 0 : bucket(result.length),
    bucket(header.length),
    hasPct,
    result !== undefined && result.includes('"'),
    (header.match(/;/g) || []).length > 16,
  ].join('|');
}

const corpus = [];
const seen = new Set();
const MAX_CORPUS = 2000;
let execs = 0;
let hugeExecs = 0;
let structuredExecs = 0;
let slowest = { ms: 0, len: 0 };

function check(req, name, header) {
  let result;
  const t0 = process.hrtime.bigint();
  try {
    result = readCookie(cookieJar(req), name);
  } catch (e) {
    fail(`readCookie threw ${e && e.stack ? e.stack : e}`, String(header), name);
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  execs++;
  if (result !== undefined && typeof result !== 'string') {
    fail(`readCookie returned ${typeof result}`, String(header), name);
  }
  const len = typeof header === 'string' ? header.length : 0;
  if (ms > slowest.ms) slowest = { ms, len };
  if (ms > SLOW_MS && len <= 1024 * 1024) fail(`one call took ${ms.toFixed(0)} ms`, header, name);
  return result;
}

/** Non-string and odd request shapes: readCookie must still return undefined or a string. */
function oddRequest() {
  const v = pick([undefined, null, 42, true, ['sAccessToken=a'], { toString: () => 'x' }, Symbol('s'), 10n]);
  const cookies = pick([
    undefined,
    null,
    'sAccessToken=a',
    {},
    { sAccessToken: 'a' },
    { sAccessToken: 1 },
    { sAccessToken: ['a'] },
    Object.create(null),
    [],
  ]);
  const req = chance(0.5) ? { headers: { cookie: v } } : { headers: chance(0.5) ? undefined : {}, cookies };
  if (chance(0.3)) req.cookies = cookies;
  return req;
}

const start = Date.now();
const deadline = start + SECONDS * 1000;
let lastReport = start;
while (Date.now() < deadline) {
  for (let batch = 0; batch < 200; batch++) {
    const r = rnd();
    if (r < 0.05) {
      check(oddRequest(), pick(NAMES), '');
      continue;
    }
    if (r < 0.2) {
      const { header, name, expected } = structured();
      structuredExecs++;
      const got = check({ headers: { cookie: header } }, name, header);
      if (got !== expected) fail(`expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`, header, name);
      continue;
    }
    let header;
    if (r < 0.2 + HUGE_RATE) {
      header = huge();
      hugeExecs++;
    } else if (corpus.length > 0 && r < 0.7) {
      header = mutate(pick(corpus));
    } else {
      header = generate();
    }
    const name = chance(0.85) ? pick(NAMES) : randomName();
    const result = check({ headers: { cookie: header } }, name, header);
    // also through cookie-parser's shape: req.cookies wins over the header
    if (chance(0.02)) check({ cookies: { [name]: result }, headers: { cookie: header } }, name, header);
    if (header.length <= 64 * 1024) {
      const sig = signature(header, name, result);
      if (!seen.has(sig)) {
        seen.add(sig);
        if (corpus.length < MAX_CORPUS) corpus.push(header);
        else corpus[int(MAX_CORPUS)] = header;
      }
    }
  }
  const now = Date.now();
  if (now - lastReport > 30000) {
    lastReport = now;
    console.log(
      `#${execs} ${((now - start) / 1000).toFixed(0)}s corpus ${corpus.length} signatures ${seen.size} huge ${hugeExecs} slowest ${slowest.ms.toFixed(1)}ms (len ${slowest.len})`,
    );
  }
}
const secs = (Date.now() - start) / 1000;
console.log(
  `DONE seed ${SEED}: ${execs} executions in ${secs.toFixed(0)} s (${(execs / secs).toFixed(0)}/s), ` +
    `corpus ${corpus.length}, signatures ${seen.size}, structured ${structuredExecs}, huge ${hugeExecs}, ` +
    `slowest ${slowest.ms.toFixed(1)} ms (header length ${slowest.len}), failures 0`,
);

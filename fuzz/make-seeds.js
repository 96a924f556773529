'use strict';
/**
 * Writes the seed inputs in fuzz/seeds/<target>/ (committed; the fuzzers' own corpora go to
 * the ignored fuzz/corpus/). Tokens are made with the fixed keys of src/fuzz_api.rs, so the
 * fuzzers start from inputs that are accepted. Deterministic: running it again rewrites the
 * same files.  node fuzz/make-seeds.js
 */

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

// Must equal the constants in src/fuzz_api.rs.
const SIGNING_SECRET = 'fuzz-signing-secret';
const SIGNING_KID = 'k1';
const REFRESH_KEY = 'fuzz-refresh-key';
const LATER = 1_800_000_000_000; // after fuzz_api::NOW_MS

const root = path.join(__dirname, 'seeds');
function write(target, name, bytes) {
  const dir = path.join(root, target);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, name), bytes);
}
const b64u = (b) => Buffer.from(b).toString('base64url');

// ---- access_token: mode byte 0 = token text, 1 = payload (signed, key's header), 2 = header\0payload
// jsonwebtoken serialises Header fields in declaration order: typ, alg, kid.
const HEADER = JSON.stringify({ typ: 'JWT', alg: 'HS256', kid: SIGNING_KID });
function jwt(header, payload) {
  const signed = `${b64u(header)}.${b64u(payload)}`;
  const sig = crypto.createHmac('sha256', SIGNING_SECRET).update(signed).digest('base64url');
  return `${signed}.${sig}`;
}
const rt = crypto.createHash('sha256').update('r').digest('hex');
const payloads = {
  minimal: { sessionHandle: 'h', userId: 'u', rt, expiryTime: LATER },
  full: {
    sessionHandle: '6f1c0d9e-2f4b-4c8e-9a51-3b7d2e0c4a11',
    userId: 'user@example.com',
    rt,
    prt: rt,
    antiCsrfToken: 'a1b2c3',
    expiryTime: LATER,
    userPayload: { role: 'admin', n: [1, 2.5, -3e10, null, true], s: 'é\u0000"\\' },
  },
  nullPayload: { sessionHandle: 'h', userId: 'u', rt, expiryTime: LATER, userPayload: null },
  expired: { sessionHandle: 'h', userId: 'u', rt, expiryTime: 1 },
};
for (const [name, p] of Object.entries(payloads)) {
  const json = JSON.stringify(p);
  write('access_token', `token-${name}`, Buffer.concat([Buffer.from([0]), Buffer.from(jwt(HEADER, json))]));
  write('access_token', `payload-${name}`, Buffer.concat([Buffer.from([1]), Buffer.from(json)]));
}
const headers = {
  key: HEADER,
  none: JSON.stringify({ alg: 'none', kid: SIGNING_KID }),
  rs256: JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: 'k1700000000000' }),
  jwk: JSON.stringify({
    alg: 'ES256',
    kid: 'k2',
    jwk: {
      kty: 'EC',
      crv: 'P-256',
      x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
      y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
    },
    x5c: ['MIIB'],
    crit: ['exp'],
  }),
  nokid: JSON.stringify({ alg: 'HS256' }),
};
for (const [name, h] of Object.entries(headers)) {
  write(
    'access_token',
    `header-${name}`,
    Buffer.concat([Buffer.from([2]), Buffer.from(h), Buffer.from([0]), Buffer.from(JSON.stringify(payloads.minimal))]),
  );
}

// ---- refresh_token: mode byte 0 = token text, 1 = 12-byte nonce then plaintext (sealed)
const key = crypto.createHash('sha256').update(REFRESH_KEY).digest();
function seal(nonce, plain) {
  const c = crypto.createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  return b64u(Buffer.concat([nonce, body]));
}
const nonce = Buffer.alloc(12, 7);
const plains = {
  parent: Buffer.concat([Buffer.from([0]), Buffer.from('6f1c0d9e-2f4b-4c8e-9a51-3b7d2e0c4a11')]),
  child: Buffer.concat([Buffer.from([1]), crypto.createHash('sha256').update('p').digest(), Buffer.from('h')]),
  empty: Buffer.alloc(0),
  badUtf8: Buffer.from([0, 0xff, 0xfe]),
};
for (const [name, p] of Object.entries(plains)) {
  write('refresh_token', `token-${name}`, Buffer.concat([Buffer.from([0]), Buffer.from(seal(nonce, p))]));
  write('refresh_token', `plain-${name}`, Buffer.concat([Buffer.from([1]), nonce, p]));
}

// ---- config: the JSON text init receives (functions marked "\u0000function")
const minimal = {
  mysql: { user: 'root', password: '', database: 'test' },
  tokens: { refreshToken: { renewTokenPath: '/refresh' } },
  cookie: { domain: 'example.com' },
};
const full = {
  mysql: {
    host: 'db',
    port: 3307,
    user: 'u',
    password: 'p',
    database: 'auth',
    connectionLimit: 10,
    tables: { signingKey: 'sk', refreshTokens: 'rt' },
    ssl: { ca: '-----BEGIN CERTIFICATE-----', rejectUnauthorized: false },
  },
  tokens: {
    accessToken: {
      signingKey: { dynamic: false, updateInterval: 48, get: '\u0000function' },
      validity: 600,
      blacklisting: true,
      accessTokenPath: '/api',
    },
    refreshToken: { validity: 720, removalCronjobInterval: '0 */5 * * * *', renewTokenPath: '/refresh' },
    enableAntiCsrf: false,
  },
  logging: { info: '\u0000function', error: '\u0000function' },
  cookie: { domain: 'example.com', secure: true, sameSite: 'none' },
};
write('config', 'minimal', JSON.stringify(minimal));
write('config', 'full', JSON.stringify(full));
write('config', 'ssl-true', JSON.stringify({ ...minimal, mysql: { ...minimal.mysql, ssl: true } }));
write(
  'config',
  'cron-sparse',
  JSON.stringify({
    ...minimal,
    tokens: { refreshToken: { renewTokenPath: '/r', removalCronjobInterval: '0 0 0 29 2 *' } },
  }),
);
console.log(`seeds written to ${root}`);

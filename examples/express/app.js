'use strict';
/**
 * Example Express app: login → an authenticated API → a CSRF-protected POST → refresh →
 * logout, against MySQL. `npm run example` starts it and walks through the whole flow as a
 * client would; add `-- --serve` to keep it running (http://localhost:3000).
 *
 * It also serves a page (public/index.html + frontend.js, bundled on the fly with esbuild)
 * that does the same flow in a browser through the `supertokens-website` 4.x SDK;
 * __test__/browser.test.js drives it in headless Chromium.
 *
 * Environment: PORT (default 3000), MYSQL_* (see scripts/with-mysql.js) and
 * ACCESS_TOKEN_VALIDITY (seconds, default 60, at least 10).
 */

const path = require('node:path');
const express = require('express');
const SuperTokens = require('../../express.js');

const PORT = Number(process.env.PORT || 3000);

/** The package's config; `env` supplies MYSQL_* and ACCESS_TOKEN_VALIDITY. */
function config(env = process.env) {
  return {
    mysql: {
      host: env.MYSQL_HOST || '127.0.0.1',
      port: Number(env.MYSQL_PORT || 3306),
      user: env.MYSQL_USER || 'root',
      password: env.MYSQL_PASSWORD || '',
      database: env.MYSQL_DATABASE || 'test',
      tables: { signingKey: 'example_signing_key', refreshTokens: 'example_refresh_token' },
    },
    tokens: {
      accessToken: { validity: Number(env.ACCESS_TOKEN_VALIDITY || 60) },
      refreshToken: { renewTokenPath: '/api/refresh' },
    },
    cookie: { domain: 'localhost', secure: false },
    logging: {
      info: (m) => console.log(`[supertokens] ${m}`),
      error: (e) => console.error(`[supertokens] ${e.message}`),
    },
  };
}

/** Turns the package's errors into the HTTP answers the frontend SDK expects. */
function sendAuthError(res, err, next) {
  if (!SuperTokens.Error.isErrorFromAuth(err)) return next(err);
  switch (err.errType) {
    case SuperTokens.Error.TRY_REFRESH_TOKEN:
      return res.status(440).json({ error: 'try refresh token' });
    case SuperTokens.Error.UNAUTHORISED:
    case SuperTokens.Error.UNAUTHORISED_AND_TOKEN_THEFT_DETECTED:
      return res.status(401).json({ error: 'please log in' });
    default:
      return next(err);
  }
}

/** Middleware: verifies the session; POST/PUT/DELETE also need the anti-csrf header. */
function requireSession(req, res, next) {
  SuperTokens.getSession(req, res, req.method !== 'GET')
    .then((session) => {
      req.session = session;
      next();
    })
    .catch((err) => sendAuthError(res, err, next));
}

let bundled = null;
/** The page's script: frontend.js and the SDK, bundled once per process, in memory. */
function pageBundle() {
  if (bundled === null) {
    // esbuild is a devDependency, loaded only when the page is asked for.
    bundled = require('esbuild')
      .build({
        entryPoints: [path.join(__dirname, 'frontend.js')],
        bundle: true,
        write: false,
        format: 'iife',
        platform: 'browser',
        target: 'es2019',
        // The SDK's 4.x build reads `process.env.TEST_MODE` (webpack 4 used to polyfill process).
        define: { process: '{"env":{}}' },
        logLevel: 'silent',
      })
      .then((r) => r.outputFiles[0].text);
    bundled.catch(() => {
      bundled = null; // try again on the next request
    });
  }
  return bundled;
}

function createApp() {
  const app = express();
  app.use(express.json());

  // The browser page: same origin as the API, so the cookies and headers need no CORS.
  app.get('/bundle.js', (req, res, next) => {
    pageBundle().then((js) => res.type('application/javascript').set('Cache-Control', 'no-cache').send(js), next);
  });
  app.use(express.static(path.join(__dirname, 'public')));

  app.post('/api/login', async (req, res, next) => {
    try {
      // Authenticate the user however you like; here any name is accepted.
      const userId = String((req.body && req.body.user) || 'User1');
      const session = await SuperTokens.createNewSession(res, userId, { name: userId }, { visits: 0 });
      res.json({ userId: session.getUserId() });
    } catch (err) {
      sendAuthError(res, err, next);
    }
  });

  app.get('/api/me', requireSession, async (req, res) => {
    res.json({ userId: req.session.getUserId(), jwtPayload: req.session.getJWTPayload() });
  });

  app.post('/api/visit', requireSession, async (req, res, next) => {
    try {
      const data = await req.session.getSessionData();
      data.visits += 1;
      await req.session.updateSessionData(data);
      res.json(data);
    } catch (err) {
      sendAuthError(res, err, next);
    }
  });

  app.post('/api/refresh', async (req, res, next) => {
    try {
      await SuperTokens.refreshSession(req, res);
      res.json({ refreshed: true });
    } catch (err) {
      sendAuthError(res, err, next);
    }
  });

  app.post('/api/logout', requireSession, async (req, res, next) => {
    try {
      await req.session.revokeSession();
      res.json({ loggedOut: true });
    } catch (err) {
      sendAuthError(res, err, next);
    }
  });

  app.options(/^\/api\//, (req, res) => {
    SuperTokens.setRelevantHeadersForOptionsAPI(res);
    res.sendStatus(204);
  });
  return app;
}

/** A minimal cookie-carrying client, as a browser would behave. */
function client(base) {
  const jar = new Map();
  let antiCsrf = null;
  return async function call(method, path) {
    const cookies = [...jar].filter(([, c]) => path.startsWith(c.path)).map(([n, c]) => `${n}=${c.value}`);
    const headers = { 'content-type': 'application/json' };
    if (cookies.length) headers.cookie = cookies.join('; ');
    if (antiCsrf) headers['anti-csrf'] = antiCsrf;
    const res = await fetch(base + path, { method, headers, body: method === 'POST' ? '{}' : undefined });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split('; ');
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      const p = attrs.find((a) => a.startsWith('Path=')).slice(5);
      if (value === '') jar.delete(name);
      else jar.set(name, { value, path: p });
    }
    antiCsrf = res.headers.get('anti-csrf') || antiCsrf;
    return { status: res.status, body: await res.json() };
  };
}

async function demo(base) {
  const call = client(base);
  const steps = [
    ['log in', 'POST', '/api/login', 200],
    ['call an authenticated API', 'GET', '/api/me', 200],
    ['call a CSRF-protected POST', 'POST', '/api/visit', 200],
    ['refresh the session', 'POST', '/api/refresh', 200],
    ['use the refreshed session', 'GET', '/api/me', 200],
    ['log out', 'POST', '/api/logout', 200],
    ['call the API after logout', 'GET', '/api/me', 401],
  ];
  for (const [what, method, path, expected] of steps) {
    const r = await call(method, path);
    console.log(
      `${r.status === expected ? 'ok  ' : 'FAIL'} ${what}: ${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`,
    );
    if (r.status !== expected) throw new Error(`${what}: expected HTTP ${expected}, got ${r.status}`);
  }
}

async function main() {
  await SuperTokens.init(config());
  const app = createApp();
  const server = app.listen(PORT, () => console.log(`example app on http://localhost:${PORT}`));
  await new Promise((r) => server.once('listening', r));
  try {
    await demo(`http://localhost:${PORT}`);
  } finally {
    if (!process.argv.includes('--serve')) {
      server.close();
      await SuperTokens.close();
    } else {
      console.log(`serving; open http://localhost:${PORT}/ for the browser page (uses supertokens-website)`);
    }
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

module.exports = { createApp, config };

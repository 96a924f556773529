'use strict';
/**
 * End to end in a real browser: the example app's page (examples/express/public) uses the
 * supertokens-website 4.x SDK, in headless Chromium (Debian's `chromium`, driven by
 * playwright-core; no browser download), to log in, call an authenticated API and a
 * CSRF-protected POST, survive a real access-token expiry through the SDK's automatic
 * refresh, and log out.
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const express = require('express');
const h = require('./helpers.js');

const CHROMIUM = '/usr/bin/chromium';
const PREFIX = `browser_${process.pid}`; // own tables, even when two runs overlap
const ACCESS_TOKEN_VALIDITY = 10; // seconds: the package's minimum

const skip = fs.existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the browser test`;

test(
  'the example page logs in, calls APIs, survives an access-token expiry and logs out',
  { skip, timeout: 120_000 },
  async (t) => {
    const { chromium } = require('playwright-core');
    const SuperTokens = require('../express.js');
    const { createApp, config } = require('../examples/express/app.js');

    // Cleanups run last-registered first, whatever step failed.
    const cleanups = [];
    t.after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    // The example's config, on tables of this file's own and with the shortest validity.
    await h.dropTables(PREFIX);
    const cfg = config({
      MYSQL_HOST: h.db.host,
      MYSQL_PORT: String(h.db.port),
      MYSQL_USER: h.db.user,
      MYSQL_PASSWORD: h.db.password,
      MYSQL_DATABASE: h.db.database,
      ACCESS_TOKEN_VALIDITY: String(ACCESS_TOKEN_VALIDITY),
    });
    cfg.mysql.tables = { signingKey: `${PREFIX}_keys`, refreshTokens: `${PREFIX}_sessions` };
    const serverErrors = [];
    cfg.logging = { info: () => {}, error: (e) => serverErrors.push(e) };
    await SuperTokens.init(cfg);
    cleanups.push(async () => {
      await SuperTokens.close();
      await h.dropTables(PREFIX);
      await h.endQueries();
    });

    // The example app, wrapped to count the refresh API calls the server receives.
    let serverRefreshes = 0;
    const outer = express();
    outer.use((req, res, next) => {
      if (req.method === 'POST' && req.path === '/api/refresh') serverRefreshes += 1;
      next();
    });
    outer.use(createApp());
    const server = http.createServer(outer);
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((r) => server.close(r)));
    // The cookies are set for Domain=localhost, so the page is opened as localhost.
    const origin = `http://localhost:${server.address().port}`;

    const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-chromium-'));
    cleanups.push(async () => fs.rmSync(userDataDir, { recursive: true, force: true }));
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    cleanups.push(() => context.close().catch(() => {}));

    // Refresh calls seen by the browser, and anything the page logs as an error.
    const browserRefreshes = [];
    context.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/refresh') browserRefreshes.push(r.url());
    });
    const pageErrors = [];
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });

    await page.goto(`${origin}/`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
    assert.equal(await page.textContent('#session'), 'no', 'no session before logging in');

    /** Clicks a button and returns the outcome the page recorded for it. */
    async function step(button) {
      const before = await page.evaluate(() => window.results.length);
      await page.click(`#${button}`);
      await page.waitForFunction((n) => window.results.length > n, before, { timeout: 15_000 });
      return page.evaluate(() => window.results[window.results.length - 1]);
    }
    const documentCookie = () => page.evaluate(() => document.cookie);
    const cookieNames = (s) =>
      s
        .split(';')
        .map((c) => c.trim().split('=')[0])
        .filter(Boolean);

    // 1. Log in.
    await page.fill('#user', 'browser-user');
    const login = await step('login');
    assert.deepEqual(login, { step: 'login', status: 200, body: { userId: 'browser-user' }, sessionExists: true });
    assert.equal(await page.textContent('#session'), 'yes');

    // The page can see the id-refresh token, never the access or refresh token.
    const visible = cookieNames(await documentCookie());
    assert.ok(visible.includes('sIdRefreshToken'), `document.cookie should show sIdRefreshToken: ${visible}`);
    assert.ok(visible.includes('sIRTFrontend'), `the SDK's own cookie from the id-refresh-token header: ${visible}`);
    assert.ok(!visible.includes('sAccessToken'), 'document.cookie must not show sAccessToken');
    assert.ok(!visible.includes('sRefreshToken'), 'document.cookie must not show sRefreshToken');
    // ...though the browser holds both (HttpOnly), sRefreshToken only for the refresh path.
    const jar = Object.fromEntries((await context.cookies()).map((c) => [c.name, c]));
    assert.equal(jar.sAccessToken?.httpOnly, true, 'sAccessToken is stored, HttpOnly');
    assert.equal(jar.sRefreshToken?.httpOnly, true, 'sRefreshToken is stored, HttpOnly');
    assert.equal(jar.sRefreshToken.path, '/api/refresh');
    assert.equal(jar.sIdRefreshToken?.httpOnly, false);
    // Even a page under the refresh path cannot read sRefreshToken.
    const underRefresh = await context.newPage();
    await underRefresh.goto(`${origin}/api/refresh`); // a GET: Express's 404 page, no refresh
    const visibleThere = cookieNames(await underRefresh.evaluate(() => document.cookie));
    await underRefresh.close();
    assert.ok(visibleThere.includes('sIdRefreshToken'), `under /api/refresh: ${visibleThere}`);
    assert.ok(
      !visibleThere.includes('sRefreshToken'),
      `sRefreshToken is HttpOnly even on its own path: ${visibleThere}`,
    );
    assert.ok(!visibleThere.includes('sAccessToken'), `under /api/refresh: ${visibleThere}`);
    const accessExpiresMs = jar.sAccessToken.expires * 1000;
    const localAntiCsrf = await page.evaluate(() => window.localStorage.getItem('anti-csrf-localstorage'));
    assert.ok(localAntiCsrf, 'the SDK kept the anti-csrf header of the login response');

    // 2. An authenticated API.
    const meOk = {
      step: 'me',
      status: 200,
      body: { userId: 'browser-user', jwtPayload: { name: 'browser-user' } },
      sessionExists: true,
    };
    assert.deepEqual(await step('me'), meOk);

    // 3. A CSRF-protected POST: the SDK adds the anti-csrf header...
    const visit = await step('visit');
    assert.deepEqual(visit, { step: 'visit', status: 200, body: { visits: 1 }, sessionExists: true });
    // ...without which the same cookies are refused (440 = try refresh, so nothing is cleared).
    const forged = await page.request.post(`${origin}/api/visit`, { data: {} });
    assert.equal(forged.status(), 440, 'a POST with the session cookies but no anti-csrf header is refused');

    // 4. Wait for the access token to expire for real, then call the API: the SDK gets 440,
    // calls the refresh API once and retries.
    assert.equal(browserRefreshes.length, 0, 'no refresh before the access token expired');
    const wait = accessExpiresMs - Date.now() + 1000;
    assert.ok(
      wait <= (ACCESS_TOKEN_VALIDITY + 2) * 1000,
      `the access token lives ${ACCESS_TOKEN_VALIDITY} s (wait ${wait} ms)`,
    );
    await new Promise((r) => setTimeout(r, Math.max(0, wait)));
    assert.equal(
      (await context.cookies()).find((c) => c.name === 'sAccessToken'),
      undefined,
      'the browser dropped the expired sAccessToken',
    );
    const idBefore = await page.evaluate(() => document.cookie.match(/sIRTFrontend=([^;]*)/)[1]);
    assert.deepEqual(await step('me'), meOk, 'the SDK refreshed and retried');
    const idAfter = await page.evaluate(() => document.cookie.match(/sIRTFrontend=([^;]*)/)[1]);
    assert.notEqual(idAfter, idBefore, 'the refresh rotated the id-refresh token');
    assert.ok(
      (await context.cookies()).some((c) => c.name === 'sAccessToken'),
      'a new sAccessToken after the refresh',
    );
    const newAntiCsrf = await page.evaluate(() => window.localStorage.getItem('anti-csrf-localstorage'));
    assert.notEqual(newAntiCsrf, localAntiCsrf, 'the SDK took the new anti-csrf token from the refresh response');

    // The CSRF-protected POST works with the refreshed session's anti-csrf token.
    const visitAgain = await step('visit');
    assert.deepEqual(visitAgain, { step: 'visit', status: 200, body: { visits: 2 }, sessionExists: true });
    const cookiesNow = cookieNames(await documentCookie());
    assert.ok(cookiesNow.includes('sIdRefreshToken'), `after the refresh: ${cookiesNow}`);
    assert.ok(
      !cookiesNow.includes('sAccessToken') && !cookiesNow.includes('sRefreshToken'),
      `after the refresh: ${cookiesNow}`,
    );

    // 5. Log out: the server clears the cookies and the SDK forgets the session.
    const logout = await step('logout');
    assert.deepEqual(logout, { step: 'logout', status: 200, body: { loggedOut: true }, sessionExists: false });
    assert.equal(await page.textContent('#session'), 'no');
    const left = cookieNames(await documentCookie());
    assert.ok(
      !left.includes('sIdRefreshToken') && !left.includes('sIRTFrontend'),
      `no session cookies after logout: ${left}`,
    );
    assert.deepEqual(
      (await context.cookies()).filter((c) => c.name.startsWith('s')).map((c) => c.name),
      [],
    );
    assert.equal(
      await page.evaluate(() => window.localStorage.getItem('anti-csrf-localstorage')),
      null,
      'the SDK dropped the anti-csrf token',
    );
    const meAfterLogout = await step('me');
    assert.deepEqual(meAfterLogout, {
      step: 'me',
      status: 401,
      body: { error: 'please log in' },
      sessionExists: false,
    });

    // Exactly one refresh, seen by both the browser and the server, and no errors anywhere.
    assert.equal(browserRefreshes.length, 1, `refresh calls from the browser: ${browserRefreshes}`);
    assert.equal(serverRefreshes, 1, 'refresh calls received by the server');
    assert.deepEqual(
      pageErrors.filter((m) => !/status of 4\d\d/.test(m)),
      [],
      'no page errors',
    );
    assert.deepEqual(serverErrors, []);
    const rows = await h.query(`SELECT COUNT(*) AS n FROM \`${PREFIX}_sessions\``);
    assert.equal(rows[0].n, 0, 'logging out removed the session row');
  },
);

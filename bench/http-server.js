'use strict';
/**
 * The HTTP target: `node http-server.js <ours|original>`, an Express 4 app on a free port.
 *   GET /bare     -> "ok"                       (no session check: Express's own ceiling)
 *   GET /session  -> getSession(req, res, true), then the session's user id
 * It creates one session at start and hands its cookies and anti-csrf header to run.js, which
 * passes them to the load generator (another process).
 */

const express = require('express');
const { serve } = require('./rpc.js');
const { configFor, load } = require('./libs.js');

const libName = process.argv[2];
const USER_ID = 'http-bench-user';

let server = null;

serve({
  async init() {
    const lib = load(libName);
    const ST = lib.express();
    await ST.init(configFor(libName, { blacklisting: false }));
    const s = await lib.createNewSession(USER_ID, { role: 'member' }, { cart: [] });

    const app = express();
    app.get('/bare', (req, res) => {
      res.send('ok');
    });
    app.get('/session', async (req, res) => {
      try {
        const session = await ST.getSession(req, res, true);
        res.send(session.getUserId());
      } catch (e) {
        res.status(ST.Error.isErrorFromAuth(e) ? 401 : 500).send(`error ${e && e.errType}`);
      }
    });
    await new Promise((resolve) => {
      server = app.listen(0, '127.0.0.1', resolve);
    });
    const url = `http://127.0.0.1:${server.address().port}`;
    const headers = {
      cookie: `sAccessToken=${s.accessToken.value}; sIdRefreshToken=${s.idRefreshToken.value}`,
      'anti-csrf': s.antiCsrfToken,
    };
    // Self-check: the endpoint accepts these credentials, and refuses a wrong anti-csrf header.
    const good = await fetch(`${url}/session`, { headers });
    const goodBody = await good.text();
    if (good.status !== 200 || goodBody !== USER_ID)
      throw new Error(`/session self-check failed: ${good.status} ${goodBody}`);
    const bad = await fetch(`${url}/session`, { headers: { ...headers, 'anti-csrf': 'wrong' } });
    await bad.text();
    if (bad.status !== 401) throw new Error(`/session accepted a wrong anti-csrf header (${bad.status})`);
    return { url, headers, expectBody: USER_ID };
  },
});

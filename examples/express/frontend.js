/**
 * The example page's script (bundled with esbuild by app.js, served as /bundle.js).
 * supertokens-website 4.x patches window.fetch: it adds the anti-csrf header and
 * credentials, tracks the session through the `id-refresh-token` response header (kept in
 * its own `sIRTFrontend` cookie), and on the "try refresh" status calls the refresh API once
 * and retries the request.
 */
import SuperTokens from 'supertokens-website';

SuperTokens.init({
  refreshTokenUrl: `${window.location.origin}/api/refresh`,
  // The 4.2 SDK's default is 401; app.js answers TRY_REFRESH_TOKEN with 440 and reserves 401
  // for "log in again".
  sessionExpiredStatusCode: 440,
});

/** Every step's outcome, newest last (the browser test reads it). */
const results = [];
window.results = results;

function showSession() {
  document.getElementById('session').textContent = SuperTokens.doesSessionExist() ? 'yes' : 'no';
}

function record(entry) {
  results.push(entry);
  document.getElementById('log').textContent = results.map((r) => JSON.stringify(r)).join('\n');
  showSession();
}

async function call(step, method, path, body) {
  try {
    const res = await fetch(path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: method === 'GET' ? undefined : JSON.stringify(body || {}),
    });
    const text = await res.text();
    let data = text;
    try {
      data = JSON.parse(text);
    } catch {
      // not JSON: record the text as it came
    }
    record({ step, status: res.status, body: data, sessionExists: SuperTokens.doesSessionExist() });
  } catch (e) {
    // The SDK rejects (e.g. with the refresh API's response) when a refresh fails.
    record({ step, error: String(e && (e.status || e.message || e)), sessionExists: SuperTokens.doesSessionExist() });
  }
}

const actions = {
  login: () => call('login', 'POST', '/api/login', { user: document.getElementById('user').value }),
  me: () => call('me', 'GET', '/api/me'),
  visit: () => call('visit', 'POST', '/api/visit'),
  logout: () => call('logout', 'POST', '/api/logout'),
};
for (const [id, action] of Object.entries(actions)) {
  document.getElementById(id).addEventListener('click', action);
}
showSession();
document.body.dataset.ready = 'true';

'use strict';
/**
 * Reading and writing the auth cookies and headers on Node/Express req and res.
 * Set-Cookie and list headers are appended to, never overwritten.
 */

const ACCESS_TOKEN = 'sAccessToken';
const REFRESH_TOKEN = 'sRefreshToken';
const ID_REFRESH_TOKEN = 'sIdRefreshToken';
const ANTI_CSRF_HEADER = 'anti-csrf';
const ID_REFRESH_HEADER = 'id-refresh-token';
const EXPOSE_HEADERS = 'Access-Control-Expose-Headers';
/** Browsers silently drop a cookie whose name and value are longer than this. */
const MAX_COOKIE_BYTES = 4096;
/** The longest access token whose cookie (`sAccessToken=<token>`) a browser keeps. */
const MAX_ACCESS_TOKEN_BYTES = MAX_COOKIE_BYTES - ACCESS_TOKEN.length - 1;

/**
 * True for an object usable as a response (Node's ServerResponse or Express's res).
 * @param {unknown} res
 */
function isResponse(res) {
  return (
    res !== null &&
    typeof res === 'object' &&
    typeof res.setHeader === 'function' &&
    typeof res.getHeader === 'function'
  );
}

/**
 * One Set-Cookie value, attributes in the order the `cookie` package writes them.
 * @param {{domain: string, path: string, expires: number, httpOnly: boolean, secure: boolean, sameSite: string}} o
 */
function serialize(name, value, o) {
  let s = `${name}=${value}; Domain=${o.domain}; Path=${o.path}; Expires=${new Date(o.expires).toUTCString()}`;
  if (o.httpOnly) s += '; HttpOnly';
  if (o.secure) s += '; Secure';
  return `${s}; SameSite=${o.sameSite}`;
}

/** Adds a cookie, replacing an earlier Set-Cookie of the same name on this response. */
function setCookie(res, name, value, options) {
  const prev = res.getHeader('Set-Cookie');
  const list = prev === undefined ? [] : Array.isArray(prev) ? prev.map(String) : [String(prev)];
  const kept = list.filter((c) => !c.startsWith(`${name}=`));
  kept.push(serialize(name, value, options));
  res.setHeader('Set-Cookie', kept);
}

/** Sets a single-valued header, replacing any earlier value (e.g. a previous session's). */
function setHeader(res, name, value) {
  res.setHeader(name, value);
}

/** Adds `value` to a comma-separated list header unless it is already listed. */
function addToListHeader(res, name, value) {
  const prev = res.getHeader(name);
  if (prev === undefined || prev === '') {
    res.setHeader(name, value);
    return;
  }
  const text = Array.isArray(prev) ? prev.join(', ') : String(prev);
  const listed = text.split(',').some((v) => v.trim().toLowerCase() === value.toLowerCase());
  if (!listed) res.setHeader(name, `${text}, ${value}`);
}

/** Attribute sets of the three cookies, from the validated settings. */
function cookieOptions(s, name, expires) {
  const base = { domain: s.cookieDomain, sameSite: s.cookieSameSite, expires };
  switch (name) {
    case ACCESS_TOKEN:
      return { ...base, path: s.accessTokenPath, httpOnly: true, secure: s.cookieSecure };
    case REFRESH_TOKEN:
      return { ...base, path: s.refreshTokenPath, httpOnly: true, secure: s.cookieSecure };
    default:
      // Read by the frontend, so not HttpOnly; Secure only where browsers demand it.
      return { ...base, path: s.accessTokenPath, httpOnly: false, secure: s.cookieSameSite === 'None' };
  }
}

function attachAccessToken(res, s, token) {
  setCookie(res, ACCESS_TOKEN, token.value, cookieOptions(s, ACCESS_TOKEN, token.expires));
}

/**
 * Writes a whole new set of tokens: the three cookies and the anti-csrf / id-refresh-token
 * headers, exposed to the frontend.
 */
function attachTokens(res, s, t) {
  attachAccessToken(res, s, t.accessToken);
  setCookie(res, REFRESH_TOKEN, t.refreshToken.value, cookieOptions(s, REFRESH_TOKEN, t.refreshToken.expires));
  setCookie(
    res,
    ID_REFRESH_TOKEN,
    t.idRefreshToken.value,
    cookieOptions(s, ID_REFRESH_TOKEN, t.idRefreshToken.expires),
  );
  setHeader(res, ID_REFRESH_HEADER, `${t.idRefreshToken.value};${t.idRefreshToken.expires}`);
  addToListHeader(res, EXPOSE_HEADERS, ID_REFRESH_HEADER);
  if (t.antiCsrfToken !== undefined) {
    setHeader(res, ANTI_CSRF_HEADER, t.antiCsrfToken);
    addToListHeader(res, EXPOSE_HEADERS, ANTI_CSRF_HEADER);
  }
  setHeader(res, 'Access-Control-Allow-Credentials', 'true');
}

/** Expires the three auth cookies and tells the frontend SDK the session is gone. */
function clearTokens(res, s) {
  for (const name of [ACCESS_TOKEN, REFRESH_TOKEN, ID_REFRESH_TOKEN]) {
    setCookie(res, name, '', cookieOptions(s, name, 0));
  }
  setHeader(res, ID_REFRESH_HEADER, 'remove');
  addToListHeader(res, EXPOSE_HEADERS, ID_REFRESH_HEADER);
}

/** The CORS headers a preflight (OPTIONS) response needs for the session headers. */
function setPreflightHeaders(res) {
  for (const h of [ANTI_CSRF_HEADER, 'supertokens-sdk-name', 'supertokens-sdk-version']) {
    addToListHeader(res, 'Access-Control-Allow-Headers', h);
  }
  setHeader(res, 'Access-Control-Allow-Credentials', 'true');
}

function decode(value) {
  let v = value.trim();
  if (v.length >= 2 && v[0] === '"' && v[v.length - 1] === '"') v = v.slice(1, -1);
  if (!v.includes('%')) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/**
 * Where a request's cookies are: cookie-parser's `req.cookies` object, else the Cookie
 * header's text (undefined without either). Read once per request: each property read on an
 * Express request walks its prototype chain.
 * @returns {object | string | undefined}
 */
function cookieJar(req) {
  const parsed = req.cookies;
  if (parsed !== null && typeof parsed === 'object') return parsed;
  const header = req.headers === undefined ? undefined : req.headers.cookie;
  return typeof header === 'string' ? header : undefined;
}

/**
 * A cookie's value from a `cookieJar`; in a header, the first occurrence wins. Undefined
 * when absent or not a string.
 */
function readCookie(jar, name) {
  if (typeof jar === 'string') return cookieFromHeader(jar, name);
  const v = jar === undefined ? undefined : jar[name];
  return typeof v === 'string' ? v : undefined;
}

const SPACE = /\s/; // what String.prototype.trim removes
const KEY = /^[^\s;=]+$/; // a name that can be a whole trimmed key
const OUR_KEYS = new Set([ACCESS_TOKEN, REFRESH_TOKEN, ID_REFRESH_TOKEN]); // known to match KEY

/** True for the UTF-16 unit `c` when String.prototype.trim removes it; ASCII without a regex. */
function isSpace(c) {
  if (c < 0x80) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  return SPACE.test(String.fromCharCode(c));
}

/**
 * The value of the first `name=value` pair of a Cookie header whose trimmed key is `name`.
 * Searches for the name instead of splitting the header into parts: this runs on every
 * request, and splitting allocates a string per cookie. Linear in the header's
 * length for any name KEY accepts; other names (empty, with spaces) match nothing.
 */
function cookieFromHeader(header, name) {
  if (!OUR_KEYS.has(name) && !KEY.test(name)) return undefined;
  for (let at = header.indexOf(name); at !== -1; at = header.indexOf(name, at + 1)) {
    // A key: nothing but whitespace back to the previous ';' (or the start) ...
    let before = at - 1;
    while (before >= 0 && isSpace(header.charCodeAt(before))) before--;
    if (before >= 0 && header.charCodeAt(before) !== 0x3b /* ; */) continue;
    // ... and up to its '='.
    let eq = at + name.length;
    while (eq < header.length && isSpace(header.charCodeAt(eq))) eq++;
    if (header.charCodeAt(eq) !== 0x3d /* = */) continue;
    const end = header.indexOf(';', eq + 1);
    return decode(header.slice(eq + 1, end === -1 ? header.length : end));
  }
  return undefined;
}

/** The request's anti-csrf header (first value if repeated), or undefined. */
function readAntiCsrfHeader(req) {
  const v = req.headers === undefined ? undefined : req.headers[ANTI_CSRF_HEADER];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first : undefined;
}

module.exports = {
  ACCESS_TOKEN,
  REFRESH_TOKEN,
  ID_REFRESH_TOKEN,
  MAX_ACCESS_TOKEN_BYTES,
  isResponse,
  attachTokens,
  attachAccessToken,
  clearTokens,
  setPreflightHeaders,
  cookieJar,
  readCookie,
  readAntiCsrfHeader,
};

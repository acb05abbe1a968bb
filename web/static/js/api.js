// api.js: the one way the UI talks to camcloud's HTTP API. It sends the
// CSRF header on every call that changes something, turns error answers
// into ApiError with a message in words, and tells the app when the session
// is gone (401) so it can show the login screen.

/** ApiError is a failed API call: HTTP status, error code and a message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const unauthorizedListeners = new Set();

/** onUnauthorized registers fn to run when a call answers 401. */
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
}

/** csrfToken reads the readable camcloud_csrf cookie set at login. */
export function csrfToken() {
  for (const part of document.cookie.split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === 'camcloud_csrf') return decodeURIComponent(v || '');
  }
  return '';
}

const statusWords = {
  400: 'The request was not accepted.',
  401: 'Please log in again.',
  403: 'You are not allowed to do this.',
  404: 'It does not exist, or you may not see it.',
  409: 'This conflicts with the current state.',
  413: 'This is too large.',
  429: 'Too many attempts. Wait a minute and try again.',
  500: 'The server failed. Try again later.',
  502: 'The server cannot be reached right now.',
  503: 'The service is busy or starting. Try again shortly.',
};

/** describe returns words for a status when the answer carried none. */
export function describe(status) {
  return statusWords[status] || `The server answered with status ${status}.`;
}

/** request calls the API and returns the decoded JSON (null for 204). */
export async function request(method, path, body) {
  const opt = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD') {
    const t = csrfToken();
    if (t) opt.headers['X-CSRF-Token'] = t;
  }
  let res;
  try {
    res = await fetch(path, opt);
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check the connection and try again.');
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = data && data.error;
    const err = new ApiError(res.status, (e && e.code) || `http_${res.status}`, (e && e.message) || describe(res.status));
    if (res.status === 401 && path !== '/api/v1/auth/login') {
      for (const fn of unauthorizedListeners) fn(err);
    }
    throw err;
  }
  return data;
}

/** api holds shorthands for request. */
export const api = {
  get: (p) => request('GET', p),
  post: (p, b) => request('POST', p, b),
  put: (p, b) => request('PUT', p, b),
  patch: (p, b) => request('PATCH', p, b),
  del: (p) => request('DELETE', p),
};

/** q builds a query string from the non-empty values of obj. */
export function q(obj) {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(obj)) {
    if (v !== undefined && v !== null && v !== '') s.set(k, v instanceof Date ? v.toISOString() : String(v));
  }
  const str = s.toString();
  return str ? `?${str}` : '';
}

/** enc escapes one path segment. */
export const enc = encodeURIComponent;

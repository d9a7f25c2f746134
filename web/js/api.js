// The only module that talks HTTP. Every failure becomes an ApiError with a stable
// shape, so the UI handles server errors and network loss the same way.

import { readCookie } from './dom.js';

export class ApiError extends Error {
  constructor({ status = 0, code = 'unknown', message = '', fields = {}, retryAfter = null } = {}) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status; // 0 = no response (network)
    this.code = code;
    this.serverMessage = message; // already translated by the server; may be ''
    this.fields = fields || {};
    this.retryAfter = retryAfter;
  }

  get isNetwork() {
    return this.status === 0;
  }
}

async function request(method, path, body, { cache = 'no-store' } = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache };
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    // Over HTTPS the server names it __Host-vibue_csrf (a subdomain cannot plant that one).
    headers['X-CSRF-Token'] = readCookie('__Host-vibue_csrf') || readCookie('vibue_csrf') || '';
    init.body = JSON.stringify(body ?? {});
  }

  let response;
  let text;
  try {
    response = await fetch(path, init);
    text = await response.text();
  } catch {
    throw new ApiError({ status: 0, code: 'network_error' });
  }

  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }

  if (!response.ok) {
    const err = data && typeof data === 'object' ? data.error : null;
    const retry = Number.parseInt(response.headers.get('Retry-After') || '', 10);
    throw new ApiError({
      status: response.status,
      code: (err && err.code) || (response.status >= 500 ? 'server_error' : `http_${response.status}`),
      message: (err && err.message) || '',
      fields: (err && err.fields) || {},
      retryAfter: Number.isFinite(retry) ? retry : null,
    });
  }
  if (response.status === 204 || !text) return null;
  if (data === null) throw new ApiError({ status: response.status, code: 'bad_response' });
  return data;
}

/** GET a JSON document. */
export function getJSON(path, options) {
  return request('GET', path, undefined, options);
}

/** POST a JSON body (an empty object when none is given) with the CSRF header. */
export function postJSON(path, body) {
  return request('POST', path, body);
}

/** Build a query string path from an object, skipping empty values. */
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

// Office settings from GET /api/config, fetched once per page. Until (or unless) the
// server answers, these defaults stand in; they mirror the server's own defaults.
export const CONFIG_DEFAULTS = Object.freeze({
  timezone: 'Europe/Berlin',
  city_name: '',
  reservation_minutes: 15,
  languages: ['de', 'en'],
});

let configPromise = null;

/** The office settings (cached promise; never rejects: falls back to CONFIG_DEFAULTS). */
export function getConfig() {
  if (!configPromise) {
    configPromise = getJSON('/api/config', { cache: 'no-cache' })
      .then((data) => {
        const config = { ...CONFIG_DEFAULTS, ...(data && typeof data === 'object' ? data : {}) };
        const minutes = Number(config.reservation_minutes);
        config.reservation_minutes = Number.isInteger(minutes) && minutes > 0
          ? minutes : CONFIG_DEFAULTS.reservation_minutes;
        return config;
      })
      .catch((err) => {
        console.warn('GET /api/config failed; using defaults', err);
        return { ...CONFIG_DEFAULTS };
      });
  }
  return configPromise;
}

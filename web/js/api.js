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

async function send(method, path, body, { cache = 'no-store', accept = 'application/json' } = {}) {
  const headers = { Accept: accept };
  const init = { method, headers, credentials: 'same-origin', cache };
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    // Over HTTPS the server names it __Host-vibue_csrf (a subdomain cannot plant that one).
    headers['X-CSRF-Token'] = readCookie('__Host-vibue_csrf') || readCookie('vibue_csrf') || '';
    init.body = JSON.stringify(body ?? {});
  }
  try {
    return await fetch(path, init);
  } catch {
    throw new ApiError({ status: 0, code: 'network_error' });
  }
}

function parse(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The ApiError for a failed answer: the app's one error shape, whatever the endpoint returns on success. */
function failure(response, data) {
  const err = data && typeof data === 'object' ? data.error : null;
  const retry = Number.parseInt(response.headers.get('Retry-After') || '', 10);
  return new ApiError({
    status: response.status,
    code: (err && err.code) || (response.status >= 500 ? 'server_error' : `http_${response.status}`),
    message: (err && err.message) || '',
    fields: (err && err.fields) || {},
    retryAfter: Number.isFinite(retry) ? retry : null,
  });
}

async function request(method, path, body, options) {
  const response = await send(method, path, body, options);
  let text;
  try {
    text = await response.text();
  } catch {
    throw new ApiError({ status: 0, code: 'network_error' });
  }
  const data = parse(text);
  if (!response.ok) throw failure(response, data);
  if (response.status === 204 || !text) return null;
  if (data === null) throw new ApiError({ status: response.status, code: 'bad_response' });
  return data;
}

/**
 * A binary answer (a PDF): GET, or POST with a JSON body (`body` given). Resolves with
 * {bytes: Uint8Array, type, filename}; a failure is an ApiError exactly as for the JSON calls.
 */
export async function fetchBytes(path, { body, accept = 'application/pdf' } = {}) {
  const method = body === undefined ? 'GET' : 'POST';
  const response = await send(method, path, body, { accept: `${accept}, application/json` });
  if (!response.ok) {
    let text = '';
    try {
      text = await response.text();
    } catch {
      // the body was lost: the status alone decides the code
    }
    throw failure(response, parse(text));
  }
  let buffer;
  try {
    buffer = await response.arrayBuffer();
  } catch {
    throw new ApiError({ status: 0, code: 'network_error' });
  }
  const type = (response.headers.get('Content-Type') || '').split(';')[0].trim();
  if (type === 'application/json') throw new ApiError({ status: response.status, code: 'bad_response' });
  const disposition = response.headers.get('Content-Disposition') || '';
  const named = /filename=([^;]+)/i.exec(disposition); // \x22: a quote the name may be wrapped in
  return { bytes: new Uint8Array(buffer), type, filename: named ? named[1].trim().replace(/^\x22|\x22$/g, '') : '' };
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

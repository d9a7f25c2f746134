// Message catalogs: web/i18n/<lang>.json, flat "key": "text with {placeholders}".
// Static markup carries data-i18n / data-i18n-attr; dynamic UI calls t().

import { getJSON } from './api.js';
import { $all, readCookie } from './dom.js';

export const LANGUAGES = ['de', 'en'];
const DEFAULT_LANG = 'de';

let lang = DEFAULT_LANG;
let strings = {};
let fallback = {}; // German, used for keys an English catalog might miss
const listeners = new Set();

export function currentLang() {
  return lang;
}

/** BCP 47 locale for Intl formatting. */
export function locale() {
  return lang === 'en' ? 'en-GB' : 'de-DE';
}

export function has(key) {
  return key in strings || key in fallback;
}

/**
 * Translate a key; {name} placeholders are filled from params. Unknown keys return the key.
 * A counted text is stored as `<key>.one` and `<key>.other` (CLDR plural categories) and chosen
 * by params.count, as the server's translate() does: "noch 1 Versuch", "noch 2 Versuche".
 */
export function t(key, params = {}) {
  if (typeof params.count === 'number' && `${key}.one` in fallback) {
    const form = `${key}.${new Intl.PluralRules(locale()).select(params.count)}`;
    key = form in strings || form in fallback ? form : `${key}.other`;
  }
  const template = strings[key] ?? fallback[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

async function loadCatalog(code) {
  return getJSON(`/static/i18n/${code}.json`, { cache: 'no-cache' });
}

async function load(code) {
  const [main, de] = await Promise.all([
    loadCatalog(code),
    code === DEFAULT_LANG ? Promise.resolve(null) : loadCatalog(DEFAULT_LANG).catch(() => ({})),
  ]);
  strings = main;
  fallback = de || main;
  lang = code;
}

/** Apply data-i18n (textContent) and data-i18n-attr ("attr:key;attr:key") below root. */
export function applyTranslations(root = document) {
  for (const el of $all('[data-i18n]', root)) {
    const key = el.dataset.i18n;
    if (has(key)) el.textContent = t(key);
  }
  for (const el of $all('[data-i18n-attr]', root)) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key && has(key)) el.setAttribute(attr, t(key));
    }
  }
  document.documentElement.lang = lang;
  for (const button of $all('[data-lang]')) {
    button.setAttribute('aria-pressed', String(button.dataset.lang === lang));
  }
}

function writeLangCookie(code) {
  const secure = window.location.protocol === 'https:' ? '; Secure' : '';
  document.cookie = `vibue_lang=${code}; path=/; max-age=31536000; SameSite=Strict${secure}`;
}

/** Switch language: cookie, catalog, static texts, then tell the page to re-render. */
export async function setLanguage(code) {
  if (!LANGUAGES.includes(code) || code === lang) return;
  writeLangCookie(code);
  await load(code);
  applyTranslations();
  for (const cb of listeners) {
    try {
      await cb(code);
    } catch (err) {
      console.error(err);
    }
  }
}

/** Register a callback run after the language changed (re-render dynamic parts there). */
export function onLanguageChange(cb) {
  listeners.add(cb);
}

/**
 * Load the catalog for the page's language and translate the page. The server sets <html lang>
 * by the same rule the API answers by (language cookie, then Accept-Language, then German), so
 * page texts and API texts (unit and concern names, error messages) are in one language.
 */
export async function initI18n() {
  const served = document.documentElement.lang;
  const wanted = readCookie('vibue_lang');
  const code = LANGUAGES.includes(wanted) ? wanted : LANGUAGES.includes(served) ? served : DEFAULT_LANG;
  try {
    await load(code);
  } catch (err) {
    // Keep the German text that is in the markup; t() then returns keys only for
    // strings the page builds itself.
    console.error('catalog not loaded', err);
    document.documentElement.lang = DEFAULT_LANG;
    return;
  }
  applyTranslations();
  // Disabled in the markup until now: a click before this point would do nothing.
  for (const button of $all('[data-lang]')) {
    button.addEventListener('click', () => {
      setLanguage(button.dataset.lang).catch((err) => console.error(err));
    });
    button.disabled = false;
  }
}

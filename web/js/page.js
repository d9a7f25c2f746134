// Start-up shared by every page: translations, the language switcher and the office's
// settings (GET /api/config, fetched in parallel; pages render only once both are there).

import { getConfig } from './api.js';
import { timeZoneReady } from './format.js';
import { initI18n } from './i18n.js';

/** Returns the office settings (defaults when /api/config could not be read). */
export async function initPage() {
  const [config] = await Promise.all([getConfig(), timeZoneReady, initI18n()]);
  document.documentElement.classList.add('js');
  return config;
}

/**
 * Enables the controls marked `data-needs-js` once the page has bound their handlers.
 * They are disabled in the HTML: until then a click would do nothing, and Enter in a form
 * would submit it natively, as a GET that puts a password into the address and server log.
 * (A form whose default button is disabled is not submitted by Enter.)
 */
export function controlsReady(root = document) {
  for (const control of root.querySelectorAll('[data-needs-js]')) control.disabled = false;
}

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

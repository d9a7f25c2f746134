// Start-up shared by every page: translations and the language switcher.

import { initI18n } from './i18n.js';

export async function initPage() {
  await initI18n();
  document.documentElement.classList.add('js');
}

// Landing page: only translations and the language switcher.

import { initPage } from './page.js';

initPage();

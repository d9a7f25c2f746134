// A PDF shown inside the page: each page drawn to a canvas by the vendored pdf.js, the
// document's text beneath (for screen readers, and when drawing fails), and a download button.
// pdf.js is loaded on first use only (half a megabyte the call pages need only for documents);
// its worker comes from the same origin, as the CSP (script-src 'self') requires.

import { h } from './dom.js';
import { t } from './i18n.js';

const PDFJS = '/static/vendor/pdfjs/pdf.min.mjs';
const WORKER = '/static/vendor/pdfjs/pdf.worker.min.mjs';
const MAX_PIXEL_RATIO = 2; // sharper on phones, without canvases of a hundred megapixels

let pdfjsPromise = null;

function pdfjs() {
  if (!pdfjsPromise) {
    pdfjsPromise = import(PDFJS).then((lib) => {
      lib.GlobalWorkerOptions.workerSrc = WORKER;
      return lib;
    }).catch((err) => {
      pdfjsPromise = null; // a network hiccup: the next document tries again
      throw err;
    });
  }
  return pdfjsPromise;
}

/** The text of one page, lines joined as pdf.js reports them. */
async function pageText(page) {
  const content = await page.getTextContent();
  let text = '';
  for (const item of content.items) {
    if (typeof item.str !== 'string') continue;
    text += item.str;
    if (item.hasEOL) text += '\n';
    else if (item.str) text += ' ';
  }
  return text.replace(/[ \t]+\n/g, '\n').trim();
}

/**
 * Show a PDF in `container` (emptied first).
 * @param {HTMLElement} container
 * @param {object} o
 * @param {Uint8Array} o.bytes the PDF
 * @param {string} [o.filename] name for the download
 * @param {string|null} [o.downloadUrl] where "Herunterladen" goes; without it the bytes themselves
 * @param {string} [o.label] accessible name of the view ("Vorschau: Meldebestätigung")
 * @returns {Promise<{pages: number, destroy: () => void}>} resolves once every page is drawn (or failed)
 */
export async function showPdf(container, { bytes, filename = 'dokument.pdf', downloadUrl = null, label = '' }) {
  // The Blob copies the bytes before pdf.js takes (transfers) its own copy to the worker.
  const blobUrl = downloadUrl ? null : URL.createObjectURL(new Blob([bytes], { type: 'application/pdf' }));
  const download = h('a', {
    class: 'button secondary pdf-download', href: downloadUrl || blobUrl, download: filename,
    'data-testid': 'pdf-download',
  }, t('pdfView.download'));
  const status = h('p', { class: 'pdf-status muted', 'data-testid': 'pdf-status' }, t('pdfView.loading'));
  const pages = h('div', { class: 'pdf-pages' });
  const textBox = h('div', { class: 'pdf-text-content', 'data-testid': 'pdf-text' });
  const details = h('details', { class: 'pdf-text' }, h('summary', {}, t('pdfView.text')), textBox);
  details.hidden = true;
  const root = h('div', {
    class: 'pdf-view', role: 'group', 'aria-label': label || t('pdfView.label'), 'data-testid': 'pdf-view',
    'data-state': 'loading',
  }, h('div', { class: 'pdf-toolbar' }, download), status, pages, details);
  container.replaceChildren(root);

  let doc = null;
  let task = null;
  let destroyed = false;
  const handle = {
    pages: 0,
    destroy() {
      destroyed = true;
      if (blobUrl) URL.revokeObjectURL(blobUrl);
      // The loading task owns the document and its worker port (pdf.js 6's document has no destroy).
      if (task) task.destroy().catch(() => {});
    },
  };
  try {
    const lib = await pdfjs();
    // No wasm (the CSP has no 'wasm-unsafe-eval'); fonts through the FontFace API, never a data: URL.
    task = lib.getDocument({ data: bytes.slice(), useWasm: false, enableXfa: false });
    doc = await task.promise;
    handle.pages = doc.numPages;
    const width = Math.max(240, pages.clientWidth || container.clientWidth || 600);
    const ratio = Math.min(window.devicePixelRatio || 1, MAX_PIXEL_RATIO);
    const texts = [];
    for (let n = 1; n <= doc.numPages && !destroyed; n += 1) {
      const page = await doc.getPage(n);
      const natural = page.getViewport({ scale: 1 });
      const viewport = page.getViewport({ scale: (width / natural.width) * ratio });
      const canvas = h('canvas', {
        class: 'pdf-page', role: 'img', 'data-testid': 'pdf-page', 'data-page': String(n),
        'aria-label': t('pdfView.page', { page: n, pages: doc.numPages }),
      });
      canvas.width = Math.floor(viewport.width);
      canvas.height = Math.floor(viewport.height);
      pages.append(canvas);
      await page.render({ canvas, canvasContext: canvas.getContext('2d'), viewport }).promise;
      canvas.dataset.rendered = 'true';
      texts.push(await pageText(page));
    }
    textBox.replaceChildren(...texts.map((text, i) => h('section', { class: 'pdf-text-page' },
      h('h4', {}, t('pdfView.page', { page: i + 1, pages: texts.length })),
      h('p', {}, text))));
    details.hidden = !texts.some(Boolean);
    status.textContent = t('pdfView.pages', { count: doc.numPages });
    root.dataset.state = 'shown';
  } catch (err) {
    console.warn('PDF not shown', err);
    pages.replaceChildren();
    status.textContent = t('pdfView.failed');
    status.classList.remove('muted');
    root.dataset.state = 'failed';
  }
  return handle;
}

// The citizen's documents in the call (video.js): "Dokument bereit" on the socket event
// `document.ready` (spoken by the page's polite live region), the list from
// GET /api/video/{token}/documents, one shown inline (pdf-view.js) and "Herunterladen".
// A document that was invalidated afterwards stays in the list, marked.

import { fetchBytes, getJSON } from './api.js';
import { h } from './dom.js';
import { formatDateTime } from './format.js';
import { announce, clearAlert, errorMessage, showAlert } from './forms.js';
import { onLanguageChange, t } from './i18n.js';
import { showPdf } from './pdf-view.js';

const token = decodeURIComponent((window.location.pathname.match(/^\/video\/([^/]+)/) || [])[1] || '');
const base = `/api/video/${encodeURIComponent(token)}`;

function pdfPath(id) {
  return `${base}/documents/${encodeURIComponent(id)}/pdf`;
}

export class CallDocuments {
  /**
   * @param {object} o
   * @param {HTMLElement} o.container where the panel is built (emptied first)
   * @param {import('./protocol.js').Signaling} o.signaling
   */
  constructor({ container, signaling }) {
    this.documents = [];
    this.shownId = null;
    this.viewer = null;
    this.destroyed = false;
    this.heading = h('h2', { id: 'call-documents-heading', tabindex: '-1' }, t('callDocs.heading'));
    this.notice = h('p', { class: 'notice call-documents-ready', 'data-testid': 'document-ready' });
    this.notice.hidden = true;
    this.alert = h('div', { class: 'alert', role: 'alert', 'data-testid': 'documents-alert' });
    this.list = h('ul', { class: 'call-documents-list', 'data-testid': 'citizen-documents' });
    this.viewBox = h('div', { class: 'call-documents-view', 'data-testid': 'citizen-document-view' });
    this.element = h('section', {
      class: 'call-documents card', 'aria-labelledby': 'call-documents-heading', 'data-testid': 'call-documents',
    }, this.heading, this.notice, this.alert, this.list, this.viewBox);
    this.element.hidden = true; // until there is a document
    container.replaceChildren(this.element);
    this.unsubscribe = [
      signaling.on('document.ready', (payload) => this.ready(payload)),
      signaling.on('document.revoked', () => this.refresh()),
      // Events sent while our connection was down are lost: ask again once it is back.
      signaling.on('connected', ({ recovered }) => recovered && this.refresh()),
    ];
    onLanguageChange(() => {
      if (this.destroyed) return;
      this.heading.textContent = t('callDocs.heading');
      if (this.readyTitle) this.notice.textContent = t('callDocs.ready', { title: this.readyTitle });
      this.render();
      if (this.shownId) this.show(this.shownId);
    });
    this.refresh({ quiet: true });
  }

  async ready({ document: doc } = {}) {
    this.readyTitle = (doc && doc.title) || t('callDocs.untitled');
    this.notice.textContent = t('callDocs.ready', { title: this.readyTitle });
    this.notice.hidden = false;
    announce(t('callDocs.ready', { title: this.readyTitle }));
    await this.refresh();
  }

  /** GET the list; `quiet`: the first look, where no document yet is the normal case and a failure is not news. */
  async refresh({ quiet = false } = {}) {
    if (this.destroyed) return;
    try {
      const answer = await getJSON(`${base}/documents`);
      if (this.destroyed) return;
      this.documents = Array.isArray(answer && answer.documents) ? answer.documents : [];
      clearAlert(this.alert);
    } catch (err) {
      if (quiet) console.warn('documents not listed', errorMessage(err));
      else showAlert(this.alert, errorMessage(err));
    }
    this.render();
  }

  render() {
    this.element.hidden = !this.documents.length && !this.alert.textContent;
    this.list.replaceChildren(...this.documents.map((doc) => {
      const revoked = doc.status === 'revoked';
      const titleId = `citizen-doc-${doc.id}`;
      const show = h('button', {
        type: 'button', class: 'button secondary small', 'data-testid': `show-document-${doc.id}`,
        'aria-describedby': titleId, 'aria-pressed': String(this.shownId === doc.id),
      }, t('callDocs.show'));
      show.addEventListener('click', () => this.show(doc.id));
      const download = h('a', {
        class: 'button secondary small', href: doc.download_url || `${pdfPath(doc.id)}?download=1`,
        download: '', 'data-testid': `download-document-${doc.id}`, 'aria-describedby': titleId,
      }, t('callDocs.download'));
      const status = h('p', { class: revoked ? 'document-status revoked' : 'document-status', 'data-testid': 'document-status', 'data-status': doc.status || 'valid' },
        revoked
          ? (doc.revoked_at ? t('callDocs.revokedAt', { time: formatDateTime(doc.revoked_at) }) : t('callDocs.revoked'))
          : t('callDocs.valid'));
      return h('li', { class: 'call-document', 'data-document-id': doc.id, 'data-status': doc.status || 'valid' },
        h('h3', { id: titleId, class: 'call-document-title' }, doc.title || t('callDocs.untitled')),
        h('p', { class: 'muted' }, t('callDocs.issued', { time: formatDateTime(doc.issued_at) })),
        status,
        h('div', { class: 'actions' }, show, download));
    }));
  }

  /** Show one document inline (the citizen's own link: inline, not as an attachment). */
  async show(id) {
    const doc = this.documents.find((d) => d.id === id);
    if (!doc) return;
    this.shownId = id;
    this.render();
    clearAlert(this.alert);
    this.viewBox.replaceChildren(h('p', { class: 'muted' }, t('pdfView.loading')));
    try {
      const { bytes, filename } = await fetchBytes(pdfPath(id));
      if (this.destroyed || this.shownId !== id) return;
      if (this.viewer) this.viewer.destroy();
      this.viewer = await showPdf(this.viewBox, {
        bytes, filename: filename || 'dokument.pdf',
        downloadUrl: doc.download_url || `${pdfPath(id)}?download=1`,
        label: t('callDocs.viewLabel', { title: doc.title || t('callDocs.untitled') }),
      });
    } catch (err) {
      this.viewBox.replaceChildren();
      showAlert(this.alert, errorMessage(err));
    }
  }

  destroy() {
    this.destroyed = true;
    for (const off of this.unsubscribe) off();
    if (this.viewer) this.viewer.destroy();
  }
}

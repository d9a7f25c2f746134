// The clerk's documents panel in the call (clerk-call.js): pick a template (suggested ones
// first), edit its fields, "Vorschau" (an unsigned PDF shown by pdf-view.js), "Ausstellen"
// (render + seal on the server), the list of issued documents with download and "Widerrufen".
//
// Issuing is idempotent: one key per form state (template and field values), generated when
// the state first goes out and reused for every retry of that state, so a double click, a
// time-out or a reload issues one document, not two. A changed field is a new state, a new key.

import { fetchBytes, getJSON, postJSON } from './api.js';
import { h } from './dom.js';
import { formatDateTime } from './format.js';
import { announce, clearAlert, clearFieldErrors, errorMessage, showAlert, showFormError, showValidation } from './forms.js';
import { onLanguageChange, t } from './i18n.js';
import { IdempotencyKeys } from './idempotency.js';
import { showPdf } from './pdf-view.js';

const KEY_STORE = 'vibue.clerk.documentKey';
const REASON_MIN = 3;
const REASON_MAX = 500;
const GERMAN_DATE = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/;

function validDate(text) {
  const m = GERMAN_DATE.exec(text);
  if (!m) return false;
  const [day, month, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

export class ClerkDocuments {
  /**
   * @param {object} o
   * @param {number|string} o.appointmentId
   * @param {import('./protocol.js').Signaling} o.signaling
   */
  constructor({ appointmentId, signaling }) {
    this.appointmentId = appointmentId;
    this.id = encodeURIComponent(appointmentId); // paths written out whole: tests read them from this file
    this.templates = [];
    this.documents = [];
    this.values = {}; // template id → {field name: value}: switching templates keeps what was typed
    this.preview = null;
    this.busy = false;
    this.keys = new IdempotencyKeys(KEY_STORE);
    this.destroyed = false;
    this.build();
    this.unsubscribe = [
      signaling.on('document.ready', () => this.loadDocuments()),
      signaling.on('document.revoked', () => this.loadDocuments()),
    ];
    onLanguageChange(() => {
      if (this.destroyed) return;
      this.loadTemplates(); // titles and labels come from the server in the request's language
      this.renderDocuments();
    });
    this.loadTemplates();
    this.loadDocuments();
  }

  // ---- view ------------------------------------------------------------------------

  build() {
    this.select = h('select', { id: 'doc-template', name: 'template_id', 'data-testid': 'doc-template' });
    this.select.addEventListener('change', () => this.renderFields());
    this.fieldsBox = h('div', { class: 'doc-fields', 'data-testid': 'doc-fields' });
    this.alert = h('div', { class: 'alert', role: 'alert', 'data-testid': 'doc-alert' });
    this.previewButton = h('button', { type: 'button', class: 'button secondary', 'data-testid': 'doc-preview' }, t('clerkDocs.preview'));
    this.issueButton = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'doc-issue' }, t('clerkDocs.issue'));
    this.progress = h('p', { class: 'doc-progress', role: 'status', 'data-testid': 'doc-progress' });
    this.previewBox = h('div', { class: 'doc-preview', 'data-testid': 'doc-preview-view' });
    this.form = h('form', { class: 'doc-form', novalidate: true, 'data-testid': 'doc-form' },
      h('div', { class: 'field' }, h('label', { for: 'doc-template' }, t('clerkDocs.template')), this.select),
      this.fieldsBox, this.alert,
      h('div', { class: 'actions' }, this.previewButton, this.issueButton),
      this.progress);
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.issue();
    });
    this.previewButton.addEventListener('click', () => this.showPreview());
    this.listAlert = h('div', { class: 'alert', role: 'alert', 'data-testid': 'doc-list-alert' });
    this.list = h('ul', { class: 'doc-list', 'data-testid': 'doc-list' });
    this.element = h('div', { class: 'clerk-documents', 'data-testid': 'clerk-documents' },
      h('h4', { id: 'clerk-docs-heading' }, t('clerkDocs.heading')),
      this.form, this.previewBox,
      h('h4', {}, t('clerkDocs.issuedHeading')), this.listAlert, this.list);
    this.buildRevokeDialog();
  }

  buildRevokeDialog() {
    this.reason = h('textarea', {
      id: 'revoke-reason', name: 'reason', rows: '3', maxlength: String(REASON_MAX), 'data-testid': 'revoke-reason',
    });
    this.revokeAlert = h('div', { class: 'alert', role: 'alert', 'data-testid': 'revoke-alert' });
    this.revokeText = h('p', { id: 'revoke-text' });
    const confirm = h('button', { type: 'submit', class: 'button danger', 'data-testid': 'revoke-confirm' }, t('clerkDocs.revokeConfirm'));
    const cancel = h('button', { type: 'button', class: 'button secondary', 'data-testid': 'revoke-cancel' }, t('clerkDocs.revokeCancel'));
    this.revokeForm = h('form', { method: 'dialog', novalidate: true },
      h('h2', { id: 'revoke-heading' }, t('clerkDocs.revokeHeading')),
      this.revokeText, this.revokeAlert,
      h('div', { class: 'field' }, h('label', { for: 'revoke-reason' }, t('clerkDocs.revokeReason')), this.reason),
      h('div', { class: 'actions' }, confirm, cancel));
    this.dialog = h('dialog', {
      class: 'dialog', 'aria-labelledby': 'revoke-heading', 'aria-describedby': 'revoke-text', 'data-testid': 'revoke-dialog',
    }, this.revokeForm);
    this.revokeForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.revoke();
    });
    cancel.addEventListener('click', () => this.dialog.close());
    document.body.append(this.dialog);
  }

  template() {
    return this.templates.find((tpl) => tpl.id === this.select.value) || null;
  }

  renderTemplates() {
    const chosen = this.select.value;
    const ordered = [...this.templates].sort((a, b) => Number(Boolean(b.suggested)) - Number(Boolean(a.suggested)));
    this.templates = ordered;
    this.select.replaceChildren(...ordered.map((tpl) => h('option', { value: tpl.id },
      tpl.suggested ? t('clerkDocs.suggested', { title: tpl.title }) : tpl.title)));
    if (chosen && ordered.some((tpl) => tpl.id === chosen)) this.select.value = chosen;
    this.renderFields();
  }

  renderFields() {
    if (this.renderedFor) this.saveValuesFor(this.renderedFor);
    const tpl = this.template();
    this.renderedFor = tpl ? tpl.id : null;
    if (!tpl) {
      this.fieldsBox.replaceChildren();
      return;
    }
    const kept = this.values[tpl.id] || {};
    this.fieldsBox.replaceChildren(...tpl.fields.map((field) => {
      const id = `doc-field-${field.name}`;
      const attrs = {
        id, name: field.name, 'data-testid': id, maxlength: String(field.max_length || ''),
        required: Boolean(field.required), 'aria-required': String(Boolean(field.required)),
      };
      const value = field.name in kept ? kept[field.name] : (field.value ?? '');
      let input;
      if (field.kind === 'multiline') {
        input = h('textarea', { ...attrs, rows: '3' });
      } else if (field.kind === 'date') {
        // German date as typed on paper (TT.MM.JJJJ); a type="date" picker shows the device's format.
        input = h('input', { ...attrs, type: 'text', inputmode: 'numeric', autocomplete: 'off', placeholder: t('clerkDocs.datePlaceholder'), 'aria-describedby': `${id}-hint` });
      } else {
        input = h('input', { ...attrs, type: 'text', autocomplete: 'off' });
      }
      input.value = value;
      const label = h('label', { for: id }, field.required ? t('clerkDocs.requiredLabel', { label: field.label }) : field.label);
      const parts = [label, input];
      if (field.kind === 'date') parts.push(h('p', { id: `${id}-hint`, class: 'muted' }, t('clerkDocs.dateHint')));
      return h('div', { class: 'field' }, ...parts);
    }));
  }

  saveValuesFor(templateId) {
    const tpl = this.templates.find((x) => x.id === templateId);
    if (!tpl) return;
    const values = {};
    for (const field of tpl.fields) {
      const input = this.form.elements.namedItem(field.name);
      if (input) values[field.name] = input.value;
    }
    this.values[templateId] = values;
  }

  renderDocuments() {
    this.list.replaceChildren(...this.documents.map((doc) => {
      const revoked = doc.status === 'revoked';
      const titleId = `clerk-doc-${doc.id}`;
      const revoke = h('button', {
        type: 'button', class: 'button danger small', 'data-testid': `revoke-${doc.id}`, 'aria-describedby': titleId,
      }, t('clerkDocs.revoke'));
      revoke.hidden = revoked;
      revoke.addEventListener('click', () => this.openRevoke(doc));
      return h('li', { class: 'doc-item', 'data-document-id': doc.id, 'data-status': doc.status },
        h('p', { id: titleId, class: 'doc-title' }, doc.title),
        h('p', { class: 'muted' }, t('clerkDocs.issuedAt', { time: formatDateTime(doc.issued_at), level: doc.level })),
        h('p', { class: revoked ? 'document-status revoked' : 'document-status', 'data-testid': `doc-status-${doc.id}` },
          revoked ? t('clerkDocs.revokedAt', { time: formatDateTime(doc.revoked_at) }) : t('clerkDocs.valid')),
        h('p', { class: 'muted' }, t('clerkDocs.checkCode', { code: doc.check_code })),
        h('div', { class: 'actions' },
          h('a', {
            class: 'button secondary small', href: doc.download_url || `/api/clerk/documents/${encodeURIComponent(doc.id)}/pdf`,
            download: '', 'data-testid': `doc-download-${doc.id}`, 'aria-describedby': titleId,
          }, t('clerkDocs.download')),
          h('a', { href: doc.verify_url, target: '_blank', rel: 'noopener', 'aria-describedby': titleId }, t('clerkDocs.verifyLink')),
          revoke));
    }));
    if (!this.documents.length) this.list.replaceChildren(h('li', { class: 'muted' }, t('clerkDocs.none')));
  }

  // ---- data ------------------------------------------------------------------------

  async loadTemplates() {
    try {
      const answer = await getJSON(`/api/clerk/appointments/${this.id}/document-templates`);
      if (this.destroyed) return;
      if (this.renderedFor) this.saveValuesFor(this.renderedFor);
      this.renderedFor = null;
      this.templates = Array.isArray(answer && answer.templates) ? answer.templates : [];
      this.renderTemplates();
      clearAlert(this.alert);
    } catch (err) {
      showAlert(this.alert, errorMessage(err));
    }
  }

  async loadDocuments() {
    try {
      const answer = await getJSON(`/api/clerk/appointments/${this.id}/documents`);
      if (this.destroyed) return;
      this.documents = Array.isArray(answer && answer.documents) ? answer.documents : [];
      clearAlert(this.listAlert);
      this.renderDocuments();
    } catch (err) {
      showAlert(this.listAlert, errorMessage(err));
    }
  }

  /** The form's state: {template_id, fields}; null (with the problems shown) when the browser sees a mistake. */
  collect() {
    const tpl = this.template();
    if (!tpl) {
      showAlert(this.alert, t('clerkDocs.chooseTemplate'));
      this.select.focus();
      return null;
    }
    const fields = {};
    const problems = {};
    for (const field of tpl.fields) {
      const input = this.form.elements.namedItem(field.name);
      const value = input ? input.value.trim() : '';
      fields[field.name] = value;
      if (field.required && !value) problems[field.name] = t('clerkDocs.fieldRequired');
      else if (field.max_length && value.length > field.max_length) problems[field.name] = t('clerkDocs.fieldTooLong', { max: field.max_length });
      else if (field.kind === 'date' && value && !validDate(value)) problems[field.name] = t('clerkDocs.dateHint');
    }
    if (!showValidation(this.form, this.alert, problems)) return null;
    return { template_id: tpl.id, fields };
  }

  setWorking(working, text = '') {
    this.busy = working;
    this.issueButton.disabled = working;
    this.previewButton.disabled = working;
    this.form.setAttribute('aria-busy', String(working));
    this.progress.textContent = text;
  }

  async showPreview() {
    if (this.busy) return;
    clearFieldErrors(this.form);
    clearAlert(this.alert);
    const state = this.collect();
    if (!state) return;
    this.setWorking(true, t('clerkDocs.previewing'));
    try {
      const { bytes } = await fetchBytes(`/api/clerk/appointments/${this.id}/document-preview`, { body: state });
      if (this.destroyed) return;
      if (this.preview) this.preview.destroy();
      const tpl = this.template();
      this.preview = await showPdf(this.previewBox, {
        bytes, filename: `vorschau-${state.template_id}.pdf`,
        label: t('clerkDocs.previewLabel', { title: tpl ? tpl.title : '' }),
      });
    } catch (err) {
      showFormError(this.form, this.alert, err); // field messages at the fields; input stays as typed
    } finally {
      this.setWorking(false);
    }
  }

  async issue() {
    if (this.busy) return;
    clearFieldErrors(this.form);
    clearAlert(this.alert);
    const state = this.collect();
    if (!state) return;
    const sent = [this.appointmentId, state.template_id, state.fields];
    const key = this.keys.keyFor(sent);
    this.setWorking(true, t('clerkDocs.sealing'));
    try {
      const answer = await postJSON(`/api/clerk/appointments/${this.id}/documents`, { ...state, idempotency_key: key });
      if (this.destroyed) return;
      const doc = answer && answer.document;
      announce(t('clerkDocs.issued', { title: doc ? doc.title : '' }));
      this.progress.textContent = '';
      if (this.preview) this.preview.destroy();
      this.preview = null;
      this.previewBox.replaceChildren(h('p', { class: 'notice', 'data-testid': 'doc-issued' }, t('clerkDocs.issued', { title: doc ? doc.title : '' })));
      await this.loadDocuments();
    } catch (err) {
      // The form stays as typed. A seal failure keeps the key: "Ausstellen" again retries the same
      // request. A conflicting key (this state met another body) gets a fresh one.
      if (err.code === 'idempotency_conflict') this.keys.forget(sent);
      showFormError(this.form, this.alert, err);
    } finally {
      this.setWorking(false);
    }
  }

  // ---- revocation ------------------------------------------------------------------

  openRevoke(doc) {
    this.revoking = doc;
    this.revokeText.textContent = t('clerkDocs.revokeText', { title: doc.title, time: formatDateTime(doc.issued_at) });
    this.reason.value = '';
    clearFieldErrors(this.revokeForm);
    clearAlert(this.revokeAlert);
    this.dialog.showModal();
    this.reason.focus();
  }

  async revoke() {
    const doc = this.revoking;
    if (!doc || this.revokeForm.dataset.busy === 'true') return;
    const reason = this.reason.value.trim();
    if (reason.length < REASON_MIN || reason.length > REASON_MAX) {
      showValidation(this.revokeForm, this.revokeAlert, { reason: t('clerkDocs.reasonLength', { min: REASON_MIN, max: REASON_MAX }) });
      return;
    }
    this.revokeForm.dataset.busy = 'true';
    try {
      await postJSON(`/api/clerk/documents/${encodeURIComponent(doc.id)}/revoke`, { reason });
      this.dialog.close();
      announce(t('clerkDocs.revoked', { title: doc.title }));
      await this.loadDocuments();
    } catch (err) {
      if (err.code === 'document_revoked') {
        this.dialog.close();
        await this.loadDocuments();
        showAlert(this.listAlert, errorMessage(err));
      } else {
        showFormError(this.revokeForm, this.revokeAlert, err);
      }
    } finally {
      delete this.revokeForm.dataset.busy;
    }
  }

  destroy() {
    this.destroyed = true;
    for (const off of this.unsubscribe) off();
    if (this.preview) this.preview.destroy();
    this.dialog.remove();
  }
}

// Error and status presentation shared by all pages: the page-level alert, messages
// beside inputs (aria-invalid + aria-describedby) and polite announcements.

import { ApiError } from './api.js';
import { h, toggleIdRef } from './dom.js';
import { t } from './i18n.js';

/** Human message for any error: the server's translated text, else a catalog text. */
export function errorMessage(err) {
  if (err instanceof ApiError) {
    if (err.isNetwork) return t('errors.network');
    if (err.serverMessage) return err.serverMessage;
    if (err.status >= 500 || err.code === 'bad_response') return t('errors.server');
    return t('errors.unexpected');
  }
  console.error(err);
  return t('errors.unexpected');
}

/** Put text into a role="alert" container (empty text hides it via CSS :empty). */
export function showAlert(el, text) {
  el.textContent = text || '';
}

export function clearAlert(el) {
  el.textContent = '';
}

let announceTimer = null;

/** Polite announcement through the page's #live-status region. */
export function announce(text) {
  const region = document.getElementById('live-status');
  if (!region) return;
  region.textContent = '';
  window.clearTimeout(announceTimer);
  // A short gap makes screen readers announce the same text twice in a row too.
  announceTimer = window.setTimeout(() => {
    region.textContent = text;
  }, 60);
}

/**
 * Empty the #live-status region (and drop a pending announcement) when the state it spoke of is
 * over: hidden, it would still say "Ihr Termin wird reserviert …" after the booking went through,
 * and a screen reader's virtual cursor reads it there.
 */
export function clearAnnouncement() {
  window.clearTimeout(announceTimer);
  const region = document.getElementById('live-status');
  if (region) region.textContent = '';
}

/** Show one message next to an input and link it for assistive technology. */
export function setFieldError(input, message) {
  const id = `${input.id}-error`;
  let node = document.getElementById(id);
  if (!node) {
    node = h('p', { id, class: 'field-error' });
    const field = input.closest('.field');
    if (field) field.append(node);
    else input.after(node);
  }
  node.textContent = message;
  input.setAttribute('aria-invalid', 'true');
  toggleIdRef(input, 'aria-describedby', id, true);
}

export function clearFieldErrors(form) {
  for (const input of form.querySelectorAll('[aria-invalid="true"]')) {
    input.removeAttribute('aria-invalid');
    toggleIdRef(input, 'aria-describedby', `${input.id}-error`, false);
  }
  for (const node of form.querySelectorAll('.field-error')) node.remove();
}

/**
 * Show an error for a form: field messages beside matching inputs (by name), the main
 * message (plus messages for unknown fields) in the alert. Focuses the first bad input.
 */
export function showFormError(form, alertEl, err) {
  clearFieldErrors(form);
  const extra = [];
  let first = null;
  const fields = err instanceof ApiError ? err.fields : {};
  for (const [name, message] of Object.entries(fields)) {
    const input = form.elements.namedItem(name);
    if (input instanceof HTMLElement && input.id) {
      setFieldError(input, message);
      first = first || input;
    } else {
      extra.push(message);
    }
  }
  showAlert(alertEl, [errorMessage(err), ...extra].join(' '));
  if (first) first.focus();
  return first;
}

/** Apply client-side validation results: {name: message}. Returns true when valid. */
export function showValidation(form, alertEl, problems, { focus = true } = {}) {
  clearFieldErrors(form);
  const entries = Object.entries(problems);
  if (!entries.length) {
    clearAlert(alertEl);
    return true;
  }
  let first = null;
  for (const [name, message] of entries) {
    const input = form.elements.namedItem(name);
    if (input instanceof HTMLElement) {
      setFieldError(input, message);
      first = first || input;
    }
  }
  showAlert(alertEl, t('errors.checkInput'));
  if (first && focus) first.focus();
  return false;
}

/** Mark a button busy without disabling it (disabling would drop keyboard focus). */
export function setBusy(button, busy) {
  if (busy) {
    button.setAttribute('aria-disabled', 'true');
    button.dataset.busy = 'true';
  } else {
    button.removeAttribute('aria-disabled');
    delete button.dataset.busy;
  }
}

export function isBusy(button) {
  return button.dataset.busy === 'true';
}

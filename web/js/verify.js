// The verification page /v/{document_id}#<check code>: the check code comes from the address's
// fragment (never sent to the server, so never in its logs) or is typed from a printout; one
// verdict (gültig / widerrufen / nicht prüfbar) with its reason and the key data; a dropped or
// chosen PDF is hashed here and compared with the issued one's SHA-256 – it is never uploaded.

import { fetchBytes, postJSON } from './api.js';
import { $, focusHeading, h } from './dom.js';
import { canHash, sameDigest, sha256Hex } from './file-hash.js';
import { formatDate, formatDateTime } from './format.js';
import { announce, clearAlert, clearFieldErrors, isBusy, setBusy, setFieldError, showFormError } from './forms.js';
import { onLanguageChange, t } from './i18n.js';
import { controlsReady, initPage } from './page.js';

const documentId = decodeURIComponent((window.location.pathname.match(/^\/v\/([^/]+)/) || [])[1] || '');
const VERDICTS = ['valid', 'revoked', 'unverifiable'];
// Crockford base32 without I, L, O, U; the server ignores case and hyphens.
const CODE_SHAPE = /^[0-9A-HJKMNP-TV-Z]{10}$/;

const form = $('#code-form');
const input = $('#check-code');
const alertEl = $('#verify-alert');

let answer = null; // the last POST /api/verify/{id} answer
let lastCode = '';
let file = null; // {name, sha256} of the dropped or chosen PDF

/** "7KQ4M2XD9P" from whatever was typed or came after # ("7kq4-m2xd-9p", spaces). */
function normalized(code) {
  return code.toUpperCase().replace(/[\s-]+/g, '');
}

/** The code as printed: XXXX-XXXX-XX. */
function grouped(code) {
  const plain = normalized(code);
  return plain.length === 10 ? `${plain.slice(0, 4)}-${plain.slice(4, 8)}-${plain.slice(8)}` : code.trim();
}

function codeFromHash() {
  try {
    return decodeURIComponent(window.location.hash.replace(/^#/, ''));
  } catch {
    return '';
  }
}

// ---- the verdict ----------------------------------------------------------------------

function levelText(level) {
  const key = `verify.level.${level}`;
  const text = t(key);
  return text === key ? String(level || '–') : text;
}

function fact(label, value, testid) {
  return h('div', {}, h('dt', {}, label), h('dd', { 'data-testid': testid }, value));
}

function renderVerdict() {
  const section = $('#verdict');
  if (!answer) {
    section.hidden = true;
    return;
  }
  const verdict = VERDICTS.includes(answer.verdict) ? answer.verdict : 'unverifiable';
  section.hidden = false;
  section.dataset.verdict = verdict;
  $('#verdict-heading').textContent = t(`verify.verdict.${verdict}`);
  $('#verdict-reason').textContent = answer.reason || t(`verify.reason.${verdict}`);
  const doc = answer.document;
  const facts = [];
  if (doc) {
    facts.push(
      fact(t('verify.fact.title'), doc.title || '–', 'fact-title'),
      fact(t('verify.fact.issuedAt'), doc.issued_at ? formatDate(doc.issued_at) : '–', 'fact-issued'),
      fact(t('verify.fact.office'), doc.office || '–', 'fact-office'),
      fact(t('verify.fact.level'), levelText(doc.level), 'fact-level'),
      fact(t('verify.fact.holder'), doc.holder || '–', 'fact-holder'),
    );
    if (doc.revoked_at) facts.push(fact(t('verify.fact.revokedAt'), formatDateTime(doc.revoked_at), 'fact-revoked'));
  }
  $('#verdict-facts').replaceChildren(...facts);
  $('#verdict-facts').hidden = !facts.length;
  section.querySelector('p.muted').hidden = !doc;
}

async function check(code, { quiet = false } = {}) {
  const button = $('#check');
  if (isBusy(button)) return;
  clearFieldErrors(form);
  clearAlert(alertEl);
  const plain = normalized(code);
  if (!CODE_SHAPE.test(plain)) {
    setFieldError(input, t('verify.codeFormat'));
    input.focus();
    return;
  }
  setBusy(button, true);
  $('#verify-progress').textContent = t('verify.checking');
  try {
    answer = await postJSON(`/api/verify/${encodeURIComponent(documentId)}`, { check_code: grouped(plain) });
    lastCode = plain;
    renderVerdict();
    renderFile();
    if (!quiet) focusHeading($('#verdict-heading'));
    announce(`${$('#verdict-heading').textContent}. ${$('#verdict-reason').textContent}`);
  } catch (err) {
    // Rate limits (with the wait), a code the server finds malformed (at the field): the server's text.
    showFormError(form, alertEl, err);
  } finally {
    setBusy(button, false);
    $('#verify-progress').textContent = '';
  }
}

// ---- the file check -------------------------------------------------------------------

function renderFile() {
  const result = $('#file-result');
  const verdict = $('#file-verdict');
  const hash = $('#file-hash');
  if (!file) {
    result.dataset.match = 'none';
    verdict.textContent = canHash() ? '' : t('verify.fileNoCrypto');
    hash.textContent = '';
    return;
  }
  hash.textContent = t('verify.fileHash', { name: file.name, sha256: file.sha256 });
  const expected = answer && answer.document && answer.document.sha256;
  if (!expected) {
    result.dataset.match = 'unknown';
    verdict.textContent = t(answer ? 'verify.fileNoReference' : 'verify.fileNeedsCode');
  } else if (sameDigest(file.sha256, expected)) {
    result.dataset.match = 'true';
    verdict.textContent = t('verify.fileMatch');
  } else {
    result.dataset.match = 'false';
    verdict.textContent = t('verify.fileMismatch');
  }
}

async function takeFile(chosen) {
  if (!chosen) return;
  if (!canHash()) {
    renderFile();
    return;
  }
  $('#file-verdict').textContent = t('verify.fileHashing');
  try {
    file = { name: chosen.name || 'dokument.pdf', sha256: await sha256Hex(chosen) };
  } catch (err) {
    console.warn('file not hashed', err);
    file = null;
    $('#file-verdict').textContent = t('verify.fileUnreadable');
    return;
  }
  renderFile();
}

function setUpDrop() {
  const zone = $('#drop-zone');
  const picker = $('#file-input');
  picker.addEventListener('change', () => takeFile(picker.files && picker.files[0]));
  for (const name of ['dragenter', 'dragover']) {
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add('dragging');
    });
  }
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    const dropped = event.dataTransfer && event.dataTransfer.files && event.dataTransfer.files[0];
    takeFile(dropped);
  });
  // A PDF dropped beside the zone must not replace the page with the browser's viewer.
  window.addEventListener('dragover', (event) => event.preventDefault());
  window.addEventListener('drop', (event) => event.preventDefault());
}

// ---- the root certificate -------------------------------------------------------------

async function offerRootCertificate() {
  try {
    await fetchBytes('/api/verify/root-certificate', { accept: 'application/x-pem-file' });
    $('#root-cert').hidden = false;
  } catch (err) {
    // The link is an extra, hidden whatever failed; root_certificate_unavailable is the expected
    // answer (production has no development root to hand out), anything else is worth a console note.
    $('#root-cert').hidden = true;
    if (err.code !== 'root_certificate_unavailable') console.warn('root certificate not offered', err.serverMessage || err);
  }
}

// ---- start ------------------------------------------------------------------------------

async function start() {
  await initPage();
  setUpDrop();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    check(input.value);
  });
  onLanguageChange(() => {
    // The reason is the server's text: ask again in the new language (the page's own texts re-render).
    if (answer && lastCode) check(lastCode, { quiet: true });
    renderVerdict();
    renderFile();
  });
  controlsReady();
  renderFile();
  offerRootCertificate();
  const fromHash = codeFromHash();
  if (fromHash) {
    input.value = grouped(fromHash);
    await check(fromHash, { quiet: true });
  } else {
    input.focus();
  }
}

start();

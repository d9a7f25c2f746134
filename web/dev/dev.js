// /dev (development mode only): demo accounts with live TOTP codes, and the mail outbox.
// Served as /dev/assets/dev.js and never under /static; the shared modules are imported
// by their absolute /static URLs, so they are the very same module instances the pages use.

import { getJSON, postJSON } from '/static/js/api.js';
import { $, h } from '/static/js/dom.js';
import { announce, clearAlert, errorMessage, showAlert } from '/static/js/forms.js';
import { locale, onLanguageChange, t } from '/static/js/i18n.js';
import { clockNow, timeZone } from '/static/js/format.js';
import { roleLabel } from '/static/js/labels.js';
import { controlsReady, initPage } from '/static/js/page.js';

const ACCOUNTS_EVERY_S = 5;
const OUTBOX_EVERY_MS = 10_000;
const alertEl = $('#dev-alert');

let accounts = [];
let fetchedAt = 0; // ms when the codes were fetched
let messages = [];
let outboxSignature = '';
const openMails = new Set();

// ---- accounts ----------------------------------------------------------------------

let accountsLoading = false;

async function loadAccounts() {
  if (accountsLoading) return;
  accountsLoading = true;
  try {
    const fresh = (await getJSON('/api/dev/accounts')).accounts;
    fetchedAt = Date.now();
    clearAlert(alertEl);
    const same = JSON.stringify(fresh.map(codeKey)) === JSON.stringify(accounts.map(codeKey));
    accounts = fresh;
    // Re-render rows only when a code changed, so selecting a code to copy it works.
    if (same) updateSeconds();
    else renderAccounts();
  } catch (err) {
    showAlert(alertEl, errorMessage(err));
  } finally {
    accountsLoading = false;
  }
}

function secondsLeft(account) {
  return Math.max(0, account.seconds_left - Math.floor((Date.now() - fetchedAt) / 1000));
}

function codeKey(a) {
  return [a.username, a.password, a.role, a.display_name, a.totp_code];
}

function secondsText(a) {
  return a.totp_code ? t('dev.secondsLeft', { seconds: secondsLeft(a) }) : '–';
}

function updateSeconds() {
  const rows = $('#account-rows').rows;
  accounts.forEach((a, i) => {
    const cell = rows[i] && rows[i].querySelector('.seconds');
    if (cell) cell.textContent = secondsText(a);
  });
}

function renderAccounts() {
  $('#account-rows').replaceChildren(...accounts.map((a) => h('tr', { 'data-username': a.username },
    h('td', {}, h('code', {}, a.username)),
    h('td', {}, h('code', {}, a.password)),
    h('td', {}, roleLabel(a.role)),
    h('td', {}, a.display_name),
    h('td', {}, a.totp_code
      ? h('code', { class: 'totp', 'data-testid': `totp-${a.username}` }, a.totp_code)
      : t('dev.noCode')),
    h('td', { class: 'seconds' }, secondsText(a)))));
}

function tick() {
  const expired = accounts.some((a) => a.totp_code && secondsLeft(a) === 0);
  const stale = Date.now() - fetchedAt >= ACCOUNTS_EVERY_S * 1000;
  if (expired || stale) loadAccounts();
  else updateSeconds();
}

// ---- outbox ------------------------------------------------------------------------

const URL_RE = /(https?:\/\/[^\s<>"')\]]+)/g;

/** Text with http(s) links turned into anchors; everything else stays plain text. */
function linkify(text) {
  const parts = text.split(URL_RE);
  return parts.map((part, i) => (i % 2 === 1 ? h('a', { href: part }, part) : part));
}

function formatMailDate(value) {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value || '';
  return new Intl.DateTimeFormat(locale(), {
    timeZone: timeZone(), dateStyle: 'medium', timeStyle: 'medium',
  }).format(d);
}

function sortNewestFirst(list) {
  return [...list].sort((a, b) => (Date.parse(b.date) || 0) - (Date.parse(a.date) || 0));
}

async function loadOutbox({ announceResult = false } = {}) {
  try {
    const answer = await getJSON('/api/dev/outbox');
    const signature = JSON.stringify(answer.messages);
    $('#outbox-updated').textContent = t('dev.updated', { time: clockNow() });
    if (announceResult) announce(t('dev.outboxCount', { count: answer.messages.length }));
    if (signature === outboxSignature) return; // keep open <details> and focus as they are
    outboxSignature = signature;
    messages = sortNewestFirst(answer.messages);
    renderOutbox();
  } catch (err) {
    showAlert(alertEl, errorMessage(err));
  }
}

function renderOutbox() {
  const list = $('#outbox');
  if (!messages.length) {
    list.replaceChildren(h('li', { class: 'muted' }, t('dev.outboxEmpty')));
    return;
  }
  list.replaceChildren(...messages.map((m) => {
    const details = h('details', { 'data-file': m.file },
      h('summary', {}, t('dev.showText')),
      h('pre', { class: 'mail-text' }, linkify(m.text || '')));
    details.open = openMails.has(m.file);
    details.addEventListener('toggle', () => {
      if (details.open) openMails.add(m.file);
      else openMails.delete(m.file);
    });
    return h('li', { class: 'mail', 'data-testid': 'outbox-mail' },
      h('h3', { class: 'mail-subject' }, m.subject || t('dev.noSubject')),
      h('p', { class: 'mail-meta' },
        t('dev.mailMeta', { to: m.to, date: formatMailDate(m.date) })),
      details);
  }));
}

// ---- demo call ---------------------------------------------------------------------

async function createDemoCall() {
  const result = $('#demo-call-result');
  clearAlert(alertEl);
  try {
    const demo = await postJSON('/api/dev/demo-call', {});
    result.replaceChildren(
      t('dev.demoCallCreated', { reference: demo.reference }), ' ',
      h('a', { href: demo.video_url, 'data-testid': 'demo-call-link' }, t('dev.demoCallOpen')),
    );
    loadOutbox();
  } catch (err) {
    showAlert(alertEl, errorMessage(err));
  }
}

async function main() {
  await initPage();
  $('#demo-call').addEventListener('click', createDemoCall);
  $('#outbox-refresh').addEventListener('click', () => loadOutbox({ announceResult: true }));
  controlsReady();
  await Promise.all([loadAccounts(), loadOutbox()]);
  window.setInterval(tick, 1000);
  window.setInterval(() => {
    if (!document.hidden) loadOutbox();
  }, OUTBOX_EVERY_MS);
  onLanguageChange(() => {
    renderAccounts();
    renderOutbox();
  });
}

main();

// Clerk console "Ihr Tag": the day's appointments (auto-refresh) and the walk-in counter.

import { getJSON, postJSON, withQuery } from './api.js';
import { $, h } from './dom.js';
import { clearAlert, errorMessage, showAlert } from './forms.js';
import { onLanguageChange, t } from './i18n.js';
import { addDays, clockNow, formatDay, formatTimeRange, todayInZone } from './format.js';
import { channelLabel, roleLabel, statusLabel } from './labels.js';
import { controlsReady, initPage } from './page.js';
import { initClerkCalls } from './clerk-call.js';
import { OUTCOMES } from './protocol.js';

const REFRESH_MS = 30_000;
const alertEl = $('#clerk-alert');
const dateInput = $('#day-date');

let staff = null;
let day = null; // last /api/clerk/day answer for the shown date
let concerns = [];
const counts = new Map(); // concern id → today's walk-ins
let statusTimer = null;
let lastUpdated = null;

/** Run an API call; a 401 means the session ended, so go to the sign-in page. */
async function call(promise) {
  try {
    return await promise;
  } catch (err) {
    if (err.status === 401) {
      window.location.assign('/anmelden');
      return new Promise(() => {}); // never settles: the page is going away
    }
    throw err;
  }
}

function selectedDate() {
  return dateInput.value || todayInZone();
}

// ---- rendering ---------------------------------------------------------------------

function renderStaff() {
  if (!staff) return;
  $('#staff-info').textContent = t('clerk.signedInAs', { name: staff.display_name, role: roleLabel(staff.role) });
}

function renderDay() {
  const date = day ? day.date : selectedDate();
  $('#day-caption').textContent = t('clerk.caption', { date: formatDay(date) });
  $('#day-updated').textContent = lastUpdated ? t('clerk.updated', { time: lastUpdated }) : '';
  const rows = $('#day-rows');
  if (!day) return;
  if (!day.appointments.length) {
    rows.replaceChildren(h('tr', {}, h('td', { colspan: '6' }, t('clerk.noAppointments'))));
    return;
  }
  // Kept in the server's order (by start, cancelled ones last).
  rows.replaceChildren(...day.appointments.map((a) => h('tr', { 'data-reference': a.reference, 'data-status': a.status },
    h('td', {}, formatTimeRange(a.start, a.end)),
    h('td', {}, a.concern.name),
    h('td', {}, a.location ? a.location.name : ''),
    h('td', {}, a.citizen_name || t('clerk.anonymous')),
    h('td', {}, channelLabel(a.channel)),
    h('td', {}, h('span', { class: `status status-${a.status}` }, statusLabel(a.status)),
      a.status === 'abandoned' ? outcomeForm(a) : null))));
}

/** A call that ended without an outcome (everyone gone, or the room closed): record it now. */
function outcomeForm(a) {
  const select = h('select', { 'aria-label': t('clerk.outcomeLabel', { reference: a.reference }), 'data-testid': 'outcome-choice' },
    ...OUTCOMES.map((o) => h('option', { value: o }, t(`clerkCall.outcome.${o}`))));
  const button = h('button', { type: 'button', class: 'secondary', 'data-testid': 'outcome-record' }, t('clerk.outcomeRecord'));
  button.addEventListener('click', () => recordOutcome(a, select.value, button));
  return h('div', { class: 'outcome-later' }, h('p', {}, t('clerk.outcomeMissing')), select, button);
}

async function recordOutcome(a, outcome, button) {
  button.disabled = true;
  try {
    await call(postJSON(`/api/clerk/appointments/${a.id}/outcome`, { outcome }));
    await loadDay({ quiet: true });
  } catch (err) {
    button.disabled = false;
    showAlert(alertEl, errorMessage(err));
  }
}

function renderWalkins() {
  const list = $('#walkin-list');
  if (!concerns.length) {
    list.replaceChildren(h('li', {}, t('clerk.noConcerns')));
    return;
  }
  list.replaceChildren(...concerns.map((c) => {
    const button = h('button', {
      type: 'button', class: 'button primary walkin-button', 'data-testid': `walkin-${c.id}`,
      'aria-describedby': `walkin-count-${c.id}`,
    }, t('clerk.walkinButton', { name: c.name }));
    button.addEventListener('click', () => recordWalkin(c));
    return h('li', { class: 'walkin' },
      button,
      h('span', { id: `walkin-count-${c.id}`, class: 'walkin-count', 'data-testid': `walkin-count-${c.id}` },
        t('clerk.walkinCount', { count: counts.get(c.id) || 0 })));
  }));
}

/** Update only the counter text, so the focused button stays in place. */
function updateCount(concernId) {
  const el = document.getElementById(`walkin-count-${concernId}`);
  if (!el) return;
  el.textContent = t('clerk.walkinCount', { count: counts.get(concernId) || 0 });
  el.classList.remove('bumped');
  void el.offsetWidth; // restart the highlight
  el.classList.add('bumped');
}

// ---- data --------------------------------------------------------------------------

function takeCounts(answer) {
  for (const w of answer.walk_ins || []) counts.set(w.concern_id, w.count);
}

async function loadDay({ quiet = false } = {}) {
  const date = selectedDate();
  const today = todayInZone();
  try {
    const answer = await call(getJSON(withQuery('/api/clerk/day', { date })));
    if (date !== selectedDate()) return; // the clerk picked another day meanwhile
    day = answer;
    if (date === today) takeCounts(answer);
    else takeCounts(await call(getJSON(withQuery('/api/clerk/day', { date: today }))));
    lastUpdated = clockNow();
    if (!quiet) clearAlert(alertEl);
    renderDay();
    for (const c of concerns) updateCountQuiet(c.id);
  } catch (err) {
    showAlert(alertEl, errorMessage(err));
  }
}

function updateCountQuiet(concernId) {
  const el = document.getElementById(`walkin-count-${concernId}`);
  if (el) el.textContent = t('clerk.walkinCount', { count: counts.get(concernId) || 0 });
}

// Every click is one person: no busy guard, so quick repeated clicks all count.
async function recordWalkin(concern) {
  try {
    const answer = await call(postJSON('/api/clerk/walk-ins', { concern_id: concern.id }));
    // Answers may arrive out of order; the count only ever grows during a day.
    counts.set(concern.id, Math.max(answer.count_today, counts.get(concern.id) || 0));
    updateCount(concern.id);
    const status = $('#walkin-status');
    status.textContent = t('clerk.walkinRecorded', { name: concern.name, count: counts.get(concern.id) });
    window.clearTimeout(statusTimer);
    statusTimer = window.setTimeout(() => { status.textContent = ''; }, 6000);
    if (selectedDate() === todayInZone()) loadDay({ quiet: true });
  } catch (err) {
    showAlert(alertEl, errorMessage(err));
  }
}

async function signOut() {
  try {
    await postJSON('/api/staff/logout', {});
  } catch (err) {
    if (err.status !== 401) {
      showAlert(alertEl, errorMessage(err));
      return;
    }
  }
  window.location.assign('/anmelden');
}

function shiftDay(days) {
  dateInput.value = addDays(selectedDate(), days);
  loadDay();
}

async function main() {
  await initPage();
  dateInput.value = todayInZone();
  renderDay();
  // Bound before the day loads, so the controls work as soon as they are enabled.
  dateInput.addEventListener('change', () => loadDay());
  $('#day-form').addEventListener('submit', (event) => {
    event.preventDefault();
    loadDay();
  });
  $('#day-today').addEventListener('click', () => {
    dateInput.value = todayInZone();
    loadDay();
  });
  $('#day-prev').addEventListener('click', () => shiftDay(-1));
  $('#day-next').addEventListener('click', () => shiftDay(1));
  $('#sign-out').addEventListener('click', signOut);
  controlsReady();
  try {
    staff = (await call(getJSON('/api/staff/me'))).staff;
    renderStaff();
    concerns = (await call(getJSON('/api/clerk/concerns'))).concerns;
  } catch (err) {
    showAlert(alertEl, errorMessage(err));
  }
  renderWalkins();
  await loadDay();
  // Video calls: clerks and admins take them; support staff may not (the server refuses).
  if (staff && ['clerk', 'admin'].includes(staff.role)) {
    initClerkCalls({ alertEl, onCallEnded: () => loadDay({ quiet: true }) });
  }
  window.setInterval(() => {
    if (!document.hidden) loadDay({ quiet: true });
  }, REFRESH_MS);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) loadDay({ quiet: true });
  });
  onLanguageChange(async () => {
    renderStaff();
    try {
      concerns = (await call(getJSON('/api/clerk/concerns'))).concerns;
    } catch (err) {
      showAlert(alertEl, errorMessage(err));
    }
    renderWalkins();
    await loadDay({ quiet: true });
  });
}

main();

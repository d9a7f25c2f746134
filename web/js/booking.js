// Booking flow controller: five steps at /buchen/1…5, state in sessionStorage,
// summary panel, submit to POST /api/reservations.

import { getJSON, postJSON, withQuery } from './api.js';
import { $, $all, focusHeading, h } from './dom.js';
import {
  announce, clearAlert, clearAnnouncement, clearFieldErrors, errorMessage, isBusy, setBusy, showAlert, showFormError,
  showValidation,
} from './forms.js';
import { currentLang, onLanguageChange, t } from './i18n.js';
import { formatDateTime, formatTime } from './format.js';
import { initPage } from './page.js';
import { SlotPicker } from './slotpicker.js';
import { fillPerson as fillPersonForm, readPerson as readPersonForm, validatePerson as checkPerson } from './booking-person.js';
import {
  STEPS, chooseConcern, chooseLocation, chooseUnit, clearState, firstOpenStep, loadState, saveState,
  stepComplete,
} from './booking-state.js';
import {
  concernItems, loadingChoices, locationItems, renderChoices, unitItems,
} from './choices.js';

let state = loadState();
let current = 1;
let picker = null;
let pickerKey = '';
let holdMinutes = null; // reservation_minutes from /api/config, set in main()
const catalog = { units: null, concerns: null, concernsFor: null, locations: null, locationsFor: null };

const alertEl = $('#booking-alert');
const form = $('#details-form');

// Server error codes meaning "this slot cannot be had any more, pick another one".
const SLOT_GONE = new Set(['slot_taken', 'slot_unavailable']);

// ---- data -------------------------------------------------------------------------

async function loadUnits() {
  if (!catalog.units) catalog.units = (await getJSON('/api/units')).units;
  return catalog.units;
}

async function loadConcerns() {
  const key = state.unit.id;
  if (catalog.concernsFor !== key) {
    catalog.concerns = (await getJSON(`/api/units/${key}/concerns`)).concerns;
    catalog.concernsFor = key;
  }
  return catalog.concerns;
}

async function loadLocations() {
  const key = `${state.unit.id}/${state.concern.id}`;
  if (catalog.locationsFor !== key) {
    const path = `/api/units/${state.unit.id}/concerns/${state.concern.id}/locations`;
    catalog.locations = (await getJSON(path)).locations;
    catalog.locationsFor = key;
  }
  return catalog.locations;
}

/** Re-read names in the current language and drop choices that no longer exist. */
async function refreshChoices() {
  catalog.units = null;
  catalog.concernsFor = null;
  catalog.locationsFor = null;
  const units = await loadUnits();
  if (!state.unit && units.length === 1) chooseUnit(state, units[0]);
  const unit = state.unit && units.find((u) => u.id === state.unit.id);
  if (unit) chooseUnit(state, unit);
  else Object.assign(state, { unit: null, concern: null, location: null, slot: null });
  if (state.concern) {
    const concern = (await loadConcerns()).find((c) => c.id === state.concern.id);
    if (concern) chooseConcern(state, concern);
    else Object.assign(state, { concern: null, location: null, slot: null });
  }
  if (state.location) {
    const location = (await loadLocations()).find((l) => l.id === state.location.id);
    if (location) chooseLocation(state, location);
    else Object.assign(state, { location: null, slot: null });
  }
  saveState(state);
}

// ---- rendering ---------------------------------------------------------------------

function stepTitle(step) {
  return t(`step${step}.short`);
}

function renderProgress() {
  $('#progress-label').textContent = t('progress.label', { step: current, total: STEPS });
  const open = firstOpenStep(state);
  $('#progress-list').replaceChildren(...Array.from({ length: STEPS }, (_, i) => {
    const step = i + 1;
    const done = step < current || (step < open && step !== current);
    const content = [
      h('span', { class: 'progress-num', 'aria-hidden': 'true' }, String(step)), ' ',
      h('span', {}, stepTitle(step)),
      done ? h('span', { class: 'visually-hidden' }, ` (${t('progress.done')})`) : null,
    ];
    const reachable = step !== current && step <= open;
    const body = reachable
      ? h('a', { href: `/buchen/${step}`, 'data-step-link': String(step) }, content)
      : h('span', {}, content);
    return h('li', {
      class: [done ? 'done' : '', step === current ? 'current' : ''].join(' ').trim() || null,
      'aria-current': step === current ? 'step' : null,
    }, body);
  }));
}

function renderSummary(s = state) {
  const none = t('summary.none');
  $('#summary-unit').textContent = s.unit ? s.unit.name : none;
  $('#summary-concern').textContent = s.concern ? s.concern.name : none;
  const loc = s.location;
  $('#summary-location').textContent = loc
    ? (loc.kind === 'virtual' ? t('summary.locationVideo', { name: loc.name }) : loc.name)
    : none;
  $('#summary-datetime').textContent = s.slot ? formatDateTime(s.slot.start) : none;
}

function renderChecklist() {
  const items = (state.concern && state.concern.checklist) || [];
  $('#checklist').hidden = !items.length;
  $('#checklist-items').replaceChildren(...items.map((item) => h('li', {}, item)));
}

function updateNav() {
  $('#back-home').hidden = current !== 1;
  $('#prev-step').hidden = current === 1;
  $('#next-step').hidden = current === STEPS;
  $('#submit-booking').hidden = current !== STEPS;
  const next = $('#next-step');
  const hint = $('#next-hint');
  if (current < STEPS && !stepComplete(state, current)) {
    // Looks disabled but stays operable: a click explains what is missing.
    next.dataset.incomplete = 'true';
    hint.textContent = t(`step${current}.missing`);
  } else {
    delete next.dataset.incomplete;
    hint.textContent = '';
  }
}

async function renderStep(step) {
  try {
    if (step === 1) {
      const box = $('#unit-options');
      if (!catalog.units) loadingChoices(box);
      renderChoices(box, {
        name: 'unit', items: unitItems(await loadUnits()), selectedId: state.unit && state.unit.id,
        onChange: (id) => choose(chooseUnit, catalog.units, id),
      });
    } else if (step === 2) {
      const box = $('#concern-options');
      loadingChoices(box);
      renderChoices(box, {
        name: 'concern', items: concernItems(await loadConcerns()), selectedId: state.concern && state.concern.id,
        onChange: (id) => {
          choose(chooseConcern, catalog.concerns, id);
          renderChecklist();
        },
      });
      renderChecklist();
    } else if (step === 3) {
      const box = $('#location-options');
      loadingChoices(box);
      renderChoices(box, {
        name: 'location', items: locationItems(await loadLocations()),
        selectedId: state.location && state.location.id,
        onChange: (id) => choose(chooseLocation, catalog.locations, id),
      });
    } else if (step === 4) {
      showPicker();
    }
  } catch (err) {
    showAlert(alertEl, errorMessage(err));
  }
}

function choose(setter, list, id) {
  const item = list.find((x) => x.id === id);
  if (!item) return;
  setter(state, item);
  saveState(state);
  clearAlert(alertEl);
  renderSummary();
  renderProgress();
  updateNav();
}

function showPicker() {
  const key = `${state.unit.id}/${state.concern.id}/${state.location.id}`;
  if (picker && key === pickerKey) {
    picker.load().catch((err) => console.error(err));
    return;
  }
  pickerKey = key;
  picker = new SlotPicker($('#slot-picker'), {
    idPrefix: 'booking',
    selectedStart: state.slot && state.slot.start,
    from: state.slotFrom,
    fetchPage: (from, days) => getJSON(withQuery('/api/slots', {
      unit: state.unit.id, concern: state.concern.id, location: state.location.id, from, days,
    })),
    onPage: (from) => {
      state.slotFrom = from;
      saveState(state);
    },
    onSelect: (slot, { reason }) => {
      state.slot = slot ? { start: slot.start, end: slot.end } : null;
      saveState(state);
      renderSummary();
      renderProgress();
      updateNav();
      if (reason === 'unavailable') showAlert(alertEl, t('step4.choiceGone'));
      else if (slot) {
        clearAlert(alertEl);
        announce(t('step4.chosen', { datetime: formatDateTime(slot.start) }));
      }
    },
  });
  picker.load().catch((err) => console.error(err));
}

// ---- navigation --------------------------------------------------------------------

function stepFromPath() {
  const m = window.location.pathname.match(/^\/buchen\/(\d)\/?$/);
  const n = m ? Number(m[1]) : 1;
  return n >= 1 && n <= STEPS ? n : 1;
}

/**
 * Show a step. mode: "push" (new history entry), "replace" or "none" (popstate).
 * A step whose earlier choices are missing is not reachable; the first open one is shown.
 */
function showStep(requested, { mode = 'push', focus = true, keepAlert = false } = {}) {
  const step = Math.max(1, Math.min(requested, firstOpenStep(state)));
  current = step;
  const url = `/buchen/${step}`;
  if (mode === 'push' && window.location.pathname !== url) window.history.pushState({ step }, '', url);
  else if (mode === 'replace' || (mode === 'none' && step !== requested)) window.history.replaceState({ step }, '', url);

  $('#booking-result').hidden = true;
  $('#progress').hidden = false;
  $('#step-actions').hidden = false;
  for (const section of $all('.step')) section.hidden = Number(section.dataset.step) !== step;
  if (!keepAlert) clearAlert(alertEl);
  clearFieldErrors(form);
  document.title = t('booking.docTitleStep', { step, total: STEPS, title: stepTitle(step) });
  renderProgress();
  renderSummary();
  updateNav();
  renderStep(step);
  if (focus) {
    focusHeading($(`#step-${step}-heading`));
    announce(t('progress.announce', { step, total: STEPS, title: stepTitle(step) }));
  }
}

function goNext() {
  if (!stepComplete(state, current)) {
    showAlert(alertEl, t(`step${current}.missing`));
    const first = document.querySelector(`#step-${current} input, #step-${current} button[data-start]`);
    if (first) first.focus();
    return;
  }
  showStep(current + 1);
}

// ---- step 5 ------------------------------------------------------------------------

function fillPerson() {
  fillPersonForm(form, state.person);
}

function readPerson() {
  state.person = readPersonForm(form);
  saveState(state);
}

function validatePerson() {
  return checkPerson(state.person);
}

async function submit(event) {
  event.preventDefault();
  const button = $('#submit-booking');
  if (isBusy(button)) return;
  readPerson();
  if (!showValidation(form, alertEl, validatePerson())) return;
  if (firstOpenStep(state) < STEPS) {
    showStep(firstOpenStep(state));
    return;
  }
  setBusy(button, true);
  announce(t('step5.sending'));
  try {
    const reservation = await postJSON('/api/reservations', {
      unit_id: state.unit.id,
      concern_id: state.concern.id,
      location_id: state.location.id,
      start: state.slot.start,
      name: state.person.name.trim(),
      email: state.person.email.trim(),
      phone: state.person.phone.trim(),
      privacy_consent: true,
      lang: currentLang(),
    });
    showResult(reservation);
  } catch (err) {
    clearAnnouncement(); // the alert below says what happened instead of "wird reserviert …"
    if (SLOT_GONE.has(err.code)) {
      // The chosen slot went while step 5 was filled in (booked by someone else, or now
      // inside the lead time): choose again in step 4 with fresh slots; the personal
      // data stays in the form and in the stored state.
      state.slot = null;
      saveState(state);
      if (picker) picker.selectedStart = null; // showStep(4) reloads the picker's page
      showStep(4, { keepAlert: true });
      showAlert(alertEl, err.serverMessage || t('step4.choiceGone'));
    } else {
      showFormError(form, alertEl, err);
      if (!form.querySelector('[aria-invalid="true"]')) alertEl.scrollIntoView({ block: 'center' });
    }
  } finally {
    setBusy(button, false);
  }
}

let lastResult = null;

function renderResultTexts() {
  const { reservation, email } = lastResult;
  const minutes = holdMinutes;
  $('#result-email').textContent = t('result.email', { email });
  $('#result-hold').textContent = reservation.reserved_until
    ? t('result.holdUntil', { time: formatTime(reservation.reserved_until), count: minutes })
    : t('result.hold', { count: minutes });
  $('#result-no-mail').textContent = t('result.noMail', { count: minutes });
  $('#result-reference').textContent = reservation.reference;
  document.title = t('booking.docTitleDone');
}

function showResult(reservation) {
  const email = state.person.email.trim();
  lastResult = { reservation, email };
  if (reservation.start) state.slot = { start: reservation.start, end: reservation.end };
  lastResult.snapshot = JSON.parse(JSON.stringify(state));
  renderSummary();
  clearState();
  state = loadState();
  picker = null;
  pickerKey = '';
  form.reset();

  for (const section of $all('.step')) section.hidden = true;
  $('#progress').hidden = true;
  $('#step-actions').hidden = true;
  clearAlert(alertEl);
  clearAnnouncement(); // "wird reserviert …" is over; the focused result heading says what happened
  renderResultTexts();
  $('#booking-result').hidden = false;
  window.history.replaceState({ done: true }, '', '/buchen');
  focusHeading($('#result-heading'));
}

// ---- wiring ------------------------------------------------------------------------

function wire() {
  $('#next-step').addEventListener('click', goNext);
  $('#prev-step').addEventListener('click', () => showStep(current - 1));
  form.addEventListener('submit', submit);
  form.addEventListener('input', readPerson);
  form.addEventListener('change', readPerson);
  $('#progress-list').addEventListener('click', (event) => {
    const link = event.target.closest('a[data-step-link]');
    if (!link) return;
    event.preventDefault();
    showStep(Number(link.dataset.stepLink));
  });
  window.addEventListener('popstate', () => {
    state = loadState();
    showStep(stepFromPath(), { mode: 'none' });
  });
  onLanguageChange(async () => {
    // Our own validation messages can be re-said in the new language.
    if (form.querySelector('[aria-invalid="true"]')) showValidation(form, alertEl, validatePerson(), { focus: false });
    try {
      await refreshChoices();
    } catch (err) {
      showAlert(alertEl, errorMessage(err));
    }
    if (!$('#booking-result').hidden) {
      renderResultTexts();
      renderSummary(lastResult.snapshot);
      return;
    }
    document.title = t('booking.docTitleStep', { step: current, total: STEPS, title: stepTitle(current) });
    renderProgress();
    renderSummary();
    updateNav();
    if (current === 4 && picker) picker.render();
    else renderStep(current);
  });
}

async function main() {
  holdMinutes = (await initPage()).reservation_minutes;
  wire();
  fillPerson();
  try {
    await refreshChoices();
  } catch (err) {
    showAlert(alertEl, errorMessage(err));
  }
  const requested = window.location.pathname.startsWith('/buchen/') ? stepFromPath() : 1;
  showStep(requested, { mode: 'replace', focus: false, keepAlert: true });
}

main();

// /termin/{token}: show one booking; confirm (also automatically for ?aktion=bestaetigen),
// cancel with a confirmation dialog, reschedule with the shared slot picker.

import { getJSON, postJSON, withQuery } from './api.js';
import { $, focusHeading, h } from './dom.js';
import { announce, clearAlert, clearAnnouncement, errorMessage, isBusy, setBusy, showAlert } from './forms.js';
import { onLanguageChange, t } from './i18n.js';
import { formatDateTime, formatTime, formatTimeRange } from './format.js';
import { channelLabel, statusLabel } from './labels.js';
import { initPage } from './page.js';
import { SlotPicker } from './slotpicker.js';

const alertEl = $('#manage-alert');
const token = decodeURIComponent((window.location.pathname.match(/^\/termin\/([^/]+)/) || [])[1] || '');
const base = `/api/bookings/${encodeURIComponent(token)}`;

let booking = null;
let outcome = null; // {kind, params} so a language switch can re-render it
let picker = null;
let newSlot = null;

// ---- outcome box -------------------------------------------------------------------

const OUTCOMES = {
  confirmed: { heading: 'manage.confirmedHeading', text: 'manage.confirmedText' },
  cancelled: { heading: 'manage.cancelledHeading', text: 'manage.cancelledText', rebook: true },
  rescheduled: { heading: 'manage.rescheduledHeading', text: 'manage.rescheduledText' },
  expired: { heading: 'manage.expiredHeading', rebook: true },
  notFound: { heading: 'manage.notFoundHeading', rebook: true },
};

function showOutcome(kind, { message = '', focus = true } = {}) {
  clearAnnouncement(); // "wird bestätigt …" is over: the outcome box says how it went
  outcome = { kind, message };
  renderOutcome();
  if (focus) focusHeading($('#outcome-heading'));
}

function renderOutcome() {
  if (!outcome) return;
  const spec = OUTCOMES[outcome.kind];
  const params = booking ? { datetime: formatDateTime(booking.start), reference: booking.reference } : {};
  $('#outcome').hidden = false;
  $('#outcome').dataset.outcome = outcome.kind;
  $('#outcome-heading').textContent = t(spec.heading);
  $('#outcome-text').textContent = outcome.message || (spec.text ? t(spec.text, params) : '');
  $('#outcome-rebook').hidden = !spec.rebook;
}

// ---- video appointments: the pre-call page /video/{token} ------------------------------

function videoUrl() {
  return `/video/${encodeURIComponent(token)}`;
}

/** A confirmed (or already started) video appointment can be joined from here. */
function canJoin(b) {
  return b.channel === 'video' && ['confirmed', 'checked_in', 'in_call'].includes(b.status);
}

// ---- booking details ---------------------------------------------------------------

function row(label, value, attrs = {}) {
  return h('div', {}, h('dt', {}, label), h('dd', attrs, value));
}

function renderBooking() {
  $('#manage-loading').hidden = true;
  if (!booking) return;
  const b = booking;
  $('#details').hidden = false;
  const status = $('#booking-status');
  status.textContent = statusLabel(b.status);
  status.dataset.status = b.status;

  const note = $('#reserved-note');
  note.hidden = !(b.status === 'reserved' && b.reserved_until);
  if (!note.hidden) note.textContent = t('manage.reservedNote', { time: formatTime(b.reserved_until) });

  const where = b.location.kind === 'virtual'
    ? t('manage.whereVideo', { name: b.location.name })
    : [b.location.name, b.location.address].filter(Boolean).join(', ');
  $('#details-list').replaceChildren(
    row(t('manage.reference'), b.reference, { 'data-testid': 'booking-reference', class: 'no-break' }),
    row(t('manage.date'), formatDateTime(b.start), { 'data-testid': 'booking-datetime' }),
    row(t('manage.time'), formatTimeRange(b.start, b.end)),
    row(t('manage.concern'), b.concern.name),
    row(t('manage.unit'), b.unit.name),
    row(t('manage.kind'), channelLabel(b.channel)),
    row(t('manage.where'), where),
    row(t('manage.name'), b.citizen.name),
    row(t('manage.email'), b.citizen.email),
  );

  $('#details-join').hidden = !canJoin(b);
  if (canJoin(b)) $('#details-join-link').href = videoUrl();

  const items = (b.concern && b.concern.checklist) || [];
  $('#manage-checklist').hidden = !items.length || b.status === 'cancelled';
  $('#manage-checklist-items').replaceChildren(...items.map((item) => h('li', {}, item)));

  $('#confirm-booking').hidden = b.status !== 'reserved';
  $('#cancel-booking').hidden = !b.can_cancel;
  $('#reschedule-booking').hidden = !b.can_reschedule;
  if (!b.can_reschedule) closeReschedule({ focus: false });
}

function handleActionError(err) {
  if (err.code === 'reservation_expired') {
    showOutcome('expired', { message: errorMessage(err) });
    reload();
  } else if (err.code === 'booking_not_found') {
    showOutcome('notFound', { message: errorMessage(err) });
  } else {
    showAlert(alertEl, errorMessage(err));
  }
}

async function reload() {
  try {
    booking = await getJSON(base);
    renderBooking();
  } catch (err) {
    if (err.code === 'booking_not_found' || err.status === 404) {
      $('#manage-loading').hidden = true;
      $('#details').hidden = true;
      showOutcome('notFound', { message: errorMessage(err), focus: false });
    } else {
      showAlert(alertEl, errorMessage(err));
    }
  }
}

// ---- actions -----------------------------------------------------------------------

async function act(button, path, body, onDone) {
  if (isBusy(button)) return;
  setBusy(button, true);
  clearAlert(alertEl);
  try {
    booking = await postJSON(`${base}/${path}`, body);
    renderBooking();
    onDone();
  } catch (err) {
    clearAnnouncement();
    handleActionError(err);
  } finally {
    setBusy(button, false);
  }
}

function confirmBooking() {
  return act($('#confirm-booking'), 'confirm', {}, () => showOutcome('confirmed'));
}

function openCancelDialog() {
  $('#cancel-dialog-text').textContent = t('cancel.text', { datetime: formatDateTime(booking.start) });
  $('#cancel-dialog').showModal();
  $('#keep-booking').focus(); // the safe choice gets focus first
}

async function cancelBooking() {
  const dialog = $('#cancel-dialog');
  await act($('#confirm-cancel'), 'cancel', {}, () => {
    closeReschedule({ focus: false });
    dialog.close();
    showOutcome('cancelled');
  });
  if (dialog.open) dialog.close(); // error: close and show the alert
}

function openReschedule() {
  const section = $('#reschedule');
  section.hidden = false;
  $('#reschedule-booking').setAttribute('aria-expanded', 'true');
  newSlot = null;
  $('#reschedule-choice').textContent = t('manage.rescheduleNone');
  picker = new SlotPicker($('#reschedule-picker'), {
    idPrefix: 'reschedule',
    fetchPage: (from, days) => getJSON(withQuery('/api/slots', {
      unit: booking.unit.id, concern: booking.concern.id, location: booking.location.id, from, days,
    })),
    onSelect: (slot) => {
      newSlot = slot;
      $('#reschedule-choice').textContent = slot
        ? t('manage.rescheduleChoice', { datetime: formatDateTime(slot.start) })
        : t('manage.rescheduleNone');
    },
  });
  picker.load().catch((err) => console.error(err));
  focusHeading($('#reschedule-heading'));
}

function closeReschedule({ focus = true } = {}) {
  if ($('#reschedule').hidden) return;
  $('#reschedule').hidden = true;
  $('#reschedule-booking').setAttribute('aria-expanded', 'false');
  picker = null;
  newSlot = null;
  if (focus) $('#reschedule-booking').focus();
}

async function submitReschedule() {
  const button = $('#reschedule-submit');
  if (!newSlot) {
    showAlert(alertEl, t('manage.rescheduleMissing'));
    return;
  }
  if (isBusy(button)) return;
  setBusy(button, true);
  clearAlert(alertEl);
  try {
    booking = await postJSON(`${base}/reschedule`, { start: newSlot.start });
    closeReschedule({ focus: false });
    renderBooking();
    showOutcome('rescheduled');
  } catch (err) {
    // Booked by someone else, or slipped under the lead time meanwhile: choose again.
    if ((err.code === 'slot_taken' || err.code === 'slot_unavailable') && picker) {
      showAlert(alertEl, errorMessage(err));
      newSlot = null;
      $('#reschedule-choice').textContent = t('manage.rescheduleNone');
      await picker.reset();
    } else {
      handleActionError(err);
    }
  } finally {
    setBusy(button, false);
  }
}

// ---- start -------------------------------------------------------------------------

function wire() {
  $('#confirm-booking').addEventListener('click', confirmBooking);
  $('#cancel-booking').addEventListener('click', openCancelDialog);
  $('#keep-booking').addEventListener('click', () => $('#cancel-dialog').close());
  $('#confirm-cancel').addEventListener('click', cancelBooking);
  $('#cancel-dialog').addEventListener('close', () => {
    if (!outcome || outcome.kind !== 'cancelled') $('#cancel-booking').focus();
  });
  $('#reschedule-booking').addEventListener('click', () => {
    if ($('#reschedule').hidden) openReschedule();
    else closeReschedule();
  });
  $('#reschedule-abort').addEventListener('click', () => closeReschedule());
  $('#reschedule-submit').addEventListener('click', submitReschedule);
  onLanguageChange(async () => {
    await reload();
    renderOutcome();
    if (picker) picker.render();
    if (newSlot) $('#reschedule-choice').textContent = t('manage.rescheduleChoice', { datetime: formatDateTime(newSlot.start) });
  });
}

async function main() {
  await initPage();
  wire();
  if (!token) {
    $('#manage-loading').hidden = true;
    showOutcome('notFound', { focus: false });
    return;
  }
  const params = new URLSearchParams(window.location.search);
  const wantsConfirm = params.get('aktion') === 'bestaetigen';
  if (wantsConfirm) {
    // Drop the parameter so a reload or a shared link does not act again.
    params.delete('aktion');
    const rest = params.toString();
    window.history.replaceState(null, '', window.location.pathname + (rest ? `?${rest}` : ''));
  }
  await reload();
  if (!booking) return;
  if (booking.status === 'cancelled') {
    // An old link (the confirm link of the reservation mail, too) of a cancelled booking: say so,
    // with the way to a new appointment, rather than only the details.
    showOutcome('cancelled', { focus: wantsConfirm });
  } else if (wantsConfirm && booking.status === 'reserved') {
    announce(t('manage.confirming'));
    await confirmBooking();
  } else if (wantsConfirm && booking.status === 'confirmed') {
    showOutcome('confirmed');
  }
}

main();

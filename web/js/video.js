// /video/{token}: the citizen's way into the video appointment. Countdown before the room
// opens, camera and microphone check, identity code, waiting room, the call, the end.
// The join token is kept in sessionStorage (per booking) so a reload reconnects directly.

import { ApiError, getJSON, postJSON } from './api.js';
import { $, focusHeading, h } from './dom.js';
import {
  announce, clearAlert, clearAnnouncement, clearFieldErrors, errorMessage, isBusy, setBusy, setFieldError, showAlert,
} from './forms.js';
import { formatDateTime, formatTime } from './format.js';
import { onLanguageChange, t } from './i18n.js';
import { LocalMedia } from './media.js';
import { controlsReady, initPage } from './page.js';
import { MediaCheck } from './precall.js';
import { connect } from './protocol.js';
import { Call } from './call.js';
import { CallDocuments } from './call-documents.js';
import { renderConnectionTest, runConnectionTest } from './connection-test.js';

const token = decodeURIComponent((window.location.pathname.match(/^\/video\/([^/]+)/) || [])[1] || '');
const base = `/api/video/${encodeURIComponent(token)}`;
const storageKey = `vibue.video.${token}`;
const alertEl = $('#video-alert');

// What POST …/verify answers about the code itself (vibue/core/error_codes.py): shown beside the field.
const CODE_ERRORS = ['identity_code_wrong', 'identity_code_missing', 'identity_code_expired', 'identity_code_voided', 'identity_code_used'];
const VIEWS = ['closed', 'before-open', 'precall', 'identity', 'waiting-room', 'call-section', 'call-ended', 'stopped'];
const OPEN_RECHECK_MS = 15_000;

let appt = null;
let checklist = [];
const media = new LocalMedia();
let signaling = null;
let call = null;
let documents = null; // the documents panel, from the call on (it stays after the call ends)
const check = new MediaCheck(media, { inCall: () => Boolean(call), continueKey: 'video.helpContinue' });
let countdownTimer = null;
let clockOffset = 0; // server clock − device clock, from the last GET of the appointment (ms)
let view = null; // {name, render} so a language switch can re-render dynamic text

// ---- stored join token -----------------------------------------------------------------

function storedJoinToken() {
  try {
    const stored = JSON.parse(window.sessionStorage.getItem(storageKey) || 'null');
    return stored && stored.join_token ? stored.join_token : null;
  } catch {
    return null;
  }
}

function storeJoinToken(answer) {
  try {
    window.sessionStorage.setItem(storageKey, JSON.stringify({ join_token: answer.join_token, expires_at: answer.expires_at }));
  } catch {
    // Private mode without storage: the page still works, a reload just asks for a new code.
  }
}

function forgetJoinToken() {
  try {
    window.sessionStorage.removeItem(storageKey);
  } catch {
    // nothing stored
  }
}

// ---- views -----------------------------------------------------------------------------

/** Show exactly the given sections (the pre-call card may stay beside identity/waiting). */
function show(names, { focus = null } = {}) {
  // A new view: what the live region said of the last one is over (announce after show()).
  clearAnnouncement();
  for (const name of VIEWS) $(`#${name}`).hidden = !names.includes(name);
  $('#video-loading').hidden = true;
  $('#video-checklist').hidden = !checklist.length || !names.some((n) => ['before-open', 'precall', 'waiting-room'].includes(n));
  check.showPreview(names.includes('precall'));
  if (focus) focusHeading($(focus));
}

function renderSummary() {
  if (!appt) return;
  const concern = typeof appt.concern === 'string' ? appt.concern : (appt.concern && appt.concern.name) || '';
  const el = $('#video-summary');
  el.hidden = false;
  el.textContent = t('video.summary', { concern, datetime: formatDateTime(appt.start), reference: appt.reference });
}

function renderChecklist(items) {
  if (Array.isArray(items)) checklist = items;
  $('#video-checklist-items').replaceChildren(...checklist.map((item) => h('li', {}, item)));
}

function showClosed(kind, { message = '' } = {}) {
  stopEverything();
  view = { name: 'closed', render: () => showClosed(kind, { message }) };
  $('#closed-heading').textContent = t(`video.closed.${kind}.heading`);
  $('#closed-text').textContent = message || t(`video.closed.${kind}.text`);
  const link = {
    cancelled: ['/buchen', 'manage.bookAgain'],
    over: ['/buchen', 'manage.bookAgain'],
    notFound: ['/buchen', 'manage.bookAgain'],
    unconfirmed: [`/termin/${encodeURIComponent(token)}`, 'video.toBooking'],
  }[kind];
  $('#closed-action').hidden = !link;
  if (link) {
    $('#closed-link').href = link[0];
    $('#closed-link').textContent = t(link[1]);
  }
  show(['closed'], { focus: '#closed-heading' });
}

// ---- before the room opens -------------------------------------------------------------

function remainingText(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (days) return t('video.remainingDays', { days: t('video.days', { count: days }), hours: t('video.hours', { count: hours }) });
  if (hours) return t('video.remainingHours', { hours, minutes });
  return t('video.remainingMinutes', { minutes, seconds: String(seconds).padStart(2, '0') });
}

/** Now by the server's clock: a device clock that runs slow must not keep the room shut. */
function serverNow() {
  return Date.now() + clockOffset;
}

function renderCountdown() {
  const ms = new Date(appt.opens_at).getTime() - serverNow();
  $('#countdown').textContent = t('video.countdown', {
    time: ms > 86_400_000 ? formatDateTime(appt.opens_at) : formatTime(appt.opens_at),
    remaining: remainingText(ms),
  });
  return ms;
}

function showBeforeOpen() {
  view = { name: 'before-open', render: renderCountdown };
  show(['before-open'], { focus: '#before-open-heading' });
  renderCountdown();
  window.clearInterval(countdownTimer);
  let lastCheck = 0;
  countdownTimer = window.setInterval(async () => {
    const ms = renderCountdown();
    // From the opening time on ask the server (its clock decides) until the room is open.
    if (ms > 0 || Date.now() - lastCheck < OPEN_RECHECK_MS) return;
    lastCheck = Date.now();
    const fresh = await loadAppointment({ quiet: true });
    if (fresh && fresh.open) {
      window.clearInterval(countdownTimer);
      route();
      announce(t('video.nowOpen'));
    }
  }, 1000);
}

// ---- camera and microphone (MediaCheck, precall.js) and the connection test ------------

/** The connection test: a real WebRTC connection to the server's echo peer, with the preview's stream. */
let connectionTest = null; // its UI, re-rendered on a language switch

function setUpConnectionTest() {
  const container = $('#connection-test');
  if (container.childElementCount) return;
  const ui = renderConnectionTest(container, t, {
    // The test sends the preview's own stream: wait until camera and microphone are open.
    run: async () => {
      await check.ready;
      return runConnectionTest({ token, stream: media.stream, onProgress: (p) => ui.progress(p) });
    },
  });
  connectionTest = ui;
}

// ---- identity code ---------------------------------------------------------------------

let codeSent = null; // last POST …/code answer, re-rendered on language change

function renderCodeStatus() {
  if (!codeSent) return;
  $('#code-status').textContent = codeSent.expires_at
    ? t('video.codeSentUntil', { email: codeSent.sent_to, time: formatTime(codeSent.expires_at) })
    : t('video.codeSent', { email: codeSent.sent_to });
}

async function requestCode() {
  const button = $('#request-code');
  if (isBusy(button)) return;
  setBusy(button, true);
  clearAlert($('#code-alert'));
  try {
    codeSent = await postJSON(`${base}/code`, {});
    renderCodeStatus();
    button.textContent = t('video.requestAgain');
    button.dataset.i18n = 'video.requestAgain';
    $('#code-input').focus();
  } catch (err) {
    if (err instanceof ApiError && err.code === 'not_a_video_appointment') showClosed('notVideo', { message: errorMessage(err) });
    else showAlert($('#code-alert'), errorMessage(err));
  } finally {
    setBusy(button, false);
  }
}

async function verifyCode(event) {
  event.preventDefault();
  const form = $('#code-form');
  const input = $('#code-input');
  const button = $('#verify-code');
  const code = input.value.replace(/\s+/g, '');
  clearFieldErrors(form);
  clearAlert($('#code-alert'));
  if (!/^\d{6}$/.test(code)) {
    setFieldError(input, t('validation.codeFormat'));
    input.focus();
    return;
  }
  if (isBusy(button)) return;
  setBusy(button, true);
  try {
    const answer = await postJSON(`${base}/verify`, { code });
    storeJoinToken(answer);
    input.value = '';
    joinWaitingRoom(answer.join_token);
  } catch (err) {
    if (err instanceof ApiError && CODE_ERRORS.includes(err.code)) {
      // Beside the field (aria-invalid, aria-describedby): the server's text for the field, else its
      // message; a field text is short, so the whole message (attempts left) goes to the alert too.
      const fieldText = err.fields && err.fields.code;
      setFieldError(input, fieldText || errorMessage(err));
      if (fieldText) showAlert($('#code-alert'), errorMessage(err));
      input.focus();
    } else {
      showAlert($('#code-alert'), errorMessage(err));
    }
  } finally {
    setBusy(button, false);
  }
}

function showIdentity({ message = '' } = {}) {
  view = { name: 'identity', render: renderCodeStatus };
  show(['precall', 'identity'], { focus: message ? '#identity-heading' : null });
  if (message) showAlert($('#code-alert'), message);
}

// ---- waiting room and call -------------------------------------------------------------

let waitingInfo = null;
// Signals that arrive between `admitted` and the call view being ready (the camera may
// still be starting) are kept and handed over, so no offer of the clerk gets lost.
let earlySignals = [];

/** The waiting room's status line; its data-i18n keeps it in the chosen language on a switch. */
function waitingStatus(key) {
  const line = $('#waiting-status');
  line.dataset.i18n = key;
  line.textContent = t(key);
}

function renderWaiting() {
  if (!waitingInfo) return;
  $('#waiting-since').textContent = waitingInfo.since ? t('video.waitingSince', { time: formatTime(waitingInfo.since) }) : '';
  $('#waiting-late').hidden = !waitingInfo.clerk_late;
}

function joinWaitingRoom(joinToken) {
  if (signaling) signaling.close();
  waitingStatus('video.connecting');
  view = { name: 'waiting', render: renderWaiting };
  show(['precall', 'waiting-room'], { focus: '#waiting-heading' });
  signaling = connect({ joinToken });
  earlySignals = [];
  const s = signaling;
  s.on('signal', (msg) => {
    if (!call) earlySignals.push(msg);
  });
  s.on('waiting', (payload) => {
    if (s !== signaling) return;
    const wasLate = waitingInfo && waitingInfo.clerk_late;
    waitingInfo = payload;
    if (payload.checklist) renderChecklist(payload.checklist);
    if (call) return; // still in a call: the server re-sent the lobby state after a hiccup
    if (view.name !== 'waiting') {
      view = { name: 'waiting', render: renderWaiting };
      show(['precall', 'waiting-room'], { focus: '#waiting-heading' });
    }
    waitingStatus('video.inWaitingRoom');
    renderWaiting();
    if (payload.clerk_late && !wasLate) announce(t('video.waitingLate'));
  });
  s.on('admitted', ({ room }) => startCall(room));
  s.on('denied', ({ reason }) => showDenied(reason));
  s.on('call.ended', ({ outcome }) => showEnded(outcome));
  s.on('refused', (err) => {
    if (['unauthorized', 'token_expired'].includes(err.code)) {
      forgetJoinToken();
      stopCall();
      showIdentity({ message: t(err.code === 'token_expired' ? 'video.tokenExpired' : 'video.tokenInvalid') });
    } else {
      showStopped('refused', { message: err.serverMessage });
    }
  });
  s.on('disconnected', ({ willReconnect }) => {
    if (view.name === 'waiting') {
      waitingStatus(willReconnect ? 'video.reconnecting' : 'video.disconnected');
    }
  });
  s.on('error', (err) => console.warn('signaling error', err));
}

async function startCall(room) {
  const s = signaling;
  await check.ready;
  if (s !== signaling || !s) return; // denied, ended or hung up meanwhile
  if (call) {
    call.updateRoom(room);
    return;
  }
  check.detach();
  view = { name: 'call', render: () => {} };
  show(['call-section']);
  call = new Call({
    container: $('#call-container'),
    signaling,
    media,
    onHangup: hangUp,
    onEnded: (outcome) => showEnded(outcome),
  });
  call.start(room);
  for (const msg of earlySignals.splice(0)) call.onSignal(msg);
  if (documents) documents.destroy();
  documents = new CallDocuments({ container: $('#call-documents'), signaling });
  focusHeading($('#call-heading'));
  announce(t('video.admitted'));
}

function stopCall() {
  if (call) call.destroy();
  call = null;
}

function stopEverything() {
  window.clearInterval(countdownTimer);
  stopCall();
  // The panel keeps its list (the citizen can still download); it no longer listens to the socket.
  if (documents) documents.destroy();
  if (signaling) signaling.close();
  signaling = null;
}

async function hangUp() {
  if (signaling) await signaling.hangup().catch(() => {});
  stopEverything();
  showStopped('hungUp');
}

function showDenied(reason) {
  const known = ['wrong_person', 'too_early', 'other'].includes(reason) ? reason : 'other';
  if (known !== 'too_early') forgetJoinToken();
  stopEverything();
  showStopped(`denied_${known}`);
}

function showStopped(kind, { message = '' } = {}) {
  view = { name: 'stopped', render: () => showStopped(kind, { message }) };
  $('#stopped-heading').textContent = t(`video.stopped.${kind}.heading`);
  $('#stopped-text').textContent = message || t(`video.stopped.${kind}.text`);
  const canRejoin = Boolean(storedJoinToken()) && ['hungUp', 'denied_too_early', 'refused'].includes(kind);
  $('#rejoin').hidden = !canRejoin;
  $('#stopped-book').hidden = !['denied_wrong_person', 'denied_other'].includes(kind);
  show(['stopped'], { focus: '#stopped-heading' });
}

function showEnded(outcome) {
  if (view && view.name === 'ended') return; // the page and the call both hear call.ended
  forgetJoinToken();
  stopEverything();
  check.close();
  media.stop();
  const known = ['completed', 'no_show', 'on_site_needed'].includes(outcome) ? outcome : 'completed';
  view = { name: 'ended', render: () => { $('#ended-text').textContent = t(`video.outcome.${known}`); } };
  view.render();
  $('#call-ended').dataset.outcome = known;
  $('#ended-action').hidden = known !== 'on_site_needed';
  show(['call-ended'], { focus: '#ended-heading' });
}

// ---- start ------------------------------------------------------------------------------

async function loadAppointment({ quiet = false } = {}) {
  try {
    appt = await getJSON(base);
    if (appt.server_time) clockOffset = new Date(appt.server_time).getTime() - Date.now();
    renderChecklist(appt.checklist || []);
    renderSummary();
    if (!quiet) clearAlert(alertEl);
    return appt;
  } catch (err) {
    if (err.status === 404 || err.code === 'booking_not_found') showClosed('notFound', { message: errorMessage(err) });
    else if (!quiet) {
      $('#video-loading').hidden = true;
      showAlert(alertEl, errorMessage(err));
    }
    return null;
  }
}

function route() {
  const status = appt.status;
  if (status === 'cancelled') return showClosed('cancelled');
  if (status === 'reserved') return showClosed('unconfirmed');
  if (status === 'completed' || status === 'no_show') return showEnded(appt.outcome || status);
  // Ended without an outcome (everyone gone, or the room closed): the clerk records it later.
  if (status === 'abandoned') return showClosed('over');
  if (!appt.open) {
    return new Date(appt.opens_at).getTime() > serverNow() ? showBeforeOpen() : showClosed('over');
  }
  check.start();
  setUpConnectionTest();
  const stored = storedJoinToken();
  // A reload within the call: straight back in, no new code.
  if (stored) return joinWaitingRoom(stored);
  return showIdentity();
}

async function main() {
  await initPage();
  check.wire();
  $('#request-code').addEventListener('click', requestCode);
  $('#code-form').addEventListener('submit', verifyCode);
  controlsReady();
  $('#rejoin').addEventListener('click', () => {
    const stored = storedJoinToken();
    if (stored) {
      if (!media.stream) check.start();
      joinWaitingRoom(stored);
    } else showIdentity();
  });
  onLanguageChange(async () => {
    await loadAppointment({ quiet: true }); // server texts (concern, checklist) in the new language
    check.renderHelp();
    if (connectionTest) connectionTest.retranslate();
    if (view && view.render) view.render();
  });
  if (!token) {
    showClosed('notFound');
    return;
  }
  if (!(await loadAppointment())) return;
  route();
}

main();

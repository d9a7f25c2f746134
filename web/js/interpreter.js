// /dolmetschen/{secret}: an interpreter's way into a video appointment by the clerk's
// one-time link. What the appointment is (no citizen data), camera and microphone check,
// name and language, then straight into the call as a third participant (no waiting room).
// The join token is kept in sessionStorage (per link) so a reload reconnects directly.

import { ApiError, getJSON, postJSON } from './api.js';
import { $, focusHeading } from './dom.js';
import {
  announce, clearAlert, clearAnnouncement, errorMessage, isBusy, setBusy, showAlert, showFormError, showValidation,
} from './forms.js';
import { formatDate, formatTimeRange } from './format.js';
import { onLanguageChange, t } from './i18n.js';
import { LocalMedia } from './media.js';
import { controlsReady, initPage } from './page.js';
import { MediaCheck } from './precall.js';
import { connect } from './protocol.js';
import { Call } from './call.js';

const secret = decodeURIComponent((window.location.pathname.match(/^\/dolmetschen\/([^/]+)/) || [])[1] || '');
const base = `/api/interpreter/${encodeURIComponent(secret)}`;
const storageKey = `vibue.interpreter.${secret}`;
const alertEl = $('#interpreter-alert');

const VIEWS = ['invitation', 'precall', 'join', 'call-section', 'ended'];
const NAME_MAX = 120;
const LANGUAGE_MAX = 60;

let invitation = null;
const media = new LocalMedia();
let signaling = null;
let call = null;
const check = new MediaCheck(media, { inCall: () => Boolean(call), continueKey: 'interpreter.helpContinue' });
let view = null; // {name, render} so a language switch can re-render dynamic text
// Signals and room updates that arrive between `admitted` and the call view being ready
// (the camera may still be starting): kept and handed over, so no offer gets lost.
let earlySignals = [];
let earlyRoom = null;

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
    // No storage (private mode): the page still works, a reload just cannot rejoin.
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

function show(names, { focus = null } = {}) {
  // A new view: what the live region said of the last one is over (announce after show()).
  clearAnnouncement();
  for (const name of VIEWS) $(`#${name}`).hidden = !names.includes(name);
  $('#interpreter-loading').hidden = true;
  check.showPreview(names.includes('precall'));
  if (focus) focusHeading($(focus));
}

function renderSummary() {
  const el = $('#invitation-summary');
  el.hidden = !invitation;
  if (!invitation) return;
  el.textContent = t('interpreter.summary', {
    concern: invitation.concern || '',
    date: formatDate(invitation.start),
    time: formatTimeRange(invitation.start, invitation.end),
    reference: invitation.reference,
  });
}

/** The link cannot be used: used | expired | not_found | over | lost | refused. */
function showInvitation(kind, { message = '' } = {}) {
  stopEverything();
  check.close();
  media.stop(); // nothing more to do on this page: camera and microphone off
  view = {
    name: 'invitation',
    render: () => {
      $('#invitation-heading').textContent = t(`interpreter.status.${kind}.heading`);
      $('#invitation-text').textContent = message || t(`interpreter.status.${kind}.text`);
    },
  };
  view.render();
  $('#invitation').dataset.status = kind;
  show(['invitation'], { focus: '#invitation-heading' });
}

function showJoin({ focus = true } = {}) {
  view = { name: 'join', render: () => {} };
  $('#join-form').hidden = false;
  $('#join-status').textContent = '';
  show(['precall', 'join'], { focus: focus ? '#join-heading' : null });
}

// ---- joining ---------------------------------------------------------------------------

function validate(form) {
  const name = form.elements.name.value.trim();
  const language = form.elements.language.value.trim();
  const problems = {};
  if (!name) problems.name = t('validation.nameRequired');
  else if (name.length > NAME_MAX) problems.name = t('validation.tooLong', { max: NAME_MAX });
  if (!language) problems.language = t('interpreter.languageRequired');
  else if (language.length > LANGUAGE_MAX) problems.language = t('validation.tooLong', { max: LANGUAGE_MAX });
  return { name, language, problems };
}

async function join(event) {
  event.preventDefault();
  const form = $('#join-form');
  const button = $('#interpreter-join');
  const { name, language, problems } = validate(form);
  if (!showValidation(form, $('#join-alert'), problems)) return;
  if (isBusy(button)) return;
  setBusy(button, true);
  try {
    const answer = await postJSON(`${base}/join`, { name, language });
    storeJoinToken(answer);
    connectCall(answer.join_token);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'invitation_used') showInvitation('used');
    else if (err instanceof ApiError && err.code === 'invitation_expired') showInvitation('expired');
    else if (err instanceof ApiError && err.status === 404) showInvitation('not_found');
    else showFormError(form, $('#join-alert'), err);
  } finally {
    setBusy(button, false);
  }
}

function connectCall(joinToken) {
  if (signaling) signaling.close();
  view = { name: 'connecting', render: () => { $('#join-status').textContent = t('interpreter.connecting'); } };
  $('#join-form').hidden = true;
  show(['precall', 'join']);
  view.render();
  announce(t('interpreter.connecting'));
  signaling = connect({ joinToken });
  earlySignals = [];
  earlyRoom = null;
  const s = signaling;
  s.on('signal', (msg) => {
    if (!call) earlySignals.push(msg);
  });
  s.on('room.updated', (room) => {
    if (!call) earlyRoom = room;
  });
  // Invited by the clerk: the server admits the interpreter right away, no waiting room.
  s.on('admitted', ({ room }) => startCall(room));
  s.on('waiting', () => {
    if (!call) $('#join-status').textContent = t('interpreter.waiting');
  });
  s.on('call.ended', ({ outcome }) => showEnded('ended', outcome));
  s.on('refused', (err) => {
    if (s !== signaling) return;
    if (['unauthorized', 'token_expired'].includes(err.code)) {
      forgetJoinToken();
      showInvitation('lost');
    } else if (err.code === 'call_over') {
      forgetJoinToken();
      showInvitation('over');
    } else {
      showInvitation('refused', { message: err.serverMessage });
    }
  });
  s.on('disconnected', ({ willReconnect }) => {
    if (s === signaling && !call) {
      $('#join-status').textContent = t(willReconnect ? 'interpreter.reconnecting' : 'interpreter.disconnected');
    }
  });
  s.on('error', (err) => console.warn('signaling error', err));
}

function renderCallHeading() {
  $('#call-heading').textContent = t('interpreter.callHeading', { reference: (invitation && invitation.reference) || '' });
}

async function startCall(room) {
  const s = signaling;
  await check.ready;
  if (s !== signaling || !s) return; // ended or hung up meanwhile
  if (call) {
    call.updateRoom(room);
    return;
  }
  check.detach();
  view = { name: 'call', render: renderCallHeading };
  renderCallHeading();
  show(['call-section']);
  call = new Call({
    container: $('#call-container'),
    signaling,
    media,
    onHangup: hangUp,
    onEnded: (outcome) => showEnded('ended', outcome),
  });
  call.start(room);
  if (earlyRoom) call.updateRoom(earlyRoom);
  earlyRoom = null;
  for (const msg of earlySignals.splice(0)) call.onSignal(msg);
  focusHeading($('#call-heading'));
  announce(t('interpreter.inCall'));
}

function stopEverything() {
  if (call) call.destroy();
  call = null;
  if (signaling) signaling.close();
  signaling = null;
}

async function hangUp() {
  if (signaling) await signaling.hangup().catch(() => {});
  // Leaving is final for an interpreter: coming back needs a new link.
  showEnded('left');
}

/** The end: the clerk ended the appointment (`ended`) or the interpreter left (`left`). */
function showEnded(kind, outcome = null) {
  if (view && view.name === 'ended') return; // the page and the call both hear call.ended
  forgetJoinToken();
  stopEverything();
  check.close();
  media.stop();
  view = {
    name: 'ended',
    render: () => {
      $('#ended-heading').textContent = t(`interpreter.${kind}.heading`);
      $('#ended-text').textContent = t(`interpreter.${kind}.text`);
    },
  };
  view.render();
  $('#ended').dataset.outcome = outcome || kind;
  show(['ended'], { focus: '#ended-heading' });
}

// ---- start ------------------------------------------------------------------------------

async function loadInvitation({ quiet = false } = {}) {
  try {
    invitation = await getJSON(base);
    renderSummary();
    if (!quiet) clearAlert(alertEl);
    return invitation;
  } catch (err) {
    if (err.status === 404) showInvitation('not_found');
    else if (!quiet) {
      $('#interpreter-loading').hidden = true;
      showAlert(alertEl, errorMessage(err));
    }
    return null;
  }
}

function route() {
  const stored = storedJoinToken();
  if (stored) {
    // A reload within the call: straight back in with the same token.
    check.start();
    connectCall(stored);
    return;
  }
  if (invitation.status === 'open') {
    check.start();
    showJoin({ focus: false });
    return;
  }
  showInvitation(invitation.status === 'used' ? 'used' : 'expired');
}

async function main() {
  await initPage();
  check.wire();
  $('#join-form').addEventListener('submit', join);
  controlsReady();
  onLanguageChange(() => {
    renderSummary();
    check.renderHelp();
    if (view && view.render) view.render();
  });
  if (!secret) {
    showInvitation('not_found');
    return;
  }
  if (!(await loadInvitation())) return;
  route();
}

main();

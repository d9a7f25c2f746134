// Clerk console, video part: the "Warteraum" panel (lobby.watch / lobby.updated), admit
// and deny, and the call view with the clerk's steps (identity check, interpreter
// invitation, outcome, end).
// The clerk is the impolite side of perfect negotiation (the Room says so).

import { $, focusHeading, h } from './dom.js';
import { announce, clearAlert, showAlert } from './forms.js';
import { formatClock, formatTime } from './format.js';
import { onLanguageChange, t } from './i18n.js';
import { LocalMedia } from './media.js';
import { applyLobbyChange, connect, DOCUMENTS, OUTCOMES } from './protocol.js';
import { Call } from './call.js';
import { ClerkDocuments } from './clerk-documents.js';

const STORE_KEY = 'vibue.clerk.call';
const TICK_MS = 30_000;

let sig = null;
let waiting = [];
let media = null;
let call = null;
let current = null; // {appointment_id, reference, name, invite: {url, expires_at, before} | undefined}
let room = null;
let steps = null; // the clerk's step panel elements
let opts = null;

function protocolMessage(err) {
  if (err && err.serverMessage) return err.serverMessage;
  const key = `clerkCall.error.${err && err.code}`;
  const text = t(key);
  return text === key ? t('clerkCall.error.other') : text;
}

// ---- waiting list ----------------------------------------------------------------------

function minutesSince(iso) {
  return Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 60000));
}

function connectionTest(result) {
  if (!result) return '—';
  const verdictKey = `clerkCall.test.${result.verdict}`;
  const verdict = t(verdictKey) === verdictKey ? String(result.verdict) : t(verdictKey);
  // loss may come as a fraction (0.012) or in percent: both shown in percent.
  const loss = typeof result.loss === 'number' ? Math.round((result.loss <= 1 ? result.loss * 100 : result.loss) * 10) / 10 : '–';
  return t('clerkCall.testResult', { verdict, rtt: result.rtt_ms ?? '–', loss, bitrate: result.bitrate_kbps ?? '–' });
}

function fact(label, value, attrs = {}) {
  return h('div', {}, h('dt', {}, label), h('dd', attrs, value));
}

function renderWaiting() {
  const list = $('#waiting-list');
  const focusedId = document.activeElement && list.contains(document.activeElement)
    ? document.activeElement.dataset.testid : null;
  $('#waiting-count').textContent = t('clerkCall.waitingCount', { count: waiting.length });
  if (!waiting.length) {
    list.replaceChildren(h('li', { class: 'waiting-empty muted' }, t('clerkCall.nobodyWaiting')));
  } else {
    list.replaceChildren(...waiting.map((w) => {
      const nameId = `waiting-name-${w.appointment_id}`;
      const name = w.citizen_name || t('clerk.anonymous');
      const admit = h('button', {
        type: 'button', class: 'button primary', 'data-testid': `admit-${w.appointment_id}`,
        'aria-label': t('clerkCall.admitLabel', { name }),
      }, t('clerkCall.admit'));
      const deny = h('button', {
        type: 'button', class: 'button secondary', 'data-testid': `deny-${w.appointment_id}`,
        'aria-label': t('clerkCall.denyLabel', { name }),
      }, t('clerkCall.deny'));
      admit.addEventListener('click', () => admitCitizen(w, admit));
      deny.addEventListener('click', () => openDeny(w));
      if (call) admit.setAttribute('aria-disabled', 'true');
      return h('li', { class: 'waiting-item', 'data-appointment-id': String(w.appointment_id) },
        h('h3', { id: nameId, class: 'waiting-name' }, name),
        h('dl', { class: 'waiting-facts' },
          fact(t('clerkCall.concern'), w.concern || ''),
          fact(t('clerkCall.appointment'), w.start ? t('clerkCall.appointmentAt', { time: formatTime(w.start), reference: w.reference }) : w.reference),
          fact(t('clerkCall.waitingSince'), w.waiting_since
            ? t('clerkCall.sinceText', { time: formatClock(w.waiting_since), minutes: minutesSince(w.waiting_since) }) : '—',
          { class: 'waiting-since', 'data-since': w.waiting_since || '' }),
          fact(t('clerkCall.codeVerified'), w.code_verified_at ? formatTime(w.code_verified_at) : '—'),
          fact(t('clerkCall.connectionTest'), connectionTest(w.connection_test))),
        h('div', { class: 'actions' }, admit, deny));
    }));
  }
  if (focusedId) {
    const again = list.querySelector(`[data-testid="${focusedId}"]`);
    if (again) again.focus();
    else $('#waiting-heading').focus();
  }
}

function tick() {
  for (const dd of document.querySelectorAll('#waiting-list .waiting-since')) {
    const since = dd.dataset.since;
    if (since) dd.textContent = t('clerkCall.sinceText', { time: formatClock(since), minutes: minutesSince(since) });
  }
  // lobby.updated is pushed on every change; asking now and then as well catches a push lost
  // between server processes (docs/signaling.md, "Several server processes").
  if (sig && sig.connected && !document.hidden) {
    sig.lobbyWatch().then(({ waiting: list }) => takeWaiting(list)).catch(() => {});
  }
}

function takeWaiting(list) {
  const before = new Set(waiting.map((w) => w.appointment_id));
  waiting = Array.isArray(list) ? list : [];
  renderWaiting();
  renderReadmit();
  const fresh = waiting.filter((w) => !before.has(w.appointment_id));
  if (fresh.length && before.size + fresh.length === waiting.length) {
    announce(t('clerkCall.newWaiting', { names: fresh.map((w) => w.citizen_name || t('clerk.anonymous')).join(', ') }));
  }
}

// ---- deny ------------------------------------------------------------------------------

let denyTarget = null;

function openDeny(w) {
  denyTarget = w;
  $('#deny-dialog-text').textContent = t('clerkCall.denyText', { name: w.citizen_name || t('clerk.anonymous') });
  for (const input of document.querySelectorAll('input[name="deny-reason"]')) input.checked = false;
  clearAlert($('#deny-alert'));
  $('#deny-dialog').showModal();
  document.querySelector('input[name="deny-reason"]').focus();
}

async function confirmDeny() {
  const chosen = document.querySelector('input[name="deny-reason"]:checked');
  if (!chosen) {
    showAlert($('#deny-alert'), t('clerkCall.denyReasonMissing'));
    document.querySelector('input[name="deny-reason"]').focus();
    return;
  }
  const w = denyTarget;
  try {
    await sig.deny(w.appointment_id, chosen.value);
    $('#deny-dialog').close();
    announce(t('clerkCall.denied', { name: w.citizen_name || t('clerk.anonymous') }));
  } catch (err) {
    showAlert($('#deny-alert'), protocolMessage(err));
  }
}

// ---- call ------------------------------------------------------------------------------

function store() {
  try {
    if (current) window.sessionStorage.setItem(STORE_KEY, JSON.stringify(current));
    else window.sessionStorage.removeItem(STORE_KEY);
  } catch {
    // no storage: a reload just shows the console
  }
}

function stored() {
  try {
    return JSON.parse(window.sessionStorage.getItem(STORE_KEY) || 'null');
  } catch {
    return null;
  }
}

/** In the call view: the citizen of this call waits again (hung up, or back after the grace
 *  period); the console with the waiting list is hidden, so offer the admission here. */
function renderReadmit() {
  const back = Boolean(call && current && waiting.some((w) => w.appointment_id === current.appointment_id));
  $('#readmit-box').hidden = !back;
}

async function readmit() {
  const button = $('#readmit');
  if (!current || button.dataset.busy === 'true') return;
  button.dataset.busy = 'true';
  clearAlert(opts.alertEl);
  try {
    await sig.admit(current.appointment_id);
    announce(t('clerkCall.admitted', { name: current.name || t('clerk.anonymous') }));
    $('#readmit-box').hidden = true;
  } catch (err) {
    showAlert(opts.alertEl, protocolMessage(err));
  } finally {
    delete button.dataset.busy;
  }
}

async function admitCitizen(w, button) {
  if (call || button.dataset.busy === 'true') return;
  button.dataset.busy = 'true';
  clearAlert(opts.alertEl);
  try {
    const joined = await enterRoom({
      appointment_id: w.appointment_id, reference: w.reference, name: w.citizen_name || '',
    });
    if (!joined) return;
    try {
      await sig.admit(w.appointment_id);
      announce(t('clerkCall.admitted', { name: w.citizen_name || t('clerk.anonymous') }));
    } catch (err) {
      leaveCall();
      showAlert(opts.alertEl, protocolMessage(err));
    }
  } finally {
    delete button.dataset.busy;
  }
}

/** room.join and open the call view; false when the room could not be entered. */
async function enterRoom(target) {
  if (!media) media = new LocalMedia();
  await media.acquire().catch((err) => {
    console.warn('clerk camera/microphone unavailable', err);
    showAlert(opts.alertEl, t('clerkCall.noMedia'));
  });
  let answer;
  try {
    answer = await sig.roomJoin(target.appointment_id);
  } catch (err) {
    showAlert(opts.alertEl, protocolMessage(err));
    current = null;
    store();
    return false;
  }
  current = target;
  store();
  openCall(answer.room);
  return true;
}

function buildSteps() {
  const select = h('select', { id: 'identity-document', 'data-testid': 'identity-document' },
    h('option', { value: '' }, t('clerkCall.documentChoose')),
    ...DOCUMENTS.map((d) => h('option', { value: d }, t(`clerkCall.document.${d}`))));
  const confirm = h('button', { type: 'button', class: 'button secondary', 'data-testid': 'identity-confirm' }, t('clerkCall.identityConfirm'));
  const identityStatus = h('p', { class: 'identity-status', role: 'status', 'data-testid': 'identity-status' });
  const radios = OUTCOMES.map((o) => h('div', { class: 'field-check' },
    h('input', { type: 'radio', id: `outcome-${o}`, name: 'call-outcome', value: o, 'data-testid': `outcome-${o}` }),
    h('label', { for: `outcome-${o}` }, t(`clerkCall.outcome.${o}`))));
  const end = h('button', { type: 'button', class: 'button danger', 'data-testid': 'end-call' }, t('clerkCall.endCall'));
  const alert = h('div', { class: 'alert', role: 'alert', 'data-testid': 'steps-alert' });
  confirm.addEventListener('click', () => confirmIdentity());
  end.addEventListener('click', () => endCall());
  const interpreter = buildInterpreter();
  // Documents issued in this call (clerk-documents.js): between the interpreter and the outcome.
  const documents = new ClerkDocuments({ appointmentId: current.appointment_id, signaling: sig });
  const element = h('section', { class: 'clerk-steps', 'aria-labelledby': 'steps-heading' },
    h('h3', { id: 'steps-heading' }, t('clerkCall.stepsHeading')),
    alert,
    h('h4', {}, t('clerkCall.identityHeading')),
    h('p', { class: 'muted' }, t('clerkCall.identityHint')),
    h('div', { class: 'field' }, h('label', { for: 'identity-document' }, t('clerkCall.documentLabel')), select),
    confirm, identityStatus,
    interpreter.element,
    documents.element,
    h('h4', {}, t('clerkCall.outcomeHeading')),
    h('fieldset', { class: 'outcome-choices' }, h('legend', { id: 'outcome-legend' }, t('clerkCall.outcomeLegend')), ...radios),
    end);
  return { element, select, confirm, identityStatus, end, alert, interpreter, documents };
}

// ---- interpreter invitation ------------------------------------------------------------

function buildInterpreter() {
  // Not a live region: call.js announces the interpreter coming and going.
  const present = h('p', { class: 'interpreter-present', 'data-testid': 'interpreter-present' });
  const invite = h('button', { type: 'button', class: 'button secondary', 'data-testid': 'invite-interpreter' });
  const input = h('input', {
    id: 'invite-link', type: 'text', class: 'invite-input', readonly: true, 'data-testid': 'invite-link',
    'aria-describedby': 'invite-expiry', spellcheck: 'false', autocomplete: 'off',
  });
  const copy = h('button', { type: 'button', class: 'button secondary', 'data-testid': 'copy-invite' }, t('clerkCall.copyInvite'));
  const expiry = h('p', { id: 'invite-expiry', class: 'muted', 'data-testid': 'invite-expiry' });
  const copied = h('p', { class: 'invite-copied', role: 'status', 'data-testid': 'invite-copied' });
  const box = h('div', { class: 'invite-box' },
    h('label', { for: 'invite-link' }, t('clerkCall.inviteLinkLabel')),
    h('div', { class: 'invite-row' }, input, copy),
    expiry, copied);
  const alert = h('div', { class: 'alert', role: 'alert', 'data-testid': 'invite-alert' });
  invite.addEventListener('click', () => inviteInterpreter());
  copy.addEventListener('click', () => copyInvite());
  // Clicking into the field selects the whole link, ready for Ctrl+C.
  input.addEventListener('focus', () => input.select());
  const element = h('div', { class: 'interpreter-step' },
    h('h4', {}, t('clerkCall.interpreterHeading')),
    h('p', { class: 'muted' }, t('clerkCall.interpreterHint')),
    present, alert, invite, box);
  return { element, present, invite, input, copy, expiry, copied, box, alert };
}

function interpretersInRoom() {
  return room && Array.isArray(room.participants)
    ? room.participants.filter((p) => p.role === 'interpreter' && p.state !== 'left') : [];
}

function renderInterpreter() {
  if (!steps) return;
  const ui = steps.interpreter;
  const here = interpretersInRoom();
  const invite = current && current.invite;
  // The link works once: when someone new came in with it, it is spent.
  if (invite && here.some((p) => !invite.before.includes(String(p.id)))) {
    delete current.invite;
    store();
  }
  const open = current && current.invite;
  const presentText = here.map((p) => t('clerkCall.interpreterPresent', {
    name: p.name || t('call.role.interpreter'),
    language: p.language || '–',
  })).join(' ');
  if (ui.present.textContent !== presentText) ui.present.textContent = presentText;
  ui.present.hidden = !here.length;
  ui.invite.textContent = t(open || here.length ? 'clerkCall.inviteAgain' : 'clerkCall.invite');
  ui.box.hidden = !open;
  if (open) {
    if (ui.input.value !== open.url) ui.input.value = open.url;
    ui.expiry.textContent = t('clerkCall.inviteExpiry', { time: formatTime(open.expires_at) });
  } else {
    ui.input.value = '';
    ui.copied.textContent = '';
  }
}

async function inviteInterpreter() {
  const ui = steps.interpreter;
  if (ui.invite.dataset.busy === 'true') return;
  ui.invite.dataset.busy = 'true';
  ui.invite.setAttribute('aria-disabled', 'true');
  clearAlert(ui.alert);
  try {
    const answer = await sig.inviteInterpreter();
    if (!current || !steps) return;
    current.invite = {
      url: answer.url, expires_at: answer.expires_at, before: interpretersInRoom().map((p) => String(p.id)),
    };
    store();
    renderInterpreter();
    steps.interpreter.copied.textContent = '';
    steps.interpreter.input.focus();
    announce(t('clerkCall.inviteCreated', { time: formatTime(answer.expires_at) }));
  } catch (err) {
    if (steps) showAlert(steps.interpreter.alert, protocolMessage(err));
  } finally {
    if (steps) {
      delete steps.interpreter.invite.dataset.busy;
      steps.interpreter.invite.removeAttribute('aria-disabled');
    }
  }
}

async function copyInvite() {
  const { input, copied } = steps.interpreter;
  if (!input.value) return;
  try {
    if (!navigator.clipboard || !window.isSecureContext) throw new Error('no clipboard');
    await navigator.clipboard.writeText(input.value);
    copied.textContent = t('clerkCall.inviteCopied');
  } catch {
    // No clipboard API (plain http) or no permission: select the text for Ctrl+C.
    input.focus();
    input.select();
    let done = false;
    try {
      done = document.execCommand('copy');
    } catch {
      done = false;
    }
    copied.textContent = t(done ? 'clerkCall.inviteCopied' : 'clerkCall.inviteSelectToCopy');
  }
}

function renderIdentity() {
  if (!steps) return;
  const identity = room && room.identity;
  steps.identityStatus.textContent = identity
    ? t('clerkCall.identityDone', { time: formatTime(identity.checked_at), document: t(`clerkCall.document.${identity.document}`) })
    : t('clerkCall.identityOpen');
  steps.identityStatus.dataset.checked = identity ? 'true' : 'false';
}

async function confirmIdentity() {
  clearAlert(steps.alert);
  const doc = steps.select.value;
  if (!doc) {
    showAlert(steps.alert, t('clerkCall.documentMissing'));
    steps.select.focus();
    return;
  }
  try {
    const answer = await sig.identityConfirm(doc);
    if (answer.room) room = answer.room;
    else room = { ...room, identity: { checked_at: new Date().toISOString(), document: doc } };
    renderIdentity();
    announce(steps.identityStatus.textContent);
  } catch (err) {
    showAlert(steps.alert, protocolMessage(err));
  }
}

/** `unchecked`: the clerk confirmed ending as completed although no identity check is recorded. */
async function endCall({ unchecked = false } = {}) {
  if (!steps) return;
  clearAlert(steps.alert);
  const chosen = document.querySelector('input[name="call-outcome"]:checked');
  if (!chosen) {
    showAlert(steps.alert, t('clerkCall.outcomeMissing'));
    $('#outcome-completed').focus();
    return;
  }
  if (chosen.value === 'completed' && !(room && room.identity) && !unchecked) {
    // Asked first, in a modal dialog (focus inside, Escape goes back); "Zurück" is the safe choice.
    $('#unchecked-dialog').returnValue = '';
    $('#unchecked-dialog').showModal();
    $('#unchecked-back').focus();
    return;
  }
  if (steps.end.dataset.busy === 'true') return;
  steps.end.dataset.busy = 'true';
  try {
    await sig.callEnd(chosen.value);
    callFinished(chosen.value);
  } catch (err) {
    showAlert(steps.alert, protocolMessage(err));
  } finally {
    if (steps) delete steps.end.dataset.busy;
  }
}

function openCall(newRoom) {
  room = newRoom;
  if (call) {
    call.updateRoom(room);
    return;
  }
  steps = buildSteps();
  $('#clerk-console').hidden = true;
  $('#clerk-call').hidden = false;
  renderCallHeading();
  call = new Call({
    container: $('#clerk-call-container'),
    signaling: sig,
    media,
    aside: steps.element,
    onHangup: () => hangUp(),
    onEnded: (outcome) => callFinished(outcome),
    onReconnected: async () => {
      const answer = await sig.roomJoin(current.appointment_id);
      room = answer.room;
      renderIdentity();
      renderInterpreter();
      return answer.room;
    },
  });
  call.start(room);
  renderIdentity();
  renderInterpreter();
  renderWaiting();
  focusHeading($('#clerk-call-heading'));
}

function renderCallHeading() {
  if (!current) return;
  $('#clerk-call-heading').textContent = t('clerkCall.callHeading', {
    name: current.name || t('clerk.anonymous'), reference: current.reference || (room && room.reference) || '',
  });
}

function leaveCall() {
  if (call) call.destroy();
  if (steps) steps.documents.destroy();
  call = null;
  steps = null;
  room = null;
  current = null;
  store();
  if (media) media.stop();
  $('#clerk-call').hidden = true;
  $('#clerk-call-container').replaceChildren();
  $('#clerk-console').hidden = false;
  renderWaiting();
  renderReadmit();
}

function callFinished(outcome) {
  if (!call) return;
  leaveCall();
  const text = t('clerkCall.ended', { outcome: t(`clerkCall.outcome.${outcome}`) });
  $('#clerk-call-result').textContent = text;
  focusHeading($('#day-heading'));
  announce(text);
  opts.onCallEnded();
}

async function hangUp() {
  await sig.hangup().catch(() => {});
  leaveCall();
  $('#clerk-call-result').textContent = t('clerkCall.leftWithoutEnd');
  focusHeading($('#waiting-heading'));
  opts.onCallEnded();
}

// ---- start -----------------------------------------------------------------------------

/** Start the video part of the console; options: {alertEl, onCallEnded}. */
export function initClerkCalls(options) {
  opts = options;
  $('#waiting-panel').hidden = false;
  renderWaiting();
  sig = connect();
  sig.on('connected', async () => {
    $('#waiting-connection').textContent = '';
    try {
      takeWaiting((await sig.lobbyWatch()).waiting);
    } catch (err) {
      showAlert(opts.alertEl, protocolMessage(err));
    }
    const resume = stored();
    if (resume && !call) enterRoom(resume);
  });
  sig.on('lobby.updated', (change) => takeWaiting(applyLobbyChange(waiting, change)));
  sig.on('room.updated', (r) => {
    if (call && current && r.appointment_id === current.appointment_id) {
      room = r;
      renderIdentity();
      renderInterpreter();
    }
  });
  sig.on('disconnected', ({ willReconnect }) => {
    $('#waiting-connection').textContent = t(willReconnect ? 'clerkCall.reconnecting' : 'clerkCall.disconnected');
  });
  sig.on('refused', (err) => {
    $('#waiting-connection').textContent = '';
    if (err.code === 'unauthorized') window.location.assign('/anmelden');
    else showAlert(opts.alertEl, protocolMessage(err));
  });
  sig.on('error', (err) => console.warn('signaling error', err));

  $('#readmit').addEventListener('click', readmit);
  $('#deny-confirm').addEventListener('click', confirmDeny);
  $('#deny-cancel').addEventListener('click', () => $('#deny-dialog').close());
  $('#unchecked-back').addEventListener('click', () => $('#unchecked-dialog').close('back'));
  $('#unchecked-confirm').addEventListener('click', () => $('#unchecked-dialog').close('confirm'));
  $('#unchecked-dialog').addEventListener('close', () => {
    if ($('#unchecked-dialog').returnValue === 'confirm') endCall({ unchecked: true });
    else if (steps) steps.end.focus();
  });
  $('#deny-dialog').addEventListener('close', () => {
    const back = denyTarget && document.querySelector(`[data-testid="deny-${denyTarget.appointment_id}"]`);
    if (back) back.focus();
    else $('#waiting-heading').focus();
    denyTarget = null;
  });
  window.setInterval(tick, TICK_MS);
  onLanguageChange(() => {
    renderWaiting();
    if (steps) {
      // Rebuild the step texts, keeping what the clerk chose.
      const doc = steps.select.value;
      const outcome = document.querySelector('input[name="call-outcome"]:checked');
      const fresh = buildSteps();
      steps.element.replaceWith(fresh.element);
      steps = fresh;
      steps.select.value = doc;
      if (outcome) $(`#outcome-${outcome.value}`).checked = true;
      renderIdentity();
      renderInterpreter();
      renderCallHeading();
    }
  });
}

// Staff sign-in with password + TOTP; first sign-in enrols the authenticator app.

import { postJSON } from './api.js';
import { $, focusHeading, h } from './dom.js';
import { announce, clearAlert, isBusy, setBusy, showFormError, showValidation } from './forms.js';
import { onLanguageChange, t } from './i18n.js';
import { controlsReady, initPage } from './page.js';

const CODE_RE = /^\d{6}$/;
const alertEl = $('#signin-alert');
const signinForm = $('#signin-form');
const enrolForm = $('#enrol-form');
let enrolToken = null;

function goToConsole() {
  announce(t('signin.success'));
  window.location.assign('/sachbearbeitung');
}

/** Digits only: people paste "123 456" from their app. */
function cleanCode(value) {
  return value.replace(/\s+/g, '');
}

function groupSecret(secret) {
  return secret.replace(/\s+/g, '').match(/.{1,4}/g).join(' ');
}

function showEnrolment(enrolment) {
  enrolToken = enrolment.token;
  // The SVG comes from our own server; shown as an image it cannot run script,
  // and the CSP allows data: images.
  const src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrolment.qr_svg)}`;
  $('#enrol-qr').replaceChildren(h('img', { src, alt: t('enrol.qrAlt'), width: '220', height: '220' }));
  $('#enrol-secret').textContent = groupSecret(enrolment.secret);
  $('#enrol-link').href = enrolment.otpauth_uri;
  signinForm.hidden = true;
  $('#enrol').hidden = false;
  clearAlert(alertEl);
  focusHeading($('#enrol-heading'));
}

async function signIn(event) {
  event.preventDefault();
  const button = $('#signin-submit');
  if (isBusy(button)) return;
  const username = signinForm.elements.namedItem('username').value.trim();
  const password = signinForm.elements.namedItem('password').value;
  const code = cleanCode(signinForm.elements.namedItem('code').value);
  const problems = {};
  if (!username) problems.username = t('validation.usernameRequired');
  if (!password) problems.password = t('validation.passwordRequired');
  if (code && !CODE_RE.test(code)) problems.code = t('validation.codeFormat');
  if (!showValidation(signinForm, alertEl, problems)) return;

  setBusy(button, true);
  try {
    const answer = await postJSON('/api/staff/login', { username, password, code });
    if (answer && answer.enrolment) showEnrolment(answer.enrolment);
    else goToConsole();
  } catch (err) {
    showFormError(signinForm, alertEl, err);
    signinForm.elements.namedItem('code').value = '';
  } finally {
    setBusy(button, false);
  }
}

async function enrol(event) {
  event.preventDefault();
  const button = $('#enrol-submit');
  if (isBusy(button)) return;
  const code = cleanCode(enrolForm.elements.namedItem('code').value);
  const problems = CODE_RE.test(code) ? {} : { code: t('validation.codeFormat') };
  if (!showValidation(enrolForm, alertEl, problems)) return;
  setBusy(button, true);
  try {
    await postJSON('/api/staff/enrol', { token: enrolToken, code });
    goToConsole();
  } catch (err) {
    showFormError(enrolForm, alertEl, err);
  } finally {
    setBusy(button, false);
  }
}

async function main() {
  await initPage();
  signinForm.addEventListener('submit', signIn);
  enrolForm.addEventListener('submit', enrol);
  controlsReady();
  onLanguageChange(() => {
    const img = document.querySelector('#enrol-qr img');
    if (img) img.alt = t('enrol.qrAlt');
  });
}

main();

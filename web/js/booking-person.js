// Step 5 of the booking flow: the citizen's contact details and consent.

import { t } from './i18n.js';

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Put stored details into the form. */
export function fillPerson(form, person) {
  form.elements.namedItem('name').value = person.name;
  form.elements.namedItem('email').value = person.email;
  form.elements.namedItem('phone').value = person.phone;
  form.elements.namedItem('privacy_consent').checked = Boolean(person.privacy);
}

/** Read the form into a plain object for storage. */
export function readPerson(form) {
  return {
    name: form.elements.namedItem('name').value,
    email: form.elements.namedItem('email').value,
    phone: form.elements.namedItem('phone').value,
    privacy: form.elements.namedItem('privacy_consent').checked,
  };
}

/** Client-side checks; keys are the input names (same as the API's field names). */
export function validatePerson(person) {
  const problems = {};
  if (!person.name.trim()) problems.name = t('validation.nameRequired');
  if (!person.email.trim()) problems.email = t('validation.emailRequired');
  else if (!EMAIL_RE.test(person.email.trim())) problems.email = t('validation.emailInvalid');
  if (!person.privacy) problems.privacy_consent = t('validation.privacyRequired');
  return problems;
}

// Step 5 of the booking flow: the citizen's contact details and consent.

import { t } from './i18n.js';

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// The server's limits (vibue/booking/schemas.py, vibue/core/fields.py); the inputs' maxlength attributes say the same.
export const MAX_LENGTH = Object.freeze({ name: 120, email: 254, phone: 40 });

/** Length in code points, as the server (Python) counts. */
function chars(text) {
  return Array.from(text).length;
}

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
  const name = person.name.trim();
  const email = person.email.trim();
  if (!name) problems.name = t('validation.nameRequired');
  else if (chars(name) > MAX_LENGTH.name) problems.name = t('validation.tooLong', { max: MAX_LENGTH.name });
  if (!email) problems.email = t('validation.emailRequired');
  else if (chars(email) > MAX_LENGTH.email) problems.email = t('validation.tooLong', { max: MAX_LENGTH.email });
  else if (!EMAIL_RE.test(email)) problems.email = t('validation.emailInvalid');
  if (chars(person.phone.trim()) > MAX_LENGTH.phone) {
    problems.phone = t('validation.tooLong', { max: MAX_LENGTH.phone });
  }
  if (!person.privacy) problems.privacy_consent = t('validation.privacyRequired');
  return problems;
}

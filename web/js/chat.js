// Text chat beside the call: a log (role="log", polite) and a one-line form. Messages are
// shown as the server relays them (`chat` goes to every room member, the sender included).

import { h } from './dom.js';
import { formatClock } from './format.js';
import { t } from './i18n.js';
import { errorMessage } from './forms.js';

const MAX_LENGTH = 1000;

export class ChatPanel {
  /** send(text) → Promise (the protocol's chatSend); who(message) → display name. */
  constructor({ idPrefix, send, who }) {
    this.send = send;
    this.who = who;
    this.messages = [];
    const inputId = `${idPrefix}-chat-input`;
    this.log = h('ol', {
      class: 'chat-log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions',
      'aria-labelledby': `${idPrefix}-chat-heading`, 'data-testid': 'chat-log', tabindex: '0',
    });
    this.empty = h('p', { class: 'chat-empty muted', 'data-i18n': 'call.chatEmpty' }, t('call.chatEmpty'));
    this.input = h('input', {
      id: inputId, type: 'text', class: 'chat-input', maxlength: String(MAX_LENGTH), autocomplete: 'off',
      'data-testid': 'chat-input',
    });
    this.error = h('p', { class: 'chat-error', role: 'alert' });
    this.button = h('button', { type: 'submit', class: 'button secondary', 'data-testid': 'chat-send', 'data-i18n': 'call.chatSend' }, t('call.chatSend'));
    this.form = h('form', { class: 'chat-form', novalidate: true },
      h('label', { for: inputId, 'data-i18n': 'call.chatLabel' }, t('call.chatLabel')),
      h('div', { class: 'chat-row' }, this.input, this.button),
      this.error);
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.element = h('section', { class: 'chat', 'aria-labelledby': `${idPrefix}-chat-heading` },
      h('h3', { id: `${idPrefix}-chat-heading`, 'data-i18n': 'call.chatHeading' }, t('call.chatHeading')),
      this.empty, this.log, this.form);
  }

  async submit() {
    const text = this.input.value.trim();
    if (!text || this.sending) return;
    this.sending = true;
    this.error.textContent = '';
    try {
      await this.send(text.slice(0, MAX_LENGTH));
      // The acknowledgement can take seconds: keep whatever was typed in the meantime.
      if (this.input.value.trim() === text) this.input.value = '';
    } catch (err) {
      this.error.textContent = err.code === 'rate_limited' ? t('call.chatTooFast') : (err.serverMessage || errorMessage(err));
    } finally {
      this.sending = false;
      this.input.focus();
    }
  }

  /** One relayed message {from, role, text, at}. */
  add(message) {
    this.messages.push(message);
    this.empty.hidden = true;
    this.log.append(this.entry(message));
  }

  entry(message) {
    const at = message.at ? formatClock(message.at) : '';
    return h('li', { class: message.mine ? 'chat-message mine' : 'chat-message' },
      h('span', { class: 'chat-meta' }, at ? t('call.chatMeta', { who: this.who(message), time: at }) : this.who(message)),
      h('span', { class: 'chat-text' }, message.text));
  }

  /** Re-render after a language change. */
  render() {
    this.log.replaceChildren(...this.messages.map((m) => this.entry(m)));
  }
}

// Free-slot picker shared by booking step 4 and "Termin verschieben".
// Shows the next free slot first, then a day picker (7 days a page) and slot buttons.

import { h } from './dom.js';
import { errorMessage } from './forms.js';
import { t } from './i18n.js';
import {
  addDays, zoneDate, formatDateTime, formatClock, formatDay, formatDayShort,
} from './format.js';

const PAGE_DAYS = 7;

export class SlotPicker {
  /**
   * @param {HTMLElement} root container (emptied)
   * @param {object} options
   *   fetchPage(from, days) → Promise of the /api/slots answer
   *   onSelect(slot|null, {reason}) called on choice ("user"/"next_free") or when a kept
   *     choice turned out to be taken ("unavailable")
   *   onPage(from) remembers the page, e.g. for a reload
   *   selectedStart ISO of an existing choice; from YYYY-MM-DD of the first page
   *   idPrefix unique prefix for ids in this picker
   */
  constructor(root, { fetchPage, onSelect, onPage = () => {}, selectedStart = null, from = null, idPrefix = 'slots' }) {
    this.root = root;
    this.fetchPage = fetchPage;
    this.onSelect = onSelect;
    this.onPage = onPage;
    this.selectedStart = selectedStart;
    this.idPrefix = idPrefix;
    // The office's today comes with every page (the server's clock, not this device's, which
    // may be off); until the first page, the kept page or the server's choice.
    this.today = null;
    this.from = from;
    this.data = null;
    this.day = selectedStart ? zoneDate(new Date(selectedStart)) : null;
    this.requestNo = 0;
    this.build();
  }

  build() {
    const p = this.idPrefix;
    this.alert = h('div', { class: 'alert', role: 'alert' });
    this.nextFree = h('div', { class: 'next-free', 'aria-live': 'off' });
    this.dayLegend = h('legend', { id: `${p}-days-legend`, tabindex: '-1' });
    this.dayOptions = h('div', { class: 'day-options' });
    this.prevButton = h('button', { type: 'button', class: 'button secondary small', 'data-testid': 'slots-prev' });
    this.nextButton = h('button', { type: 'button', class: 'button secondary small', 'data-testid': 'slots-next' });
    this.prevButton.addEventListener('click', () => this.page(-1));
    this.nextButton.addEventListener('click', () => this.page(1));
    this.slotHeading = h('h3', { id: `${p}-slots-heading`, class: 'slots-heading' });
    this.slotList = h('div', { class: 'slot-list', role: 'group', 'aria-labelledby': `${p}-slots-heading` });
    this.status = h('p', { class: 'slots-status', role: 'status' });
    this.root.replaceChildren(
      this.alert,
      this.nextFree,
      h('fieldset', { class: 'day-picker' },
        this.dayLegend,
        this.dayOptions,
        h('div', { class: 'pager' }, this.prevButton, this.nextButton)),
      h('div', { class: 'slots' }, this.slotHeading, this.slotList),
      this.status,
    );
    this.render();
  }

  /** Load the page starting at `from` (defaults to the current page). */
  async load(from = this.from) {
    const no = ++this.requestNo;
    this.from = this.today && from && from < this.today ? this.today : from;
    this.root.setAttribute('aria-busy', 'true');
    this.status.textContent = t('slots.loading');
    this.alert.textContent = '';
    try {
      const data = await this.fetchPage(this.from, PAGE_DAYS);
      if (no !== this.requestNo) return; // a newer request won
      this.data = data;
      this.today = data.today;
      this.from = data.days.length ? data.days[0].date : data.today; // the server starts no page before its today
      this.onPage(this.from);
      this.pickDay();
      this.checkKeptChoice();
      this.status.textContent = '';
    } catch (err) {
      if (no !== this.requestNo) return;
      this.status.textContent = '';
      this.alert.textContent = errorMessage(err);
    } finally {
      if (no === this.requestNo) {
        this.root.removeAttribute('aria-busy');
        this.render(false);
      }
    }
  }

  days() {
    return (this.data && this.data.days) || [];
  }

  pickDay() {
    const days = this.days();
    const dates = days.map((d) => d.date);
    const selectedDay = this.selectedStart ? zoneDate(new Date(this.selectedStart)) : null;
    if (selectedDay && dates.includes(selectedDay)) this.day = selectedDay;
    else if (!dates.includes(this.day)) {
      const withSlots = days.find((d) => d.slots.length);
      this.day = withSlots ? withSlots.date : dates[0] || null;
    }
  }

  /** A choice kept from earlier may have been taken meanwhile: drop it and say so. */
  checkKeptChoice() {
    if (!this.selectedStart) return;
    const day = this.days().find((d) => d.date === zoneDate(new Date(this.selectedStart)));
    if (!day) return; // not on this page, cannot tell
    const still = day.slots.some((s) => sameInstant(s.start, this.selectedStart));
    if (!still) {
      this.selectedStart = null;
      this.onSelect(null, { reason: 'unavailable' });
    }
  }

  async page(direction) {
    const days = this.days();
    if (direction < 0) {
      if (!this.today || this.from <= this.today) return;
      const target = addDays(this.from, -PAGE_DAYS);
      await this.load(target < this.today ? this.today : target);
    } else {
      if (!days.length || this.atHorizon()) return;
      await this.load(addDays(days[days.length - 1].date, 1));
    }
    const focusTarget = direction < 0 ? this.prevButton : this.nextButton;
    if (focusTarget.disabled) this.dayLegend.focus();
  }

  atHorizon() {
    const days = this.days();
    const horizon = this.data && this.data.horizon_end;
    return !days.length || (horizon && days[days.length - 1].date >= horizon);
  }

  select(slot, reason = 'user') {
    this.selectedStart = slot.start;
    this.onSelect(slot, { reason });
    this.updatePressed(); // in place, so keyboard focus stays on the pressed button
  }

  updatePressed() {
    for (const button of this.root.querySelectorAll('button[data-start]')) {
      const chosen = Boolean(this.selectedStart && sameInstant(this.selectedStart, button.dataset.start));
      button.setAttribute('aria-pressed', String(chosen));
      if (button.dataset.testid === 'next-free-slot') {
        button.textContent = chosen ? t('slots.nextFreeChosen') : t('slots.takeNextFree');
      }
    }
  }

  async takeNextFree() {
    const slot = this.data && this.data.next_free;
    if (!slot) return;
    const date = zoneDate(new Date(slot.start));
    this.selectedStart = slot.start;
    this.day = date;
    if (!this.days().some((d) => d.date === date)) await this.load(date);
    this.renderDays();
    this.renderSlots();
    this.select(slot, 'next_free');
  }

  /** Forget the choice (e.g. after "slot_taken") and reload the current page. */
  async reset() {
    this.selectedStart = null;
    await this.load();
  }

  /** Full re-render, e.g. after a language change. */
  render(force = true) {
    this.renderNextFree(force);
    this.renderDays();
    this.renderSlots();
  }

  renderNextFree(force) {
    const slot = this.data && this.data.next_free;
    const signature = this.data ? (slot ? slot.start : 'none') : '';
    if (!force && signature === this.nextFreeSignature) {
      this.updatePressed(); // keep the same button (and focus) when nothing changed
      return;
    }
    this.nextFreeSignature = signature;
    if (!this.data) {
      this.nextFree.replaceChildren();
      return;
    }
    if (!slot) {
      this.nextFree.replaceChildren(h('p', { class: 'next-free-none' }, t('slots.noneAtAll')));
      return;
    }
    const chosen = this.selectedStart && sameInstant(this.selectedStart, slot.start);
    const button = h('button', {
      type: 'button',
      class: 'button primary',
      'data-testid': 'next-free-slot',
      'data-start': slot.start,
      'aria-pressed': String(Boolean(chosen)),
    }, chosen ? t('slots.nextFreeChosen') : t('slots.takeNextFree'));
    button.addEventListener('click', () => {
      this.takeNextFree().catch((err) => console.error(err));
    });
    this.nextFree.replaceChildren(
      h('p', { class: 'next-free-text' },
        h('span', { class: 'next-free-label' }, t('slots.nextFreeLabel')), ' ',
        h('strong', {}, formatDateTime(slot.start, { year: false }))),
      button,
    );
  }

  renderDays() {
    const days = this.days();
    const name = `${this.idPrefix}-day`;
    this.dayLegend.textContent = days.length
      ? t('slots.daysLegend', { from: formatDay(days[0].date, { year: false }), to: formatDay(days[days.length - 1].date) })
      : t('slots.daysLegendEmpty');
    this.dayOptions.replaceChildren(...days.map((day) => {
      const id = `${name}-${day.date}`;
      const short = formatDayShort(day.date);
      const input = h('input', { type: 'radio', name, id, value: day.date, 'data-testid': `day-${day.date}` });
      input.checked = day.date === this.day;
      input.addEventListener('change', () => {
        if (!input.checked) return;
        this.day = day.date;
        this.renderSlots();
      });
      const count = day.slots.length;
      return h('div', { class: `day-option${count ? '' : ' day-empty'}` },
        input,
        h('label', { for: id },
          h('span', { class: 'day-weekday', 'aria-hidden': 'true' }, short.weekday),
          h('span', { class: 'day-date', 'aria-hidden': 'true' }, short.date),
          h('span', { class: 'visually-hidden' }, `${formatDay(day.date)}, `),
          h('span', { class: 'day-count' }, count ? t('slots.freeCount', { count }) : t(day.open === false ? 'slots.closedShort' : 'slots.noneShort'))));
    }));
    this.prevButton.textContent = t('slots.earlier');
    this.nextButton.textContent = t('slots.later');
    this.prevButton.disabled = !this.data || this.from <= this.today;
    this.nextButton.disabled = !this.data || this.atHorizon();
  }

  renderSlots() {
    const day = this.days().find((d) => d.date === this.day);
    if (!day) {
      this.slotHeading.textContent = '';
      this.slotList.replaceChildren();
      return;
    }
    this.slotHeading.textContent = t('slots.timesOn', { date: formatDay(day.date) });
    if (!day.slots.length) {
      this.slotList.replaceChildren(h('p', { class: 'slots-empty' }, t(day.open === false ? 'slots.closedThatDay' : 'slots.noneThatDay')));
      return;
    }
    this.slotList.replaceChildren(...day.slots.map((slot) => {
      const chosen = Boolean(this.selectedStart && sameInstant(this.selectedStart, slot.start));
      const button = h('button', {
        type: 'button',
        class: 'slot',
        'data-start': slot.start,
        'aria-pressed': String(chosen),
        'aria-label': formatDateTime(slot.start),
      }, formatClock(slot.start));
      button.addEventListener('click', () => this.select(slot));
      return button;
    }));
  }
}

function sameInstant(a, b) {
  return new Date(a).getTime() === new Date(b).getTime();
}

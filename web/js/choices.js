// Radio-card lists for the booking steps (units, concerns, locations).

import { h } from './dom.js';
import { t } from './i18n.js';
import { weekdayName } from './format.js';
import { channelLabel } from './labels.js';

/**
 * Render radio options into container (which sits inside a fieldset with a legend).
 * items: [{id, testid, title, details: [Node|string]}]
 */
export function renderChoices(container, { name, items, selectedId, onChange }) {
  container.removeAttribute('aria-busy');
  if (!items.length) {
    container.replaceChildren(h('p', { class: 'choices-empty' }, t('choices.empty')));
    return;
  }
  container.replaceChildren(...items.map((item) => {
    const id = `${name}-${item.id}`;
    const descId = `${id}-desc`;
    const hasDetails = item.details && item.details.length;
    const input = h('input', {
      type: 'radio', name, id, value: String(item.id),
      'data-testid': item.testid,
      'aria-describedby': hasDetails ? descId : null,
    });
    input.checked = selectedId != null && String(item.id) === String(selectedId);
    input.addEventListener('change', () => {
      if (input.checked) onChange(item.id);
    });
    return h('div', { class: 'choice' },
      input,
      h('label', { for: id, class: 'choice-title' }, item.title),
      hasDetails ? h('div', { id: descId, class: 'choice-details' }, item.details) : null);
  }));
}

export function loadingChoices(container) {
  container.setAttribute('aria-busy', 'true');
  container.replaceChildren(h('p', { class: 'choices-loading' }, t('choices.loading')));
}

export function unitItems(units) {
  return units.map((u) => ({
    id: u.id,
    testid: `unit-${u.slug}`,
    title: u.name,
    details: u.description ? [h('p', {}, u.description)] : [],
  }));
}

export function concernItems(concerns) {
  return concerns.map((c) => {
    const facts = [];
    if (c.duration_minutes) facts.push(t('concern.duration', { count: c.duration_minutes }));
    if (c.channels && c.channels.length) {
      facts.push(t('concern.channels', { channels: c.channels.map(channelLabel).join(', ') }));
    }
    return {
      id: c.id,
      testid: `concern-${c.slug}`,
      title: c.name,
      details: [
        c.description ? h('p', {}, c.description) : null,
        facts.length ? h('p', { class: 'choice-facts' }, facts.join(' · ')) : null,
      ].filter(Boolean),
    };
  });
}

export function locationItems(locations) {
  return locations.map((l) => {
    const details = [];
    if (l.kind === 'virtual') {
      details.push(h('p', { class: 'choice-facts' }, t('location.virtual')));
    } else {
      details.push(h('p', { class: 'choice-facts' }, t('location.onSite')));
      if (l.address) details.push(h('p', {}, l.address));
      const hours = openingHours(l.opening_hours || []);
      if (hours.length) {
        details.push(h('p', { class: 'hours-heading' }, t('location.openingHours')));
        details.push(h('ul', { class: 'hours' }, hours.map((line) => h('li', {}, line))));
      }
    }
    return { id: l.id, testid: `location-${l.slug}`, title: l.name, details };
  });
}

/** ["Montag: 08:00–12:00, 13:00–16:00", …] from [{weekday, opens, closes}]. */
export function openingHours(entries) {
  const byDay = new Map();
  for (const e of entries) {
    if (!byDay.has(e.weekday)) byDay.set(e.weekday, []);
    byDay.get(e.weekday).push(t('format.timeRange', { start: e.opens, end: e.closes }));
  }
  return [...byDay.keys()].sort((a, b) => a - b)
    .map((day) => t('location.hoursLine', { day: weekdayName(day), hours: byDay.get(day).join(', ') }));
}


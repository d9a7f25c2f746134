// Dates and times, always shown in Europe/Berlin whatever the device's zone.

import { locale, t } from './i18n.js';

export const TIME_ZONE = 'Europe/Berlin';

function fmt(options) {
  return new Intl.DateTimeFormat(locale(), { timeZone: TIME_ZONE, ...options });
}

/** "Montag, 30. November 2026" (year optional) for an ISO instant. */
export function formatDate(iso, { year = true } = {}) {
  const options = { weekday: 'long', day: 'numeric', month: 'long' };
  if (year) options.year = 'numeric';
  return fmt(options).format(new Date(iso));
}

/** "09:00" for an ISO instant. */
export function formatClock(iso) {
  return fmt({ hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
}

/** "09:00 Uhr" / "09:00". */
export function formatTime(iso) {
  return t('format.time', { time: formatClock(iso) });
}

/** "Montag, 30. November 2026, 09:00 Uhr". */
export function formatDateTime(iso, { year = true } = {}) {
  return t('format.datetime', { date: formatDate(iso, { year }), time: formatClock(iso) });
}

/** "09:00–09:20 Uhr". */
export function formatTimeRange(startIso, endIso) {
  return t('format.timeRange', { start: formatClock(startIso), end: formatClock(endIso) });
}

function calendarDate(ymd) {
  const [y, m, d] = ymd.split('-').map(Number);
  // Noon UTC is the same calendar day in Berlin in every season.
  return new Date(Date.UTC(y, m - 1, d, 12));
}

/** Long form of a calendar date "2026-11-30" → "Montag, 30. November 2026". */
export function formatDay(ymd, { year = true } = {}) {
  const options = { weekday: 'long', day: 'numeric', month: 'long' };
  if (year) options.year = 'numeric';
  return fmt(options).format(calendarDate(ymd));
}

/** Short parts of a calendar date for compact day buttons: {weekday: "Mo", date: "30.11."}. */
export function formatDayShort(ymd) {
  const d = calendarDate(ymd);
  return {
    weekday: fmt({ weekday: 'short' }).format(d),
    date: fmt({ day: 'numeric', month: 'numeric' }).format(d),
  };
}

/** Weekday name for 0 = Monday … 6 = Sunday. */
export function weekdayName(index, style = 'long') {
  // 2024-01-01 was a Monday.
  return fmt({ weekday: style }).format(calendarDate(`2024-01-0${1 + index}`));
}

/** YYYY-MM-DD of an instant in Berlin. */
export function berlinDate(date = new Date()) {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit',
  }).formatToParts(date);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** Today's date in Berlin as YYYY-MM-DD. */
export function todayBerlin() {
  return berlinDate(new Date());
}

/** Calendar arithmetic on YYYY-MM-DD strings. */
export function addDays(ymd, days) {
  const d = calendarDate(ymd);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Wall-clock time now in Berlin, "14:05:09". */
export function clockNow() {
  return fmt({ hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(new Date());
}

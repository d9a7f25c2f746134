// Dates and times, always shown in the office's time zone (GET /api/config) whatever the
// device's zone. Until the config has arrived (or when it cannot be had) Europe/Berlin.

import { CONFIG_DEFAULTS, getConfig } from './api.js';
import { locale, t } from './i18n.js';

let zone = CONFIG_DEFAULTS.timezone;

function validZone(name) {
  if (typeof name !== 'string' || !name) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Resolves once the office's time zone is known (or the fallback is final). */
export const timeZoneReady = getConfig().then((config) => {
  if (validZone(config.timezone)) zone = config.timezone;
  else console.warn('unknown time zone in /api/config; keeping', zone);
  return zone;
});

/** The IANA name of the office's time zone, e.g. "Europe/Berlin". */
export function timeZone() {
  return zone;
}

function fmt(options) {
  return new Intl.DateTimeFormat(locale(), { timeZone: zone, ...options });
}

/** Formatter for calendar dates (noon UTC of that day, see calendarDate): read in UTC. */
function fmtCalendar(options) {
  return new Intl.DateTimeFormat(locale(), { timeZone: 'UTC', ...options });
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
  // A calendar date has no zone: noon UTC, formatted in UTC, is that day everywhere.
  return new Date(Date.UTC(y, m - 1, d, 12));
}

/** Long form of a calendar date "2026-11-30" → "Montag, 30. November 2026". */
export function formatDay(ymd, { year = true } = {}) {
  const options = { weekday: 'long', day: 'numeric', month: 'long' };
  if (year) options.year = 'numeric';
  return fmtCalendar(options).format(calendarDate(ymd));
}

/** Short parts of a calendar date for compact day buttons: {weekday: "Mo", date: "30.11."}. */
export function formatDayShort(ymd) {
  const d = calendarDate(ymd);
  return {
    weekday: fmtCalendar({ weekday: 'short' }).format(d),
    date: fmtCalendar({ day: 'numeric', month: 'numeric' }).format(d),
  };
}

/** Weekday name for 0 = Monday … 6 = Sunday. */
export function weekdayName(index, style = 'long') {
  // 2024-01-01 was a Monday.
  return fmtCalendar({ weekday: style }).format(calendarDate(`2024-01-0${1 + index}`));
}

/** YYYY-MM-DD of an instant in the office's time zone. */
export function zoneDate(date = new Date()) {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit',
  }).formatToParts(date);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** Today's date in the office's time zone as YYYY-MM-DD. */
export function todayInZone() {
  return zoneDate(new Date());
}

/** Calendar arithmetic on YYYY-MM-DD strings. */
export function addDays(ymd, days) {
  const d = calendarDate(ymd);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Wall-clock time now in the office's time zone, "14:05:09". */
export function clockNow() {
  return fmt({ hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(new Date());
}

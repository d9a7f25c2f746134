// Translated labels for server enums (status, channel, role). Unknown values fall back
// to the raw code so new server states still show something readable.

import { has, t } from './i18n.js';

function label(prefix, value) {
  const key = `${prefix}.${value}`;
  return has(key) ? t(key) : String(value ?? '');
}

export const statusLabel = (status) => label('status', status);
export const channelLabel = (channel) => label('channel', channel);
export const roleLabel = (role) => label('role', role);

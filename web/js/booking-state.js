// The citizen's choices in the booking flow, kept in sessionStorage so reloads and
// back/forward keep them. Changing an earlier choice drops the later ones.

const KEY = 'vibue.booking.v1';

export const STEPS = 5;

export function emptyState() {
  return {
    unit: null, // {id, slug, name}
    concern: null, // {id, slug, name, duration_minutes, checklist}
    location: null, // {id, slug, name, kind, channel, address}
    slot: null, // {start, end}
    slotFrom: null, // first day of the slot page last shown
    person: { name: '', email: '', phone: '', privacy: false },
  };
}

export function loadState() {
  try {
    const raw = window.sessionStorage.getItem(KEY);
    if (!raw) return emptyState();
    const saved = JSON.parse(raw);
    const state = { ...emptyState(), ...saved };
    state.person = { ...emptyState().person, ...(saved.person || {}) };
    return state;
  } catch {
    return emptyState();
  }
}

export function saveState(state) {
  try {
    window.sessionStorage.setItem(KEY, JSON.stringify(state));
  } catch {
    // Storage full or disabled: the flow still works, only without surviving reloads.
  }
}

export function clearState() {
  try {
    window.sessionStorage.removeItem(KEY);
  } catch {
    // ignore
  }
}

/** The first step whose choice is still missing (5 when all choices are made). */
export function firstOpenStep(state) {
  if (!state.unit) return 1;
  if (!state.concern) return 2;
  if (!state.location) return 3;
  if (!state.slot) return 4;
  return 5;
}

/** Whether the choice a step asks for has been made (step 5 is the form itself). */
export function stepComplete(state, step) {
  return [null, state.unit, state.concern, state.location, state.slot][step] != null || step === 5;
}

export function chooseUnit(state, unit) {
  if (!state.unit || state.unit.id !== unit.id) {
    state.concern = null;
    state.location = null;
    state.slot = null;
    state.slotFrom = null;
  }
  state.unit = pick(unit, ['id', 'slug', 'name']);
}

export function chooseConcern(state, concern) {
  if (!state.concern || state.concern.id !== concern.id) {
    state.location = null;
    state.slot = null;
    state.slotFrom = null;
  }
  state.concern = pick(concern, ['id', 'slug', 'name', 'duration_minutes', 'checklist']);
}

export function chooseLocation(state, location) {
  if (!state.location || state.location.id !== location.id) {
    state.slot = null;
    state.slotFrom = null;
  }
  state.location = pick(location, ['id', 'slug', 'name', 'kind', 'channel', 'address']);
}

function pick(obj, keys) {
  return Object.fromEntries(keys.map((k) => [k, obj[k] ?? null]));
}

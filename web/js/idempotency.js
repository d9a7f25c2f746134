// Idempotency keys for requests that must happen once (issuing a document): one key per request
// state, reused for every retry of that state – a double click, a time-out, a reload, or going
// back to values sent before – and a new key for a new state. Kept in sessionStorage (the last
// few states), so a reload of the tab keeps them too.

const REMEMBERED = 20;

/** 32 URL-safe random characters (servers accept 16–64 of [A-Za-z0-9_-]). */
export function newKey() {
  const bytes = window.crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export class IdempotencyKeys {
  /** @param {string} storeKey the sessionStorage entry ("vibue.clerk.documentKey") */
  constructor(storeKey) {
    this.storeKey = storeKey;
    this.memory = []; // [[fingerprint, key]], newest last; the copy used when storage fails
  }

  load() {
    try {
      const stored = JSON.parse(window.sessionStorage.getItem(this.storeKey) || 'null');
      if (Array.isArray(stored)) this.memory = stored.filter((e) => Array.isArray(e) && typeof e[1] === 'string');
    } catch {
      // unreadable or no storage: what this page remembers
    }
  }

  save() {
    try {
      window.sessionStorage.setItem(this.storeKey, JSON.stringify(this.memory));
    } catch {
      // no storage: the keys still hold for this page's retries
    }
  }

  /** The key of `state` (any JSON value): the same state, the same key. */
  keyFor(state) {
    const fingerprint = JSON.stringify(state);
    this.load();
    let entry = this.memory.find(([f]) => f === fingerprint);
    if (!entry) {
      entry = [fingerprint, newKey()];
      this.memory = [...this.memory, entry].slice(-REMEMBERED);
      this.save();
    }
    return entry[1];
  }

  /** Drop the key of `state` (the server said it met another body): the next attempt gets a fresh one. */
  forget(state) {
    const fingerprint = JSON.stringify(state);
    this.load();
    this.memory = this.memory.filter(([f]) => f !== fingerprint);
    this.save();
  }
}

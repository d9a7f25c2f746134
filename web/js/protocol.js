// The signaling protocol (docs/signaling.md) – the only client code that speaks it.
// UI modules call the methods below and listen with on(); they never touch the socket.
//
// Client → server events are methods returning a Promise of the acknowledgement: it
// resolves with the ack object ({ok: true, ...}) and rejects with a ProtocolError
// (`code`, `message`) for {ok: false, error} answers, time-outs and a missing connection.
//
// Server → client events (SERVER_EVENTS) reach handlers registered with on(event, fn);
// `document.ready` {document: {id, title, issued_at, level}} and `document.revoked`
// {document_id, revoked_at} only say that the appointment's documents changed: pages GET the list.
// Besides those, on() also offers the connection's own life:
//   'connected'    {recovered: bool}  first connection (false) or a reconnection (true)
//   'disconnected' {reason, willReconnect}
//   'refused'      ProtocolError with code unauthorized | token_expired | forbidden_origin |
//                  forbidden | appointment_not_found | call_over | connect_failed: the server
//                  turned the connection down; no retry

import { io } from '/static/vendor/socket.io/socket.io.esm.min.js';

export const SERVER_EVENTS = Object.freeze([
  'waiting', 'admitted', 'denied', 'room.updated', 'lobby.updated', 'signal',
  'peer.reconnecting', 'peer.left', 'chat', 'call.ended', 'document.ready', 'document.revoked', 'error',
]);
const LOCAL_EVENTS = ['connected', 'disconnected', 'refused'];

export const DENY_REASONS = Object.freeze(['wrong_person', 'too_early', 'other']);
export const DOCUMENTS = Object.freeze(['personalausweis', 'reisepass', 'aufenthaltstitel', 'ankunftsnachweis', 'other']);
export const OUTCOMES = Object.freeze(['completed', 'no_show', 'on_site_needed']);
const REFUSAL_CODES = ['unauthorized', 'token_expired', 'forbidden_origin', 'forbidden'];

const ACK_TIMEOUT_MS = 10_000;

/** The waiting list after a `lobby.updated` ({changed, removed}): what changed since the last
 *  lobby.watch answer or lobby.updated is merged in by appointment_id, longest waiting first. */
export function applyLobbyChange(list, { changed = [], removed = [] } = {}) {
  const byId = new Map((Array.isArray(list) ? list : []).map((w) => [w.appointment_id, w]));
  for (const id of removed) byId.delete(id);
  for (const w of changed) byId.set(w.appointment_id, w);
  const since = (w) => (w.waiting_since ? Date.parse(w.waiting_since) : Infinity);
  return [...byId.values()].sort((a, b) => since(a) - since(b));
}

export class ProtocolError extends Error {
  constructor(code, message = '', event = null) {
    super(message || code);
    this.name = 'ProtocolError';
    this.code = code;
    this.serverMessage = message;
    this.event = event;
  }
}

/** The refusal code of a connect_error (the server sends {message, data: {code}}). */
function refusalCode(err) {
  const data = err && err.data;
  if (data && typeof data === 'object' && typeof data.code === 'string') return data.code;
  if (typeof data === 'string' && REFUSAL_CODES.includes(data)) return data;
  if (err && REFUSAL_CODES.includes(err.message)) return err.message;
  return null;
}

/** Only the documented keys of an ICE candidate (the server validates the schema strictly). */
function candidatePayload(candidate) {
  const c = typeof candidate.toJSON === 'function' ? candidate.toJSON() : candidate;
  return {
    candidate: c.candidate,
    sdpMid: c.sdpMid ?? null,
    sdpMLineIndex: c.sdpMLineIndex ?? null,
  };
}

export class Signaling {
  constructor({ joinToken = null } = {}) {
    this.joinToken = joinToken;
    this.handlers = new Map();
    this.everConnected = false;
    this.closed = false;
    this.socket = io({
      path: '/socket.io/',
      transports: ['websocket'],
      forceNew: true, // one Manager per Signaling: a new connection never inherits an old one
      // A function: read at every (re)connection attempt, so a renewed token is used.
      auth: (cb) => cb(this.joinToken ? { join_token: this.joinToken } : {}),
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      randomizationFactor: 0.3,
      timeout: 10_000,
    });
    for (const event of SERVER_EVENTS) {
      this.socket.on(event, (payload) => this.dispatch(event, payload ?? {}));
    }
    this.socket.on('connect', () => {
      const recovered = this.everConnected;
      this.everConnected = true;
      this.dispatch('connected', { recovered });
    });
    this.socket.on('disconnect', (reason) => {
      // "io server disconnect" / "io client disconnect": no automatic reconnection.
      this.dispatch('disconnected', { reason, willReconnect: this.socket.active });
    });
    this.socket.on('connect_error', (err) => {
      if (this.socket.active) return; // a network failure: socket.io-client retries by itself
      const code = refusalCode(err) || 'connect_failed';
      const message = err && err.data && typeof err.data === 'object' && err.data.message
        ? err.data.message : (err && err.message) || '';
      this.dispatch('refused', new ProtocolError(code, message));
    });
  }

  /** Register a handler; returns a function that removes it. */
  on(event, handler) {
    if (!SERVER_EVENTS.includes(event) && !LOCAL_EVENTS.includes(event)) {
      throw new Error(`unknown signaling event ${event}`);
    }
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(handler);
    return () => this.handlers.get(event).delete(handler);
  }

  dispatch(event, payload) {
    for (const handler of this.handlers.get(event) || []) {
      try {
        handler(payload);
      } catch (err) {
        console.error(`handler for ${event} failed`, err);
      }
    }
  }

  get connected() {
    return this.socket.connected;
  }

  /** Use another join token from the next connection attempt on. */
  setJoinToken(token) {
    this.joinToken = token;
  }

  /** Connect again after a refusal or a server-side disconnect. */
  reconnect() {
    if (!this.socket.connected) this.socket.connect();
  }

  /** Leave for good (page teardown, call over). */
  close() {
    this.closed = true;
    this.socket.disconnect();
  }

  request(event, payload = {}) {
    return new Promise((resolve, reject) => {
      // No buffering across a disconnect: stale SDP or candidates would arrive after the
      // call has moved on. Callers repeat what matters on 'connected'.
      if (!this.socket.connected) {
        reject(new ProtocolError('disconnected', '', event));
        return;
      }
      this.socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, (err, ack) => {
        if (err) reject(new ProtocolError('timeout', '', event));
        else if (ack && ack.ok) resolve(ack);
        else {
          const e = (ack && ack.error) || {};
          reject(new ProtocolError(e.code || 'internal', e.message || '', event));
        }
      });
    });
  }

  // ---- client → server (docs/signaling.md, "Events, client → server") ----------------

  /** Staff: enter the room of a video appointment. Ack: {ok, room}. */
  roomJoin(appointmentId) {
    return this.request('room.join', { appointment_id: appointmentId });
  }

  /** Staff: subscribe to lobby.updated. Ack: {ok, waiting}. */
  lobbyWatch() {
    return this.request('lobby.watch', {});
  }

  admit(appointmentId) {
    return this.request('admit', { appointment_id: appointmentId });
  }

  deny(appointmentId, reason) {
    return this.request('deny', { appointment_id: appointmentId, reason });
  }

  /** An SDP description ({type, sdp}) for one member. */
  sendDescription(to, description) {
    return this.request('signal', { to, description: { type: description.type, sdp: description.sdp } });
  }

  /** An ICE candidate for one member. */
  sendCandidate(to, candidate) {
    return this.request('signal', { to, candidate: candidatePayload(candidate) });
  }

  /** Ask one member to restart ICE. */
  requestRestart(to) {
    return this.request('signal', { to, restart: true });
  }

  /** Members: fresh TURN credentials before the old ones expire. Ack: {ok, ice_servers}. */
  iceRefresh() {
    return this.request('ice.refresh', {});
  }

  chatSend(text) {
    return this.request('chat.send', { text });
  }

  identityConfirm(document) {
    return this.request('identity.confirm', { document });
  }

  callEnd(outcome) {
    return this.request('call.end', { outcome });
  }

  /** Staff in a room: a one-time invitation link for an interpreter (voids the previous
   *  unused one). Ack: {ok, url, expires_at}. */
  inviteInterpreter() {
    return this.request('interpreter.invite', {});
  }

  hangup() {
    return this.request('hangup', {});
  }
}

/** Open the signaling connection: citizens pass their join token, staff use the session cookie. */
export function connect({ joinToken = null } = {}) {
  return new Signaling({ joinToken });
}

// The call view shared by citizen, clerk and interpreter: remote and own video, controls,
// quality, chat, status. One PeerLink (negotiation.js) per other admitted room member (a
// call with an interpreter has two on every page); media from the page's one LocalMedia
// (media.js); every wire message through protocol.js.

import { h } from './dom.js';
import { announce } from './forms.js';
import { onLanguageChange, t } from './i18n.js';
import { ChatPanel } from './chat.js';
import { PeerLink } from './negotiation.js';
import { QualitySampler, worse } from './quality.js';

const STATS_MS = 2000;
const LIVE_STATES = ['admitted', 'reconnecting'];
// Never ask for TURN credentials more often than this (see scheduleIceRefresh).
const ICE_REFRESH_MIN_MS = 10_000;

function button(testid, key, cls = 'button secondary call-button') {
  return h('button', { type: 'button', class: cls, 'data-testid': testid }, t(key));
}

export class Call {
  /**
   * @param {object} o
   * @param {HTMLElement} o.container where the view is built (emptied first)
   * @param {import('./protocol.js').Signaling} o.signaling
   * @param {import('./media.js').LocalMedia} o.media
   * @param {HTMLElement} [o.aside] extra panel (the clerk's steps), shown beside the chat
   * @param {() => void} o.onHangup the hang-up button was pressed
   * @param {(outcome: string) => void} o.onEnded call.ended arrived
   * @param {() => Promise<object|null>} [o.onReconnected] after our socket came back: return a
   *        fresh Room (staff re-join) or null (the server re-sends it)
   */
  constructor({ container, signaling, media, aside = null, onHangup, onEnded, onReconnected = null }) {
    this.signaling = signaling;
    this.media = media;
    this.onHangup = onHangup;
    this.onEnded = onEnded;
    this.onReconnected = onReconnected;
    this.room = null;
    this.links = new Map(); // participant id (string) → {link, tile, sampler}
    this.left = new Set(); // participant ids that left for good
    this.status = 'connecting';
    this.statusParams = {};
    this.quality = null;
    this.selfOffline = false;
    this.destroyed = false;
    this.unsubscribe = [];
    this.build(container, aside);
    this.listen();
  }

  // ---- view ------------------------------------------------------------------------

  build(container, aside) {
    this.statusEl = h('p', { class: 'call-status', role: 'status', 'data-testid': 'call-status' });
    this.remotes = h('div', { class: 'call-remotes' });
    this.placeholder = h('p', { class: 'call-placeholder', 'data-i18n': 'call.waitingForPeer' }, t('call.waitingForPeer'));
    this.audioButton = button('enable-audio', 'call.enableAudio', 'button primary call-audio');
    this.audioButton.dataset.i18n = 'call.enableAudio';
    this.audioButton.hidden = true;
    this.audioButton.addEventListener('click', () => this.enableAudio());
    this.localVideo = h('video', { class: 'call-local-video', 'data-testid': 'local-video', playsinline: true, autoplay: true, 'aria-hidden': 'true' });
    this.localVideo.muted = true; // never play our own microphone back
    this.cameraOffNote = h('p', { class: 'call-camera-off', 'data-i18n': 'call.cameraOffNote' }, t('call.cameraOffNote'));
    this.cameraOffNote.hidden = true;

    this.muteButton = button('mute', 'call.mute');
    this.cameraButton = button('camera', 'call.cameraOff');
    this.switchButton = button('switch-camera', 'call.switchCamera');
    this.switchButton.dataset.i18n = 'call.switchCamera';
    this.switchButton.hidden = true;
    this.hangupButton = button('hangup', 'call.hangup', 'button danger call-button');
    this.hangupButton.dataset.i18n = 'call.hangup';
    this.muteButton.addEventListener('click', () => this.toggleMic());
    this.cameraButton.addEventListener('click', () => this.toggleCamera());
    this.switchButton.addEventListener('click', () => this.switchCamera());
    this.hangupButton.addEventListener('click', () => this.onHangup());

    this.qualityEl = h('p', { class: 'call-quality', 'data-testid': 'quality', 'data-quality': 'unknown' });
    this.chat = new ChatPanel({
      idPrefix: 'call',
      send: (text) => this.signaling.chatSend(text),
      who: (m) => this.who(m),
    });

    this.root = h('div', { class: 'call', 'data-connection': 'connecting' },
      this.statusEl,
      h('div', { class: 'call-stage' },
        h('div', { class: 'call-remote-area' }, this.remotes, this.placeholder, this.audioButton),
        h('figure', { class: 'call-local' },
          this.localVideo, this.cameraOffNote,
          h('figcaption', { class: 'visually-hidden', 'data-i18n': 'call.localCaption' }, t('call.localCaption')))),
      h('div', { class: 'call-controls', role: 'group', 'aria-label': t('call.controls'), 'data-i18n-attr': 'aria-label:call.controls' },
        this.muteButton, this.cameraButton, this.switchButton, this.hangupButton),
      this.qualityEl,
      h('div', { class: 'call-side' }, aside, this.chat.element));
    container.replaceChildren(this.root);
    this.renderControls();
    this.renderStatus();
    this.renderQuality();
  }

  who(message) {
    if (String(message.from) === String(this.room && this.room.me)) return t('call.you');
    const p = this.participant(message.from);
    const role = t(`call.role.${message.role || (p && p.role) || 'other'}`);
    return p && p.name ? t('call.nameRole', { name: p.name, role }) : role;
  }

  participant(id) {
    return this.room ? this.room.participants.find((p) => String(p.id) === String(id)) || null : null;
  }

  setStatus(status, params = {}, { speak = false } = {}) {
    this.status = status;
    this.statusParams = params;
    this.renderStatus();
    if (speak) announce(this.statusEl.textContent);
  }

  renderStatus() {
    this.statusEl.textContent = t(`call.status.${this.status}`, this.statusParams);
    this.root.dataset.connection = this.status;
    // The overlay on the tile of the member whose connection dropped (on all when it is ours).
    for (const [id, { tile }] of this.links) {
      const p = this.participant(id);
      tile.overlay.hidden = !(this.status === 'selfReconnecting'
        || (this.status === 'peerReconnecting' && (!p || p.state === 'reconnecting')));
    }
  }

  renderControls() {
    const audio = this.media.audioTrack;
    const video = this.media.videoTrack;
    this.muteButton.textContent = t(this.media.micEnabled ? 'call.mute' : 'call.unmute');
    this.muteButton.dataset.state = this.media.micEnabled ? 'on' : 'off';
    this.muteButton.hidden = !audio;
    this.cameraButton.textContent = t(this.media.cameraEnabled ? 'call.cameraOff' : 'call.cameraOn');
    this.cameraButton.dataset.state = this.media.cameraEnabled ? 'on' : 'off';
    this.cameraButton.hidden = !video;
    this.cameraOffNote.hidden = !video || this.media.cameraEnabled;
    this.localVideo.classList.toggle('mirrored', this.media.facing === 'user');
    if (this.localVideo.srcObject !== this.media.stream) this.localVideo.srcObject = this.media.stream;
  }

  renderQuality() {
    const q = this.quality;
    const level = q ? q.level : 'unknown';
    this.qualityEl.dataset.quality = level;
    this.qualityEl.textContent = level === 'unknown'
      ? t('call.quality.unknown')
      : t('call.quality.text', { level: t(`call.quality.${level}`), rtt: q.rttMs ?? '–', loss: q.lossPercent });
  }

  // ---- wiring ----------------------------------------------------------------------

  listen() {
    const s = this.signaling;
    this.unsubscribe.push(
      s.on('signal', (msg) => this.onSignal(msg)),
      s.on('room.updated', (room) => this.updateRoom(room)),
      s.on('admitted', ({ room }) => room && this.updateRoom(room)),
      s.on('peer.reconnecting', ({ participant_id: id }) => this.peerReconnecting(id)),
      s.on('peer.left', ({ participant_id: id }) => this.peerLeft(id)),
      s.on('chat', (m) => this.chat.add({ ...m, mine: this.room && String(m.from) === String(this.room.me) })),
      s.on('call.ended', ({ outcome }) => this.ended(outcome)),
      s.on('disconnected', () => this.selfDisconnected()),
      s.on('connected', ({ recovered }) => recovered && this.selfReconnected()),
      this.media.onTrackChange((kind, track) => this.trackChanged(kind, track)),
    );
    this.onVisible = () => {
      if (document.visibilityState === 'visible') this.returnedToForeground();
    };
    document.addEventListener('visibilitychange', this.onVisible);
    this.statsTimer = window.setInterval(() => this.sampleStats(), STATS_MS);
    onLanguageChange(() => {
      if (this.destroyed) return;
      this.renderStatus();
      this.renderControls();
      this.renderQuality();
      for (const entry of this.links.values()) this.renderTile(entry);
      this.chat.render();
    });
    this.media.devices().then(({ cameras }) => {
      this.switchButton.hidden = cameras.length < 2;
    }).catch(() => {});
  }

  /** Start (or refresh) with a Room from `admitted` / `room.join`. */
  start(room) {
    this.updateRoom(room);
    this.renderControls();
  }

  updateRoom(update) {
    if (this.destroyed || !update) return;
    const prev = this.room;
    // `room.updated` is a broadcast: "me": 0 and no ice_servers (docs/signaling.md). Keep
    // who we are and the ICE servers (TURN credentials) from admitted / room.join.
    const broadcast = !update.me;
    if (broadcast && !prev) return; // nothing to place ourselves by yet; start() follows
    const room = broadcast ? { ...update, me: prev.me, ice_servers: prev.ice_servers } : update;
    const iceChanged = !broadcast && prev && JSON.stringify(prev.ice_servers) !== JSON.stringify(room.ice_servers);
    const known = new Set(prev ? prev.participants.map((p) => String(p.id)) : []);
    this.room = room;
    const me = this.participant(room.me);
    for (const p of room.participants) {
      const id = String(p.id);
      if (id === String(room.me)) continue;
      const entry = this.links.get(id);
      if (p.state === 'left') this.dropLink(id);
      else if (entry) {
        // A link made for a signal that came before the Room named its sender.
        entry.participant = p;
        entry.link.polite = this.isPolite(p);
        this.renderTile(entry);
      } else if (LIVE_STATES.includes(p.state) && me && LIVE_STATES.includes(me.state)) {
        this.left.delete(id);
        this.addLink(p);
      }
      if (prev && !known.has(id) && p.role === 'interpreter' && p.state !== 'left') {
        announce(t('call.interpreterJoined', { who: this.interpreterText(p) }));
      }
    }
    // Links to members the room no longer lists.
    for (const id of [...this.links.keys()]) if (!this.participant(id)) this.dropLink(id);
    if (iceChanged) for (const { link } of this.links.values()) link.setIceServers(room.ice_servers);
    if (!broadcast) this.scheduleIceRefresh();
    this.refreshStatus();
  }

  /** TURN credentials expire (coturn's user name starts with the expiry, unix seconds): ask for
   *  fresh ones half-way, so an ICE restart late in a long call still gets a relay. */
  scheduleIceRefresh() {
    window.clearTimeout(this.iceTimer);
    const expiries = (this.room.ice_servers || [])
      .map((server) => /^(\d+):/.exec(server.username || ''))
      .filter(Boolean)
      .map((match) => Number(match[1]) * 1000);
    if (!expiries.length) return;
    const half = (Math.min(...expiries) - Date.now()) / 2;
    // Bounded below: a browser clock far off the server's must not make us ask in a loop.
    this.iceTimer = window.setTimeout(() => this.refreshIce(), Math.max(ICE_REFRESH_MIN_MS, half));
  }

  async refreshIce() {
    if (this.destroyed) return;
    try {
      const { ice_servers: iceServers } = await this.signaling.iceRefresh();
      if (this.destroyed) return;
      this.room = { ...this.room, ice_servers: iceServers };
      for (const { link } of this.links.values()) link.setIceServers(iceServers);
      this.scheduleIceRefresh();
    } catch (err) {
      // Offline for the moment: the reconnection brings a fresh Room with fresh credentials.
      console.warn('TURN credentials not refreshed', err);
      if (!this.destroyed) this.iceTimer = window.setTimeout(() => this.refreshIce(), ICE_REFRESH_MIN_MS);
    }
  }

  /** "Name (Dolmetschen: Arabisch)" for announcements. */
  interpreterText(p) {
    const language = p.language ? t('call.interpreterLanguage', { language: p.language }) : t('call.role.interpreter');
    return p.name ? t('call.nameRole', { name: p.name, role: language }) : language;
  }

  isPolite(remote) {
    const me = this.participant(this.room.me);
    const mine = me ? Boolean(me.polite) : true;
    const theirs = remote && typeof remote.polite === 'boolean' ? remote.polite : !mine;
    if (mine !== theirs) return mine;
    return String(this.room.me) < String(remote.id); // equal roles: a fixed tie-break
  }

  addLink(participant) {
    const id = String(participant.id);
    const link = new PeerLink({
      remoteId: participant.id,
      polite: this.isPolite(participant),
      iceServers: this.room.ice_servers,
      stream: this.media.stream,
      send: (msg) => this.sendSignal(participant.id, msg),
      onReplaced: (old, msg) => this.replaceLink(id, msg),
      onChange: () => this.linkChanged(id),
    });
    const tile = this.buildTile(participant, link);
    const entry = { link, tile, participant, sampler: new QualitySampler() };
    this.links.set(id, entry);
    this.renderTile(entry);
    this.placeholder.hidden = true;
    this.refreshStatus();
    return this.links.get(id);
  }

  buildTile(participant, link) {
    // No autoplay attribute: remote media starts only through play(), whose refusal (sound
    // without a user gesture, as on iOS Safari) shows "Ton einschalten" instead of silence.
    const video = h('video', { class: 'call-remote-video', playsinline: true, 'data-frames-decoded': '0' });
    video.srcObject = link.remoteStream;
    const overlay = h('p', { class: 'call-overlay', 'data-testid': 'call-reconnecting', 'data-i18n': 'call.status.peerReconnecting' }, t('call.status.peerReconnecting'));
    overlay.hidden = true;
    const name = h('span', { class: 'call-remote-name' });
    const detail = h('span', { class: 'call-remote-detail' });
    const label = h('figcaption', { class: 'call-remote-label' }, name, detail);
    const figure = h('figure', { class: 'call-remote', 'data-participant': String(participant.id) }, video, overlay, label);
    this.remotes.append(figure);
    return { figure, video, overlay, name, detail };
  }

  /** Name, role and (for an interpreter) the language under a remote video. */
  renderTile({ tile, participant }) {
    const role = participant.role || 'other';
    tile.figure.dataset.role = role;
    tile.video.dataset.testid = role === 'interpreter' ? 'remote-video-interpreter' : 'remote-video';
    tile.name.textContent = participant.name || t(`call.role.${role}`);
    // Under a name, the role (for an interpreter: the language), so three people tell apart.
    let detail = participant.name ? t(`call.role.${role}`) : '';
    if (role === 'interpreter' && participant.language) {
      detail = t('call.interpreterLanguage', { language: participant.language });
    }
    tile.detail.textContent = detail;
    tile.detail.hidden = !detail;
  }

  replaceLink(id, msg) {
    const participant = this.participant(id) || { id, role: 'other' };
    this.dropLink(id, { keepLeft: true });
    const entry = this.addLink(participant);
    // An answer belonged to the old connection; the new link makes its own offer.
    if (msg.description && msg.description.type === 'offer') entry.link.handle(msg);
  }

  dropLink(id, { keepLeft = false } = {}) {
    const entry = this.links.get(id);
    if (!entry) return;
    entry.link.close();
    entry.tile.video.srcObject = null;
    entry.tile.figure.remove();
    this.links.delete(id);
    if (!keepLeft) this.left.add(id);
    this.placeholder.hidden = this.links.size > 0;
  }

  sendSignal(to, msg) {
    let sent;
    if (msg.description) sent = this.signaling.sendDescription(to, msg.description);
    else if (msg.candidate) sent = this.signaling.sendCandidate(to, msg.candidate);
    else sent = this.signaling.requestRestart(to);
    return sent.catch((err) => {
      // Their connection is gone (the grace period runs): say so; they renegotiate on return.
      if (err.code === 'peer_not_connected') this.peerReconnecting(String(to));
      throw err;
    });
  }

  onSignal(msg) {
    if (this.destroyed || !this.room) return;
    const id = String(msg.from);
    let entry = this.links.get(id);
    if (!entry) {
      // Only admitted members of our room can reach us (the server relays nothing else).
      entry = this.addLink(this.participant(id) || { id: msg.from, role: 'other' });
    }
    entry.link.handle(msg);
  }

  linkChanged(id) {
    const entry = this.links.get(id);
    if (!entry) return;
    const { video } = entry.tile;
    if (video.paused && entry.link.remoteStream.getTracks().length) this.play(video);
    this.refreshStatus();
  }

  play(video) {
    video.play().catch((err) => {
      if (err.name !== 'NotAllowedError') return;
      // Autoplay with sound blocked: show the picture muted, sound after a tap.
      video.muted = true;
      video.play().catch(() => {});
      this.audioButton.hidden = false;
    });
  }

  enableAudio() {
    for (const { tile } of this.links.values()) {
      tile.video.muted = false;
      tile.video.play().catch(() => {});
    }
    this.audioButton.hidden = true;
    this.muteButton.focus();
  }

  refreshStatus() {
    if (this.destroyed) return;
    if (this.selfOffline) return this.setStatus('selfReconnecting');
    const remotes = this.room ? this.room.participants.filter((p) => String(p.id) !== String(this.room.me)) : [];
    if (remotes.some((p) => p.state === 'reconnecting')) return this.setStatus('peerReconnecting');
    if (!this.links.size) {
      // The Room lists only who waits or is in the call, so "left" is what we saw leave.
      const gone = this.left.size > 0 && !remotes.some((p) => LIVE_STATES.includes(p.state));
      return this.setStatus(gone ? 'peerLeft' : 'waitingForPeer');
    }
    const states = [...this.links.values()].map(({ link }) => link.pc.iceConnectionState);
    if (states.some((s) => s === 'connected' || s === 'completed')) {
      if (this.status !== 'connected') this.setStatus('connected', {}, { speak: true });
      return undefined;
    }
    if (states.some((s) => s === 'failed' || s === 'disconnected')) return this.setStatus('restarting');
    return this.setStatus('connecting');
  }

  peerReconnecting(id) {
    const p = this.participant(id);
    if (p) p.state = 'reconnecting';
    this.setStatus('peerReconnecting', {}, { speak: true });
  }

  peerLeft(id) {
    const p = this.participant(id);
    if (p) p.state = 'left';
    this.dropLink(String(id));
    this.refreshStatus();
    announce(p && p.role === 'interpreter'
      ? t('call.interpreterLeft', { who: this.interpreterText(p) })
      : this.statusEl.textContent);
  }

  selfDisconnected() {
    if (this.destroyed) return;
    this.selfOffline = true;
    this.setStatus('selfReconnecting', {}, { speak: true });
  }

  async selfReconnected() {
    if (this.destroyed) return;
    this.selfOffline = false;
    if (this.onReconnected) {
      try {
        const room = await this.onReconnected();
        if (room) this.updateRoom(room);
      } catch (err) {
        console.warn('room not re-joined', err);
      }
    }
    // Our network may have changed (Wi-Fi → mobile data): new ICE on both ends.
    for (const { link } of this.links.values()) link.requestRestart();
    this.refreshStatus();
  }

  ended(outcome) {
    if (this.destroyed) return;
    this.onEnded(outcome);
  }

  // ---- local media -----------------------------------------------------------------

  toggleMic() {
    this.media.setMicEnabled(!this.media.micEnabled);
    this.renderControls();
    announce(t(this.media.micEnabled ? 'call.micIsOn' : 'call.micIsOff'));
  }

  toggleCamera() {
    this.media.setCameraEnabled(!this.media.cameraEnabled);
    this.renderControls();
    announce(t(this.media.cameraEnabled ? 'call.cameraIsOn' : 'call.cameraIsOff'));
  }

  async switchCamera() {
    try {
      await this.media.switchCamera();
      announce(t('call.cameraSwitched'));
    } catch (err) {
      console.warn('camera switch failed', err);
      announce(t('call.cameraSwitchFailed'));
    }
    this.renderControls();
  }

  trackChanged(kind, track) {
    for (const { link } of this.links.values()) {
      link.replaceTrack(kind, track, this.media.stream).catch((err) => console.warn('replaceTrack failed', err));
    }
    this.localVideo.srcObject = null;
    this.renderControls();
  }

  async returnedToForeground() {
    if (this.destroyed) return;
    try {
      await this.media.ensureCameraLive();
    } catch (err) {
      console.warn('camera not re-acquired', err);
    }
    // Phone browsers pause media in the background.
    if (this.localVideo.paused) this.localVideo.play().catch(() => {});
    for (const { tile } of this.links.values()) if (tile.video.paused) this.play(tile.video);
  }

  async sampleStats() {
    if (this.destroyed) return;
    let overall = null;
    for (const { link, tile, sampler } of this.links.values()) {
      try {
        const q = sampler.sample(await link.getStats());
        tile.video.dataset.framesDecoded = String(q.framesDecoded);
        overall = worse(overall, q);
      } catch {
        // closed meanwhile
      }
    }
    this.quality = overall;
    this.renderQuality();
  }

  // ---- end -------------------------------------------------------------------------

  /** Close every peer connection and stop listening (media stays with its owner). */
  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    window.clearInterval(this.statsTimer);
    window.clearTimeout(this.iceTimer);
    document.removeEventListener('visibilitychange', this.onVisible);
    for (const off of this.unsubscribe) off();
    for (const id of [...this.links.keys()]) this.dropLink(id);
    this.localVideo.srcObject = null;
  }
}

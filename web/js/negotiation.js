// One RTCPeerConnection to one other room member, negotiated with the "perfect
// negotiation" pattern (MDN / W3C webrtc-pc §10): both sides offer whenever they need to,
// glare is resolved by the polite side rolling back, the impolite side ignoring the offer.
// ICE restarts: when the connection fails, when it stays disconnected, on request.

const DISCONNECTED_RESTART_MS = 5000;
// The polite side lets the impolite side make the first offer when it can: a start
// without glare. Chromium sometimes emits no ICE candidates for an answer made right
// after an implicit rollback, so avoiding the collision is worth a short wait.
const POLITE_FIRST_OFFER_DELAY_MS = 500;
// Not connected this long after the start or the last restart: restart ICE (impolite
// side) or ask the impolite side to (polite side).
const CONNECT_WATCHDOG_MS = 8000;

function fingerprints(sdp) {
  return (sdp || '').split(/\r?\n/).filter((l) => l.startsWith('a=fingerprint:')).sort().join('|');
}

export class PeerLink {
  /**
   * @param {object} o
   * @param {string|number} o.remoteId participant id of the other side
   * @param {boolean} o.polite this side's role in glare
   * @param {RTCIceServer[]} o.iceServers
   * @param {MediaStream|null} o.stream local media to send (may be null: receive only)
   * @param {(msg: object) => Promise} o.send sends {description} | {candidate} | {restart: true}
   * @param {(link: PeerLink, msg: object) => void} o.onReplaced the remote is a new peer
   *        connection (the other page reloaded): the owner builds a new link for msg
   * @param {(link: PeerLink) => void} o.onChange connection or media state changed
   */
  constructor({ remoteId, polite, iceServers, stream, send, onReplaced, onChange }) {
    this.remoteId = remoteId;
    this.polite = polite;
    this.send = send;
    this.onReplaced = onReplaced;
    this.onChange = onChange;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.isSettingRemoteAnswerPending = false;
    this.closed = false;
    this.queue = Promise.resolve();
    this.remoteStream = new MediaStream();
    this.disconnectTimer = null;
    this.pc = new RTCPeerConnection({ iceServers: iceServers || [] });
    this.senders = new Map(); // kind → RTCRtpSender

    if (stream) {
      for (const track of stream.getTracks()) this.senders.set(track.kind, this.pc.addTrack(track, stream));
    }
    // Receive both kinds even when we send nothing (no camera, no microphone).
    for (const kind of ['audio', 'video']) {
      if (!this.senders.has(kind)) this.pc.addTransceiver(kind, { direction: 'recvonly' });
    }

    this.pc.ontrack = ({ track }) => {
      if (!this.remoteStream.getTracks().includes(track)) this.remoteStream.addTrack(track);
      track.addEventListener('unmute', () => this.onChange(this));
      this.onChange(this);
    };
    this.pc.onicecandidate = ({ candidate }) => {
      // null marks the end of gathering; an empty string is Firefox's end-of-candidates.
      if (candidate && candidate.candidate) this.send({ candidate }).catch(() => {});
    };
    // Offers are made in the same queue as incoming signals are handled: a local offer and
    // a remote offer never interleave their set*Description calls.
    this.pc.onnegotiationneeded = () => {
      if (this.polite && this.firstOffer && !this.pc.remoteDescription) {
        this.firstOffer = false;
        window.setTimeout(() => this.enqueue(() => {
          // The other side's offer came meanwhile: answering it carried our tracks along,
          // and the browser fires negotiationneeded again should anything still be missing.
          if (!this.pc.remoteDescription) return this.negotiate();
          return undefined;
        }), POLITE_FIRST_OFFER_DELAY_MS);
        return;
      }
      this.enqueue(() => this.negotiate());
    };
    this.pc.oniceconnectionstatechange = () => this.iceChanged();
    this.pc.onconnectionstatechange = () => this.onChange(this);
    this.firstOffer = true;
    this.armWatchdog();
  }

  armWatchdog() {
    window.clearTimeout(this.watchdog);
    this.watchdog = window.setTimeout(() => {
      if (this.closed || this.connected) return;
      if (this.polite) {
        this.send({ restart: true }).catch(() => {});
      } else {
        this.enqueue(async () => {
          // An offer whose answer never came blocks every further negotiation: drop it.
          if (this.pc.signalingState === 'have-local-offer') await this.pc.setLocalDescription({ type: 'rollback' });
          this.pc.restartIce();
        });
      }
      this.armWatchdog();
    }, CONNECT_WATCHDOG_MS);
  }

  get connected() {
    return ['connected', 'completed'].includes(this.pc.iceConnectionState);
  }

  async negotiate() {
    if (this.closed) return;
    if (this.pc.signalingState !== 'stable') {
      // Mid-way through the other side's offer: offer once that is answered.
      this.skippedNegotiation = true;
      return;
    }
    this.skippedNegotiation = false;
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      // A remote offer handled meanwhile may have turned this into something else.
      const local = this.pc.localDescription;
      if (this.pc.signalingState === 'have-local-offer' && local && local.type === 'offer') {
        await this.send({ description: local });
      }
    } catch (err) {
      console.warn('offer not sent', err);
    } finally {
      this.makingOffer = false;
    }
  }

  iceChanged() {
    const state = this.pc.iceConnectionState;
    window.clearTimeout(this.disconnectTimer);
    if (state === 'failed') this.restart();
    else if (state === 'disconnected') {
      this.disconnectTimer = window.setTimeout(() => {
        if (this.pc.iceConnectionState === 'disconnected') this.restart();
      }, DISCONNECTED_RESTART_MS);
    }
    this.onChange(this);
  }

  /** ICE restart from this side (new credentials in the next offer). */
  restart() {
    if (this.closed) return;
    this.armWatchdog();
    this.pc.restartIce();
  }

  /** Ask the other side to restart too, then restart here (e.g. after our network changed). */
  requestRestart() {
    this.send({ restart: true }).catch(() => {});
    this.restart();
  }

  /** Run one step after the previous ones (signals strictly in arrival order). */
  enqueue(step) {
    this.queue = this.queue.then(step).catch((err) => console.warn('negotiation step failed', err));
    return this.queue;
  }

  /** Handle one relayed signal. */
  handle(msg) {
    return this.enqueue(() => this.process(msg));
  }

  async process({ description, candidate, restart }) {
    if (this.closed) return;
    if (restart) {
      this.restart();
      return;
    }
    if (description) {
      if (description.type === 'rollback') return; // never sent by this client; nothing to do
      const current = this.pc.remoteDescription;
      if (current && current.sdp && fingerprints(current.sdp) !== fingerprints(description.sdp)) {
        // A different DTLS identity: the other side started over with a new connection.
        this.close();
        this.onReplaced(this, { description });
        return;
      }
      const readyForOffer = !this.makingOffer
        && (this.pc.signalingState === 'stable' || this.isSettingRemoteAnswerPending);
      const offerCollision = description.type === 'offer' && !readyForOffer;
      this.ignoreOffer = !this.polite && offerCollision;
      if (this.ignoreOffer) return;
      this.isSettingRemoteAnswerPending = description.type === 'answer';
      try {
        // The polite side's own offer is rolled back implicitly by setRemoteDescription:
        // no stable moment in between, so no extra negotiationneeded sneaks in.
        await this.pc.setRemoteDescription(description);
      } catch (err) {
        if (!(offerCollision && err.name === 'InvalidStateError')) throw err;
        // Browsers without implicit rollback.
        await this.pc.setLocalDescription({ type: 'rollback' });
        await this.pc.setRemoteDescription(description);
      } finally {
        this.isSettingRemoteAnswerPending = false;
      }
      if (description.type === 'offer' && this.pc.signalingState === 'have-remote-offer') {
        await this.pc.setLocalDescription();
        const local = this.pc.localDescription;
        if (local && local.type === 'answer') await this.send({ description: local });
      }
      if (this.skippedNegotiation && this.pc.signalingState === 'stable') await this.negotiate();
    } else if (candidate) {
      try {
        await this.pc.addIceCandidate(candidate);
      } catch (err) {
        if (!this.ignoreOffer) console.warn('ICE candidate not added', err);
      }
    }
  }

  /** Swap the local track of one kind (camera re-acquired, device changed). */
  async replaceTrack(kind, track, stream) {
    const sender = this.senders.get(kind);
    if (sender) {
      await sender.replaceTrack(track);
    } else if (track && !this.closed) {
      // A kind we did not send before: reuse its receive-only transceiver.
      const tr = this.pc.getTransceivers().find((t) => t.receiver.track.kind === kind && !t.stopped);
      if (tr) {
        tr.direction = 'sendrecv';
        await tr.sender.replaceTrack(track);
        if (stream && tr.sender.setStreams) tr.sender.setStreams(stream);
        this.senders.set(kind, tr.sender);
      } else {
        this.senders.set(kind, this.pc.addTrack(track, stream));
      }
    }
  }

  setIceServers(iceServers) {
    if (this.closed) return;
    try {
      this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceServers: iceServers || [] });
    } catch (err) {
      console.warn('ICE servers not updated', err);
    }
  }

  getStats() {
    return this.pc.getStats();
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    window.clearTimeout(this.disconnectTimer);
    window.clearTimeout(this.watchdog);
    this.pc.ontrack = null;
    this.pc.onicecandidate = null;
    this.pc.onnegotiationneeded = null;
    this.pc.oniceconnectionstatechange = null;
    this.pc.onconnectionstatechange = null;
    this.pc.close();
  }
}

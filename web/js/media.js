// Camera and microphone: one getUserMedia stream per page, reused from the pre-call
// preview into the call. Device changes, the front/back switch and re-acquiring a camera
// that the system stopped (page in the background) replace single tracks in that stream
// and tell the listeners (the call swaps the track on its RTP senders).

/** What the browser lacks for a video call ([] when nothing). */
export function missingFeatures() {
  const missing = [];
  if (!window.isSecureContext) missing.push('secure_context');
  if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== 'function') missing.push('getUserMedia');
  if (typeof window.RTCPeerConnection !== 'function') missing.push('RTCPeerConnection');
  return missing;
}

/** A short code for a getUserMedia failure: denied | notFound | busy | unsupported | unknown. */
export function mediaErrorKind(err) {
  switch (err && err.name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
      return 'denied';
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return 'notFound';
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return 'busy';
    case 'TypeError':
      return 'unsupported';
    default:
      return 'unknown';
  }
}

/** The browser family, for the "how to allow the camera" steps. */
export function browserFamily() {
  const ua = navigator.userAgent;
  if (/iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1)) return 'ios';
  if (/SamsungBrowser/.test(ua)) return 'samsung';
  if (/Firefox|FxiOS/.test(ua)) return 'firefox';
  if (/Edg\//.test(ua)) return 'edge';
  if (/Chrome|Chromium|CriOS/.test(ua)) return /Android/.test(ua) ? 'android' : 'chrome';
  if (/Safari/.test(ua)) return 'safari';
  return 'other';
}

const VIDEO = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 24, max: 30 } };
const AUDIO = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

export class LocalMedia {
  constructor() {
    this.stream = null;
    this.pending = null;
    this.error = null; // the last getUserMedia failure (partial media keeps what worked)
    this.micEnabled = true;
    this.cameraEnabled = true;
    this.facing = 'user';
    this.listeners = new Set();
  }

  /** Called with (kind, track) whenever a track of the stream is replaced. */
  onTrackChange(cb) {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  get audioTrack() {
    return this.stream ? this.stream.getAudioTracks()[0] || null : null;
  }

  get videoTrack() {
    return this.stream ? this.stream.getVideoTracks()[0] || null : null;
  }

  /**
   * The page's stream: acquired once, later calls return the same stream. When camera and
   * microphone together fail for want of one device, the other is taken alone.
   */
  acquire({ cameraId = null, micId = null } = {}) {
    if (this.stream) return Promise.resolve(this.stream);
    if (!this.pending) {
      this.pending = this.open(cameraId, micId).finally(() => { this.pending = null; });
    }
    return this.pending;
  }

  async open(cameraId, micId) {
    const video = cameraId ? { ...VIDEO, deviceId: { exact: cameraId } } : { ...VIDEO, facingMode: this.facing };
    const audio = micId ? { ...AUDIO, deviceId: { exact: micId } } : AUDIO;
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ video, audio });
      this.error = null;
    } catch (err) {
      this.error = err;
      if (mediaErrorKind(err) !== 'notFound') throw err;
      // One of the two is missing: keep the one that exists.
      this.stream = await navigator.mediaDevices.getUserMedia({ audio })
        .catch(() => navigator.mediaDevices.getUserMedia({ video }));
    }
    this.applyEnabled();
    return this.stream;
  }

  applyEnabled() {
    if (this.audioTrack) this.audioTrack.enabled = this.micEnabled;
    if (this.videoTrack) this.videoTrack.enabled = this.cameraEnabled;
  }

  /** Cameras and microphones (labels are only filled in after permission). */
  async devices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return { cameras: [], microphones: [] };
    const all = await navigator.mediaDevices.enumerateDevices();
    return {
      cameras: all.filter((d) => d.kind === 'videoinput' && d.deviceId),
      microphones: all.filter((d) => d.kind === 'audioinput' && d.deviceId),
    };
  }

  currentDeviceId(kind) {
    const track = kind === 'video' ? this.videoTrack : this.audioTrack;
    return track && track.getSettings ? track.getSettings().deviceId || null : null;
  }

  /** Replace the track of one kind with a freshly opened one. */
  async replace(kind, constraints) {
    const old = kind === 'video' ? this.videoTrack : this.audioTrack;
    // Phones cannot open two cameras at once: release the old one first.
    if (old && kind === 'video') old.stop();
    let fresh;
    try {
      fresh = await navigator.mediaDevices.getUserMedia(kind === 'video' ? { video: constraints } : { audio: constraints });
    } catch (err) {
      if (old && kind === 'video') await this.reopenAfterFailure(old);
      throw err;
    }
    const track = kind === 'video' ? fresh.getVideoTracks()[0] : fresh.getAudioTracks()[0];
    if (!this.stream) this.stream = new MediaStream();
    if (old) {
      old.stop();
      this.stream.removeTrack(old);
    }
    this.stream.addTrack(track);
    this.applyEnabled();
    for (const cb of this.listeners) cb(kind, track);
    return track;
  }

  async reopenAfterFailure(old) {
    try {
      // exact: a bare deviceId is only a wish, and the browser may hand over another camera.
      const again = await navigator.mediaDevices.getUserMedia({ video: { ...VIDEO, deviceId: { exact: old.getSettings().deviceId } } });
      const track = again.getVideoTracks()[0];
      this.stream.removeTrack(old);
      this.stream.addTrack(track);
      this.applyEnabled();
      for (const cb of this.listeners) cb('video', track);
    } catch (err) {
      console.warn('camera could not be reopened', err);
    }
  }

  useCamera(deviceId) {
    return this.replace('video', { ...VIDEO, deviceId: { exact: deviceId } });
  }

  useMicrophone(deviceId) {
    return this.replace('audio', { ...AUDIO, deviceId: { exact: deviceId } });
  }

  /** Front ↔ back camera; on devices without facingMode the next camera in the list. */
  async switchCamera() {
    const track = this.videoTrack;
    const capabilities = track && typeof track.getCapabilities === 'function' ? track.getCapabilities() : null;
    // A camera that says it has no facing (desktops, external cameras): the next one in the list.
    if (capabilities && !(capabilities.facingMode || []).length) return this.nextCamera();
    const next = this.facing === 'user' ? 'environment' : 'user';
    try {
      await this.replace('video', { ...VIDEO, facingMode: { exact: next } });
      this.facing = next;
    } catch (err) {
      if (mediaErrorKind(err) !== 'notFound') throw err;
      await this.nextCamera(err);
    }
  }

  async nextCamera(failure = null) {
    const { cameras } = await this.devices();
    const current = this.currentDeviceId('video');
    const index = cameras.findIndex((c) => c.deviceId === current);
    const other = cameras[(index + 1) % cameras.length];
    if (!other || other.deviceId === current) {
      if (failure) throw failure;
      return;
    }
    await this.useCamera(other.deviceId);
  }

  setMicEnabled(on) {
    this.micEnabled = on;
    this.applyEnabled();
  }

  setCameraEnabled(on) {
    this.cameraEnabled = on;
    this.applyEnabled();
  }

  /** Re-open the camera when the system ended it (phone page back from the background). */
  async ensureCameraLive() {
    const track = this.videoTrack;
    if (!track || track.readyState !== 'ended') return false;
    const deviceId = track.getSettings ? track.getSettings().deviceId : null;
    await this.replace('video', deviceId ? { ...VIDEO, deviceId } : { ...VIDEO, facingMode: this.facing });
    return true;
  }

  stop() {
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
  }
}

/**
 * Microphone level for a <meter> (0 … 1), measured with an AnalyserNode. The AudioContext
 * may start suspended (autoplay rules); resume() from a user gesture starts it.
 */
export class LevelMeter {
  constructor(meter) {
    this.meter = meter;
    this.ctx = null;
    this.source = null;
    this.timer = null;
  }

  attach(stream) {
    this.detach();
    const track = stream && stream.getAudioTracks()[0];
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!track || !Ctx) return;
    if (!this.ctx) this.ctx = new Ctx();
    this.source = this.ctx.createMediaStreamSource(new MediaStream([track]));
    const analyser = this.ctx.createAnalyser();
    analyser.fftSize = 1024;
    this.source.connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    this.timer = window.setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      const rms = Math.sqrt(sum / samples.length);
      // Speech sits around 0.02–0.2 RMS: a square-root curve makes it visible.
      this.meter.value = Math.min(1, Math.sqrt(rms * 5));
    }, 100);
  }

  get suspended() {
    return Boolean(this.ctx && this.ctx.state === 'suspended');
  }

  resume() {
    return this.ctx ? this.ctx.resume() : Promise.resolve();
  }

  detach() {
    window.clearInterval(this.timer);
    this.timer = null;
    if (this.source) this.source.disconnect();
    this.source = null;
    this.meter.value = 0;
  }

  close() {
    this.detach();
    if (this.ctx) this.ctx.close().catch(() => {});
    this.ctx = null;
  }
}

// The camera and microphone check before a call: the card's controls (built here into the
// page's empty #media-check, inside its #precall section) and what they do.
// Failures become the German help texts (media.<kind>.*), never a dead end.

import { $, h } from './dom.js';
import { announce } from './forms.js';
import { t } from './i18n.js';
import { browserFamily, LevelMeter, mediaErrorKind, missingFeatures } from './media.js';

/**
 * The preview, level meter, device choice and help box. Texts come by data-i18n: the page's
 * applyTranslations() fills them when the catalog is there, and again on a language switch.
 */
function cardControls(continueKey) {
  const text = (tag, attrs, key) => h(tag, { ...attrs, 'data-i18n': key });
  const preview = h('video', {
    id: 'precall-preview', class: 'preview-video mirrored', 'data-testid': 'precall-preview',
    playsinline: true, autoplay: true, muted: true, 'aria-hidden': 'true',
  });
  preview.muted = true; // the attribute alone does not mute an element created by script: no echo
  const field = (id, key) => h('div', { class: 'field' },
    text('label', { for: id }, key), h('select', { id, class: 'select', 'data-testid': id }));
  return [
    h('div', { class: 'preview-box' }, preview, text('p', { id: 'preview-off', class: 'preview-off', hidden: true }, 'video.previewOff')),
    h('div', { class: 'level' },
      text('label', { for: 'mic-level' }, 'video.micLevel'),
      h('meter', {
        id: 'mic-level', class: 'mic-level', 'data-testid': 'mic-level', min: 0, max: 1, low: 0.15, high: 0.9, optimum: 0.5, value: 0,
      }, '0'),
      text('button', { type: 'button', id: 'mic-level-start', class: 'button secondary small', 'data-testid': 'mic-level-start', hidden: true },
        'video.micLevelStart')),
    h('div', { id: 'devices', class: 'devices', hidden: true },
      field('device-camera', 'video.camera'), field('device-microphone', 'video.microphone')),
    h('section', {
      id: 'media-help', class: 'media-help', role: 'alert', 'aria-labelledby': 'media-help-heading', 'data-testid': 'media-help', hidden: true,
    },
    h('h3', { id: 'media-help-heading' }), h('p', { id: 'media-help-text' }), h('ol', { id: 'media-help-steps' }),
    text('p', { class: 'muted' }, continueKey),
    text('button', { type: 'button', id: 'media-retry', class: 'button secondary', 'data-testid': 'media-retry' }, 'video.retry')),
  ];
}

export class MediaCheck {
  /**
   * @param {import('./media.js').LocalMedia} media the page's one stream
   * @param {object} o
   * @param {() => boolean} o.inCall true while the call view owns the media (it re-acquires
   *        the camera itself when the page comes back from the background)
   * @param {string} o.continueKey i18n key of the help box's "you may still go on" line
   */
  constructor(media, { inCall, continueKey }) {
    this.media = media;
    this.inCall = inCall;
    $('#media-check').replaceChildren(...cardControls(continueKey));
    this.meter = new LevelMeter($('#mic-level'));
    this.problem = null; // {kind} while camera/microphone are not available
    this.ready = Promise.resolve();
  }

  /** Acquire camera and microphone (once); `ready` settles when that is done either way. */
  start() {
    this.ready = this.acquire();
    return this.ready;
  }

  acquire() {
    if (missingFeatures().length) {
      this.problem = { kind: 'unsupported' };
      this.renderHelp();
      return Promise.resolve();
    }
    return this.media.acquire().then(async () => {
      // Only one of camera and microphone could be opened.
      this.problem = this.media.error ? { kind: mediaErrorKind(this.media.error) } : null;
      this.renderHelp();
      this.previewChanged();
      await this.fillDevices();
    }).catch((err) => {
      console.warn('getUserMedia failed', err);
      this.problem = { kind: mediaErrorKind(err) };
      this.renderHelp();
      $('#preview-off').hidden = false;
    });
  }

  renderHelp() {
    const box = $('#media-help');
    box.hidden = !this.problem;
    if (!this.problem) return;
    const { kind } = this.problem;
    $('#media-help-heading').textContent = t(`media.${kind}.heading`);
    $('#media-help-text').textContent = t(`media.${kind}.text`);
    const steps = kind === 'denied'
      ? [t(`media.denied.${browserFamily()}`), t('media.denied.system')]
      : [t(`media.${kind}.step`)];
    $('#media-help-steps').replaceChildren(...steps.map((s) => h('li', {}, s)));
    $('#media-retry').hidden = kind === 'unsupported';
  }

  async fillDevices() {
    const { cameras, microphones } = await this.media.devices();
    const fill = (select, list, kind, labelKey) => {
      const current = this.media.currentDeviceId(kind);
      select.replaceChildren(...list.map((d, i) => h('option', { value: d.deviceId, selected: d.deviceId === current },
        d.label || t(labelKey, { n: i + 1 }))));
      select.closest('.field').hidden = !list.length;
    };
    fill($('#device-camera'), cameras, 'video', 'video.cameraN');
    fill($('#device-microphone'), microphones, 'audio', 'video.microphoneN');
    $('#devices').hidden = !cameras.length && !microphones.length;
  }

  /** Show (or drop) the preview; the <video> only holds the stream while the card is visible. */
  showPreview(visible) {
    const preview = $('#precall-preview');
    preview.srcObject = visible && this.media.stream ? this.media.stream : null;
  }

  previewChanged() {
    const preview = $('#precall-preview');
    preview.srcObject = null;
    if (!$('#precall').hidden) preview.srcObject = this.media.stream;
    preview.classList.toggle('mirrored', this.media.facing === 'user');
    $('#preview-off').hidden = Boolean(this.media.videoTrack);
    if (this.inCall()) return; // the call view shows the stream; no meter needed
    this.meter.attach(this.media.stream);
    $('#mic-level-start').hidden = !this.meter.suspended;
  }

  useDevice(kind, deviceId) {
    const change = kind === 'video' ? this.media.useCamera(deviceId) : this.media.useMicrophone(deviceId);
    change.catch((err) => {
      this.problem = { kind: mediaErrorKind(err) };
      this.renderHelp();
    });
  }

  /** Listeners for the card's controls, device changes and the page's visibility. */
  wire() {
    this.media.onTrackChange(() => this.previewChanged());
    $('#media-retry').addEventListener('click', () => {
      this.start().then(() => {
        if (!this.problem) announce(t('video.mediaOk'));
      });
    });
    $('#device-camera').addEventListener('change', (event) => this.useDevice('video', event.target.value));
    $('#device-microphone').addEventListener('change', (event) => this.useDevice('audio', event.target.value));
    $('#mic-level-start').addEventListener('click', async () => {
      await this.meter.resume();
      $('#mic-level-start').hidden = true;
    });
    // Autoplay rules may keep the AudioContext suspended until the first interaction.
    const resume = () => {
      if (this.meter.suspended) this.meter.resume().then(() => { $('#mic-level-start').hidden = true; });
    };
    document.addEventListener('pointerdown', resume);
    document.addEventListener('keydown', resume);
    if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
      navigator.mediaDevices.addEventListener('devicechange', () => {
        if (this.media.stream) this.fillDevices().catch(() => {});
      });
    }
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && !this.inCall() && this.media.stream) {
        this.media.ensureCameraLive().catch((err) => console.warn('camera not re-acquired', err));
      }
    });
  }

  /** The call takes over: stop measuring (the stream itself goes on). */
  detach() {
    this.meter.detach();
  }

  close() {
    this.meter.close();
  }
}

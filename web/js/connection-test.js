// The pre-call connection test: a real WebRTC connection to the server's echo peer, which
// sends our own camera and microphone back. We measure round-trip time, packet loss and the
// bitrate of the echoed video with getStats(), decide a verdict and report it, so the clerk
// sees it in the waiting list. Wire protocol: POST /api/video/{token}/connection-test and
// …/connection-test/result (docs/signaling.md). Self-contained: the page only calls
// runConnectionTest() and renderConnectionTest().

import { ApiError, postJSON } from './api.js';
import { h } from './dom.js';
import { announce, isBusy, setBusy } from './forms.js';

/**
 * Limits of a "good" connection; worse but connected is "limited". The echo peer (aiortc's VP8
 * encoder) sends at least 250 kbit/s and follows the browser's bandwidth estimate, which starts
 * low: even a perfect line often echoes only ~230–260 kbit/s in the first seconds. Less than
 * 200 kbit/s back means frames are being lost or starved on the way.
 */
export const THRESHOLDS = Object.freeze({ rttMs: 300, loss: 0.02, bitrateKbps: 200 });

const GATHER_TIMEOUT_MS = 3_000;
const CONNECT_TIMEOUT_MS = 15_000;
const MEASURE_MS = 5_000;
const SAMPLE_MS = 1_000;
const WARM_UP_MS = 3_000;

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

function result(verdict, reason, extra = {}) {
  return { verdict, reason, rtt_ms: null, loss: null, bitrate_kbps: null, stored: false, ...extra };
}

/** Wait for ICE gathering to finish (we send one complete offer, no trickle), at most `ms`. */
function gathered(pc, ms) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === 'complete') finish();
    };
    const timer = setTimeout(finish, ms);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

/** Resolves true once connected, false when the connection fails or `ms` pass. */
function connected(pc, ms) {
  const state = () => pc.connectionState || pc.iceConnectionState;
  if (['connected', 'completed'].includes(state())) return Promise.resolve(true);
  return new Promise((resolve) => {
    const finish = (ok) => {
      clearTimeout(timer);
      pc.removeEventListener('connectionstatechange', check);
      pc.removeEventListener('iceconnectionstatechange', check);
      resolve(ok);
    };
    const check = () => {
      const now = state();
      if (now === 'connected' || now === 'completed') finish(true);
      else if (now === 'failed' || now === 'closed') finish(false);
    };
    const timer = setTimeout(() => finish(false), ms);
    pc.addEventListener('connectionstatechange', check);
    pc.addEventListener('iceconnectionstatechange', check);
  });
}

/** Totals of one getStats() report: what came back, what the server lost, the round-trip time. */
function totals(stats) {
  const out = { at: 0, videoBytes: 0, received: 0, lost: 0, upLost: 0, upSent: 0, rtt: null, remoteRtt: null };
  let selected = null;
  const pairs = new Map();
  for (const report of stats.values()) {
    if (!out.at && report.timestamp) out.at = report.timestamp;
    if (report.type === 'transport' && report.selectedCandidatePairId) selected = report.selectedCandidatePairId;
    else if (report.type === 'candidate-pair') pairs.set(report.id, report);
    else if (report.type === 'inbound-rtp') {
      out.received += report.packetsReceived || 0;
      out.lost += Math.max(0, report.packetsLost || 0);
      if (report.kind === 'video') out.videoBytes += report.bytesReceived || 0;
    } else if (report.type === 'outbound-rtp') {
      out.upSent += report.packetsSent || 0;
    } else if (report.type === 'remote-inbound-rtp') {
      // The echo peer's receiver reports about our packets: loss on the way up.
      out.upLost += Math.max(0, report.packetsLost || 0);
      if (Number.isFinite(report.roundTripTime) && out.remoteRtt === null) out.remoteRtt = report.roundTripTime;
    }
  }
  const pair = (selected && pairs.get(selected))
    || [...pairs.values()].find((p) => p.nominated && p.state === 'succeeded');
  if (pair && Number.isFinite(pair.currentRoundTripTime)) out.rtt = pair.currentRoundTripTime;
  else out.rtt = out.remoteRtt;
  return out;
}

/** Until the first echoed video frame is decoded (at most `ms`): the encoders' start is not the network. */
async function warmUp(pc, ms) {
  const started = performance.now();
  while (performance.now() - started < ms) {
    const stats = await pc.getStats();
    const decoded = [...stats.values()].some((r) => r.type === 'inbound-rtp' && r.kind === 'video' && r.framesDecoded > 0);
    if (decoded) return;
    await sleep(100);
  }
}

/** Measure for `ms`: median RTT, loss both ways, bitrate of the echoed video. */
async function measure(pc, ms) {
  await warmUp(pc, WARM_UP_MS);
  const first = totals(await pc.getStats());
  const started = performance.now();
  const rtts = [];
  let last = first;
  while (performance.now() - started < ms) {
    await sleep(SAMPLE_MS);
    if (pc.connectionState === 'failed' || pc.connectionState === 'closed') break;
    last = totals(await pc.getStats());
    if (last.rtt !== null) rtts.push(last.rtt);
  }
  const seconds = Math.max(0.001, (last.at && first.at ? last.at - first.at : performance.now() - started) / 1000);
  const down = { lost: last.lost - first.lost, received: last.received - first.received };
  const downLoss = down.lost + down.received > 0 ? Math.max(0, down.lost) / (down.lost + down.received) : null;
  const upSent = last.upSent - first.upSent;
  const upLoss = upSent > 0 ? Math.min(1, Math.max(0, last.upLost - first.upLost) / upSent) : null;
  rtts.sort((a, b) => a - b);
  const rtt = rtts.length ? rtts[Math.floor(rtts.length / 2)] : null;
  const losses = [downLoss, upLoss].filter((x) => x !== null);
  return {
    rtt_ms: rtt === null ? null : Math.round(rtt * 1000),
    loss: losses.length ? Math.round(Math.max(...losses) * 10_000) / 10_000 : null,
    bitrate_kbps: Math.round(((last.videoBytes - first.videoBytes) * 8) / seconds / 100) / 10,
  };
}

/** The verdict for measured values: good, or limited with the first reason that fails. */
export function judge({ rtt_ms: rtt, loss, bitrate_kbps: bitrate }) {
  if (rtt !== null && rtt >= THRESHOLDS.rttMs) return { verdict: 'limited', reason: 'high_rtt' };
  if (loss !== null && loss >= THRESHOLDS.loss) return { verdict: 'limited', reason: 'packet_loss' };
  if (bitrate === null || bitrate < THRESHOLDS.bitrateKbps) return { verdict: 'limited', reason: 'low_bitrate' };
  return { verdict: 'good', reason: 'good' };
}

function failureReason(err) {
  if (err instanceof ApiError) {
    if (err.code === 'connection_test_busy') return 'server_busy';
    if (err.isNetwork || err.status >= 500) return 'server_unreachable';
  }
  return 'failed';
}

/**
 * Run the test with the page's camera/microphone `stream` (its tracks are shared, not stopped).
 * Resolves (never rejects) to {verdict: good|limited|none, reason, rtt_ms, loss, bitrate_kbps,
 * stored, message?}; `onProgress({phase})` hears connecting, measuring, reporting.
 */
export async function runConnectionTest({
  token, stream, onProgress = () => {}, iceServers = [], measureMs = MEASURE_MS, connectTimeoutMs = CONNECT_TIMEOUT_MS,
} = {}) {
  const progress = (phase) => {
    try {
      onProgress({ phase });
    } catch (err) {
      console.warn('connection test progress handler failed', err);
    }
  };
  if (typeof RTCPeerConnection !== 'function') return result('none', 'unsupported');
  const tracks = stream ? stream.getTracks().filter((track) => track.readyState === 'live') : [];
  if (!tracks.length) return result('none', 'no_media');

  const base = `/api/video/${encodeURIComponent(token)}/connection-test`;
  const started = performance.now();
  const pc = new RTCPeerConnection({ iceServers });
  try {
    progress('connecting');
    for (const track of tracks) {
      if (track.kind === 'video') {
        // The echo peer decodes and re-encodes what it gets: at most 480 lines and 1 Mbit/s spare its CPU.
        const height = (track.getSettings && track.getSettings().height) || 480;
        const sendEncodings = [{ scaleResolutionDownBy: Math.max(1, height / 480), maxBitrate: 1_000_000 }];
        pc.addTransceiver(track, { direction: 'sendrecv', streams: [stream], sendEncodings });
      } else {
        pc.addTrack(track, stream);
      }
    }
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, GATHER_TIMEOUT_MS);
    let answer;
    try {
      answer = await postJSON(base, { sdp: pc.localDescription.sdp, type: 'offer' });
    } catch (err) {
      return result('none', failureReason(err), { message: err instanceof ApiError ? err.serverMessage : '' });
    }
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    const left = Math.max(0, connectTimeoutMs - (performance.now() - started));
    let outcome;
    if (await connected(pc, left)) {
      progress('measuring');
      const values = await measure(pc, measureMs);
      outcome = { ...values, ...judge(values) };
    } else {
      outcome = { verdict: 'none', reason: 'no_connection', rtt_ms: null, loss: null, bitrate_kbps: null };
    }
    progress('reporting');
    let stored = false;
    let storeMessage = '';
    try {
      await postJSON(`${base}/result`, { test_id: answer.test_id, ...outcome });
      stored = true;
    } catch (err) {
      console.warn('connection test result not stored', err);
      storeMessage = err instanceof ApiError ? err.serverMessage : '';
    }
    return result(outcome.verdict, outcome.reason, { ...outcome, stored, storeMessage });
  } catch (err) {
    console.warn('connection test failed', err);
    return result('none', 'failed');
  } finally {
    pc.close();
  }
}

function formatNumber(value, digits = 0) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString(document.documentElement.lang === 'en' ? 'en-GB' : 'de-DE', {
    maximumFractionDigits: digits,
  });
}

/**
 * Build the connection-test section in `container`: heading, explanation, start button,
 * progress (aria-live) and the verdict. `t` translates (i18n.js). Clicking the button calls
 * `options.run()` (usually `() => runConnectionTest({token, stream, onProgress: ui.progress})`)
 * and shows what it resolves to. Returns {element, button, progress(p), show(result), run(), retranslate()}.
 */
export function renderConnectionTest(container, t, options = {}) {
  const headingId = `conntest-heading-${Math.random().toString(36).slice(2, 8)}`;
  const status = h('p', { class: 'conntest-status', role: 'status', 'aria-live': 'polite', 'data-testid': 'conntest-status' });
  const verdict = h('div', { class: 'conntest-verdict', 'data-testid': 'conntest-verdict', hidden: true });
  const button = h('button', { type: 'button', class: 'button secondary', 'data-testid': 'conntest-start' }, t('conntest.start'));
  const heading = h('h3', { id: headingId }, t('conntest.heading'));
  const intro = h('p', { class: 'hint' }, t('conntest.intro'));
  const element = h(
    'section',
    { class: 'conntest', 'aria-labelledby': headingId, 'data-testid': 'conntest' },
    heading,
    intro,
    h('div', { class: 'actions' }, button),
    status,
    verdict,
  );
  // What is on screen, so a language switch can show the same in the other language.
  let statusKey = null;
  let lastOutcome = null;
  let ran = false;
  const setStatus = (key) => {
    statusKey = key;
    status.textContent = t(key);
  };
  const texts = (outcome) => ({
    result: t('conntest.result', { verdict: t(`conntest.verdict.${outcome.verdict}`) }),
    reason: outcome.reason === 'failed' && outcome.message ? outcome.message : t(`conntest.reason.${outcome.reason}`),
  });
  const renderVerdict = (outcome) => {
    const { result, reason } = texts(outcome);
    verdict.replaceChildren(...[
      h('p', { class: `conntest-result conntest-${outcome.verdict}` }, h('strong', {}, result)),
      h('p', {}, reason),
      outcome.verdict === 'none' ? null : h('p', { class: 'muted' }, t('conntest.details', {
        rtt: formatNumber(outcome.rtt_ms),
        loss: formatNumber(outcome.loss === null ? null : outcome.loss * 100, 1),
        bitrate: formatNumber(outcome.bitrate_kbps),
      })),
      outcome.verdict !== 'none' && !outcome.stored
        ? h('p', { class: 'muted' }, [t('conntest.notStored'), outcome.storeMessage].filter(Boolean).join(' ')) : null,
    ].filter(Boolean));
  };

  const ui = {
    element,
    button,
    progress({ phase }) {
      setStatus(`conntest.progress.${phase}`);
    },
    show(outcome) {
      setStatus('conntest.done');
      lastOutcome = outcome;
      renderVerdict(outcome);
      verdict.dataset.verdict = outcome.verdict;
      verdict.hidden = false;
      // The verdict appears in a region that was hidden, which screen readers do not read out.
      const { result, reason } = texts(outcome);
      announce(`${result}. ${reason}`);
    },
    /** After a language switch: the same state in the new language, nothing read out again. */
    retranslate() {
      heading.textContent = t('conntest.heading');
      intro.textContent = t('conntest.intro');
      button.textContent = t(ran ? 'conntest.again' : 'conntest.start');
      if (statusKey) status.textContent = t(statusKey);
      if (lastOutcome && !verdict.hidden) renderVerdict(lastOutcome);
    },
    async run() {
      if (!options.run || isBusy(button)) return null;
      // aria-disabled, not disabled: a disabled button drops keyboard focus to <body>.
      setBusy(button, true);
      verdict.hidden = true;
      ui.progress({ phase: 'connecting' });
      try {
        const outcome = await options.run();
        ui.show(outcome);
        return outcome;
      } finally {
        setBusy(button, false);
        ran = true;
        button.textContent = t('conntest.again');
      }
    },
  };
  button.addEventListener('click', () => { ui.run(); });
  container.append(element);
  return ui;
}

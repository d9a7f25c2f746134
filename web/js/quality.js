// Connection quality from RTCPeerConnection.getStats(): round-trip time and packet loss
// since the previous sample, rated gut / mittel / schlecht.

const GOOD = { rtt: 0.25, loss: 0.02 };
const POOR = { rtt: 0.5, loss: 0.08 };

/** Keeps the previous totals of one peer connection so loss is measured per interval. */
export class QualitySampler {
  constructor() {
    this.lost = 0;
    this.received = 0;
  }

  /**
   * Read one getStats() report: {level: good|fair|poor|unknown, rttMs, lossPercent, framesDecoded}.
   * `unknown` while no candidate pair carries traffic.
   */
  sample(stats) {
    let rtt = null;
    let lost = 0;
    let received = 0;
    let framesDecoded = 0;
    let selectedPair = null;
    const pairs = new Map();
    for (const report of stats.values()) {
      if (report.type === 'transport' && report.selectedCandidatePairId) selectedPair = report.selectedCandidatePairId;
      else if (report.type === 'candidate-pair') pairs.set(report.id, report);
      else if (report.type === 'inbound-rtp') {
        lost += Math.max(0, report.packetsLost || 0);
        received += report.packetsReceived || 0;
        if (report.kind === 'video') framesDecoded += report.framesDecoded || 0;
      } else if (report.type === 'remote-inbound-rtp' && rtt === null && Number.isFinite(report.roundTripTime)) {
        rtt = report.roundTripTime;
      }
    }
    const pair = (selectedPair && pairs.get(selectedPair))
      || [...pairs.values()].find((p) => p.nominated && p.state === 'succeeded');
    if (pair && Number.isFinite(pair.currentRoundTripTime)) rtt = pair.currentRoundTripTime;

    const dLost = lost - this.lost;
    const dReceived = received - this.received;
    this.lost = lost;
    this.received = received;
    const loss = dLost + dReceived > 0 ? Math.max(0, dLost) / (dLost + dReceived) : 0;

    let level = 'unknown';
    if (pair && rtt !== null) {
      if (rtt <= GOOD.rtt && loss < GOOD.loss) level = 'good';
      else if (rtt > POOR.rtt || loss > POOR.loss) level = 'poor';
      else level = 'fair';
    }
    return {
      level,
      rttMs: rtt === null ? null : Math.round(rtt * 1000),
      lossPercent: Math.round(loss * 1000) / 10,
      framesDecoded,
    };
  }
}

const ORDER = ['unknown', 'good', 'fair', 'poor'];

/** The worse of two samples (several peers: the weakest link counts). */
export function worse(a, b) {
  if (!a) return b;
  if (!b) return a;
  return ORDER.indexOf(b.level) > ORDER.indexOf(a.level) ? b : a;
}

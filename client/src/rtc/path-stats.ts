/**
 * Reading connection quality from WebRTC stats (getStats): the round-trip time of the candidate
 * pair in use, and the share of packets lost on what we receive since the previous reading.
 * The same for a direct call and a LiveKit room; `quality` turns it into the one word a person sees.
 */
export interface PathStats {
  rttMs: number | null;
  lossPct: number | null;
  /** Whether the candidate pair in use goes through a TURN relay (either end a `relay` candidate); null before one is selected. */
  relayed: boolean | null;
}

export interface Quality extends Omit<PathStats, 'relayed'> {
  level: 'good' | 'fair' | 'poor';
}

interface StatsEntry {
  type: string;
  id?: string;
  localCandidateId?: string;
  remoteCandidateId?: string;
  candidateType?: string;
  state?: string;
  nominated?: boolean;
  currentRoundTripTime?: number;
  packetsReceived?: number;
  packetsLost?: number;
}

export class PathMeter {
  private last: { received: number; lost: number } | null = null;

  /** Fold one or more stats reports (a LiveKit room has one per track) into a reading. */
  read(reports: Iterable<RTCStatsReport>): PathStats {
    let rttMs: number | null = null;
    let relayed: boolean | null = null;
    let received = 0;
    let lost = 0;
    for (const report of reports) {
      const entries = new Map<string, StatsEntry>();
      report.forEach((s: StatsEntry) => void (s.id && entries.set(s.id, s)));
      report.forEach((s: StatsEntry) => {
        if (s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated) {
          if (typeof s.currentRoundTripTime === 'number') rttMs = Math.max(rttMs ?? 0, s.currentRoundTripTime * 1000);
          const ends = [s.localCandidateId, s.remoteCandidateId].map((id) => (id ? entries.get(id)?.candidateType : undefined));
          relayed = (relayed ?? false) || ends.includes('relay');
        }
        if (s.type === 'inbound-rtp') {
          received += s.packetsReceived ?? 0;
          lost += Math.max(0, s.packetsLost ?? 0);
        }
      });
    }
    const prev = this.last;
    this.last = { received, lost };
    const expected = prev ? received - prev.received + (lost - prev.lost) : 0;
    const lossPct = prev && expected > 0 ? (100 * Math.max(0, lost - prev.lost)) / expected : null;
    return { rttMs, lossPct, relayed };
  }
}

// Where a call stops feeling live: ITU-T G.114 puts one-way delay under 150 ms as good (RTT 300),
// and video conferencing degrades visibly past a few percent of loss.
const FAIR = { rttMs: 300, lossPct: 2 };
const POOR = { rttMs: 800, lossPct: 8 };

export function quality(s: Omit<PathStats, 'relayed'>): Quality | null {
  if (s.rttMs === null && s.lossPct === null) return null;
  const rtt = s.rttMs ?? 0;
  const loss = s.lossPct ?? 0;
  const level = rtt >= POOR.rttMs || loss >= POOR.lossPct ? 'poor' : rtt >= FAIR.rttMs || loss >= FAIR.lossPct ? 'fair' : 'good';
  return { level, rttMs: s.rttMs === null ? null : Math.round(s.rttMs), lossPct: s.lossPct === null ? null : Math.round(s.lossPct * 10) / 10 };
}

/**
 * Connection quality as a person sees it: one word from WebRTC stats, the round trip of the path
 * in use and the share of packets lost since the last reading.
 */
import { describe, expect, it } from 'vitest';
import { PathMeter, quality } from '../../client/src/rtc/path-stats';

/** A stats report as getStats returns it: a map of entries by id. */
function report(entries: Array<Record<string, unknown>>): RTCStatsReport {
  return new Map(entries.map((e, i) => [String(i), e]));
}

const pair = (rttS: number, extra: Record<string, unknown> = {}) => ({
  type: 'candidate-pair',
  state: 'succeeded',
  nominated: true,
  currentRoundTripTime: rttS,
  ...extra,
});
const inbound = (received: number, lost: number) => ({ type: 'inbound-rtp', packetsReceived: received, packetsLost: lost });

describe('connection quality', () => {
  it('reads the round trip of the nominated pair and the loss since the previous reading', () => {
    const meter = new PathMeter();
    expect(meter.read([report([pair(0.04), inbound(1000, 0)])])).toEqual({ rttMs: 40, lossPct: null, relayed: false });
    // 95 more received and 5 more lost: 5 % of what was expected since.
    expect(meter.read([report([pair(0.05), inbound(1095, 5)])])).toEqual({ rttMs: 50, lossPct: 5, relayed: false });
  });

  it('ignores candidate pairs that are not the one in use', () => {
    const meter = new PathMeter();
    const r = meter.read([report([pair(0.9, { nominated: false }), pair(0.9, { state: 'failed' }), pair(0.02)])]);
    expect(r.rttMs).toBe(20);
  });

  it('says whether the pair in use goes through a TURN relay (either end a relay candidate), and null before one is selected', () => {
    const local = (type: string) => ({ type: 'local-candidate', id: 'L', candidateType: type });
    const remote = (type: string) => ({ type: 'remote-candidate', id: 'R', candidateType: type });
    const inUse = pair(0.02, { localCandidateId: 'L', remoteCandidateId: 'R' });
    const read = (entries: Array<Record<string, unknown>>) => new PathMeter().read([new Map(entries.map((e) => [String(e.id ?? e.type), e]))]).relayed;
    expect(read([inUse, local('host'), remote('srflx')])).toBe(false);
    expect(read([inUse, local('relay'), remote('host')])).toBe(true);
    expect(read([inUse, local('host'), remote('relay')])).toBe(true);
    expect(read([pair(0.02, { nominated: false, localCandidateId: 'L' }), local('relay')])).toBeNull();
  });

  it('adds up the tracks of several reports (a LiveKit room has one per track)', () => {
    const meter = new PathMeter();
    meter.read([report([inbound(100, 0)]), report([inbound(100, 0)])]);
    expect(meter.read([report([inbound(150, 0)]), report([inbound(140, 10)])]).lossPct).toBe(10);
  });

  it('is good, fair or poor by round trip and loss, and nothing before there is a reading', () => {
    expect(quality({ rttMs: null, lossPct: null })).toBeNull();
    expect(quality({ rttMs: 40, lossPct: 0 })?.level).toBe('good');
    expect(quality({ rttMs: 350, lossPct: 0 })?.level).toBe('fair');
    expect(quality({ rttMs: 40, lossPct: 3 })?.level).toBe('fair');
    expect(quality({ rttMs: 900, lossPct: 0 })?.level).toBe('poor');
    expect(quality({ rttMs: 40, lossPct: 12.345 })).toEqual({ level: 'poor', rttMs: 40, lossPct: 12.3 });
  });
});

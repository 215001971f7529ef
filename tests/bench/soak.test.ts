import { describe, expect, it } from 'vitest';
import { nthFault } from '../../bench/soak/faults';
import { checkGrowth, HEAP_SLACK_MIB, keyShape, slope, SOCKET_SLACK, TIMER_SLACK, type StateSnapshot } from '../../bench/soak/growth';
import { emptyCounters } from '../../bench/flow/counters';
import { loadStats } from '../../bench/soak/full-call-load';
import { FlowTimeout } from '../../bench/soak/inbox';
import { errorCode, plan } from '../../bench/soak/paced-load';
import { MetricsTextError, parseProcessFigures } from '../../bench/soak/metrics-text';

const baseline: StateSnapshot = {
  keys: 2,
  keysByKind: { upool: 1 },
  persistentByKind: {},
  structureEntries: { pools: 1, seen: 0 },
  subscribers: 2,
  channels: 1,
  patterns: 0,
  outboxBacklog: 0,
  processes: [
    { slot: 0, timers: 5, sockets: 6, heapUsedMiB: 20 },
    { slot: 1, timers: 5, sockets: 6, heapUsedMiB: 21 },
  ],
};
const failed = (end: StateSnapshot) =>
  checkGrowth(baseline, end)
    .checks.filter((c) => !c.pass)
    .map((c) => c.name);

describe('soak: the no-growth check', () => {
  it('passes when everything is back to the baseline, match records with an expiry apart', () => {
    const end = { ...baseline, keysByKind: { ...baseline.keysByKind, match: 5000 }, structureEntries: { pools: 1, seen: 0, matchlog: 100, 'pools:active': 1 } };
    const v = checkGrowth(baseline, end);
    expect(v.pass).toBe(true);
    expect(v.checks.length).toBe(7 + 3 * 2);
  });

  it('fails on a user key left behind, and names the check', () => {
    expect(failed({ ...baseline, keysByKind: { ...baseline.keysByKind, user: 1 } })).toEqual(['keys of people and calls (match records apart)']);
  });

  it('fails on a match record without an expiry, and on any key that lost its expiry', () => {
    expect(failed({ ...baseline, keysByKind: { match: 3 }, persistentByKind: { match: 1 } })).toEqual(['match records without expiry']);
    expect(failed({ ...baseline, persistentByKind: { upool: 1 } })).toEqual(['of them, keys without expiry']);
  });

  it('fails when a pool set keeps members of people gone', () => {
    expect(failed({ ...baseline, structureEntries: { pools: 1, seen: 40 } })).toEqual(['entries in pool sets, lists and streams (bounded ones apart)']);
  });

  it('fails on a subscriber left, a pattern left, or an outbox not drained', () => {
    expect(failed({ ...baseline, subscribers: 3, patterns: 1, outboxBacklog: 12 })).toEqual([
      'pub/sub subscribers',
      'pub/sub patterns',
      'audit outbox backlog',
    ]);
  });

  it('allows each server its slack of timers, sockets and heap, and not one more', () => {
    const within = baseline.processes.map((p) => ({
      ...p,
      timers: p.timers + TIMER_SLACK,
      sockets: p.sockets + SOCKET_SLACK,
      heapUsedMiB: p.heapUsedMiB + HEAP_SLACK_MIB - 0.1,
    }));
    expect(failed({ ...baseline, processes: within })).toEqual([]);
    const beyond = [
      { ...within[0]!, timers: within[0]!.timers + 1 },
      { ...within[1]!, sockets: within[1]!.sockets + 1, heapUsedMiB: 21 + HEAP_SLACK_MIB + 1 },
    ];
    expect(failed({ ...baseline, processes: beyond })).toEqual(['server 0: timers', 'server 1: sockets', 'server 1: heap used after GC, MiB']);
  });

  it('refuses to judge a server it has no end reading for', () => {
    expect(() => checkGrowth(baseline, { ...baseline, processes: [baseline.processes[0]!] })).toThrow(/slot 1/);
  });
});

describe('soak: reading keys, metrics and trends', () => {
  it("a key's kind is the segment after the root and the pool tag; one with an id belongs to a person or call", () => {
    expect(keyShape('soak:{p:global}:user:42', 'soak')).toEqual({ kind: 'user', entity: true });
    expect(keyShape('soak:{p:en-eu}:match:m1', 'soak')).toEqual({ kind: 'match', entity: true });
    expect(keyShape('soak:upool:42', 'soak')).toEqual({ kind: 'upool', entity: true });
    expect(keyShape('soak:{p:global}:seen', 'soak')).toEqual({ kind: 'seen', entity: false });
    expect(keyShape('soak:pools', 'soak')).toEqual({ kind: 'pools', entity: false });
    expect(keyShape('soak:lock:cleanup', 'soak')).toEqual({ kind: 'lock:cleanup', entity: false });
    expect(keyShape('soak:{p:global}:state:WAITING', 'soak')).toEqual({ kind: 'state:WAITING', entity: false });
  });

  it('the slope of a straight line is its growth per unit, and a flat curve has none', () => {
    expect(slope([0, 1, 2, 3].map((x) => ({ x, y: 10 + 2.5 * x })))).toBeCloseTo(2.5);
    expect(slope([0, 1, 2, 3].map((x) => ({ x, y: x % 2 ? 11 : 9 })))).toBeCloseTo(0.4);
    expect(slope([{ x: 1, y: 5 }])).toBe(0);
  });

  it('timers and sockets come from the active resources by type, memory in MiB', () => {
    const text = [
      'process_resident_memory_bytes 104857600',
      'nodejs_heap_size_used_bytes 20971520',
      'nodejs_heap_size_total_bytes 31457280',
      'nodejs_active_resources{type="Timeout"} 7',
      'nodejs_active_resources{type="TCPSocketWrap"} 12',
      'nodejs_active_resources{type="TCPServerWrap"} 1',
      'ws_connections 9',
    ].join('\n');
    expect(parseProcessFigures(text)).toEqual({
      rssMiB: 100,
      heapUsedMiB: 20,
      heapTotalMiB: 30,
      timers: 7,
      sockets: 12,
      resources: { Timeout: 7, TCPSocketWrap: 12, TCPServerWrap: 1 },
      wsConnections: 9,
    });
    expect(() => parseProcessFigures('ws_connections 1')).toThrow(MetricsTextError);
  });
});

describe('soak: faults and load', () => {
  it('faults cycle Redis, Postgres, a server, and the killed server alternates', () => {
    const seq = Array.from({ length: 7 }, (_, n) => nthFault(n, 2));
    expect(seq.map((f) => f.kind)).toEqual(['redis-pause', 'postgres-restart', 'server-kill', 'redis-pause', 'postgres-restart', 'server-kill', 'redis-pause']);
    expect([seq[2]!.slot, seq[5]!.slot]).toEqual([0, 1]);
  });

  it("the driver's completed calls and errors are what the curve counts, people absent are not online", () => {
    const c = { ...emptyCounters(), calls: 41, errors: 3, dropsInCall: 2, lastError: 'boom' };
    const s = loadStats(c, 37);
    expect([s.calls, s.errors, s.online]).toEqual([41, 3, 37]);
    expect(s.detail).toMatchObject({ dropsInCall: 2, lastError: 'boom' });
  });

  it('a paced plan has 1 to 3 calls, and an absent person vanishes in one of them', () => {
    expect(plan(() => 0, { skip: 0.3, absent: 0.1 })).toEqual({ calls: 1, absentAt: 0, holdMs: 1000, skip: true });
    expect(plan(() => 0.999, { skip: 0.3, absent: 0.1 })).toMatchObject({ calls: 3, absentAt: null, skip: false });
  });

  it("a failure is counted under the app's code, a timeout under its step", () => {
    expect(errorCode({ data: { appCode: 'SERVICE_UNAVAILABLE', code: 'INTERNAL_SERVER_ERROR' } })).toBe('SERVICE_UNAVAILABLE');
    expect(errorCode(new FlowTimeout('matched'))).toBe('timeout:matched');
    expect(errorCode(new TypeError('x'))).toBe('TypeError');
  });
});

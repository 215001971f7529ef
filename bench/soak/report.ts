/**
 * The soak's per-interval curve: one table row per reading (printed as it comes to stderr, and as
 * one table on stdout at the end), and the growth over the loaded part of the run (least-squares
 * slope per minute of each server's heap and RSS, and of the Redis key count).
 */
import type { Cell } from '../lib/report';
import { slope } from './growth';
import type { LoadStats } from './load';
import type { Reading } from './sample';

export interface Point {
  atSec: number;
  phase: 'baseline' | 'load' | 'settle' | 'end';
  reading: Reading;
  load: LoadStats;
  /** Faults started since the previous point. */
  faults: string[];
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const orDash = (x: number | undefined | null, f: (v: number) => Cell = r1): Cell => (x === undefined || x === null || Number.isNaN(x) ? '-' : f(x));

export function row(p: Point, prev: Point | null): Record<string, Cell> {
  const out: Record<string, Cell> = { min: r1(p.atSec / 60), phase: p.phase };
  out.calls = p.load.calls - (prev?.load.calls ?? 0);
  out.errors = p.load.errors - (prev?.load.errors ?? 0);
  out.online = p.load.online;
  for (const { slot, figures: f } of p.reading.processes) {
    out[`s${slot} heap`] = orDash(f?.heapUsedMiB);
    out[`s${slot} rss`] = orDash(f?.rssMiB);
    out[`s${slot} timers`] = orDash(f?.timers, (v) => v);
    out[`s${slot} sockets`] = orDash(f?.sockets, (v) => v);
    out[`s${slot} ws`] = orDash(f?.wsConnections, (v) => v);
  }
  const r = p.reading.redis;
  out['redis MiB'] = orDash(r?.usedMemoryMiB);
  out.keys = orDash(r?.keys, (v) => v);
  out.subs = orDash(r?.subscribers, (v) => v);
  out.pats = orDash(r?.patterns, (v) => v);
  out.outbox = orDash(p.reading.audit?.backlog, (v) => v);
  out['oldest s'] = orDash(p.reading.audit ? p.reading.audit.oldestMs / 1000 : null);
  out.faults = p.faults.join(', ');
  return out;
}

export interface Trend {
  /** Per server slot, MiB per minute over the load phase. */
  heapMiBPerMin: number[];
  rssMiBPerMin: number[];
  redisKeysPerMin: number;
}

export function trend(points: Point[], servers: number): Trend {
  const load = points.filter((p) => p.phase === 'load');
  const per = (slot: number, pick: 'heapUsedMiB' | 'rssMiB') =>
    r1(
      slope(
        load.flatMap((p) => {
          const f = p.reading.processes.find((x) => x.slot === slot)?.figures;
          return f ? [{ x: p.atSec / 60, y: f[pick] }] : [];
        }),
      ),
    );
  const slots = Array.from({ length: servers }, (_, i) => i);
  return {
    heapMiBPerMin: slots.map((s) => per(s, 'heapUsedMiB')),
    rssMiBPerMin: slots.map((s) => per(s, 'rssMiB')),
    redisKeysPerMin: r1(slope(load.flatMap((p) => (p.reading.redis ? [{ x: p.atSec / 60, y: p.reading.redis.keys }] : [])))),
  };
}

/**
 * Load generators.
 *
 * Open loop (`openLoop`): operation i is due at start + i / rate, whether or not earlier ones
 * finished, and its latency is measured from that scheduled time. A slow system therefore shows
 * up as latency (queueing) instead of silently lowering the offered rate (coordinated omission).
 *
 * Closed loop (`closedLoop`): `concurrency` workers each start the next operation as soon as the
 * previous one finishes; the completion rate is the system's throughput at that concurrency.
 *
 * `op` resolves true when the operation did what it should, false for a counted failure; a
 * thrown error is a failure too.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { LatencyRecorder } from './stats';

export type Op = () => Promise<boolean>;

export interface LoadResult {
  /** Operations started. */
  sent: number;
  ok: number;
  failed: number;
  /** Seconds from start until the last operation finished. */
  elapsedSec: number;
  /** Successful operations per second over elapsedSec. */
  throughput: number;
  latency: LatencyRecorder;
  /** Open loop only: how far behind schedule the sender fell at worst, ms. */
  maxLagMs?: number;
  /** Event-loop delay of this process during the run (a stalled or descheduled process shows here). */
  loopDelay: { p99Ms: number; maxMs: number };
}

/** Samples the event-loop delay while `run` runs. */
async function withLoopDelay<T>(run: () => Promise<T>): Promise<[T, LoadResult['loopDelay']]> {
  // The histogram records each sampling interval, resolution included: subtract it.
  const resolutionMs = 1;
  const h = monitorEventLoopDelay({ resolution: resolutionMs });
  h.enable();
  try {
    const r = await run();
    const late = (ns: number) => Math.max(0, ns / 1e6 - resolutionMs);
    return [r, { p99Ms: late(h.percentile(99)), maxMs: late(h.max) }];
  } finally {
    h.disable();
  }
}

async function settle(op: Op): Promise<boolean> {
  try {
    return await op();
  } catch {
    return false;
  }
}

export async function openLoop(a: { rate: number; durationSec: number; op: Op }): Promise<LoadResult> {
  const [r, loopDelay] = await withLoopDelay(() => runOpen(a));
  return { ...r, loopDelay };
}

export async function closedLoop(a: { concurrency: number; durationSec: number; op: Op }): Promise<LoadResult> {
  const [r, loopDelay] = await withLoopDelay(() => runClosed(a));
  return { ...r, loopDelay };
}

async function runOpen(a: { rate: number; durationSec: number; op: Op }): Promise<Omit<LoadResult, 'loopDelay'>> {
  const latency = new LatencyRecorder();
  const interval = 1000 / a.rate;
  const total = Math.floor(a.rate * a.durationSec);
  const inflight = new Set<Promise<void>>();
  let sent = 0;
  let ok = 0;
  let failed = 0;
  let maxLagMs = 0;
  const t0 = performance.now();
  await new Promise<void>((done) => {
    const pump = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - t0) / interval) + 1);
      if (due > sent) maxLagMs = Math.max(maxLagMs, now - (t0 + sent * interval));
      for (; sent < due; sent++) {
        const scheduled = t0 + sent * interval;
        const p = settle(a.op).then((good) => {
          latency.record(performance.now() - scheduled);
          if (good) ok++;
          else failed++;
          inflight.delete(p);
        });
        inflight.add(p);
      }
      if (sent < total) setTimeout(pump, Math.max(0, Math.min(1, t0 + sent * interval - performance.now())));
      else done();
    };
    pump();
  });
  await Promise.all(inflight);
  const elapsedSec = (performance.now() - t0) / 1000;
  return { sent, ok, failed, elapsedSec, throughput: ok / elapsedSec, latency, maxLagMs };
}

async function runClosed(a: { concurrency: number; durationSec: number; op: Op }): Promise<Omit<LoadResult, 'loopDelay'>> {
  const latency = new LatencyRecorder();
  let sent = 0;
  let ok = 0;
  let failed = 0;
  const t0 = performance.now();
  const end = t0 + a.durationSec * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const start = performance.now();
      sent++;
      const good = await settle(a.op);
      latency.record(performance.now() - start);
      if (good) ok++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: a.concurrency }, worker));
  const elapsedSec = (performance.now() - t0) / 1000;
  return { sent, ok, failed, elapsedSec, throughput: ok / elapsedSec, latency };
}

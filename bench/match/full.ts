/**
 * The full-call load generator process: bench/flow/full-call.ts's driver with `people` people,
 * closed loop (everyone re-enters the queue as soon as their call is over, so the servers, not
 * an arrival schedule, set the pace). Warm-up, then a measured window: counters are the
 * window's share (two snapshots subtracted), latencies those recorded in it.
 *
 * Config (JSON in BENCH_CONFIG): { urls, secret, people, skip, absent, graceMs, warmupSec,
 * durationSec, redisUrl, keyRoot } (Redis: where to read when the servers marked someone absent,
 * to tell ghost matches from closes still in flight). Messages: 'ready' once connected, then waits for 'go'; 'window-start' and
 * 'window-end' around the measured window; finally 'result' (FullResult).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { Keys } from '../../server/state/keys';
import type { LatencySummary } from '../lib/stats';
import { createFullCallDriver, diffCounters, type FlowCounters, type FullCallOptions } from '../flow/full-call';

export interface FullConfig extends Pick<FullCallOptions, 'urls' | 'secret' | 'people' | 'skip' | 'absent' | 'graceMs'> {
  warmupSec: number;
  durationSec: number;
  redisUrl: string;
  keyRoot: string;
}

export interface FullResult {
  type: 'result';
  windowSec: number;
  counters: FlowCounters;
  enqueueToMatched: LatencySummary;
  requeueToMatched: LatencySummary;
  matchedToInCall: LatencySummary;
  absentAtEnd: number;
  stalledAtEnd: number;
  connectFailed: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

const cfg = JSON.parse(process.env.BENCH_CONFIG ?? '{}') as FullConfig;
process.once('disconnect', () => process.exit(1)); // the orchestrator went away
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Everyone of this flow is in the default pool.
const redis = new Redis(cfg.redisUrl, { maxRetriesPerRequest: 1 });
const keys = new Keys(cfg.keyRoot);
const driver = createFullCallDriver({
  ...cfg,
  droppedAt: async (uid) => {
    const v = await redis.hget(keys.user('global', uid), 'droppedAt');
    return v === null ? null : Number(v);
  },
});
const { connected, failed } = await driver.connect();
process.send?.({ type: 'ready', connected, failed });
await new Promise<void>((resolve) => process.once('message', () => resolve()));

driver.start();
await sleep(cfg.warmupSec * 1000);
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
driver.resetLatencies();
const before = driver.snapshot();
process.send?.({ type: 'window-start' });
await sleep(cfg.durationSec * 1000);
const after = driver.snapshot();
process.send?.({ type: 'window-end' });
// The ghost matches of the window get their verdicts (a check runs a moment after each); none after it counts.
await driver.settleGhosts();
const verdicts = driver.snapshot().counters;
for (const k of ['ghostMatches', 'ghostMatchesWithin10Ms', 'ghostMatchesWithin100Ms', 'closesInFlight'] as const) after.counters[k] = verdicts[k];
loop.disable();
await driver.stop();
redis.disconnect();

const result: FullResult = {
  type: 'result',
  windowSec: cfg.durationSec,
  counters: diffCounters(before.counters, after.counters),
  enqueueToMatched: after.enqueueToMatched,
  requeueToMatched: after.requeueToMatched,
  matchedToInCall: after.matchedToInCall,
  absentAtEnd: after.absentNow,
  stalledAtEnd: after.stalledNow,
  connectFailed: failed,
  loopDelayP99Ms: loop.percentile(99) / 1e6,
  loopDelayMaxMs: loop.max / 1e6,
};
process.send?.(result);
process.exit(0);

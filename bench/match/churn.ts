/**
 * The churn load generator: a population of real clients driving enqueue -> matched -> skip/end.
 *
 * Open loop: arrival k (an idle client calling match.enqueue) is due at t0 + k / rate whatever
 * happened before, and its latency runs from that scheduled time to the client receiving its
 * `matched` event, so a slow server shows as latency instead of a lower offered rate.
 * Each match is left by one side, chosen by the match id (so both sides agree without talking):
 * `end` (that side rests and rejoins the idle population; the partner waits at the front of the
 * queue for the next arrival) or, with probability `skip`, `skip` (both stay in the queue, and
 * may be paired with each other's neighbours at once: such matches count, but have no arrival).
 *
 * With `pools`, client i always enqueues into pools[i % pools.length] (by the language and region
 * that name it, bench/match/pools.ts), so arrivals spread evenly over the pools.
 *
 * Config (JSON in BENCH_CONFIG): { urls, secret, rate, population, warmupSec, durationSec, skip,
 * drainSec, pools? }. Messages: 'ready' once connected, then waits for 'go'; 'window-start' and
 * 'window-end' around the measured window; finally 'result'.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { MatchEvent } from '../../server/events/types';
import { DEFAULT_POOL } from '../../server/state/keys';
import { LatencyRecorder, tailBursts, type LatencySummary, type TailBursts } from '../lib/stats';
import { connectMany, type BenchClient } from './client';
import { poolInput } from './pools';

export interface ChurnConfig {
  urls: string[];
  secret: string;
  rate: number;
  population: number;
  warmupSec: number;
  durationSec: number;
  skip: number;
  drainSec: number;
  /** Loopback addresses the clients connect from, round robin (default: all from 127.0.0.1). */
  sourceAddresses?: string[];
  /** Pool names the clients are spread over (default: all in the global pool). */
  pools?: string[];
}

export interface ChurnResult {
  type: 'result';
  /** Arrivals scheduled in the window, and those that found no idle client (generator too small). */
  arrivals: number;
  starved: number;
  /** Matches whose both `matched` events arrived in the window. */
  matches: number;
  windowSec: number;
  /** scheduled enqueue -> `matched` received, for arrivals in the window. */
  latency: LatencySummary;
  /** The slowest 1% of those, grouped by when they completed (a stall releases its victims together). */
  tail: TailBursts;
  /** `requeued` (front of the queue after the partner left) -> next `matched`. */
  frontWait: LatencySummary;
  /** Scheduled time -> match.enqueue sent (the generator's own lateness), for arrivals in the window. */
  sendLate: LatencySummary;
  /** match.enqueue sent -> its reply received. */
  enqueueRtt: LatencySummary;
  unmatched: number;
  errors: number;
  inconsistent: number;
  lastError: string;
  skips: number;
  ends: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  connectFailed: number;
  /** Events received per match made, by type (each is one WebSocket message from a server). */
  eventsPerMatch: Record<string, number>;
  /** Matches in the window, by pool. */
  matchesByPool: Record<string, number>;
}

interface User {
  client: BenchClient | null;
  /** What this client enqueues with: the same pool every time. */
  pool: { name: string; input: { language?: string; region?: string } };
  scheduledAt: number | null;
  requeuedAt: number | null;
}

const cfg = JSON.parse(process.env.BENCH_CONFIG ?? '{}') as ChurnConfig;
process.once('disconnect', () => process.exit(1)); // the orchestrator went away
const users = new Map<string, User>();
const idle: User[] = [];
let idleHead = 0;
const halfSeen = new Map<string, { uid: string; partner: string }>();
const latency = new LatencyRecorder();
const completions: Array<{ ms: number; doneAt: number }> = [];
const frontWait = new LatencyRecorder();
const sendLate = new LatencyRecorder();
const enqueueRtt = new LatencyRecorder();
let windowStart = Infinity;
let windowEnd = Infinity;
const inWindow = (t: number) => t >= windowStart && t < windowEnd;
const stats = { arrivals: 0, starved: 0, matches: 0, errors: 0, inconsistent: 0, skips: 0, ends: 0, lastError: '' };

function fail(e: unknown): void {
  stats.errors++;
  stats.lastError = e instanceof Error ? e.message : String(e);
}

function takeIdle(): User | null {
  if (idleHead >= idle.length) return null;
  const u = idle[idleHead++]!;
  if (idleHead > 4096 && idleHead * 2 > idle.length) {
    idle.splice(0, idleHead);
    idleHead = 0;
  }
  return u;
}

/** The side that leaves: decided by the match id, identically on both sides. */
function leaver(matchId: string): 'polite' | 'impolite' {
  return parseInt(matchId.slice(-1), 16) % 2 === 0 ? 'impolite' : 'polite';
}

function onMatched(uid: string, u: User, e: Extract<MatchEvent, { type: 'matched' }>): void {
  const now = performance.now();
  if (u.scheduledAt !== null) {
    if (inWindow(u.scheduledAt)) {
      latency.record(now - u.scheduledAt);
      completions.push({ ms: now - u.scheduledAt, doneAt: now });
    }
    u.scheduledAt = null;
  } else if (u.requeuedAt !== null && inWindow(now)) {
    frontWait.record(now - u.requeuedAt);
  }
  u.requeuedAt = null;
  const other = halfSeen.get(e.matchId);
  if (!other) {
    halfSeen.set(e.matchId, { uid, partner: e.partnerId });
  } else {
    halfSeen.delete(e.matchId);
    if (other.uid !== e.partnerId || other.partner !== uid) stats.inconsistent++;
    matchesMade++;
    if (inWindow(now)) {
      stats.matches++;
      matchesByPool.set(u.pool.name, (matchesByPool.get(u.pool.name) ?? 0) + 1);
    }
  }
  if (e.role !== leaver(e.matchId) || !u.client) return;
  const api = u.client.api;
  if (Math.random() < cfg.skip) {
    stats.skips++;
    api.match.skip.mutate({ matchId: e.matchId }).catch(fail);
  } else {
    stats.ends++;
    api.match.end
      .mutate({ matchId: e.matchId })
      .then(() => idle.push(u))
      .catch(fail);
  }
}

const eventCounts = new Map<string, number>();
const matchesByPool = new Map<string, number>();
let matchesMade = 0;

function onEvent(uid: string, e: MatchEvent): void {
  const u = users.get(uid);
  if (!u) return;
  eventCounts.set(e.type, (eventCounts.get(e.type) ?? 0) + 1);
  if (e.type === 'matched') onMatched(uid, u, e);
  else if (e.type === 'requeued' && e.front) u.requeuedAt = performance.now();
}

function arrive(scheduledAt: number): void {
  const counted = inWindow(scheduledAt);
  if (counted) stats.arrivals++;
  const u = takeIdle();
  if (!u?.client) {
    if (counted) stats.starved++;
    return;
  }
  u.scheduledAt = scheduledAt;
  const sent = performance.now();
  if (counted) sendLate.record(sent - scheduledAt);
  u.client.api.match.enqueue.mutate(u.pool.input).then(
    () => {
      if (counted) enqueueRtt.record(performance.now() - sent);
    },
    (err: unknown) => {
      u.scheduledAt = null;
      fail(err);
    },
  );
}

/** Runs the arrival schedule until the window ends. */
function schedule(): Promise<void> {
  const interval = 1000 / cfg.rate;
  const t0 = performance.now();
  windowStart = t0 + cfg.warmupSec * 1000;
  windowEnd = windowStart + cfg.durationSec * 1000;
  const total = Math.floor(cfg.rate * (cfg.warmupSec + cfg.durationSec));
  let sent = 0;
  let announced = false;
  return new Promise((done) => {
    const pump = () => {
      const now = performance.now();
      if (!announced && now >= windowStart) {
        announced = true;
        process.send?.({ type: 'window-start' });
      }
      const due = Math.min(total, Math.floor((now - t0) / interval) + 1);
      for (; sent < due; sent++) arrive(t0 + sent * interval);
      if (sent < total || now < windowEnd) return void setTimeout(pump, 1);
      process.send?.({ type: 'window-end' });
      done();
    };
    pump();
  });
}

// Connect the population. New users have no events before their first enqueue, so none is lost
// while a client is not registered yet.
const { clients, failed } = await connectMany(cfg.population, cfg.urls, cfg.secret, onEvent, fail, 250, true, cfg.sourceAddresses);
const pools = (cfg.pools?.length ? cfg.pools : [DEFAULT_POOL]).map((name) => ({ name, input: poolInput(name) }));
for (const [i, c] of clients.entries()) {
  const u: User = { client: c, pool: pools[i % pools.length]!, scheduledAt: null, requeuedAt: null };
  users.set(c.userId, u);
  idle.push(u);
}
process.send?.({ type: 'ready', connected: clients.length, failed });
await new Promise<void>((resolve) => process.once('message', () => resolve()));

const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
await schedule();
loop.disable();
// Give the last arrivals time to meet a partner; whoever is still waiting then counts as unmatched.
await new Promise((r) => setTimeout(r, cfg.drainSec * 1000));
let unmatched = 0;
for (const u of users.values()) if (u.scheduledAt !== null && inWindow(u.scheduledAt)) unmatched++;

const result: ChurnResult = {
  type: 'result',
  ...stats,
  windowSec: cfg.durationSec,
  latency: latency.summary(),
  tail: tailBursts(completions),
  frontWait: frontWait.summary(),
  sendLate: sendLate.summary(),
  enqueueRtt: enqueueRtt.summary(),
  unmatched,
  loopDelayP99Ms: loop.percentile(99) / 1e6,
  loopDelayMaxMs: loop.max / 1e6,
  connectFailed: failed,
  eventsPerMatch: Object.fromEntries([...eventCounts].map(([type, n]) => [type, Math.round((100 * n) / Math.max(1, matchesMade)) / 100])),
  matchesByPool: Object.fromEntries(matchesByPool),
};
process.send?.(result);
await Promise.allSettled(clients.map((c) => c.close()));
process.exit(0);

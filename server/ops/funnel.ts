/**
 * The connection funnel: matched -> signalling (first signal relayed, or in LiveKit mode the first
 * of the pair in the room) -> connected (IN_CALL), with the matches that ended before IN_CALL
 * (missing), matches with an ICE failure (`signal.media` failed reports) and calls whose media went
 * through a TURN relay or directly (the client's `signal.path` report), each counted once per match.
 *
 * The state scripts say which steps a call made (lib.lua `step`, in the reply; server/state
 * script-runner.ts onFunnelSteps), so every match is counted once, by the process whose script
 * made the step. Each process counts into Prometheus at once (funnel_total{step},
 * ghost_matches_total, media_paths_total{path}) and keeps the counts of the current minute in
 * memory; the overview job flushes them to the minute buckets in Redis (`<root>:{ops}:m:<t>`, one
 * pipeline per interval, not a command per event), which every process reads: admin.funnel is the
 * deployment's, not one process's.
 *
 * A ghost match is one that ended before IN_CALL because someone never answered: its CONNECTING
 * deadline passed, or a side's connection dropped while it was being set up (docs/analytics.md).
 */
import { Counter, type Registry } from 'prom-client';
import type { RedisClient } from '../infra/redis';
import type { Clock } from '../shared/clock';
import { Reused } from '../shared/reused';
import type { FunnelSteps, MatchMade } from '../state/store';
import type { OpsKeys } from './keys';

export const BUCKET_FIELDS = ['matched', 'signalling', 'connected', 'missing', 'iceFailures', 'relayed', 'direct'] as const;
type BucketField = (typeof BUCKET_FIELDS)[number];
export type FunnelBucket = { t: number } & Record<BucketField, number>;
export interface FunnelReport {
  buckets: FunnelBucket[];
  totals: Record<BucketField, number> & { missingShare: number | null; relayedShare: number | null };
}

// Minute buckets outlive the longest funnel query (180 minutes) and the overview's 60-minute series.
const BUCKET_TTL_MS = 4 * 3600_000;
// Recent waits kept for p50/p95 (newest first): enough for a busy minute, bounded whatever the load.
const WAITS_KEPT = 2000;
// The window the overview's wait percentiles and matches per minute cover.
export const RECENT_MS = 5 * 60_000;

export function minuteOf(ms: number): number {
  return Math.floor(ms / 60_000) * 60;
}

export class Funnel {
  private readonly steps: Counter<'step'>;
  private readonly ghosts: Counter;
  private readonly paths: Counter<'path'>;
  /** Counts not yet in Redis, by minute bucket then field. */
  private pending = new Map<number, Map<string, number>>();
  private waits: string[] = [];
  /** admin.funnel's answers by `minutes`, each reused for `reportMs` (reading up to 180 hashes is not per request). */
  private readonly reports = new Map<number, Reused<FunnelReport>>();

  /** `reportMs`: how long one admin.funnel answer is reused (OVERVIEW_INTERVAL_MS, the overview's pace). */
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: OpsKeys,
    private readonly clock: Clock,
    registry: Registry,
    private readonly reportMs: number,
  ) {
    const registers = [registry];
    this.steps = new Counter({
      name: 'funnel_total',
      help: 'Connection funnel steps: matched, signalling (first signal relayed), connected (IN_CALL), missing (ended before IN_CALL)',
      labelNames: ['step'],
      registers,
    });
    this.ghosts = new Counter({
      name: 'ghost_matches_total',
      help: 'Matches that ended before IN_CALL because someone never answered (CONNECTING deadline, or a drop while connecting)',
      registers,
    });
    this.paths = new Counter({
      name: 'media_paths_total',
      help: "Calls' media paths as the offering client reports its selected ICE candidate pair: relay (TURN) or direct",
      labelNames: ['path'],
      registers,
    });
  }

  /** What a script call did (script-runner onFunnelSteps). */
  record(steps: FunnelSteps): void {
    for (const step of ['matched', 'signalling', 'connected', 'missing'] as const) {
      const n = steps[step];
      if (n) {
        this.steps.inc({ step }, n);
        this.add(step, n);
      }
    }
    if (steps.ghost) this.ghosts.inc(steps.ghost);
    // Once per match (relay-2.lua): its first failed-media report, and its media path.
    if (steps.iceFailures) this.add('iceFailures', steps.iceFailures);
    for (const [field, path] of [
      ['relayed', 'relay'],
      ['direct', 'direct'],
    ] as const) {
      const n = steps[field];
      if (n) {
        this.paths.inc({ path }, n);
        this.add(field, n);
      }
    }
    if (steps.calls) this.add('calls', steps.calls);
    if (steps.callMs) this.add('callMs', steps.callMs);
  }

  /** The waits of matches this process made (for the overview's p50/p95). */
  matched(matches: MatchMade[]): void {
    const now = this.clock.now();
    for (const m of matches) this.waits.push(`${now}:${m.waitedA}`, `${now}:${m.waitedB}`);
    if (this.waits.length > WAITS_KEPT) this.waits = this.waits.slice(-WAITS_KEPT);
  }

  /** Sets a gauge-like field of the current minute (online, waiting: the latest reading wins). */
  setNow(fields: Record<string, number>): Promise<unknown> {
    const key = this.keys.minute(minuteOf(this.clock.now()));
    return this.redis.multi().hset(key, fields).pexpire(key, BUCKET_TTL_MS).exec();
  }

  /** Writes this process's counts since the last flush to Redis (one pipeline). Kept for the next flush if it fails. */
  async flush(): Promise<void> {
    const pending = this.pending;
    const waits = this.waits;
    if (!pending.size && !waits.length) return;
    this.pending = new Map();
    this.waits = [];
    const m = this.redis.multi();
    for (const [t, fields] of pending) {
      const key = this.keys.minute(t);
      for (const [f, n] of fields) m.hincrby(key, f, n);
      m.pexpire(key, BUCKET_TTL_MS);
    }
    if (waits.length) m.lpush(this.keys.waits(), ...waits).ltrim(this.keys.waits(), 0, WAITS_KEPT - 1);
    try {
      const res = await m.exec();
      const failed = res?.find(([err]) => err);
      if (failed) throw failed[0]!;
    } catch (e) {
      for (const [t, fields] of pending) for (const [f, n] of fields) this.addAt(t, f, n);
      this.waits = [...waits, ...this.waits].slice(-WAITS_KEPT);
      throw e;
    }
  }

  /** The last `minutes` minute buckets, oldest first (the current minute included), every field. */
  async minutes(minutes: number): Promise<Array<{ t: number; fields: Record<string, number> }>> {
    const now = minuteOf(this.clock.now());
    const ts = Array.from({ length: minutes }, (_, i) => now - (minutes - 1 - i) * 60);
    const pipe = this.redis.pipeline();
    for (const t of ts) pipe.hgetall(this.keys.minute(t));
    const res = (await pipe.exec()) ?? [];
    return ts.map((t, i) => {
      const [err, h] = res[i] ?? [null, {}];
      if (err) throw err;
      return { t, fields: Object.fromEntries(Object.entries((h ?? {}) as Record<string, string>).map(([k, v]) => [k, Number(v)])) };
    });
  }

  /** Match waits (ms) within the last RECENT_MS, from every process. */
  async recentWaits(): Promise<number[]> {
    const since = this.clock.now() - RECENT_MS;
    const raw = await this.redis.lrange(this.keys.waits(), 0, WAITS_KEPT - 1);
    const out: number[] = [];
    for (const r of raw) {
      const [at, ms] = r.split(':').map(Number);
      if (at! >= since) out.push(ms!);
    }
    return out;
  }

  /**
   * admin.funnel: per-minute buckets and totals with the missing and relayed shares. One answer per
   * `minutes` value is read at most every `reportMs` and shared by every viewer of this process.
   */
  report(minutes: number): Promise<FunnelReport> {
    let report = this.reports.get(minutes);
    if (!report) this.reports.set(minutes, (report = new Reused(this.clock, this.reportMs, () => this.read(minutes))));
    return report.get();
  }

  private async read(minutes: number): Promise<FunnelReport> {
    const buckets: FunnelBucket[] = (await this.minutes(minutes)).map(({ t, fields }) => ({
      t,
      ...(Object.fromEntries(BUCKET_FIELDS.map((f) => [f, fields[f] ?? 0])) as Record<BucketField, number>),
    }));
    const totals = Object.fromEntries(BUCKET_FIELDS.map((f) => [f, buckets.reduce((s, b) => s + b[f], 0)])) as Record<BucketField, number>;
    return {
      buckets,
      totals: {
        ...totals,
        missingShare: totals.matched ? totals.missing / totals.matched : null,
        // Of the calls whose path a client reported (text-only matches connect too, and report none).
        relayedShare: totals.relayed + totals.direct ? totals.relayed / (totals.relayed + totals.direct) : null,
      },
    };
  }

  private add(field: string, n: number): void {
    this.addAt(minuteOf(this.clock.now()), field, n);
  }

  private addAt(t: number, field: string, n: number): void {
    let m = this.pending.get(t);
    if (!m) this.pending.set(t, (m = new Map<string, number>()));
    m.set(field, (m.get(field) ?? 0) + n);
  }
}

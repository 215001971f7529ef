/**
 * The console's live overview: ONE snapshot per process, at most OVERVIEW_INTERVAL_MS old, built
 * when a viewer asks and handed to every viewer of that process, so a hundred open consoles cost
 * Redis and Postgres what one does, and none costs nothing. A PeriodicJob on the same interval
 * flushes this process's funnel counts (funnel.ts) and samples online/waiting for the charts.
 *
 * The numbers are the deployment's, not the process's: users per state and pool, queues and
 * pauses from the pools' keys (queue depth as queue_depth{pool} counts it: the present waiting
 * people); matches and call lengths from the funnel's minute buckets; wait p50/p95 from the match
 * waits every process pushes (`{ops}:waits`, the one source: docs/analytics.md);
 * breaker history, errors and dead letters from Postgres. Breaker states are this process's
 * policies (each process has its own breakers). Audit lag is this process's drain (every process
 * drains). A source that does not answer leaves its part null or as last read.
 */
import { count, desc, gte } from 'drizzle-orm';
import { breakerEvents, errors } from '../audit/schema';
import type { Services } from '../services';
import { PeriodicJob, type JobReporter } from '../shared/periodic';
import { Reused } from '../shared/reused';
import type { State } from '../state/states';
import { RECENT_MS, type Funnel } from './funnel';
import type { KillSwitches, Switches } from './switches';

// The series cover the last hour, one point per minute; breaker history the last few changes.
const SERIES_MINUTES = 60;
const BREAKER_HISTORY = 10;

export interface Overview {
  at: number;
  online: number;
  pools: Array<{ pool: string; byState: Record<State, number>; queueDepth: number; paused: boolean }>;
  waitP50Ms: number | null;
  waitP95Ms: number | null;
  matchesPerMinute: number;
  avgCallSeconds: number | null;
  breakers: Array<{ dependency: string; state: string; since: number | null; history: Array<{ at: number; from: string; to: string }> }>;
  errorsByCategory: Record<string, number>;
  auditLagSeconds: number | null;
  deadLetters: number | null;
  switches: Switches;
  series: { t: number[]; online: number[]; waiting: number[]; matches: number[] };
}

type Parts = Pick<Services, 'store' | 'database' | 'resilience' | 'deadLetters' | 'metrics' | 'clock' | 'cfg' | 'log'>;

export function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export class OverviewSnapshots {
  private readonly snapshot: Reused<Overview>;
  private readonly job: PeriodicJob<void>;

  constructor(
    private readonly svc: Parts,
    private readonly funnel: Funnel,
    private readonly switches: KillSwitches,
    opts: { intervalMs: number; onJobRun?: JobReporter },
  ) {
    this.snapshot = new Reused(svc.clock, opts.intervalMs, () => this.build());
    // In the background only what must be written whether or not anyone looks: this process's
    // funnel counts, and the online/waiting sample the charts are drawn from.
    this.job = new PeriodicJob({ name: 'overview', intervalMs: opts.intervalMs, runAtStart: true, log: svc.log, onRun: opts.onJobRun }, async () => {
      await this.funnel.flush().catch((err: unknown) => svc.log.warn({ err }, 'funnel flush failed; kept for the next run'));
      await this.sample();
    });
  }

  /**
   * The snapshot every viewer of this process gets: built when someone asks and it is older than
   * OVERVIEW_INTERVAL_MS (concurrent askers share one build), so a process nobody watches reads nothing.
   */
  current(): Promise<Overview> {
    return this.snapshot.get();
  }

  /** Flush this process's counts and build now (tests). */
  async refresh(): Promise<Overview> {
    await this.job.runNow();
    return this.snapshot.fresh();
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  private async sample(): Promise<void> {
    const { store, clock, cfg } = this.svc;
    const live = await store.online(await store.pools(), clock.now() - cfg.HEARTBEAT_TIMEOUT_MS);
    await this.funnel.setNow({ online: live.online, waiting: live.waiting });
  }

  /** Reads everything once. Public so a test can count the builds. */
  async build(): Promise<Overview> {
    const { store, clock, cfg } = this.svc;
    const now = clock.now();
    const pools = await store.pools();
    const [live, paused, counts] = await Promise.all([store.online(pools, now - cfg.HEARTBEAT_TIMEOUT_MS), store.pausedPools(), store.poolCounts(pools)]);
    const [minutes, waits, breakers, errorsByCategory, deadLetters, auditLagSeconds] = await Promise.all([
      this.funnel.minutes(SERIES_MINUTES),
      this.funnel.recentWaits(),
      this.breakers(),
      this.errors(now),
      this.svc.deadLetters.countPending().catch(() => null),
      this.auditLag(),
    ]);
    const sorted = waits.sort((a, b) => a - b);
    // The last RECENT_MS of whole minutes plus the minute now filling, over the time they cover:
    // live (a match shows at once) without the unfinished minute reading as a slow one.
    const recent = minutes.slice(-Math.round(RECENT_MS / 60_000) - 1);
    const current = minutes.at(-1);
    const filled = current ? Math.min(1, Math.max(0, (now - current.t * 1000) / 60_000)) : 0;
    const calls = minutes.reduce((s, m) => s + (m.fields.calls ?? 0), 0);
    const callMs = minutes.reduce((s, m) => s + (m.fields.callMs ?? 0), 0);
    const pausedNames = new Set(paused.map((p) => p.pool));
    return {
      at: now,
      online: live.online,
      // queueDepth: the present waiting people (the lobby matching scans), as queue_depth{pool} reports it.
      pools: counts.map((c) => ({ pool: c.pool, byState: c.byState, queueDepth: c.queueDepth, paused: pausedNames.has(c.pool) })),
      waitP50Ms: percentile(sorted, 50),
      waitP95Ms: percentile(sorted, 95),
      matchesPerMinute: recent.reduce((s, m) => s + (m.fields.matched ?? 0), 0) / Math.max(1, recent.length - 1 + filled),
      avgCallSeconds: calls ? callMs / calls / 1000 : null,
      breakers,
      errorsByCategory,
      auditLagSeconds,
      deadLetters,
      switches: this.switches.get(),
      series: {
        t: minutes.map((m) => m.t),
        online: minutes.map((m) => m.fields.online ?? 0),
        waiting: minutes.map((m) => m.fields.waiting ?? 0),
        matches: minutes.map((m) => m.fields.matched ?? 0),
      },
    };
  }

  private async breakers(): Promise<Overview['breakers']> {
    const health = await this.svc.resilience.health();
    const rows = await this.svc.database.db
      .select({ at: breakerEvents.at, dependency: breakerEvents.dependency, state: breakerEvents.state })
      .from(breakerEvents)
      .orderBy(desc(breakerEvents.at))
      .limit(BREAKER_HISTORY * 4)
      .catch(() => []);
    return Object.entries(health.breakers).map(([dependency, b]) => {
      const mine = rows.filter((r) => r.dependency === dependency).reverse();
      const history = mine.slice(-BREAKER_HISTORY).map((r, i, all) => ({ at: r.at.getTime(), from: i > 0 ? all[i - 1]!.state : 'closed', to: r.state }));
      return { dependency, state: b.state, since: b.since, history };
    });
  }

  private async errors(now: number): Promise<Record<string, number>> {
    const rows = await this.svc.database.db
      .select({ category: errors.category, n: count() })
      .from(errors)
      .where(gte(errors.at, new Date(now - RECENT_MS)))
      .groupBy(errors.category)
      .catch(() => []);
    return Object.fromEntries(rows.map((r) => [r.category, Number(r.n)]));
  }

  private async auditLag(): Promise<number | null> {
    const v = (await this.svc.metrics.outboxLag.get()).values[0]?.value;
    return v === undefined ? null : v;
  }
}

/**
 * Resilience metrics on a registry passed in (no global registry), the hooks that feed them,
 * and the health() snapshot behind `admin.health`.
 *
 *   errors_total{category,type,severity}      errors that reached the recovery manager
 *   breaker_state{dependency}                  0 closed, 1 open (or isolated), 2 half-open
 *   breaker_transitions_total{dependency,to}
 *   retries_total{dependency}
 *   recoveries_total{strategy,outcome}
 *   recovery_duration_seconds{failure_type}    first failure to recovery, or the action's run time
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { systemClock, type Clock } from '../shared/clock';
import type { GuardedHooks } from './hooks';
import { DEPENDENCIES, type BreakerState, type Dependency } from './model';

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, open: 1, isolated: 1, half_open: 2 };

export interface HealthSnapshot {
  at: number;
  /**
   * down: Redis's breaker is open (no matching without the state store); degraded: another
   * breaker is not closed (Postgres: audit waits in the outbox; LiveKit: calls go direct) or a
   * critical error happened in the window; ok otherwise.
   */
  status: 'ok' | 'degraded' | 'down';
  breakers: Record<Dependency, { state: BreakerState; since: number | null }>;
  errors: { windowMs: number; total: number; byCategory: Record<string, number>; byType: Record<string, number>; bySeverity: Record<string, number> };
  recoveries: { windowMs: number; byOutcome: Record<string, number> };
}

/**
 * Counts by key over a sliding window, in fixed buckets, so memory stays bounded however many
 * errors arrive (window / bucket buckets, each a small map).
 */
class RecentCounter {
  private readonly buckets: Array<{ start: number; counts: Map<string, number> }> = [];

  constructor(
    private readonly windowMs: number,
    private readonly clock: Clock,
    // One-second buckets: health() is read by people, a second of slack is invisible to them.
    private readonly bucketMs = 1000,
  ) {}

  add(key: string, n = 1): void {
    const now = this.clock.now();
    const start = now - (now % this.bucketMs);
    let last = this.buckets[this.buckets.length - 1];
    if (!last || last.start !== start) {
      last = { start, counts: new Map() };
      this.buckets.push(last);
    }
    last.counts.set(key, (last.counts.get(key) ?? 0) + n);
    this.prune(now);
  }

  /** Totals per key over the window. */
  counts(): Map<string, number> {
    this.prune(this.clock.now());
    const out = new Map<string, number>();
    for (const b of this.buckets) for (const [k, n] of b.counts) out.set(k, (out.get(k) ?? 0) + n);
    return out;
  }

  private prune(now: number): void {
    while (this.buckets.length && this.buckets[0]!.start + this.bucketMs <= now - this.windowMs) this.buckets.shift();
  }
}

export function createResilienceMetrics(registry: Registry, opts: { clock?: Clock; windowMs?: number } = {}) {
  const clock = opts.clock ?? systemClock;
  const windowMs = opts.windowMs ?? 60_000;
  const registers = [registry];

  const errors = new Counter({ name: 'errors_total', help: 'Errors by category, type and severity', labelNames: ['category', 'type', 'severity'], registers });
  const breakerState = new Gauge({
    name: 'breaker_state',
    help: 'Circuit breaker state: 0 closed, 1 open, 2 half-open',
    labelNames: ['dependency'],
    registers,
  });
  const transitions = new Counter({ name: 'breaker_transitions_total', help: 'Circuit breaker state changes', labelNames: ['dependency', 'to'], registers });
  const retries = new Counter({ name: 'retries_total', help: 'Retried attempts by dependency', labelNames: ['dependency'], registers });
  const recoveries = new Counter({
    name: 'recoveries_total',
    help: 'Recovery attempts by strategy and outcome',
    labelNames: ['strategy', 'outcome'],
    registers,
  });
  const recoveryDuration = new Histogram({
    name: 'recovery_duration_seconds',
    help: 'Time from first failure to recovery (or an action run time), by failure type',
    labelNames: ['failure_type'],
    // Recovery from transient errors is meant to take under 5 s: 5 is a bucket edge.
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers,
  });
  const breakers = Object.fromEntries(DEPENDENCIES.map((d) => [d, { state: 'closed', since: null as number | null }])) as HealthSnapshot['breakers'];
  for (const d of DEPENDENCIES) breakerState.set({ dependency: d }, 0);
  const recentErrors = new RecentCounter(windowMs, clock);
  const recentRecoveries = new RecentCounter(windowMs, clock);

  const hooks: GuardedHooks = {
    onBreakerState(dependency, state) {
      breakerState.set({ dependency }, STATE_VALUE[state]);
      transitions.inc({ dependency, to: state });
      breakers[dependency] = { state, since: clock.now() };
    },
    onRetry(dependency) {
      retries.inc({ dependency });
    },
    onError(r) {
      errors.inc({ category: r.category, type: r.type, severity: r.severity });
      recentErrors.add(`${r.category}|${r.type}|${r.severity}`);
    },
    onRecovery(r) {
      recoveries.inc({ strategy: r.strategy, outcome: r.outcome });
      recoveryDuration.observe({ failure_type: r.failureType }, r.durationMs / 1000);
      recentRecoveries.add(r.outcome);
    },
  };

  async function health(): Promise<HealthSnapshot> {
    const byCategory: Record<string, number> = {};
    const byType: Record<string, number> = {};
    const bySeverity: Record<string, number> = {};
    let total = 0;
    for (const [key, n] of recentErrors.counts()) {
      const [category = '', type = '', severity = ''] = key.split('|');
      byCategory[category] = (byCategory[category] ?? 0) + n;
      byType[type] = (byType[type] ?? 0) + n;
      bySeverity[severity] = (bySeverity[severity] ?? 0) + n;
      total += n;
    }
    const redisOpen = breakers.redis.state === 'open' || breakers.redis.state === 'isolated';
    const anyNotClosed = Object.values(breakers).some((b) => b.state !== 'closed');
    const status = redisOpen ? 'down' : anyNotClosed || (bySeverity.critical ?? 0) > 0 ? 'degraded' : 'ok';
    return {
      at: clock.now(),
      status,
      breakers: structuredClone(breakers),
      errors: { windowMs, total, byCategory, byType, bySeverity },
      recoveries: { windowMs, byOutcome: Object.fromEntries(recentRecoveries.counts()) },
    };
  }

  return { hooks, health };
}

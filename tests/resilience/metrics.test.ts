import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createResilienceMetrics } from '../../server/resilience/metrics';
import type { ErrorRecord } from '../../server/resilience/model';

function clock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

const record = (over: Partial<ErrorRecord> = {}): ErrorRecord => ({
  at: 0,
  category: 'transient',
  type: 'redis',
  severity: 'high',
  strategy: 'reconnect',
  code: 'ECONNRESET',
  message: 'read ECONNRESET',
  operation: 'match.enqueue',
  dependency: 'redis',
  pool: 'global',
  userId: null,
  recovered: false,
  outcome: 'failed',
  ...over,
});

async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const v = (metric?.values as Array<{ value: number; labels: Record<string, string | number>; metricName?: string }> | undefined)?.find(
    (x) => (x.metricName ?? name) === name && Object.entries(labels).every(([k, l]) => String(x.labels[k]) === l),
  );
  return v?.value;
}

describe('resilience metrics', () => {
  it('registers on the registry it is given, not the global one', async () => {
    const a = new Registry();
    const b = new Registry();
    createResilienceMetrics(a);
    createResilienceMetrics(b); // no "already registered" clash
    const names = (await a.getMetricsAsJSON()).map((m) => m.name).sort();
    expect(names).toEqual(['breaker_state', 'breaker_transitions_total', 'errors_total', 'recoveries_total', 'recovery_duration_seconds', 'retries_total']);
  });

  it('every breaker starts closed (0) so dashboards see it before anything happens', async () => {
    const registry = new Registry();
    createResilienceMetrics(registry);
    for (const dependency of ['redis', 'postgres', 'livekit']) expect(await value(registry, 'breaker_state', { dependency })).toBe(0);
  });

  it('the hooks feed the counters, the breaker gauge and the recovery histogram', async () => {
    const registry = new Registry();
    const m = createResilienceMetrics(registry);
    m.hooks.onBreakerState('postgres', 'open');
    m.hooks.onBreakerState('livekit', 'half_open');
    m.hooks.onRetry('redis', 1, 100, new Error('x'));
    m.hooks.onRetry('redis', 2, 200, new Error('x'));
    m.hooks.onError(record());
    m.hooks.onRecovery({ at: 0, strategy: 'reconnect', outcome: 'recovered', durationMs: 1500, failureType: 'redis', operation: null, pool: null });
    expect(await value(registry, 'breaker_state', { dependency: 'postgres' })).toBe(1);
    expect(await value(registry, 'breaker_state', { dependency: 'livekit' })).toBe(2);
    expect(await value(registry, 'breaker_transitions_total', { dependency: 'postgres', to: 'open' })).toBe(1);
    expect(await value(registry, 'retries_total', { dependency: 'redis' })).toBe(2);
    expect(await value(registry, 'errors_total', { category: 'transient', type: 'redis', severity: 'high' })).toBe(1);
    expect(await value(registry, 'recoveries_total', { strategy: 'reconnect', outcome: 'recovered' })).toBe(1);
    const text = await registry.metrics();
    expect(text).toContain('recovery_duration_seconds_bucket{le="2.5",failure_type="redis"} 1');
    expect(text).toContain('recovery_duration_seconds_bucket{le="1",failure_type="redis"} 0');
  });

  it('health() reports breaker states and the errors of the recent window', async () => {
    const c = clock();
    const m = createResilienceMetrics(new Registry(), { clock: c, windowMs: 60_000 });
    expect(await m.health()).toMatchObject({ status: 'ok', errors: { total: 0 } });

    m.hooks.onError(record());
    m.hooks.onError(record({ category: 'critical', type: 'matching', severity: 'critical' }));
    m.hooks.onBreakerState('livekit', 'open');
    let h = await m.health();
    expect(h.status).toBe('degraded');
    expect(h.breakers.livekit).toEqual({ state: 'open', since: c.now() });
    expect(h.errors).toEqual({
      windowMs: 60_000,
      total: 2,
      byCategory: { transient: 1, critical: 1 },
      byType: { redis: 1, matching: 1 },
      bySeverity: { high: 1, critical: 1 },
    });

    m.hooks.onBreakerState('redis', 'open');
    expect((await m.health()).status).toBe('down');

    c.advance(61_000);
    m.hooks.onBreakerState('redis', 'closed');
    m.hooks.onBreakerState('livekit', 'closed');
    h = await m.health();
    expect(h.errors.total).toBe(0);
    expect(h.status).toBe('ok');
  });
});

import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createResilience } from '../../server/resilience';
import { settle, sysError, testConfig } from './support';

describe('createResilience, as the composition root uses it', () => {
  it('one failing call reaches the breaker, the metrics, the audit records and admin.health', async () => {
    const cfg = testConfig();
    cfg.redis.retry.maxAttempts = 0;
    cfg.redis.breaker.failureThreshold = 1;
    const audit: string[] = [];
    const registry = new Registry();
    const r = createResilience({
      config: cfg,
      registry,
      clock: { now: () => Date.now() },
      log: pino({ level: 'silent' }),
      actions: { pausePool() {}, flagOperator() {}, endSession() {}, shutdown() {}, rollbackToCheckpoint() {} },
      audit: {
        onError: async (e) => void audit.push(`error ${e.code} ${e.pool} ${e.outcome}`),
        onRecovery: async (rec) => void audit.push(`recovery ${rec.strategy} ${rec.outcome}`),
        onBreakerState: async (dependency, state) => void audit.push(`breaker ${dependency} ${state}`),
      },
    });
    // As app.ts runs a state script (under its pool's bulkhead and the Redis policy) and trpc.ts records its failure.
    const refused = sysError('ECONNREFUSED');
    const failed = await settle(r.policies.pools.get('en').execute(() => r.policies.redis.execute(() => Promise.reject(refused))));
    expect(failed).toEqual({ ok: false, error: refused });
    await r.manager.recover(refused, { operation: 'match.enqueue', dependency: 'redis', pool: 'en' });

    const health = await r.health();
    expect(health).toMatchObject({ status: 'down', breakers: { redis: { state: 'open' } }, errors: { total: 1 } });
    expect(health.bulkheads.pools).toEqual({ en: { executionSlots: 1, queueSlots: 0 } });
    expect(await registry.metrics()).toContain('breaker_state{dependency="redis"} 1');
    expect(audit).toEqual(['breaker redis open', 'error ECONNREFUSED en failed', 'recovery reconnect failed']);
  });
});

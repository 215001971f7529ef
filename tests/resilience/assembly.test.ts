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
        error: async (e) => void audit.push(`error ${e.code} ${e.pool} ${e.outcome}`),
        recovery: async (rec) => void audit.push(`recovery ${rec.strategy} ${rec.outcome}`),
        breaker: async (dependency, state) => void audit.push(`breaker ${dependency} ${state}`),
      },
    });
    const failed = await settle(
      r.manager.executeWithRecovery(() => Promise.reject(sysError('ECONNREFUSED')), { operation: 'match.enqueue', dependency: 'redis', pool: 'en' }),
    );
    expect(failed.ok).toBe(false);

    const health = await r.health();
    expect(health).toMatchObject({ status: 'down', breakers: { redis: { state: 'open' } }, errors: { total: 1 } });
    expect(health.bulkheads.pools).toEqual({ en: { executionSlots: 1, queueSlots: 0 } });
    expect(await registry.metrics()).toContain('breaker_state{dependency="redis"} 1');
    expect(audit).toEqual(['breaker redis open', 'error ECONNREFUSED en failed', 'recovery reconnect failed']);
  });
});

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_RESILIENCE_CONFIG } from '../../server/resilience/config';
import { resilienceConfigFromEnv, resilienceEnvShape } from '../../server/resilience/env';

/** Just these variables, as server/config.ts's schema parses them. */
const parseResilienceEnv = (env: Record<string, string>) => z.object(resilienceEnvShape).parse(env);

describe('resilience settings from the environment', () => {
  it('with nothing set, gives exactly the documented defaults', () => {
    expect(resilienceConfigFromEnv(parseResilienceEnv({}))).toEqual(DEFAULT_RESILIENCE_CONFIG);
  });

  it('each variable lands in its place', () => {
    const cfg = resilienceConfigFromEnv(
      parseResilienceEnv({
        RESILIENCE_POSTGRES_TIMEOUT_MS: '1500',
        RESILIENCE_POSTGRES_RETRY_BACKOFF: 'linear',
        RESILIENCE_POSTGRES_RETRY_JITTER: 'false',
        RESILIENCE_REDIS_BREAKER_PERIOD_MS: '0',
        RESILIENCE_POSTGRES_BULKHEAD_LIMIT: '4',
        RESILIENCE_POOL_BULKHEAD_QUEUE: '7',
      }),
    );
    expect(cfg.postgres.timeoutMs).toBe(1500);
    expect(cfg.postgres.retry).toMatchObject({ backoffStrategy: 'linear', jitter: false });
    expect(cfg.redis.breaker.monitoringPeriod).toBe(0);
    expect(cfg.postgres.bulkhead.limit).toBe(4);
    expect(cfg.pool.queue).toBe(7);
    expect(cfg.redis.timeoutMs).toBe(DEFAULT_RESILIENCE_CONFIG.redis.timeoutMs);
  });

  it('a bad value is refused with the variable named', () => {
    expect(() => parseResilienceEnv({ RESILIENCE_REDIS_BREAKER_RATE: '1.5' })).toThrow(/RESILIENCE_REDIS_BREAKER_RATE/);
    expect(() => parseResilienceEnv({ RESILIENCE_POSTGRES_RETRY_BACKOFF: 'random' })).toThrow(/RESILIENCE_POSTGRES_RETRY_BACKOFF/);
    expect(() => parseResilienceEnv({ RESILIENCE_POSTGRES_BULKHEAD_LIMIT: '0' })).toThrow(/RESILIENCE_POSTGRES_BULKHEAD_LIMIT/);
  });

  it('the shape spreads into a bigger zod schema (as server/config.ts will)', () => {
    const schema = z.object({ PORT: z.coerce.number().default(3000), ...resilienceEnvShape });
    const parsed = schema.parse({ RESILIENCE_REDIS_TIMEOUT_MS: '900' });
    expect(resilienceConfigFromEnv(parsed).redis.timeoutMs).toBe(900);
  });
});

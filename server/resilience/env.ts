/**
 * The resilience settings as environment variables: a zod shape that server/config.ts spreads
 * into its one schema (`...resilienceEnvShape`), and the mapping back onto ResilienceConfig.
 * Defaults come from DEFAULT_RESILIENCE_CONFIG, so the reasons live in one place (config.ts).
 *
 * RESILIENCE_<REDIS|POSTGRES>_* set one DependencyConfig field each (config.ts says what each
 * means; README's settings table lists them). LiveKit's policy belongs to the rooms domain and is
 * set by LIVEKIT_* (server/rooms/options.ts).
 */
import { z } from 'zod';
import { DEFAULT_RESILIENCE_CONFIG as D, type DependencyConfig, type ResilienceConfig } from './config';

const int = (def: number, min = 0, max = 86_400_000) => z.coerce.number().int().min(min).max(max).default(def);
const rate = (def: number) => z.coerce.number().gt(0).lt(1).default(def);
const backoff = (def: DependencyConfig['retry']['backoffStrategy']) => z.enum(['exponential', 'linear', 'fixed']).default(def);

export const resilienceEnvShape = {
  RESILIENCE_REDIS_TIMEOUT_MS: int(D.redis.timeoutMs),
  RESILIENCE_REDIS_RETRY_ATTEMPTS: int(D.redis.retry.maxAttempts, 0, 100),
  RESILIENCE_REDIS_RETRY_BACKOFF: backoff(D.redis.retry.backoffStrategy),
  RESILIENCE_REDIS_RETRY_INITIAL_MS: int(D.redis.retry.initialDelay),
  RESILIENCE_REDIS_RETRY_MAX_MS: int(D.redis.retry.maxDelay),
  RESILIENCE_REDIS_RETRY_JITTER: z.stringbool().default(D.redis.retry.jitter),
  RESILIENCE_REDIS_BREAKER_THRESHOLD: int(D.redis.breaker.failureThreshold, 1, 1_000_000),
  RESILIENCE_REDIS_BREAKER_RATE: rate(D.redis.breaker.failureRate),
  RESILIENCE_REDIS_BREAKER_PERIOD_MS: int(D.redis.breaker.monitoringPeriod),
  RESILIENCE_REDIS_BREAKER_RESET_MS: int(D.redis.breaker.resetTimeout, 1),
  RESILIENCE_REDIS_BREAKER_HALF_OPEN: int(D.redis.breaker.halfOpenLimit, 1, 10_000),
  RESILIENCE_REDIS_BULKHEAD_LIMIT: int(D.redis.bulkhead.limit, 1, 1_000_000),
  RESILIENCE_REDIS_BULKHEAD_QUEUE: int(D.redis.bulkhead.queue, 0, 1_000_000),

  RESILIENCE_POSTGRES_TIMEOUT_MS: int(D.postgres.timeoutMs),
  RESILIENCE_POSTGRES_RETRY_ATTEMPTS: int(D.postgres.retry.maxAttempts, 0, 100),
  RESILIENCE_POSTGRES_RETRY_BACKOFF: backoff(D.postgres.retry.backoffStrategy),
  RESILIENCE_POSTGRES_RETRY_INITIAL_MS: int(D.postgres.retry.initialDelay),
  RESILIENCE_POSTGRES_RETRY_MAX_MS: int(D.postgres.retry.maxDelay),
  RESILIENCE_POSTGRES_RETRY_JITTER: z.stringbool().default(D.postgres.retry.jitter),
  RESILIENCE_POSTGRES_BREAKER_THRESHOLD: int(D.postgres.breaker.failureThreshold, 1, 1_000_000),
  RESILIENCE_POSTGRES_BREAKER_RATE: rate(D.postgres.breaker.failureRate),
  RESILIENCE_POSTGRES_BREAKER_PERIOD_MS: int(D.postgres.breaker.monitoringPeriod),
  RESILIENCE_POSTGRES_BREAKER_RESET_MS: int(D.postgres.breaker.resetTimeout, 1),
  RESILIENCE_POSTGRES_BREAKER_HALF_OPEN: int(D.postgres.breaker.halfOpenLimit, 1, 10_000),
  RESILIENCE_POSTGRES_BULKHEAD_LIMIT: int(D.postgres.bulkhead.limit, 1, 1_000_000),
  RESILIENCE_POSTGRES_BULKHEAD_QUEUE: int(D.postgres.bulkhead.queue, 0, 1_000_000),

  /** Per matching pool. */
  RESILIENCE_POOL_BULKHEAD_LIMIT: int(D.pool.limit, 1, 1_000_000),
  RESILIENCE_POOL_BULKHEAD_QUEUE: int(D.pool.queue, 0, 1_000_000),
  /** Escalations (pause, alert, end session) are not repeated for the same cause within this long. */
  RESILIENCE_ESCALATION_COOLDOWN_MS: int(D.escalationCooldownMs),
  /** admin.health counts errors over this window. */
  RESILIENCE_HEALTH_WINDOW_MS: int(D.healthWindowMs, 1000),
  /** While a breaker is open, its dependency is checked directly this often (0: never; the reset timeout alone decides). */
  RESILIENCE_PROBE_INTERVAL_MS: int(D.probeIntervalMs),
};

type ResilienceEnv = z.infer<z.ZodObject<typeof resilienceEnvShape>>;

type Dep = 'REDIS' | 'POSTGRES';

function dependency(e: ResilienceEnv, d: Dep): DependencyConfig {
  return {
    timeoutMs: e[`RESILIENCE_${d}_TIMEOUT_MS` as const],
    retry: {
      maxAttempts: e[`RESILIENCE_${d}_RETRY_ATTEMPTS` as const],
      backoffStrategy: e[`RESILIENCE_${d}_RETRY_BACKOFF` as const],
      initialDelay: e[`RESILIENCE_${d}_RETRY_INITIAL_MS` as const],
      maxDelay: e[`RESILIENCE_${d}_RETRY_MAX_MS` as const],
      jitter: e[`RESILIENCE_${d}_RETRY_JITTER` as const],
    },
    breaker: {
      failureThreshold: e[`RESILIENCE_${d}_BREAKER_THRESHOLD` as const],
      failureRate: e[`RESILIENCE_${d}_BREAKER_RATE` as const],
      monitoringPeriod: e[`RESILIENCE_${d}_BREAKER_PERIOD_MS` as const],
      resetTimeout: e[`RESILIENCE_${d}_BREAKER_RESET_MS` as const],
      halfOpenLimit: e[`RESILIENCE_${d}_BREAKER_HALF_OPEN` as const],
    },
    bulkhead: { limit: e[`RESILIENCE_${d}_BULKHEAD_LIMIT` as const], queue: e[`RESILIENCE_${d}_BULKHEAD_QUEUE` as const] },
  };
}

/** The validated environment (or the server's Config, which contains it) as a ResilienceConfig. */
export function resilienceConfigFromEnv(e: ResilienceEnv): ResilienceConfig {
  return {
    redis: dependency(e, 'REDIS'),
    postgres: dependency(e, 'POSTGRES'),
    pool: { limit: e.RESILIENCE_POOL_BULKHEAD_LIMIT, queue: e.RESILIENCE_POOL_BULKHEAD_QUEUE },
    escalationCooldownMs: e.RESILIENCE_ESCALATION_COOLDOWN_MS,
    healthWindowMs: e.RESILIENCE_HEALTH_WINDOW_MS,
    probeIntervalMs: e.RESILIENCE_PROBE_INTERVAL_MS,
  };
}

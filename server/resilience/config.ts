/**
 * ResilienceConfig: every number the policies and the manager use, with the defaults and the
 * reason for each. `env.ts` exposes each one as an environment variable.
 */

/** How a dependency's calls are retried. `maxAttempts` counts retries: 3 means up to 4 calls. */
export interface RetryPolicyConfig {
  maxAttempts: number;
  backoffStrategy: 'exponential' | 'linear' | 'fixed';
  /** ms before the first retry; linear adds it per attempt, exponential doubles it. */
  initialDelay: number;
  maxDelay: number;
  jitter: boolean;
}

/**
 * When a dependency's breaker opens and how it recovers (see breaker.ts for how it maps onto cockatiel).
 * `failureRate` is ours: cockatiel's SamplingBreaker needs a ratio as well as a count.
 */
export interface CircuitBreakerConfig {
  failureThreshold: number;
  resetTimeout: number;
  halfOpenLimit: number;
  /** 0: count consecutive failures; otherwise the sampling window in ms. */
  monitoringPeriod: number;
  failureRate: number;
}

export interface BulkheadConfig {
  /** Calls running at once. */
  limit: number;
  /** Calls waiting for a slot; beyond this they are refused at once. */
  queue: number;
}

export interface DependencyConfig {
  /** Per attempt, so the whole call takes at most about (retries + 1) x timeout + backoff. 0: no policy timeout. */
  timeoutMs: number;
  retry: RetryPolicyConfig;
  breaker: CircuitBreakerConfig;
  bulkhead: BulkheadConfig;
}

export interface ResilienceConfig {
  redis: DependencyConfig;
  postgres: DependencyConfig;
  /** One bulkhead per matching pool, so a pool in trouble cannot take every slot. */
  pool: BulkheadConfig;
  /** The same escalation (strategy, code, pool) is not repeated within this long. */
  escalationCooldownMs: number;
  /** How far back health() counts errors. */
  healthWindowMs: number;
  /** While a breaker is open, its dependency is asked directly this often whether it is back (0: never; wait out resetTimeout). */
  probeIntervalMs: number;
}

export const DEFAULT_RESILIENCE_CONFIG: ResilienceConfig = {
  redis: {
    // None of our own: ioredis's REDIS_COMMAND_TIMEOUT_MS bounds every command, and cockatiel's
    // timeout costs ~20 µs per call on this hot path (measured), more than the Lua script itself.
    timeoutMs: 0,
    // Two retries: script calls carry op ids, so a resend is safe; more would only delay the answer.
    retry: { maxAttempts: 2, backoffStrategy: 'exponential', initialDelay: 100, maxDelay: 1000, jitter: true },
    // Redis carries thousands of calls a second: judge it by its failure rate, not by a streak.
    // A reconnect is retried every REDIS_RECONNECT_MAX_MS (2 s), so probe again after 5 s.
    // Five callers may wait behind the probe instead of failing at once.
    breaker: { failureThreshold: 20, failureRate: 0.5, monitoringPeriod: 10_000, resetTimeout: 5000, halfOpenLimit: 5 },
    // Bounds what piles up in ioredis's offline queue while Redis is away; the queue is sized for a
    // burst of thousands of clients pressing Start at once (each waits microseconds, not seconds).
    bulkhead: { limit: 1000, queue: 20_000 },
  },
  postgres: {
    // Above the pg pool's 3 s connection timeout, so a slow connect is not cut short by us.
    timeoutMs: 5000,
    retry: { maxAttempts: 2, backoffStrategy: 'exponential', initialDelay: 100, maxDelay: 2000, jitter: true },
    breaker: { failureThreshold: 10, failureRate: 0.5, monitoringPeriod: 30_000, resetTimeout: 10_000, halfOpenLimit: 2 },
    // The pg pool has 10 connections: waiting happens here, bounded, not in pg's unbounded queue.
    bulkhead: { limit: 10, queue: 100 },
  },
  // A pool's matching calls are Redis scripts (sub-millisecond): 128 at once is plenty for one pool;
  // the queue absorbs a burst of simultaneous enqueues instead of refusing them.
  pool: { limit: 128, queue: 10_000 },
  escalationCooldownMs: 60_000,
  healthWindowMs: 60_000,
  // A dependency that is back is noticed within this long, whatever the breaker's reset timeout.
  probeIntervalMs: 250,
};

import { DEFAULT_RESILIENCE_CONFIG } from '../../../server/resilience/config';

/** Outage lengths: the full length times the scale, but never below a floor that still makes the fault bite. */
export function scaled(fullMs: number, scale: number, floorMs: number): number {
  return Math.max(floorMs, Math.round(fullMs * scale));
}

/**
 * The breakers' sampling windows (RESILIENCE_*_BREAKER_PERIOD_MS), scaled like the outages: at
 * full length they are the production defaults (Redis 10 s, Postgres 30 s); a shortened run
 * shrinks them in proportion, or a 1.5 s outage would be judged against 10 s of the successes
 * before it and could never open a breaker that a 10 s outage opens. The floor is a second: the
 * window must still hold the `failureThreshold` calls it needs to judge at all.
 */
export function breakerWindows(scale: number): Record<string, string> {
  const d = DEFAULT_RESILIENCE_CONFIG;
  return {
    RESILIENCE_REDIS_BREAKER_PERIOD_MS: String(Math.min(d.redis.breaker.monitoringPeriod, scaled(d.redis.breaker.monitoringPeriod, scale, 1000))),
    RESILIENCE_POSTGRES_BREAKER_PERIOD_MS: String(Math.min(d.postgres.breaker.monitoringPeriod, scaled(d.postgres.breaker.monitoringPeriod, scale, 1000))),
  };
}

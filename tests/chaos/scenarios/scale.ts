import { SHORTENED_RUN } from '../lib/env';

/** Outage lengths: the full length times the scale, but never below a floor that still makes the fault bite. */
export function scaled(fullMs: number, scale: number, floorMs: number): number {
  return Math.max(floorMs, Math.round(fullMs * scale));
}

/**
 * The breakers' sampling windows (RESILIENCE_*_BREAKER_PERIOD_MS) for an outage of `outageMs`:
 * half of it, at least a second. A sampling breaker weighs the failures against the successes
 * of its whole window, so in a total outage it opens about one window in (the successes from
 * just before the fault must first leave the window). With the production windows (Redis 10 s,
 * Postgres 30 s) an outage about as long as the window may end before the breaker opens, which
 * is what production does, but leaves nothing to check; half the outage makes the breaker open
 * well inside it at every scale. The floor keeps room for the `failureThreshold` calls a window
 * needs before it judges at all.
 */
export function breakerWindows(outageMs: number): Record<string, string> {
  // `npm run chaos` keeps the production windows: a breaker that does not open is what ships.
  if (!SHORTENED_RUN) return {};
  const window = String(Math.max(1000, Math.round(outageMs / 2)));
  return { RESILIENCE_REDIS_BREAKER_PERIOD_MS: window, RESILIENCE_POSTGRES_BREAKER_PERIOD_MS: window };
}

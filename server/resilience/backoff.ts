/**
 * Backoff: a RetryPolicyConfig's schedule (exponential, linear or fixed; jitter on or off; capped at
 * maxDelay) as a cockatiel backoff factory. `delayFor` is the schedule as a pure function: it
 * drives linear and fixed backoff, and tests check the schedule with it.
 *
 * Exponential uses cockatiel's ExponentialBackoff: without jitter initialDelay x 2^(n-1); with
 * jitter the decorrelated-jitter generator (Polly's, cockatiel's default), which spreads retries
 * of many callers apart while keeping the same growth. Linear and fixed have no cockatiel
 * equivalent with a cap and jitter, so they are a DelegateBackoff over `delayFor`; their jitter
 * is "equal jitter" (half the delay fixed, half random) so a retry never comes at once.
 */
import { ConstantBackoff, DelegateBackoff, ExponentialBackoff, decorrelatedJitterGenerator, noJitterGenerator, type IBackoffFactory } from 'cockatiel';
import type { RetryPolicyConfig } from './config';

export type Random = () => number;

/** Delay in ms before retry number `attempt` (1 = the first retry). Pure, given `random`. */
export function delayFor(
  p: Pick<RetryPolicyConfig, 'backoffStrategy' | 'initialDelay' | 'maxDelay' | 'jitter'>,
  attempt: number,
  random: Random = Math.random,
): number {
  const n = Math.max(1, attempt);
  const raw =
    p.backoffStrategy === 'exponential'
      ? p.initialDelay * 2 ** Math.min(n - 1, 52) // capped exponent: 2^52 x anything is past any maxDelay
      : p.backoffStrategy === 'linear'
        ? p.initialDelay * n
        : p.initialDelay;
  const capped = Math.min(raw, p.maxDelay);
  return p.jitter ? Math.floor(capped / 2 + random() * (capped / 2)) : capped;
}

/**
 * Capped exponential backoff without jitter: `initialMs` before attempt 1, then twice as long each
 * time, at most `maxMs`. The one schedule of every retry loop that is not a cockatiel policy (the
 * drain, room deletions, Redis reconnects).
 */
export function exponentialDelay(attempt: number, initialMs: number, maxMs: number): number {
  return delayFor({ backoffStrategy: 'exponential', initialDelay: initialMs, maxDelay: maxMs, jitter: false }, attempt);
}

/** The cockatiel backoff factory for a retry policy. */
export function backoffFor(p: RetryPolicyConfig, random: Random = Math.random): IBackoffFactory<unknown> {
  if (p.backoffStrategy === 'exponential') {
    const limits = { initialDelay: p.initialDelay, maxDelay: p.maxDelay };
    return p.jitter
      ? new ExponentialBackoff({ ...limits, generator: decorrelatedJitterGenerator })
      : new ExponentialBackoff({ ...limits, generator: noJitterGenerator });
  }
  if (p.backoffStrategy === 'fixed' && !p.jitter) return new ConstantBackoff(Math.min(p.initialDelay, p.maxDelay));
  return new DelegateBackoff<{ attempt: number }>((ctx) => delayFor(p, ctx.attempt, random));
}

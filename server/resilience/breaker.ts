/**
 * Circuit breaker: the seed's CircuitBreakerConfig on cockatiel's circuitBreaker.
 *
 * How the seed's four numbers map:
 *   failureThreshold, monitoringPeriod = 0  -> ConsecutiveBreaker(failureThreshold): opens after
 *       that many failures in a row (any success resets the count). For low-volume dependencies.
 *   failureThreshold, monitoringPeriod > 0  -> SamplingBreaker({ threshold: failureRate,
 *       duration: monitoringPeriod, minimumRps: failureThreshold / period-in-seconds }): opens when,
 *       over the last monitoringPeriod, at least failureThreshold calls were made and more than
 *       failureRate of them failed. cockatiel wants a ratio, the seed gives a count: the count
 *       becomes the minimum sample, so a handful of failures at 3 a.m. cannot open it.
 *   resetTimeout -> halfOpenAfter: after this long open, the next call is let through as a probe.
 *   halfOpenLimit -> HalfOpenGate (half-open-gate.ts): cockatiel runs exactly one probe and makes
 *       other callers wait for its verdict; the gate admits at most halfOpenLimit callers in
 *       that state (the probe included) and refuses the rest at once with BrokenCircuitError,
 *       so a recovering dependency is not met by a stampede.
 * Only errors `counts` accepts are failures (dependency failures, not "you are not in a match").
 *
 * cockatiel 3.2.1's SamplingBreaker advances its ring of windows by one slot per recorded call,
 * however long the pause before it, so after a quiet spell the failures from before it still
 * count (nine failures, a minute of silence, nine successes and one failure opens it). The
 * wrapper below starts a fresh sample when nothing was recorded for a whole monitoringPeriod.
 */
import {
  CircuitState,
  ConsecutiveBreaker,
  SamplingBreaker,
  circuitBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
  type IBreaker,
  type ISamplingBreakerOptions,
} from 'cockatiel';
import type { CircuitBreakerConfig } from './config';
import type { BreakerState } from './model';

export function breakerFor(cfg: CircuitBreakerConfig): IBreaker {
  if (cfg.monitoringPeriod <= 0) return new ConsecutiveBreaker(cfg.failureThreshold);
  return new FreshSamplingBreaker({
    threshold: cfg.failureRate,
    duration: cfg.monitoringPeriod,
    minimumRps: cfg.failureThreshold / (cfg.monitoringPeriod / 1000),
  });
}

/** A SamplingBreaker whose sample is dropped after a whole quiet period (see the header). */
class FreshSamplingBreaker implements IBreaker {
  private inner: SamplingBreaker;
  private lastAt = Date.now(); // cockatiel's windows use Date.now(), so this does too

  constructor(private readonly opts: ISamplingBreakerOptions) {
    this.inner = new SamplingBreaker(opts);
  }

  get state(): unknown {
    return this.inner.state;
  }

  set state(value: unknown) {
    this.inner.state = value;
  }

  success(state: CircuitState): void {
    this.expire();
    this.inner.success(state);
  }

  failure(state: CircuitState): boolean {
    this.expire();
    return this.inner.failure(state);
  }

  private expire(): void {
    const now = Date.now();
    if (now - this.lastAt >= this.opts.duration) this.inner = new SamplingBreaker(this.opts);
    this.lastAt = now;
  }
}

export function createBreaker(cfg: CircuitBreakerConfig, counts: (error: Error) => boolean): CircuitBreakerPolicy {
  return circuitBreaker(handleWhen(counts), { halfOpenAfter: cfg.resetTimeout, breaker: breakerFor(cfg) });
}

const NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'isolated',
};

export function breakerStateName(state: CircuitState): BreakerState {
  return NAMES[state];
}

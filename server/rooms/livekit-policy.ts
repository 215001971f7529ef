/**
 * The resilience policy around every LiveKit RoomService call of this process: the dependency
 * policy (server/resilience/dependency-policy.ts: bulkhead, retry, breaker, per-call timeout), with
 * LiveKit's settings and LiveKit's reading of failures (failures.ts):
 *   retry     transport errors, timeouts, 408/429/5xx and errors nothing recognizes (LiveKit calls
 *             fail in many shapes) are retried with jittered exponential backoff. The SDK itself
 *             never retries against a self-hosted LiveKit (its fail-over only applies to
 *             *.livekit.cloud), so this is the only retry.
 *   breaker   every failed call counts, refusals (4xx) included: a LiveKit we cannot use is down as
 *             far as calls go. `breakerThreshold` failures in a row open it; while it is open, new
 *             matches use direct mode (see RoomService.matchMode). It is probed with ListRooms only
 *             after failures to reach LiveKit.
 *   half-open cockatiel's one probe with every other caller waiting on it: the bulkhead already
 *             bounds how many those are, so the half-open gate admits as many as the bulkhead runs.
 * One policy (one breaker) per process: creations, deletions and reconciliation all speak to the
 * same LiveKit, so they share what is known about its health. Creations also pass a breaker of
 * their own (same threshold and half-open period), counting only creation outcomes: a LiveKit that
 * refuses every CreateRoom while its DeleteRooms succeed would otherwise never open the shared
 * breaker (each deletion resets its count), and every match would wait for a room it cannot get.
 * The creation breaker is not probed (ListRooms answers while CreateRoom is refused): it waits out
 * its half-open delay. The hooks hear of LiveKit as a whole: open when either breaker opens, closed
 * when both are.
 */
import { OpenPeriod, breakerStateName, createBreaker } from '../resilience/breaker';
import type { DependencyConfig } from '../resilience/config';
import { createDependencyPolicy } from '../resilience/dependency-policy';
import { guardHooks, type ResilienceHooks } from '../resilience/hooks';
import type { BreakerState } from '../resilience/model';
import { classifyLiveKitError } from './failures';
import type { PolicyOptions } from './options';

export interface LiveKitPolicy {
  /** Run one RoomService call under the policy; `fn` gets the abort signal of its attempt. */
  execute<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /** `execute` for a CreateRoom: its outcome also counts in the creation breaker. */
  executeCreation<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /**
   * True while calls would fail fast (either breaker). Once `breakerHalfOpenMs` has passed a
   * breaker still reports Open until a call tries it, so this says "closed" then: the next match
   * makes the test call instead of every match staying in direct mode forever.
   */
  isOpen(): boolean;
  /** Stops the direct checks (shutdown). */
  stop(): void;
}

function dependencyConfig(o: PolicyOptions): DependencyConfig {
  return {
    timeoutMs: o.callTimeoutMs,
    retry: { maxAttempts: o.retryAttempts, backoffStrategy: 'exponential', initialDelay: o.retryBaseMs, maxDelay: o.retryMaxMs, jitter: true },
    // monitoringPeriod 0: failures in a row (failureRate is then unused).
    breaker: { failureThreshold: o.breakerThreshold, failureRate: 0.5, monitoringPeriod: 0, resetTimeout: o.breakerHalfOpenMs, halfOpenLimit: o.bulkheadLimit },
    bulkhead: { limit: o.bulkheadLimit, queue: o.bulkheadQueue },
  };
}

/** `check`: a direct call to LiveKit, outside the policy, tried every probeIntervalMs while the shared breaker is open. */
export function createLiveKitPolicy(opts: PolicyOptions, hooks: ResilienceHooks = {}, check?: () => Promise<unknown>): LiveKitPolicy {
  const h = guardHooks(hooks);
  const transient = (e: unknown) => classifyLiveKitError(e) === 'transient';
  // Only breaks and resets are told (not half-open), and only while the other breaker is not open.
  const relay = (state: BreakerState, other: BreakerState) => {
    if (state !== 'half_open' && other !== 'open' && other !== 'isolated') h.onBreakerState('livekit', state === 'closed' ? 'closed' : 'open');
  };

  const config = dependencyConfig(opts);
  const creationPeriod = new OpenPeriod(config.breaker.resetTimeout);
  // A creation refused without a call (shared breaker open, bulkhead full) says nothing new.
  const creations = createBreaker(config.breaker, (e) => classifyLiveKitError(e) !== 'unavailable', creationPeriod);
  const shared = createDependencyPolicy('livekit', config, {
    hooks: {
      onBreakerState: (_d, s) => relay(s, breakerStateName(creations.state)),
      onRetry: h.onRetry,
    },
    probe: check && { check, intervalMs: opts.probeIntervalMs },
    rules: { retryable: transient, counts: () => true, unreachable: transient },
  });
  creations.onStateChange((s) => relay(breakerStateName(s), shared.state()));

  return {
    // Each run gets its own parent signal: cockatiel's shared default would collect one abort
    // listener per call in flight (and warn past ten).
    execute: (fn) => shared.execute(fn, { signal: new AbortController().signal }),
    executeCreation: (fn) => creations.execute(({ signal }) => shared.execute(fn, { signal })),
    isOpen: () => shared.isOpen() || creationPeriod.failsFast(creations.state),
    stop: () => shared.stop(),
  };
}

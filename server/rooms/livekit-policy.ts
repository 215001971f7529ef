/**
 * The resilience policy around every LiveKit RoomService call of this process.
 *
 * Outermost first:
 *   bulkhead  at most `bulkheadLimit` calls in flight, `bulkheadQueue` more waiting; beyond that
 *             a call is rejected at once instead of piling up behind a slow LiveKit
 *   retry     transient failures (transport, timeout, 408/429/5xx) are retried with exponential
 *             backoff, `retryAttempts` times (3 = up to 4 calls); a permanent 4xx or an open
 *             breaker is not retried. The SDK itself never retries against a self-hosted LiveKit
 *             (its fail-over only applies to *.livekit.cloud), so this is the only retry.
 *   breaker   `breakerThreshold` consecutive failed calls open it for `breakerHalfOpenMs`; then one
 *             test call decides. While it is open calls fail fast with BrokenCircuitError and new
 *             matches use direct mode (see RoomService.matchMode).
 *   timeout   each call is abandoned after `callTimeoutMs` (Aggressive: we stop waiting at once;
 *             the SDK's own requestTimeout aborts the fetch at the same moment).
 * One policy (one breaker) per process: creations, deletions and reconciliation all speak to the
 * same LiveKit, so they share what is known about its health. Creations also pass a breaker of
 * their own (same threshold and half-open period), counting only creation outcomes: a LiveKit that
 * refuses every CreateRoom while its DeleteRooms succeed would otherwise never open the shared
 * breaker (each deletion resets its count), and every match would wait for a room it cannot get.
 */
import type { BulkheadPolicy, CircuitBreakerPolicy } from 'cockatiel';
import {
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleAll,
  handleWhen,
  retry,
  timeout,
  wrap,
} from 'cockatiel';
import { OpenPeriod, probeWhileOpen } from '../resilience/breaker';
import { classifyLiveKitError } from './failures';
import type { PolicyOptions } from './options';

export interface PolicyHooks {
  onBreak?(): void;
  onReset?(): void;
  onRetry?(attempt: number, err: unknown): void;
}

export class LiveKitPolicy {
  private readonly breaker: CircuitBreakerPolicy;
  private readonly creations: CircuitBreakerPolicy;
  private readonly bulkhead: BulkheadPolicy;
  private readonly policy: ReturnType<typeof wrap>;
  /** The breakers' open periods (what `isOpen` reads). */
  private readonly sharedPeriod: OpenPeriod;
  private readonly creationPeriod: OpenPeriod;
  /** When LiveKit last answered a direct check while a breaker was open (see `check`). */
  private backAt = 0;
  private readonly stopProbes: Array<() => void> = [];

  /** `check`: a direct call to LiveKit, outside the policy, tried every probeIntervalMs while a breaker is open. */
  constructor(
    private readonly opts: PolicyOptions,
    hooks: PolicyHooks = {},
    check?: () => Promise<unknown>,
  ) {
    this.bulkhead = bulkhead(opts.bulkheadLimit, opts.bulkheadQueue);
    const retries = retry(
      handleWhen((e) => classifyLiveKitError(e) === 'transient'),
      { maxAttempts: opts.retryAttempts, backoff: new ExponentialBackoff({ initialDelay: opts.retryBaseMs, maxDelay: opts.retryMaxMs }) },
    );
    this.sharedPeriod = new OpenPeriod(opts.breakerHalfOpenMs, () => this.backAt);
    this.creationPeriod = new OpenPeriod(opts.breakerHalfOpenMs);
    this.breaker = circuitBreaker(handleAll, { halfOpenAfter: this.sharedPeriod, breaker: new ConsecutiveBreaker(opts.breakerThreshold) });
    const perCall = timeout(opts.callTimeoutMs, TimeoutStrategy.Aggressive);
    this.policy = wrap(this.bulkhead, retries, this.breaker, perCall);
    // A creation refused without a call (shared breaker open, bulkhead full) says nothing new.
    this.creations = circuitBreaker(
      handleWhen((e) => classifyLiveKitError(e) !== 'unavailable'),
      { halfOpenAfter: this.creationPeriod, breaker: new ConsecutiveBreaker(opts.breakerThreshold) },
    );
    // Only the shared breaker is probed, and only after failures to reach LiveKit: ListRooms answers
    // while CreateRoom is refused, so the creation breaker waits out its half-open delay.
    if (check && opts.probeIntervalMs > 0) {
      const unreachable = (e: unknown) => classifyLiveKitError(e) === 'transient';
      this.stopProbes.push(probeWhileOpen(this.breaker, check, opts.probeIntervalMs, () => (this.backAt = Date.now()), unreachable));
    }
    // The hooks hear of LiveKit as a whole: open when either breaker opens, closed when both are.
    const open = (b: CircuitBreakerPolicy) => b.state === CircuitState.Open || b.state === CircuitState.Isolated;
    for (const [b, other] of [
      [this.breaker, this.creations],
      [this.creations, this.breaker],
    ] as const) {
      b.onBreak(() => {
        if (!open(other)) hooks.onBreak?.();
      });
      b.onReset(() => {
        if (!open(other)) hooks.onReset?.();
      });
    }
    retries.onRetry((r) => hooks.onRetry?.(r.attempt, 'error' in r ? r.error : undefined));
  }

  /**
   * Run one RoomService call under the policy. `fn` gets the abort signal of its attempt. Each run
   * gets its own parent signal: cockatiel's shared default would collect one abort listener per
   * call in flight (and warn past ten).
   */
  execute<T>(fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal = new AbortController().signal): Promise<T> {
    return this.policy.execute(({ signal: attempt }) => fn(attempt), signal) as Promise<T>;
  }

  /** `execute` for a CreateRoom: its outcome also counts in the creation breaker. */
  executeCreation<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.creations.execute(({ signal }) => this.execute(fn, signal));
  }

  /** The shared breaker's state, or the creation breaker's while that one is open and the other is not. */
  get state(): CircuitState {
    return this.breaker.state === CircuitState.Closed ? this.creations.state : this.breaker.state;
  }

  /**
   * True while calls would fail fast. Once `breakerHalfOpenMs` has passed the breaker still
   * reports Open until a call tries it, so this says "closed" then: the next match makes the
   * test call instead of every match staying in direct mode forever. Wall time, not the injected
   * clock, because cockatiel's breaker measures its open period with Date.now().
   */
  isOpen(): boolean {
    return this.sharedPeriod.failsFast(this.breaker.state) || this.creationPeriod.failsFast(this.creations.state);
  }

  /** Stops the direct checks (shutdown). */
  stop(): void {
    for (const s of this.stopProbes) s();
  }

  /** Calls executing and queued in the bulkhead (a gauge for metrics). */
  get inFlight(): number {
    return this.opts.bulkheadLimit - this.bulkhead.executionSlots + (this.opts.bulkheadQueue - this.bulkhead.queueSlots);
  }
}

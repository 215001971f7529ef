/**
 * A dependency's named policy: bulkhead, retry, breaker (with its half-open gate) and timeout,
 * composed with cockatiel's `wrap`, outermost first:
 *
 *   bulkhead  everything in flight against this dependency, retries and backoff included, is
 *             capped; a refusal happens before the breaker, so load shedding never opens it.
 *   retry     each attempt goes through the breaker, so once it opens the retries stop at once
 *             (BrokenCircuitError is not retryable).
 *   breaker   counts each attempt's dependency failure (timeouts included) and refused
 *             credentials (a LiveKit that rejects our key is down as far as calls go); not the
 *             caller's own mistakes (wrong state, bad input, a room already gone).
 *   timeout   per attempt (timeoutMs 0: none; rely on the client's own timeout).
 *
 * `executeOnce` is the same policy without the retry: the same bulkhead, the same breaker (and
 * half-open gate) and the same timeout, one attempt. For calls whose caller would rather fail
 * fast than wait for retries (reads in front of a user's call): their failures still count
 * toward the one breaker of the dependency, and an open breaker refuses them at once.
 *
 * Breaker transitions and retries are reported through guarded hooks (hooks.ts): a listener
 * that throws is reported and ignored, never turned into the call's failure.
 *
 * Recovery: while the breaker is open, `probe.check` (a direct health call: Redis PING, Postgres
 * `select 1`) runs every `probe.intervalMs`; once it answers, or `markBack()` is called (the
 * client's connection says it is back), the open period ends and the next call is the breaker's
 * probe. The reset timeout is the longest a breaker stays open for a dependency that is back
 * but unobserved, not the least.
 */
import { wrap, type BulkheadPolicy, type CircuitBreakerPolicy, type IPolicy } from 'cockatiel';
import type { Random } from './backoff';
import { OpenPeriod, breakerStateName, createBreaker, probeWhileOpen } from './breaker';
import { createBulkhead, type BulkheadSnapshot } from './bulkheads';
import { classify, isDependencyFailure } from './classify';
import type { DependencyConfig } from './config';
import { HalfOpenGate } from './half-open-gate';
import { guardHooks, type HookErrorReporter, type ResilienceHooks } from './hooks';
import { Category, ErrorType, type BreakerState, type Dependency } from './model';
import { createRetry } from './retry';
import { createTimeout } from './timeout';

export interface ExecuteOptions {
  signal?: AbortSignal;
}

export interface DependencySnapshot {
  state: BreakerState;
  bulkhead: BulkheadSnapshot;
}

export interface DependencyPolicy {
  readonly dependency: Dependency;
  readonly breaker: CircuitBreakerPolicy;
  readonly bulkhead: BulkheadPolicy;
  /** Run `fn` (handed an AbortSignal that fires at the attempt's deadline) under the policy. */
  execute<T>(fn: (signal: AbortSignal) => PromiseLike<T> | T, opts?: ExecuteOptions): Promise<T>;
  /** The same, one attempt: no retry, same bulkhead, breaker and timeout (see the header). */
  executeOnce<T>(fn: (signal: AbortSignal) => PromiseLike<T> | T, opts?: ExecuteOptions): Promise<T>;
  state(): BreakerState;
  /** True while calls fail fast: open (and its reset time not yet over) or isolated. */
  isOpen(): boolean;
  /** Hold the breaker open by hand (maintenance); dispose the handle to release it. */
  isolate(): { dispose(): void };
  /** The dependency is back (its connection says so): an open breaker lets the next call probe now. */
  markBack(): void;
  /** Stops the health checks (shutdown). */
  stop(): void;
  snapshot(): DependencySnapshot;
}

/** A direct health call to the dependency, tried every `intervalMs` while the breaker is open. */
export interface DependencyProbe {
  check: () => Promise<unknown>;
  intervalMs: number;
}

export function createDependencyPolicy(
  dependency: Dependency,
  cfg: DependencyConfig,
  hooks: ResilienceHooks = {},
  report?: HookErrorReporter,
  random?: Random,
  probe?: DependencyProbe,
): DependencyPolicy {
  const h = guardHooks(hooks, report);
  const counts = (e: Error) => {
    const c = classify(e, { dependency });
    return isDependencyFailure(c) || c.type === ErrorType.Auth;
  };
  const retryable = (e: Error) => {
    const c = classify(e, { dependency });
    return c.retryable && isDependencyFailure(c);
  };

  const bulkhead = createBulkhead(cfg.bulkhead);
  const retry = createRetry(cfg.retry, retryable, random);
  let backAt = 0;
  const markBack = () => void (backAt = Date.now());
  const period = new OpenPeriod(cfg.breaker.resetTimeout, () => backAt);
  const breaker = createBreaker(cfg.breaker, counts, period);
  // A breaker opened because the dependency could not be reached is probed; one opened by refusals waits its reset.
  const unreachable = (e: unknown) => classify(e, { dependency }).category === Category.Transient;
  const stopProbing = probe && probe.intervalMs > 0 ? probeWhileOpen(breaker, probe.check, probe.intervalMs, markBack, unreachable) : () => undefined;
  const gate = new HalfOpenGate(breaker, cfg.breaker.halfOpenLimit);
  // timeoutMs 0: no policy timeout (the client's own, e.g. ioredis's commandTimeout, bounds each call).
  const timeout = cfg.timeoutMs > 0 ? createTimeout(cfg.timeoutMs) : null;
  const policy: IPolicy = timeout ? wrap(bulkhead, retry, gate, timeout) : wrap(bulkhead, retry, gate);
  const once: IPolicy = timeout ? wrap(bulkhead, gate, timeout) : wrap(bulkhead, gate);
  const run = <T>(p: IPolicy, fn: (signal: AbortSignal) => PromiseLike<T> | T, opts: ExecuteOptions): Promise<T> =>
    p.execute(({ signal }) => fn(signal), opts.signal);

  breaker.onStateChange((s) => h.onBreakerState(dependency, breakerStateName(s)));
  retry.onRetry((r) => h.onRetry(dependency, r.attempt, r.delay, 'error' in r ? r.error : r.value));

  return {
    dependency,
    breaker,
    bulkhead,
    execute: (fn, opts = {}) => run(policy, fn, opts),
    executeOnce: (fn, opts = {}) => run(once, fn, opts),
    state: () => breakerStateName(breaker.state),
    isOpen: () => period.failsFast(breaker.state),
    isolate: () => breaker.isolate(),
    markBack,
    stop: stopProbing,
    snapshot: () => ({ state: breakerStateName(breaker.state), bulkhead: { executionSlots: bulkhead.executionSlots, queueSlots: bulkhead.queueSlots } }),
  };
}

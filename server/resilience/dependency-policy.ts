/**
 * A dependency's named policy (Redis, Postgres, LiveKit): bulkhead, retry, breaker (with its
 * half-open gate) and timeout, composed with cockatiel's `wrap`, outermost first:
 *
 *   bulkhead  everything in flight against this dependency, retries and backoff included, is
 *             capped; a refusal happens before the breaker, so load shedding never opens it.
 *   retry     each attempt goes through the breaker, so once it opens the retries stop at once
 *             (BrokenCircuitError is not retryable).
 *   breaker   counts each attempt's dependency failure (timeouts included) and refused
 *             credentials (a LiveKit that rejects our key is down as far as calls go); not the
 *             caller's own mistakes (wrong state, bad input, a room already gone).
 *   timeout   per attempt (timeoutMs 0: none; rely on the client's own timeout). Aggressive:
 *             ioredis, pg and fetch do not all stop when an AbortSignal fires, so the caller gets
 *             TaskCancelledError at the deadline and the work may finish in the background (writes
 *             carry op ids or are conditional, so that is harmless). `abortOnReturn: false`:
 *             cockatiel would otherwise abort the attempt's signal after every successful call
 *             too, and an abort() builds a DOMException with a stack trace; on a 2-core machine
 *             under load that was about half the policy's cost per call.
 *
 * What is retried, counted and probed follows the shared classification (classify.ts); a domain
 * that reads it differently for its dependency passes its own `rules` (LiveKit: rooms/failures.ts).
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
 * `select 1`, LiveKit ListRooms) runs every `probe.intervalMs`; once it answers, or `markBack()` is
 * called (the client's connection says it is back), the open period ends and the next call is the
 * breaker's probe. The reset timeout is the longest a breaker stays open for a dependency that is
 * back but unobserved, not the least.
 */
import { TimeoutStrategy, bulkhead as cockatielBulkhead, handleWhen, retry, timeout, wrap, type IPolicy } from 'cockatiel';
import { backoffFor } from './backoff';
import { OpenPeriod, breakerStateName, createBreaker, probeWhileOpen } from './breaker';
import type { BulkheadSnapshot } from './bulkheads';
import { classify, isDependencyFailure } from './classify';
import type { DependencyConfig } from './config';
import { HalfOpenGate } from './half-open-gate';
import { guardHooks, type HookErrorReporter, type ResilienceHooks } from './hooks';
import { Category, ErrorType, type BreakerState, type Dependency } from './model';

export interface DependencySnapshot {
  state: BreakerState;
  bulkhead: BulkheadSnapshot;
}

export interface DependencyPolicy {
  /** Run `fn` (handed an AbortSignal that fires at the attempt's deadline) under the policy. */
  execute<T>(fn: (signal: AbortSignal) => PromiseLike<T> | T, opts?: { signal?: AbortSignal }): Promise<T>;
  /** The same, one attempt: no retry, same bulkhead, breaker and timeout (see the header). */
  executeOnce<T>(fn: (signal: AbortSignal) => PromiseLike<T> | T, opts?: { signal?: AbortSignal }): Promise<T>;
  state(): BreakerState;
  /** True while calls fail fast: open (and its reset time not yet over) or isolated. */
  isOpen(): boolean;
  /** The dependency is back (its connection says so): an open breaker lets the next call probe now. */
  markBack(): void;
  /** Stops the health checks (shutdown). */
  stop(): void;
  snapshot(): DependencySnapshot;
}

/** Which failures are retried, counted by the breaker, and mean "could not reach it" (so it is probed). */
export interface FailureRules {
  retryable: (error: unknown) => boolean;
  counts: (error: unknown) => boolean;
  unreachable: (error: unknown) => boolean;
}

export interface DependencyPolicyOptions {
  hooks?: ResilienceHooks;
  report?: HookErrorReporter;
  /** A direct health call to the dependency, tried every `intervalMs` while the breaker is open. */
  probe?: { check: () => Promise<unknown>; intervalMs: number };
  rules?: FailureRules;
}

/** The shared classification's rules for `dependency`. */
function sharedRules(dependency: Dependency): FailureRules {
  const of = (e: unknown) => classify(e, { dependency });
  return {
    retryable: (e) => {
      const c = of(e);
      return c.retryable && isDependencyFailure(c);
    },
    counts: (e) => {
      const c = of(e);
      return isDependencyFailure(c) || c.type === ErrorType.Auth;
    },
    // A breaker opened because the dependency could not be reached is probed; one opened by refusals waits its reset.
    unreachable: (e) => of(e).category === Category.Transient,
  };
}

export function createDependencyPolicy(dependency: Dependency, cfg: DependencyConfig, opts: DependencyPolicyOptions = {}): DependencyPolicy {
  const h = guardHooks(opts.hooks ?? {}, opts.report);
  const rules = opts.rules ?? sharedRules(dependency);

  const bulkhead = cockatielBulkhead(cfg.bulkhead.limit, cfg.bulkhead.queue);
  const retries = retry(handleWhen(rules.retryable), { maxAttempts: cfg.retry.maxAttempts, backoff: backoffFor(cfg.retry) });
  let backAt = 0;
  const markBack = () => void (backAt = Date.now());
  const period = new OpenPeriod(cfg.breaker.resetTimeout, () => backAt);
  const breaker = createBreaker(cfg.breaker, rules.counts, period);
  const probe = opts.probe;
  const stop = probe && probe.intervalMs > 0 ? probeWhileOpen(breaker, probe.check, probe.intervalMs, markBack, rules.unreachable) : () => undefined;
  const gate = new HalfOpenGate(breaker, cfg.breaker.halfOpenLimit);
  const perAttempt = cfg.timeoutMs > 0 ? [timeout(cfg.timeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false })] : [];
  const policy: IPolicy = wrap(bulkhead, retries, gate, ...perAttempt);
  const once: IPolicy = wrap(bulkhead, gate, ...perAttempt);
  const run = <T>(p: IPolicy, fn: (signal: AbortSignal) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> => p.execute(({ signal: s }) => fn(s), signal);

  breaker.onStateChange((s) => h.onBreakerState(dependency, breakerStateName(s)));
  retries.onRetry((r) => h.onRetry(dependency, r.attempt, r.delay, 'error' in r ? r.error : r.value));

  return {
    execute: (fn, o) => run(policy, fn, o?.signal),
    executeOnce: (fn, o) => run(once, fn, o?.signal),
    state: () => breakerStateName(breaker.state),
    isOpen: () => period.failsFast(breaker.state),
    markBack,
    stop,
    snapshot: () => ({ state: breakerStateName(breaker.state), bulkhead: { executionSlots: bulkhead.executionSlots, queueSlots: bulkhead.queueSlots } }),
  };
}

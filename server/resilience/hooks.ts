/**
 * Hooks: how breaker, retry, error and recovery events reach logs, metrics and the audit trail.
 *
 * cockatiel calls its listeners synchronously inside `execute()` (an onRetry listener runs
 * before the backoff, onStateChange inside the breaker's bookkeeping), so a listener that throws
 * would fail the very call it observes. Every hook therefore runs through `guarded()`: a sync
 * throw or an async rejection is caught and handed to the reporter, never to the caller.
 */
import type { BreakerState, Dependency, ErrorRecord, RecoveryRecord } from './model';

/** A hook may return a promise (an audit write); its rejection is reported like a throw. */
type HookResult = void | Promise<unknown>;

export interface ResilienceHooks {
  onBreakerState?(dependency: Dependency, state: BreakerState): HookResult;
  onRetry?(dependency: Dependency, attempt: number, delayMs: number, error: unknown): HookResult;
  onError?(record: ErrorRecord): HookResult;
  onRecovery?(record: RecoveryRecord): HookResult;
}

/** Where a failing hook is reported (default: nowhere; the app passes a logger). */
export type HookErrorReporter = (error: unknown, hook: string) => void;

const ignore: HookErrorReporter = () => {};

/** Wraps a listener so that neither a throw nor a rejected promise escapes it. */
function guarded<A extends unknown[]>(name: string, fn: ((...args: A) => unknown) | undefined, report: HookErrorReporter = ignore): (...args: A) => void {
  return (...args: A) => {
    if (!fn) return;
    try {
      const out = fn(...args);
      if (out instanceof Promise) out.catch((e: unknown) => safeReport(report, e, name));
    } catch (e) {
      safeReport(report, e, name);
    }
  };
}

function safeReport(report: HookErrorReporter, error: unknown, name: string): void {
  try {
    report(error, name);
  } catch {
    // The reporter itself failed; there is nowhere left to tell.
  }
}

/** The same hooks, each one guarded: they never throw and return nothing. */
export interface GuardedHooks {
  onBreakerState: (dependency: Dependency, state: BreakerState) => void;
  onRetry: (dependency: Dependency, attempt: number, delayMs: number, error: unknown) => void;
  onError: (record: ErrorRecord) => void;
  onRecovery: (record: RecoveryRecord) => void;
}

export function guardHooks(hooks: ResilienceHooks, report: HookErrorReporter = ignore): GuardedHooks {
  return {
    onBreakerState: guarded('onBreakerState', hooks.onBreakerState?.bind(hooks), report),
    onRetry: guarded('onRetry', hooks.onRetry?.bind(hooks), report),
    onError: guarded('onError', hooks.onError?.bind(hooks), report),
    onRecovery: guarded('onRecovery', hooks.onRecovery?.bind(hooks), report),
  };
}

/** Fan one event out to several sinks (logs, metrics, audit); one failing sink does not stop the others. */
export function combineHooks(list: ResilienceHooks[], report: HookErrorReporter = ignore): GuardedHooks {
  const all = list.map((h) => guardHooks(h, report));
  return {
    onBreakerState: (d, s) => all.forEach((h) => h.onBreakerState(d, s)),
    onRetry: (d, a, ms, e) => all.forEach((h) => h.onRetry(d, a, ms, e)),
    onError: (r) => all.forEach((h) => h.onError(r)),
    onRecovery: (r) => all.forEach((h) => h.onRecovery(r)),
  };
}

/**
 * Timeout: each attempt gets `ms`. Aggressive by default: ioredis, pg and fetch do not all stop
 * when an AbortSignal fires, so the caller gets TaskCancelledError at the deadline and the work
 * may finish in the background (writes carry op ids or are conditional, so that is harmless).
 * The signal is still aborted at the deadline, so code that honours it (fetch) stops at once.
 *
 * `abortOnReturn: false`: cockatiel would otherwise abort the attempt's signal after every
 * successful call too, and an abort() builds a DOMException with a stack trace; on a 2-core
 * machine under load that was about half the policy's cost per call.
 */
import { TimeoutStrategy, timeout, type TimeoutPolicy } from 'cockatiel';

export function createTimeout(ms: number, strategy: TimeoutStrategy = TimeoutStrategy.Aggressive): TimeoutPolicy {
  return timeout(ms, { strategy, abortOnReturn: false });
}

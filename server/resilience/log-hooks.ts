/**
 * Hooks that log: breaker changes at warn (open) or info, retries at debug, errors at a level
 * that follows their severity, recoveries at info (failed ones at warn).
 */
import type { Logger } from '../infra/logger';
import type { ResilienceHooks } from './hooks';
import type { Severity } from './model';

const LEVEL: Record<Severity, 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = { low: 'debug', medium: 'warn', high: 'error', critical: 'fatal' };

export function logHooks(log: Logger): ResilienceHooks {
  return {
    onBreakerState(dependency, state) {
      if (state === 'open' || state === 'isolated') log.warn({ dependency, state }, `${dependency} circuit breaker opened: calls fail fast until it recovers`);
      else log.info({ dependency, state }, `${dependency} circuit breaker is ${state.replace('_', '-')}`);
    },
    onRetry(dependency, attempt, delayMs, error) {
      log.debug({ dependency, attempt, delayMs, err: error }, `retrying a ${dependency} call`);
    },
    onError(r) {
      log[LEVEL[r.severity]](
        { error: r },
        `${r.category} ${r.type} error ${r.code} in ${r.operation ?? 'unknown operation'}: ${r.strategy} -> ${r.outcome ?? 'none'}`,
      );
    },
    onRecovery(r) {
      const level = r.outcome === 'failed' ? 'warn' : 'info';
      log[level]({ recovery: r }, `recovery ${r.strategy} ${r.outcome} after ${r.durationMs} ms (${r.failureType})`);
    },
  };
}

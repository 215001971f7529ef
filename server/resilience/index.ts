/**
 * The resilience domain, assembled: metrics on the server's registry, one named policy for Redis
 * and one for Postgres, the per-pool bulkheads and the recovery manager, with every event fanned
 * out to logs, metrics and (when given) the audit trail. LiveKit's policy, built by the same
 * factory, is the rooms domain's own (server/rooms/livekit-policy.ts). The composition root
 * (server/app.ts) calls `createResilience` once and lends it the recovery actions, which belong to
 * other domains (pausing a pool, ending a session, restoring a checkpoint). Nothing here is
 * global; a test builds as many as it likes.
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../infra/logger';
import type { Clock } from '../shared/clock';
import { PoolBulkheads } from './bulkheads';
import type { ResilienceConfig } from './config';
import { createDependencyPolicy } from './dependency-policy';
import { combineHooks, type HookErrorReporter, type ResilienceHooks } from './hooks';
import { ErrorRecoveryManager, type RecoveryActions } from './manager';
import { createResilienceMetrics } from './metrics';
import type { Severity } from './model';

export interface ResilienceDeps {
  config: ResilienceConfig;
  registry: Registry;
  clock: Clock;
  log: Logger;
  actions: RecoveryActions;
  /**
   * Where errors, recoveries and breaker changes are written for the audit trail (server/audit/recorder.ts:
   * recordError, recordRecovery, recordBreaker, which append to the outbox and spool while Redis is away).
   * A failing write is reported by the hook guard (hooks.ts) and never reaches the failing call.
   */
  audit?: ResilienceHooks;
  /** Direct health calls (Redis PING, Postgres `select 1`), tried while a breaker is open (see dependency-policy.ts). */
  checks?: Partial<Record<'redis' | 'postgres', () => Promise<unknown>>>;
}

export function createResilience(d: ResilienceDeps) {
  const report: HookErrorReporter = (err, where) => d.log.warn({ err }, `resilience: ${where} failed`);
  const metrics = createResilienceMetrics(d.registry, { clock: d.clock, windowMs: d.config.healthWindowMs });
  const sinks: ResilienceHooks[] = [logHooks(d.log), metrics.hooks];
  if (d.audit) sinks.push(d.audit);
  const hooks = combineHooks(sinks, report);

  const policy = (dependency: 'redis' | 'postgres') => {
    const check = d.checks?.[dependency];
    return createDependencyPolicy(dependency, d.config[dependency], { hooks, report, probe: check && { check, intervalMs: d.config.probeIntervalMs } });
  };
  const redis = policy('redis');
  const postgres = policy('postgres');
  const policies = {
    redis,
    postgres,
    pools: new PoolBulkheads(d.config.pool, (pool) => d.log.warn({ pool }, 'pool bulkhead full: shedding load')),
    /** Stops the policies' health checks (shutdown). */
    stop() {
      redis.stop();
      postgres.stop();
    },
  };
  const manager = new ErrorRecoveryManager({ actions: d.actions, config: d.config, clock: d.clock, hooks, report });

  return {
    policies,
    manager,
    hooks,
    /** For `admin.health`. */
    health: async () => ({
      ...(await metrics.health()),
      bulkheads: { dependencies: { redis: redis.snapshot(), postgres: postgres.snapshot() }, pools: policies.pools.snapshot() },
    }),
  };
}

export type Resilience = ReturnType<typeof createResilience>;

/**
 * Hooks that log: breaker changes at warn (open) or info, retries at debug, errors at a level
 * that follows their severity, recoveries at info (failed ones at warn).
 */
const LEVEL: Record<Severity, 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = { low: 'debug', medium: 'warn', high: 'error', critical: 'fatal' };

function logHooks(log: Logger): ResilienceHooks {
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

export { classify, isDependencyFailure } from './classify';
export { resilienceConfigFromEnv } from './env';
export { userMessage } from './messages';

/**
 * The policies the composition root builds once: one named policy for Redis and one for Postgres,
 * and the per-pool bulkheads. LiveKit's policy, built by the same factory, is the rooms domain's own
 * (server/rooms/livekit-policy.ts). Nothing here is global; a test builds as many sets as it likes.
 */
import { PoolBulkheads } from './bulkheads';
import type { ResilienceConfig } from './config';
import { createDependencyPolicy, type DependencyPolicy, type DependencySnapshot } from './dependency-policy';
import type { HookErrorReporter, ResilienceHooks } from './hooks';

/** The dependencies with a policy here. */
export const POLICY_DEPENDENCIES = ['redis', 'postgres'] as const;
export type PolicyDependency = (typeof POLICY_DEPENDENCIES)[number];

/** Direct health calls per dependency, tried while its breaker is open (see dependency-policy.ts). */
export type HealthChecks = Partial<Record<PolicyDependency, () => Promise<unknown>>>;

export interface ResiliencePolicies {
  readonly redis: DependencyPolicy;
  readonly postgres: DependencyPolicy;
  readonly pools: PoolBulkheads;
  snapshot(): Record<PolicyDependency, DependencySnapshot>;
  /** Stops every policy's health checks (shutdown). */
  stop(): void;
}

export function createResiliencePolicies(
  cfg: ResilienceConfig,
  hooks: ResilienceHooks = {},
  opts: { report?: HookErrorReporter; onPoolReject?: (pool: string) => void; checks?: HealthChecks } = {},
): ResiliencePolicies {
  const make = (d: PolicyDependency) => {
    const check = opts.checks?.[d];
    return createDependencyPolicy(d, cfg[d], { hooks, report: opts.report, probe: check && { check, intervalMs: cfg.probeIntervalMs } });
  };
  const byName: Record<PolicyDependency, DependencyPolicy> = { redis: make('redis'), postgres: make('postgres') };
  return {
    ...byName,
    pools: new PoolBulkheads(cfg.pool, opts.onPoolReject),
    snapshot: () => Object.fromEntries(POLICY_DEPENDENCIES.map((d) => [d, byName[d].snapshot()])) as Record<PolicyDependency, DependencySnapshot>,
    stop: () => POLICY_DEPENDENCIES.forEach((d) => byName[d].stop()),
  };
}

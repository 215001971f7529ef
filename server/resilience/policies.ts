/**
 * The policies the composition root builds once: one named policy per dependency and the
 * per-pool bulkheads. Nothing here is global; a test builds as many sets as it likes.
 */
import type { Random } from './backoff';
import { PoolBulkheads } from './bulkheads';
import type { ResilienceConfig } from './config';
import { createDependencyPolicy, type DependencyPolicy, type DependencySnapshot } from './dependency-policy';
import type { HookErrorReporter, ResilienceHooks } from './hooks';
import { DEPENDENCIES, type Dependency } from './model';

export interface ResiliencePolicies {
  readonly redis: DependencyPolicy;
  readonly postgres: DependencyPolicy;
  readonly livekit: DependencyPolicy;
  readonly pools: PoolBulkheads;
  get(dependency: Dependency): DependencyPolicy;
  snapshot(): Record<Dependency, DependencySnapshot>;
}

export function createResiliencePolicies(
  cfg: ResilienceConfig,
  hooks: ResilienceHooks = {},
  opts: { report?: HookErrorReporter; random?: Random; onPoolReject?: (pool: string) => void } = {},
): ResiliencePolicies {
  const make = (d: Dependency) => createDependencyPolicy(d, cfg[d], hooks, opts.report, opts.random);
  const byName: Record<Dependency, DependencyPolicy> = { redis: make('redis'), postgres: make('postgres'), livekit: make('livekit') };
  return {
    ...byName,
    pools: new PoolBulkheads(cfg.pool, opts.onPoolReject),
    get: (d) => byName[d],
    snapshot: () => Object.fromEntries(DEPENDENCIES.map((d) => [d, byName[d].snapshot()])) as Record<Dependency, DependencySnapshot>,
  };
}

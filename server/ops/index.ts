/**
 * The operator console's server side, assembled once by the composition root: the kill switches
 * (built first: the store's match mode and the rate limits read them), then the funnel, the
 * overview snapshots, people and privacy (once the services exist).
 */
import type { Logger } from '../infra/logger';
import type { RedisClient } from '../infra/redis';
import type { Config } from '../config';
import type { Clock } from '../shared/clock';
import type { JobReporter } from '../shared/periodic';
import type { Services } from '../services';
import { Funnel } from './funnel';
import { OpsKeys } from './keys';
import { OverviewSnapshots } from './overview';
import { People } from './people';
import { Privacy } from './privacy';
import { KillSwitches, observeSwitches } from './switches';

export function createSwitches(cfg: Config, redis: RedisClient, clock: Clock, log: Logger, onJobRun?: JobReporter): KillSwitches {
  return new KillSwitches(redis, new OpsKeys(cfg.REDIS_PREFIX), clock, { pollMs: cfg.SWITCHES_POLL_MS, tightFactor: cfg.SWITCH_TIGHT_FACTOR, log, onJobRun });
}

export function createOps(
  svc: Omit<Services, 'ops'>,
  switches: KillSwitches,
  wiring: { endSession: (uid: string, actor: string) => Promise<void>; onJobRun?: JobReporter },
) {
  const funnel = new Funnel(svc.redis, new OpsKeys(svc.cfg.REDIS_PREFIX), svc.clock, svc.metrics.registry, svc.cfg.OVERVIEW_INTERVAL_MS);
  // Every script call's funnel steps and every match's waits, counted by the process that made them.
  svc.store.onFunnelSteps((_pool, steps) => funnel.record(steps));
  svc.store.onMatches((_pool, made) => funnel.matched(made));
  observeSwitches(svc.metrics.registry, switches);
  const overview = new OverviewSnapshots(svc, funnel, switches, { intervalMs: svc.cfg.OVERVIEW_INTERVAL_MS, onJobRun: wiring.onJobRun });
  return {
    switches,
    funnel,
    overview,
    people: new People(svc, wiring.endSession),
    privacy: new Privacy(svc),
    start(): void {
      switches.start();
      overview.start();
    },
    async stop(): Promise<void> {
      await Promise.all([switches.stop(), overview.stop()]);
    },
  };
}

export type Ops = ReturnType<typeof createOps>;

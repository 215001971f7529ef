/** Every chaos scenario, in the order the table lists them. */
import type { ScenarioOptions, ScenarioResult } from '../lib/types';
import { clusterMasterKilled, clusterSlotMigrated } from './cluster';
import { livekitFailing } from './livekit';
import { postgresDown, postgresSlow } from './postgres';
import { redisKilledAof, redisKilledEmpty, redisPaused } from './redis';
import { serverKilled } from './server-kill';

export interface Scenario {
  name: string;
  run(o: ScenarioOptions): Promise<ScenarioResult>;
}

export const SCENARIOS: Scenario[] = [
  { name: 'redis-kill-empty', run: redisKilledEmpty },
  { name: 'redis-kill-aof', run: redisKilledAof },
  { name: 'redis-pause', run: redisPaused },
  { name: 'postgres-down', run: postgresDown },
  { name: 'postgres-slow', run: postgresSlow },
  { name: 'livekit-500', run: (o) => livekitFailing('500', o) },
  { name: 'livekit-timeout', run: (o) => livekitFailing('timeout', o) },
  { name: 'livekit-drop', run: (o) => livekitFailing('drop', o) },
  { name: 'server-kill', run: serverKilled },
  { name: 'cluster-failover', run: clusterMasterKilled },
  { name: 'cluster-migration', run: clusterSlotMigrated },
];

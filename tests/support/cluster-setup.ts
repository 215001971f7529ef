/**
 * globalSetup of the `cluster` test project: one local Redis Cluster (3 masters + 3 replicas) for
 * the whole run, handed to the tests as `inject('redisClusterNodes')` (see redis-target.ts).
 */
import type { TestProject } from 'vitest/node';
import { startRedisCluster, type RedisCluster } from './redis-cluster';

declare module 'vitest' {
  export interface ProvidedContext {
    redisClusterNodes: string;
  }
}

let cluster: RedisCluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  cluster = await startRedisCluster();
  project.provide('redisClusterNodes', cluster.nodesSetting);
}

export async function teardown(): Promise<void> {
  await cluster?.[Symbol.asyncDispose]();
}

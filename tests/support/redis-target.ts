/**
 * Which Redis the shared-Redis tests run on: the shared single Redis, or (in the `cluster` test
 * project) the run's local Redis Cluster. Tests reach it through createTestRedis() and the
 * `env` it returns (REDIS_CLUSTER_NODES for a server's config), never by checking the mode.
 */
import { inject } from 'vitest';

/** `host:port,...` of the run's cluster, or undefined on the single Redis. */
export function testClusterNodes(): string | undefined {
  try {
    return inject('redisClusterNodes') || undefined;
  } catch {
    return undefined; // not inside a vitest worker (a child process of a test)
  }
}

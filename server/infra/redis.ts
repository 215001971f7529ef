/**
 * Redis connections. ioredis's defaults suit a cache, not a state store: commands would queue
 * for ~70 s during an outage. Here a command fails within REDIS_COMMAND_TIMEOUT_MS, a reconnect
 * is retried forever with capped backoff, and a command lost in flight is resent once (every
 * script carries an op id or is conditional on state, so a resend cannot apply twice).
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Config } from '../config';
import { exponentialDelay } from '../resilience/backoff';

export function redisOptions(cfg: Config, name: string): RedisOptions {
  return {
    connectionName: `rendezvous:${name}`,
    protocol: 2, // RESP2: plain pub/sub replies and the same shapes on every Redis version we run on
    maxRetriesPerRequest: 1,
    commandTimeout: cfg.REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: cfg.REDIS_CONNECT_TIMEOUT_MS,
    // Reconnect quickly at first, then every REDIS_RECONNECT_MAX_MS: recovery is measured in seconds.
    retryStrategy: (times) => exponentialDelay(times + 1, 50, cfg.REDIS_RECONNECT_MAX_MS),
    enableOfflineQueue: true,
    // A Redis still loading its AOF is asked again every 100 ms, not after its own ETA rounded up
    // to a whole second (ioredis's default): a restart with persistence is back a second sooner.
    maxLoadingRetryTime: 100,
    lazyConnect: true,
  };
}

/** One Redis or a Redis Cluster (REDIS_CLUSTER_NODES): the commands the server sends are the same. */
export type RedisClient = Redis | Cluster;

/**
 * A cluster's options: each node's connection as above; the cluster's own reconnect takes the
 * same backoff. Reads go to masters (a read follows the script that wrote it, and a replica may
 * lag), and a command that meets a failover or a slot on the move is retried after 100 ms.
 */
export function clusterOptions(cfg: Config, name: string): ClusterOptions {
  const { retryStrategy, enableOfflineQueue, ...node } = redisOptions(cfg, name);
  return {
    redisOptions: node,
    clusterRetryStrategy: retryStrategy,
    enableOfflineQueue,
    lazyConnect: true,
    scaleReads: 'master',
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: cfg.REDIS_CONNECT_TIMEOUT_MS,
    shardedSubscribers: true,
  };
}

/** `host:port` entries as ioredis's startup nodes. */
export function clusterNodes(nodes: readonly string[]): Array<{ host: string; port: number }> {
  return nodes.map((n) => {
    const at = n.lastIndexOf(':');
    return { host: n.slice(0, at), port: Number(n.slice(at + 1)) };
  });
}

/** A connected client: the cluster when REDIS_CLUSTER_NODES is set, else the Redis at `url`. */
export async function connectRedis(url: string, cfg: Config, name: string): Promise<RedisClient> {
  const redis: RedisClient =
    cfg.REDIS_CLUSTER_NODES.length > 0
      ? new Cluster(clusterNodes(cfg.REDIS_CLUSTER_NODES), clusterOptions(cfg, name))
      : new Redis(url, redisOptions(cfg, name));
  redis.on('error', () => {
    /* surfaced through command failures and /readyz; an unhandled 'error' would crash */
  });
  await redis.connect();
  return redis;
}

/** PING with a short deadline; true when the server answers. */
export async function pingRedis(url: string, timeoutMs = 500): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, protocol: 2 });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

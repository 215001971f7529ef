/**
 * Redis connections. ioredis's defaults suit a cache, not a state store: commands would queue
 * for ~70 s during an outage. Here a command fails within REDIS_COMMAND_TIMEOUT_MS, a reconnect
 * is retried forever with capped backoff, and a command lost in flight is resent once (every
 * script carries an op id or is conditional on state, so a resend cannot apply twice).
 */
import { Cluster, Redis, type ChainableCommander, type ClusterOptions, type RedisOptions } from 'ioredis';
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

/** The part of a key that picks its cluster slot: the first non-empty `{...}`, else the whole key. */
export function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/** One command of a batch: the key it touches, and how to add it to a pipeline. */
export type Queued = [key: string, add: (pipe: ChainableCommander) => unknown];

/**
 * Commands over keys of many slots: one pipeline on one Redis; on a cluster one pipeline per hash
 * tag, sent at once (a cluster pipeline must stay on one node). Replies in the order given.
 */
export async function pipelineAcross(redis: RedisClient, cmds: readonly Queued[]): Promise<Array<[Error | null, unknown]>> {
  if (redis instanceof Redis) {
    const pipe = redis.pipeline();
    for (const [, add] of cmds) add(pipe);
    return (await pipe.exec()) ?? [];
  }
  const byTag = new Map<string, number[]>();
  cmds.forEach(([key], i) => {
    const tag = hashTag(key);
    const at = byTag.get(tag);
    if (at) at.push(i);
    else byTag.set(tag, [i]);
  });
  const out = new Array<[Error | null, unknown]>(cmds.length);
  await Promise.all(
    [...byTag.values()].map(async (idx) => {
      const pipe = redis.pipeline();
      for (const i of idx) cmds[i]![1](pipe);
      const res = (await pipe.exec()) ?? [];
      idx.forEach((i, j) => (out[i] = res[j] ?? [new Error('no reply'), null]));
    }),
  );
  return out;
}

/** Each master's own connection: the one Redis, or every master of a cluster (for what each must hold or answer). */
export function masters(redis: RedisClient): Redis[] {
  return redis instanceof Redis ? [redis] : redis.nodes('master');
}

/** How notifications go out: sharded on a cluster (a channel stays on its slot's shard), plain on one Redis. */
export function publishCommand(redis: RedisClient): 'PUBLISH' | 'SPUBLISH' {
  return redis instanceof Redis ? 'PUBLISH' : 'SPUBLISH';
}

/** Publishes as the scripts do (publishCommand). */
export async function publish(redis: RedisClient, channel: string, message: string): Promise<void> {
  await (redis instanceof Redis ? redis.publish(channel, message) : redis.spublish(channel, message));
}

/** Maintenance only: the keys matching `pattern`, a SCAN page at a time, on the one Redis or on every master of a cluster. */
export async function* scanKeys(redis: RedisClient, pattern: string, count: number): AsyncGenerator<string[]> {
  for (const node of masters(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}

/** GET of many keys: one MGET on one Redis, a pipeline per hash tag on a cluster. */
export async function mgetAcross(redis: RedisClient, keys: readonly string[]): Promise<Array<string | null>> {
  if (redis instanceof Redis) return redis.mget(...keys);
  return (
    await pipelineAcross(
      redis,
      keys.map((k): Queued => [k, (p) => p.get(k)]),
    )
  ).map(([err, v]) => {
    if (err) throw err;
    return v as string | null;
  });
}

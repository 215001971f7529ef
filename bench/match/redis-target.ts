/**
 * The Redis a matchmaking bench runs against (`--redis`): the shared one under a fresh key
 * prefix, a private redis-server, or a private Redis Cluster of 3 masters + 3 replicas
 * (tests/support/redis-cluster.ts). It gives the servers their settings and the bench one plain
 * connection per node, so Redis CPU is read per master (INFO cpu) rather than for "Redis".
 */
import { Redis } from 'ioredis';
import { createTestRedis } from '../../tests/support/databases';
import { startRedisCluster } from '../../tests/support/redis-cluster';
import { startRedisServer } from '../../tests/support/redis-server';
import { uniquePrefix } from '../lib/redis';
import { evenRanges, type SlotRange } from './pools';

export type RedisKind = 'shared' | 'private' | 'cluster';

export interface BenchNode {
  /** `host:port` */
  address: string;
  redis: Redis;
}

export interface BenchRedis extends AsyncDisposable {
  kind: RedisKind;
  /** REDIS_URL for the servers (on a cluster, one of its nodes: REDIS_CLUSTER_NODES replaces it). */
  url: string;
  prefix: string;
  /** What a server needs beyond REDIS_URL and REDIS_PREFIX. */
  env: Record<string, string>;
  masters: BenchNode[];
  replicas: BenchNode[];
  /**
   * Which master serves which slots. One Redis stands for the three masters a cluster would
   * have, so pool names are chosen the same way for both (see pools.ts).
   */
  ranges: SlotRange[];
}

export async function openBenchRedis(kind: RedisKind): Promise<BenchRedis> {
  if (kind === 'cluster') return openCluster();
  const own = kind === 'private' ? await startRedisServer() : null;
  try {
    const kv = await createTestRedis(own?.url);
    const redis = new Redis(kv.url);
    return {
      kind,
      url: kv.url,
      prefix: kv.prefix,
      env: {},
      masters: [{ address: new URL(kv.url).host, redis }],
      replicas: [],
      ranges: evenRanges(3),
      async [Symbol.asyncDispose]() {
        redis.disconnect();
        await kv[Symbol.asyncDispose]();
        await own?.[Symbol.asyncDispose]();
      },
    };
  } catch (e) {
    await own?.[Symbol.asyncDispose]();
    throw e;
  }
}

async function openCluster(): Promise<BenchRedis> {
  const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  const nodes: BenchNode[] = [];
  try {
    for (const n of cluster.nodes) nodes.push({ address: `127.0.0.1:${n.port}`, redis: new Redis(n.port, '127.0.0.1') });
    const shards = (await nodes[0]!.redis.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, string], ...unknown[]]>;
    const ranges = shards.map(([from, to, [host, port]]) => ({ from, to, master: `${host}:${port}` })).sort((a, b) => a.from - b.from);
    const isMaster = (n: BenchNode) => ranges.some((r) => r.master === n.address);
    return {
      kind: 'cluster',
      url: `redis://${nodes[0]!.address}`,
      // A throw-away cluster: nothing else's keys to keep apart, but the same shape of prefix.
      prefix: uniquePrefix(),
      env: { REDIS_CLUSTER_NODES: cluster.nodesSetting },
      masters: [...new Set(ranges.map((r) => r.master))].map((m) => nodes.find((n) => n.address === m)!),
      replicas: nodes.filter((n) => !isMaster(n)),
      ranges,
      async [Symbol.asyncDispose]() {
        for (const n of nodes) n.redis.disconnect();
        await cluster[Symbol.asyncDispose]();
      },
    };
  } catch (e) {
    for (const n of nodes) n.redis.disconnect();
    await cluster[Symbol.asyncDispose]();
    throw e;
  }
}

/**
 * The dependencies a chaos system runs on, each private to the scenario so a fault touches no one
 * else's data: Redis (one private redis-server behind a fault proxy, or a private Redis Cluster)
 * and a database (a fresh one on the shared Postgres, or a private Postgres cluster to stop),
 * behind a fault proxy too. Both sides say how the app reaches them and how the inspector reads
 * them directly, past the proxies.
 *
 * A cluster has no proxy: a cluster client connects to the addresses the cluster announces
 * (CLUSTER SLOTS), around any proxy. Its faults are the cluster's own (a master killed, a slot
 * moved), injected through the RedisCluster helper.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../../support/databases';
import { startFaultProxy, type FaultProxy } from '../../support/fault-proxy';
import { startPostgresServer, type PostgresServer } from '../../support/postgres-server';
import { startRedisCluster, type RedisCluster } from '../../support/redis-cluster';
import { startRedisServer, type RedisServer } from '../../support/redis-server';
import type { RedisTarget } from './inspector';

const SHARED_POSTGRES = { host: '127.0.0.1', port: 5432 };

/** Undo steps, run in reverse order; each step's failure is ignored so the rest still run. */
type Cleanups = Array<() => Promise<unknown>>;

/** How the app and the inspector reach the scenario's Redis. */
interface RedisSide {
  /** The app's Redis URL (startTestApp's `redisUrl`; on a cluster only a seed, the env decides). */
  redisUrl: string;
  /** Settings that point the app at it (REDIS_CLUSTER_NODES on a cluster). */
  redisEnv: Record<string, string>;
  inspectorRedis: RedisTarget;
}

export interface SingleRedis extends RedisSide {
  redis: RedisServer;
  redisProxy: FaultProxy;
}

export interface ClusterRedis extends RedisSide {
  cluster: RedisCluster;
}

export interface Deps {
  postgres: PostgresServer | null;
  pgProxy: FaultProxy;
  /** The app's database URL (through the proxy) and the inspector's (direct). */
  databaseUrl: string;
  directDatabaseUrl: string;
  dataDir: string;
  release(): Promise<void>;
}

/** A private redis-server (optionally with AOF) behind a fault proxy. */
export function singleRedis(o: { aof?: boolean }) {
  return async (cleanups: Cleanups): Promise<SingleRedis> => {
    const redis = await startRedisServer({ appendonly: o.aof ?? false });
    cleanups.push(() => redis[Symbol.asyncDispose]());
    const redisProxy = await startFaultProxy({ targetHost: '127.0.0.1', targetPort: redis.port });
    cleanups.push(() => redisProxy.close());
    return { redis, redisProxy, redisUrl: `redis://127.0.0.1:${redisProxy.port}`, redisEnv: {}, inspectorRedis: { url: redis.url } };
  };
}

/** A private Redis Cluster, 3 masters + 3 replicas (tests/support/redis-cluster.ts). */
export async function clusterRedis(cleanups: Cleanups): Promise<ClusterRedis> {
  const cluster = await startRedisCluster();
  cleanups.push(async () => cluster[Symbol.asyncDispose]());
  return {
    cluster,
    redisUrl: cluster.nodes[0]!.url,
    redisEnv: { REDIS_CLUSTER_NODES: cluster.nodesSetting },
    inspectorRedis: { clusterNodes: cluster.nodesSetting },
  };
}

/** Redis as `redis` starts it, a database (fresh on the shared Postgres, or a private cluster), a proxy in front of the database. */
export async function startDeps<R extends RedisSide>(redis: (cleanups: Cleanups) => Promise<R>, o: { privatePostgres?: boolean }): Promise<Deps & R> {
  const cleanups: Cleanups = [];
  const release = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const dataDir = mkdtempSync(join(tmpdir(), 'rv-chaos-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const side = await redis(cleanups);
    let postgres: PostgresServer | null = null;
    let db: TestDatabase | null = null;
    if (o.privatePostgres) {
      postgres = await startPostgresServer();
      const pg = postgres;
      cleanups.push(() => pg[Symbol.asyncDispose]());
    } else {
      db = await createTestDatabase();
      const d = db;
      cleanups.push(() => d.drop());
    }
    const target = postgres ? { host: '127.0.0.1', port: postgres.port } : SHARED_POSTGRES;
    const pgProxy = await startFaultProxy({ targetHost: target.host, targetPort: target.port });
    cleanups.push(() => pgProxy.close());
    const dbName = db?.name ?? 'postgres';
    return {
      ...side,
      postgres,
      pgProxy,
      databaseUrl: `postgres://postgres@127.0.0.1:${pgProxy.port}/${dbName}`,
      directDatabaseUrl: postgres ? postgres.url : db!.url,
      dataDir,
      release,
    };
  } catch (e) {
    await release();
    throw e;
  }
}

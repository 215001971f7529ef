/**
 * Isolation on the SHARED Postgres and Redis, for tests that only need somewhere to put data.
 * (Tests that stop/kill/pause a dependency must use startPostgresServer()/startRedisServer().)
 *
 *   await using db = await createTestDatabase();    // fresh database, dropped on dispose
 *   await using kv = await createTestRedis();       // unique key root prefix, SCAN+UNLINK on dispose
 *   const app = createApp({ databaseUrl: db.url, redisUrl: kv.url, redisPrefix: kv.prefix });
 *
 * Everything here only ever touches the database / keys it created itself.
 */
import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig } from '../../server/config';
import { clusterNodes, connectRedis, type RedisClient } from '../../server/infra/redis';
import { testClusterNodes } from './redis-target';

const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface TestDatabase extends AsyncDisposable {
  /** Connection string of the new database (admin URL with the database name swapped). */
  readonly url: string;
  readonly name: string;
  /**
   * Terminates remaining connections, then drops the database. Idempotent.
   * Close the app's pools first: a terminated connection emits 'error' (57P01) on its pg
   * Client/Pool, which crashes the process if nothing listens for it.
   */
  drop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates an empty database `rvtest_<time>_<random>` (from template0, so concurrent creates never
 * collide on "source database is being accessed by other users") on
 * `TEST_DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/postgres).
 */
export async function createTestDatabase(adminUrl = process.env.TEST_DATABASE_URL ?? DEFAULT_ADMIN_URL): Promise<TestDatabase> {
  const name = `rvtest_${Date.now().toString(36)}_${randomBytes(5).toString('hex')}`;
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0`));

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;

  let dropping: Promise<void> | undefined;
  const drop = () =>
    (dropping ??= withAdmin(adminUrl, async (client) => {
      await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    }).catch((err: unknown) => {
      dropping = undefined; // allow a retry
      throw err;
    }));

  return { url: url.toString(), name, drop, [Symbol.asyncDispose]: drop };
}

export interface TestRedis extends AsyncDisposable {
  /** The shared Redis URL (TEST_REDIS_URL, default redis://127.0.0.1:6379). */
  readonly url: string;
  /** Unique key root prefix (`t` + 8 chars) to use instead of `rv`: keys look like `<prefix>:{p:global}:user:x`. */
  readonly prefix: string;
  /** Settings that point a server's config at this Redis (REDIS_CLUSTER_NODES in the cluster project). */
  readonly env: Record<string, string>;
  /** A new connection to this Redis (a cluster client in the cluster project), with the server's options. */
  connect(name?: string): Promise<RedisClient>;
  /**
   * SCANs (never KEYS) for `<prefix>*` and UNLINKs in batches; returns how many keys it removed.
   * Call it after the code under test has stopped writing: SCAN may miss keys created meanwhile.
   */
  cleanup(): Promise<number>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Picks a unique key root prefix for the shared Redis, or for `given` (after checking it is
 * reachable). In the `cluster` test project the keys live on the run's Redis Cluster instead.
 */
export async function createTestRedis(given?: string): Promise<TestRedis> {
  const url = given ?? process.env.TEST_REDIS_URL ?? DEFAULT_REDIS_URL;
  const prefix = `t${randomBytes(4).toString('hex')}`;
  // Fail fast with a clear message if the shared Redis isn't there.
  await withRedis(url, (redis) => redis.ping()).catch((err: unknown) => {
    throw new Error(`shared Redis at ${url} is not reachable: ${String(err)}`);
  });

  // A test that names its own Redis (a private server) gets that one, in either project.
  const cluster = given === undefined ? testClusterNodes() : undefined;
  const cleanup = () =>
    (cluster
      ? withCluster(cluster, (c) => Promise.all(c.nodes('master').map((m) => unlinkOwn(m, prefix))))
      : withRedis(url, (redis) => unlinkOwn(redis, prefix)).then((n) => [n])
    ).then((ns) => ns.reduce((a, b) => a + b, 0));

  return {
    url,
    prefix,
    env: cluster ? { REDIS_CLUSTER_NODES: cluster } : {},
    connect: (name = 'test') => connectRedis(url, loadConfig({ NODE_ENV: 'test', REDIS_CLUSTER_NODES: cluster ?? '' }), name),
    cleanup,
    async [Symbol.asyncDispose]() {
      await cleanup();
    },
  };
}

/** SCANs one node for the prefix's keys and UNLINKs them (one key at a time: on a cluster they span slots). */
async function unlinkOwn(redis: Redis, prefix: string): Promise<number> {
  let removed = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    const pipe = redis.pipeline();
    for (const key of keys.filter((k) => ownsKey(prefix, k))) pipe.unlink(key);
    for (const [, n] of (await pipe.exec()) ?? []) removed += Number(n ?? 0);
  } while (cursor !== '0');
  return removed;
}

/** `<prefix>` followed by a separator: `tabc12345:x` and `tabc12345{x}` yes, `tabc123456:x` no. */
function ownsKey(prefix: string, key: string): boolean {
  if (!key.startsWith(prefix)) return false;
  const next = key.charAt(prefix.length);
  return next === '' || !/[A-Za-z0-9_-]/.test(next);
}

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function withRedis<T>(url: string, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5_000, retryStrategy: () => null });
  redis.on('error', () => undefined);
  await redis.connect();
  try {
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

async function withCluster<T>(nodes: string, fn: (cluster: Cluster) => Promise<T>): Promise<T> {
  const cluster = new Cluster(clusterNodes(nodes.split(',')), { lazyConnect: true, redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 5_000 } });
  cluster.on('error', () => undefined);
  await cluster.connect();
  try {
    return await fn(cluster);
  } finally {
    cluster.disconnect();
  }
}

function quoteIdent(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

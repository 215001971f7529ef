/**
 * The systems the scenarios break. Redis is always a private redis-server and every connection
 * of the app to Redis and Postgres goes through a fault proxy (tests/support/fault-proxy.ts), so a
 * scenario can kill, freeze, slow or cut a dependency without touching anyone else's data. The
 * inspector reads Redis and Postgres directly, past the proxies.
 *
 *   startInProcess   one server in this process (tests/support/app.ts); optionally its own
 *                    Postgres cluster (to stop it) and the LiveKit test double
 *   startProcesses   two servers as OS processes (tests/support/server-process.ts), same Redis,
 *                    same database, to SIGKILL one
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLiveKitDouble, type LiveKitDouble } from '../../livekit-double';
import { startTestApp, type TestApp } from '../../support/app';
import { createTestDatabase, type TestDatabase } from '../../support/databases';
import { startFaultProxy, type FaultProxy } from '../../support/fault-proxy';
import { startPostgresServer, type PostgresServer } from '../../support/postgres-server';
import { startRedisServer, type RedisServer } from '../../support/redis-server';
import { startServerProcess, type ServerProcess } from '../../support/server-process';
import { CHAOS_ENV } from './env';
import { Inspector } from './inspector';
import { killTree } from './process-tree';
import type { System } from './run';

const PREFIX = 'chaos';
const APP_CLOSE_MS = 15_000;

/** Whether `p` settled within `ms`. */
async function within(p: PromiseLike<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([Promise.resolve(p).then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}
const SHARED_POSTGRES = { host: '127.0.0.1', port: 5432 };

interface Deps {
  redis: RedisServer;
  redisProxy: FaultProxy;
  /** The app's Redis URL (through the proxy). */
  redisUrl: string;
  postgres: PostgresServer | null;
  pgProxy: FaultProxy;
  /** The app's database URL (through the proxy) and the inspector's (direct). */
  databaseUrl: string;
  directDatabaseUrl: string;
  dataDir: string;
  release(): Promise<void>;
}

/** Private Redis (optionally with AOF), a database (a fresh one on the shared Postgres, or a private cluster), proxies in front of both. */
async function startDeps(o: { aof?: boolean; privatePostgres?: boolean }): Promise<Deps> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const release = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const dataDir = mkdtempSync(join(tmpdir(), 'rv-chaos-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const redis = await startRedisServer({ appendonly: o.aof ?? false });
    cleanups.push(() => redis[Symbol.asyncDispose]());
    const redisProxy = await startFaultProxy({ targetHost: '127.0.0.1', targetPort: redis.port });
    cleanups.push(() => redisProxy.close());
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
      redis,
      redisProxy,
      redisUrl: `redis://127.0.0.1:${redisProxy.port}`,
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

export interface InProcessSystem extends System {
  app: TestApp;
  deps: Deps;
  livekitDouble: LiveKitDouble | null;
  /** Shutdown requests the resilience manager made (recorded instead of signalling the test runner). */
  shutdownRequests: string[];
}

export async function startInProcess(
  o: { aof?: boolean; privatePostgres?: boolean; livekit?: boolean; env?: Record<string, string> } = {},
): Promise<InProcessSystem> {
  const deps = await startDeps(o);
  let lk: LiveKitDouble | null = null;
  let app: TestApp | null = null;
  try {
    lk = o.livekit ? await startLiveKitDouble() : null;
    const lkEnv: Record<string, string> = lk ? { LIVEKIT_URL: lk.url, LIVEKIT_API_KEY: lk.apiKey, LIVEKIT_API_SECRET: lk.apiSecret } : {};
    const shutdownRequests: string[] = [];
    app = await startTestApp(
      { ...CHAOS_ENV, DATA_DIR: deps.dataDir, ...lkEnv, ...o.env },
      { redisUrl: deps.redisUrl, prefix: PREFIX, databaseUrl: deps.databaseUrl, onShutdownRequest: (reason) => shutdownRequests.push(reason) },
    );
    lk?.setWebhookUrl(`${app.url}/livekit/webhook`);
    const inspector = new Inspector(deps.redis.url, PREFIX, deps.directDatabaseUrl);
    const running = app;
    const double = lk;
    return {
      app: running,
      deps,
      livekitDouble: double,
      shutdownRequests,
      urls: [running.url],
      probeUrl: running.url,
      metricsUrls: () => [running.url],
      inspector,
      livekit: double !== null,
      async [Symbol.asyncDispose]() {
        inspector.close();
        // Bounded: a server that hit an uncaught exception (a crash in production) may never
        // finish its graceful close, e.g. a drain waiting on a query pg will never settle.
        await within(running[Symbol.asyncDispose](), APP_CLOSE_MS);
        await double?.close();
        await deps.release();
      },
    };
  } catch (e) {
    await app?.[Symbol.asyncDispose]();
    await lk?.close();
    await deps.release();
    throw e;
  }
}

export interface ProcessSystem extends System {
  servers: ServerProcess[];
  deps: Deps;
}

/** The servers themselves, not only their tsx wrappers (see process-tree.ts). */
async function stopAll(servers: ServerProcess[]): Promise<void> {
  for (const s of servers) {
    if (s.child.pid !== undefined) await killTree(s.child.pid, 'SIGKILL');
    await s[Symbol.asyncDispose]();
  }
}

export async function startProcesses(count = 2): Promise<ProcessSystem> {
  const deps = await startDeps({});
  const servers: ServerProcess[] = [];
  try {
    const env = { ...CHAOS_ENV, LOG_LEVEL: 'warn', DATA_DIR: deps.dataDir, DATABASE_URL: deps.databaseUrl, REDIS_URL: deps.redisUrl, REDIS_PREFIX: PREFIX };
    // One at a time: both would otherwise race to run the migrations (they take a lock, but start-up is also CPU-bound here).
    for (let i = 0; i < count; i++) servers.push(await startServerProcess(env));
    const inspector = new Inspector(deps.redis.url, PREFIX, deps.directDatabaseUrl);
    return {
      servers,
      deps,
      urls: servers.map((s) => s.url),
      probeUrl: servers.at(-1)!.url,
      metricsUrls: () => servers.filter((s) => s.child.exitCode === null && s.child.signalCode === null).map((s) => s.url),
      inspector,
      livekit: false,
      async [Symbol.asyncDispose]() {
        inspector.close();
        await stopAll(servers);
        await deps.release();
      },
    };
  } catch (e) {
    await stopAll(servers);
    await deps.release();
    throw e;
  }
}

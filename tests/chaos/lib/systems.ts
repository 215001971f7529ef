/**
 * The systems the scenarios break, on private dependencies (deps.ts): Redis is a private
 * redis-server behind a fault proxy, or a private Redis Cluster; the database is behind a fault
 * proxy. A scenario can kill, freeze, slow or cut a dependency without touching anyone else's
 * data. The inspector reads Redis and Postgres directly, past the proxies.
 *
 *   startInProcess   one server in this process (tests/support/app.ts); optionally its own
 *                    Postgres cluster (to stop it) and the LiveKit test double
 *   startOnCluster   the same server on a Redis Cluster (3 masters + 3 replicas), to kill a
 *                    master or move a slot
 *   startProcesses   two servers as OS processes (tests/support/server-process.ts), same Redis,
 *                    same database, to SIGKILL one
 */
import { startLiveKitDouble, type LiveKitDouble } from '../../livekit-double';
import { startTestApp, type TestApp } from '../../support/app';
import { startServerProcess, type ServerProcess } from '../../support/server-process';
import { clusterRedis, singleRedis, startDeps, type ClusterRedis, type Deps, type SingleRedis } from './deps';
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

export interface InProcessSystem<R = SingleRedis> extends System {
  app: TestApp;
  deps: Deps & R;
  livekitDouble: LiveKitDouble | null;
  /** Shutdown requests the resilience manager made (recorded instead of signalling the test runner). */
  shutdownRequests: string[];
}

interface InProcessOptions {
  privatePostgres?: boolean;
  livekit?: boolean;
  env?: Record<string, string>;
}

export async function startInProcess(o: InProcessOptions & { aof?: boolean } = {}): Promise<InProcessSystem> {
  return inProcessOn(await startDeps(singleRedis(o), o), o);
}

export async function startOnCluster(o: InProcessOptions = {}): Promise<InProcessSystem<ClusterRedis>> {
  return inProcessOn(await startDeps(clusterRedis, o), o);
}

/** One server in this process on `deps`, which it releases when it is disposed (or fails to start). */
async function inProcessOn<R extends SingleRedis | ClusterRedis>(deps: Deps & R, o: InProcessOptions): Promise<InProcessSystem<R>> {
  let lk: LiveKitDouble | null = null;
  let app: TestApp | null = null;
  try {
    lk = o.livekit ? await startLiveKitDouble() : null;
    const lkEnv: Record<string, string> = lk ? { LIVEKIT_URL: lk.url, LIVEKIT_API_KEY: lk.apiKey, LIVEKIT_API_SECRET: lk.apiSecret } : {};
    const shutdownRequests: string[] = [];
    app = await startTestApp(
      { ...CHAOS_ENV, DATA_DIR: deps.dataDir, ...deps.redisEnv, ...lkEnv, ...o.env },
      { redisUrl: deps.redisUrl, prefix: PREFIX, databaseUrl: deps.databaseUrl, onShutdownRequest: (reason) => shutdownRequests.push(reason) },
    );
    lk?.setWebhookUrl(`${app.url}/livekit/webhook`);
    const inspector = new Inspector(deps.inspectorRedis, PREFIX, deps.directDatabaseUrl);
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
  deps: Deps & SingleRedis;
}

/** The servers themselves, not only their tsx wrappers (see process-tree.ts). */
async function stopAll(servers: ServerProcess[]): Promise<void> {
  for (const s of servers) {
    if (s.child.pid !== undefined) await killTree(s.child.pid, 'SIGKILL');
    await s[Symbol.asyncDispose]();
  }
}

export async function startProcesses(count = 2): Promise<ProcessSystem> {
  const deps = await startDeps(singleRedis({}), {});
  const servers: ServerProcess[] = [];
  try {
    const env = { ...CHAOS_ENV, LOG_LEVEL: 'warn', DATA_DIR: deps.dataDir, DATABASE_URL: deps.databaseUrl, REDIS_URL: deps.redisUrl, REDIS_PREFIX: PREFIX };
    // One at a time: both would otherwise race to run the migrations (they take a lock, but start-up is also CPU-bound here).
    for (let i = 0; i < count; i++) servers.push(await startServerProcess(env));
    const inspector = new Inspector(deps.inspectorRedis, PREFIX, deps.directDatabaseUrl);
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

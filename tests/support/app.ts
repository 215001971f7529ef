/**
 * Starts a real Rendezvous server in-process on port 0, against a fresh database on the shared
 * Postgres (or `databaseUrl`) and a unique key prefix on the shared Redis (or `redisUrl`).
 * Everything is torn down on dispose, even when the test failed.
 */
import { loadConfig, type Config } from '../../server/config';
import { startServer, type RunningServer, type StartOptions } from '../../server/app';
import { createTestDatabase, createTestRedis } from './databases';
import { UNLIMITED_RATES } from './unlimited-rates';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
const SECRET = 'test-session-secret-0123456789abcdef';

export interface TestApp extends AsyncDisposable {
  server: RunningServer;
  cfg: Config;
  url: string;
  wsUrl: string;
  prefix: string;
  databaseUrl: string;
  redisUrl: string;
  /** Settings that point another server at the same Redis (REDIS_CLUSTER_NODES in the cluster project). */
  redisEnv: Record<string, string>;
}

export async function startTestApp(
  env: Record<string, string> = {},
  opts: { redisUrl?: string; databaseUrl?: string; prefix?: string } & Partial<StartOptions> = {},
): Promise<TestApp> {
  const db = opts.databaseUrl ? null : await createTestDatabase();
  const kv = opts.redisUrl && opts.prefix ? null : await createTestRedis(opts.redisUrl);
  const prefix = opts.prefix ?? kv!.prefix;
  const release = async () => {
    await kv?.cleanup().catch(() => {});
    await db?.drop().catch(() => {});
  };
  try {
    return await start();
  } catch (e) {
    await release();
    throw e;
  }

  async function start(): Promise<TestApp> {
    const cfg = loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      REDIS_PREFIX: prefix,
      ADMIN_TOKEN,
      SESSION_SECRET: SECRET,
      MATCH_SWEEP_INTERVAL_MS: '100',
      OUTBOX_BLOCK_MS: '50',
      OUTBOX_LINGER_MS: '10',
      // Every test client connects from 127.0.0.1: the per-address bounds are tested on their own.
      WS_MAX_PER_IP: '100000',
      HTTP_RATE_PER_IP: '1000000',
      WS_MESSAGES_PER_SECOND: '100000',
      ...UNLIMITED_RATES,
      ...kv?.env,
      ...env,
    });
    const redisUrl = opts.redisUrl ?? kv!.url;
    const databaseUrl = opts.databaseUrl ?? db!.url;
    const server = await startServer(cfg, { ...opts, redisUrl, databaseUrl, sessionSecret: SECRET });
    return {
      server,
      cfg,
      url: server.url,
      wsUrl: server.url.replace('http', 'ws') + '/trpc',
      prefix,
      databaseUrl,
      redisUrl,
      redisEnv: cfg.REDIS_CLUSTER_NODES.length > 0 ? { REDIS_CLUSTER_NODES: cfg.REDIS_CLUSTER_NODES.join(',') } : {},
      async [Symbol.asyncDispose]() {
        await server.close().catch(() => {});
        await release();
      },
    };
  }
}

/**
 * `npm start`: read the environment once, resolve the embedded defaults (PGlite when
 * DATABASE_URL is unset; local or spawned Redis when neither REDIS_URL nor REDIS_CLUSTER_NODES is set), start the server and
 * shut it down gracefully on SIGTERM/SIGINT (forced after SHUTDOWN_TIMEOUT_MS).
 */
import { ConfigError, loadConfig } from './config';
import { startServer } from './app';
import { StartupError, resolveRedis } from './infra/embedded-redis';
import { createLogger } from './infra/logger';
import { installLastResort } from './infra/last-resort';
import { resolveSessionSecret } from './session/secret';

async function main(): Promise<void> {
  const cfg = loadConfig();
  const log = createLogger(cfg);
  // A cluster is used as configured; a single Redis may be resolved to a local or spawned one.
  const redis =
    cfg.REDIS_CLUSTER_NODES.length > 0
      ? { url: `redis-cluster://${cfg.REDIS_CLUSTER_NODES.join(',')}`, stop: async () => {} }
      : await resolveRedis(cfg.REDIS_URL, cfg.DATA_DIR);
  const server = await startServer(cfg, { redisUrl: redis.url, databaseUrl: cfg.DATABASE_URL, sessionSecret: resolveSessionSecret(cfg), log });
  installLastResort(log, server.services.metrics);
  log.info(`Open http://localhost:${server.port} in two browser tabs to try it.`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown timed out; exiting');
      process.exit(1);
    }, cfg.SHUTDOWN_TIMEOUT_MS);
    force.unref();
    void server
      .close()
      .then(() => redis.stop())
      .then(() => process.exit(0))
      .catch((e: unknown) => {
        log.error({ err: e }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((e: unknown) => {
  if (e instanceof ConfigError || e instanceof StartupError) {
    process.stderr.write(`rendezvous: ${e.message}\n`);
  } else {
    process.stderr.write(`rendezvous: failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  }
  process.exit(1);
});

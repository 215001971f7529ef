/**
 * The composition root: builds every service once from a validated Config and the resolved
 * Redis/Postgres locations, wires the HTTP server (client, tRPC over HTTP and WebSocket,
 * health, metrics) and returns a handle that shuts it all down in order. No module creates a
 * connection on import; tests start as many of these as they like on port 0.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Config } from './config';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DeadLetterQueue } from './audit/dead-letter-queue';
import { OutboxDrain } from './audit/drain';
import { AuditRecorder, recordBreaker, recordError, recordRecovery } from './audit/recorder';
import { AuditRetention } from './audit/retention';
import { ErrorSpool } from './audit/spool';
import { createResilience, resilienceConfigFromEnv } from './resilience';
import { rollbackMatch, rollbackUser } from './checkpoint/restore';
import { EventHub } from './events/hub';
import { listen } from './http/listen';
import { createRoutes, metricsHandler } from './http/routes';
import { limitError } from './http/limits';
import { CLOSE_SESSION_EXPIRED, CLOSE_SESSION_REVOKED, SocketGuard } from './http/socket-guard';
import { logTrpcWsError } from './http/trpc-errors';
import { attachWebSocket } from './http/ws';
import { LimitExceededError } from './state/errors';
import { createLogger, type Logger } from './infra/logger';
import { createMetrics } from './infra/metrics';
import { migrate, openDatabase, type Database } from './infra/postgres';
import { connectRedis } from './infra/redis';
import { reachable } from './infra/startup';
import { MatchService } from './match/service';
import { CleanupJob } from './presence/cleanup';
import { EpochGuard, type RecoveryRecord } from './checkpoint/epoch';
import { Checkpointer } from './checkpoint/snapshot';
import { VersionFloors } from './checkpoint/version-floors';
import { PresenceService } from './presence/service';
import { createRooms } from './rooms';
import { roomsOptions } from './rooms/options';
import type { Services } from './services';
import { systemClock, type Clock } from './shared/clock';
import { StateStore, stateLimits } from './state/store';
import { sessionEnded, wsContext } from './trpc/context';
import { Refusals } from './trpc/refusals';
import { WindowCounter } from './shared/window-counter';
import { appRouter } from './trpc/router';

// A pool paused for a data inconsistency resumes by itself after this, unless an operator acts sooner.
const POOL_PAUSE_MS = 5 * 60_000;
const CLIENT_DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../client/dist');

export interface StartOptions {
  redisUrl: string;
  /** Undefined: embedded PGlite under cfg.DATA_DIR. */
  databaseUrl?: string;
  sessionSecret: string;
  clock?: Clock;
  log?: Logger;
  /** Run the background jobs (drain, match tick). Tests may turn them off to drive them by hand. */
  background?: boolean;
  /** A critical system failure asks for a graceful shutdown (default: SIGTERM to ourselves). */
  onShutdownRequest?: (reason: string) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  services: Services;
  drain: OutboxDrain;
  cleanup: CleanupJob;
  /** Graceful: stop taking work, tell clients to reconnect, flush the outbox, close connections. */
  close(): Promise<void>;
}

export async function startServer(cfg: Config, opts: StartOptions): Promise<RunningServer> {
  const log = opts.log ?? createLogger(cfg);
  const clock = opts.clock ?? systemClock;
  const metrics = createMetrics();
  const refusals = new Refusals(metrics, log, clock);
  const database: Database = await reachable('postgres', opts.databaseUrl, async () => {
    const d = await openDatabase(opts.databaseUrl, cfg.DATA_DIR);
    await migrate(d).catch(async (e: unknown) => {
      await d.close().catch(() => {});
      throw e;
    });
    return d;
  });
  const redis = await reachable('redis', opts.redisUrl, () => connectRedis(opts.redisUrl, cfg, 'cmd'));
  const sub = await connectRedis(opts.redisUrl, cfg, 'sub');
  const drainConn = await connectRedis(opts.redisUrl, cfg, 'drain');

  const store = new StateStore(redis, cfg.REDIS_PREFIX, stateLimits(cfg), clock);
  const audit = new AuditRecorder(
    redis,
    store.keys,
    new ErrorSpool({ dir: join(cfg.DATA_DIR, 'audit-spool'), maxBytes: cfg.AUDIT_SPOOL_MAX_BYTES }),
    { appendTimeoutMs: cfg.AUDIT_APPEND_TIMEOUT_MS, spoolRetryMs: cfg.AUDIT_SPOOL_RETRY_MS },
    log,
    clock,
  );
  const retention = new AuditRetention(
    database.db,
    { retentionDays: cfg.AUDIT_RETENTION_DAYS, monthsAhead: cfg.AUDIT_PARTITIONS_AHEAD, intervalMs: cfg.AUDIT_MAINTENANCE_INTERVAL_MS },
    log,
    clock,
  );
  // A user's streams: every socket's subscriptions (bounded each), SSE requests included.
  const hub = new EventHub(redis, sub, store.keys, store, { maxStreamsPerUser: cfg.WS_MAX_PER_USER * cfg.WS_MAX_SUBSCRIPTIONS });
  store.poolHint = (uid) => hub.poolHint(uid);
  const match = new MatchService(store, redis, database, metrics, log, {
    tickMs: cfg.MATCH_SWEEP_INTERVAL_MS,
    pools: { languages: cfg.POOL_LANGUAGES, regions: cfg.POOL_REGIONS },
    maxBlocks: cfg.BLOCKS_MAX_PER_USER,
  });
  const rooms = createRooms({
    store,
    redis,
    audit,
    opts: roomsOptions(cfg),
    clock,
    log,
    // Forged webhooks are counted here; the handler samples their log lines together with their
    // audit rows itself (one sample is both), so they skip Refusals' own sampled line.
    onRefused: (reason) => metrics.refused.inc({ reason }),
    policyHooks: {
      // The rooms domain owns the one LiveKit breaker; its changes feed the shared resilience hooks
      // (logs, breaker_state metrics, breaker_events audit). Those hooks are guarded: they never throw.
      onBreak: () => resilience.hooks.onBreakerState('livekit', 'open'),
      onReset: () => resilience.hooks.onBreakerState('livekit', 'closed'),
      onRetry: (attempt, err) => resilience.hooks.onRetry('livekit', attempt, 0, err),
    },
  });
  rooms.attach();
  // Only LiveKit matches have rooms to delete; direct mode skips the per-leave lookup.
  if (rooms.livekit) match.roomTeardown = (pool, matchId, reason) => rooms.service.endForMatch(pool, matchId, reason);
  const presence = new PresenceService<WebSocket>(
    store,
    { graceMs: cfg.RECONNECT_GRACE_MS, timeoutMs: cfg.HEARTBEAT_TIMEOUT_MS, refreshMs: cfg.HEARTBEAT_INTERVAL_MS, sweepMs: cfg.PRESENCE_SWEEP_INTERVAL_MS },
    log,
    {
      onSweep: (r) => {
        metrics.presenceSweep.inc({ kind: 'silent' }, r.silent);
        metrics.presenceSweep.inc({ kind: 'disconnected' }, r.disconnected);
        metrics.presenceSweep.inc({ kind: 'back' }, r.back);
      },
    },
  );
  const cleanup = new CleanupJob(
    redis,
    store,
    clock,
    {
      intervalMs: cfg.CLEANUP_INTERVAL_MS,
      lockTtlMs: cfg.CLEANUP_LOCK_TTL_MS,
      batch: cfg.CLEANUP_BATCH,
      idleTtlMs: cfg.IDLE_TTL_MS,
      evTtlMs: cfg.EVENT_HISTORY_TTL_MS,
      opTtlMs: cfg.IDEMPOTENCY_TTL_MS,
    },
    log,
    {
      onRun: (r) => {
        // Audited as a recovery from stale state, so analysts see every run's counts and duration.
        void recordRecovery(audit, { failureType: 'stale_state', strategy: 'cleanup', outcome: 'recovered', durationMs: r.durationMs, context: { ...r } });
        metrics.cleanupRuns.inc();
        metrics.cleanupDuration.set(r.durationMs / 1000);
        metrics.cleanupFixed.inc({ kind: 'orphan' }, r.orphans);
        metrics.cleanupFixed.inc({ kind: 'broken_pair' }, r.brokenPairs);
        metrics.cleanupFixed.inc({ kind: 'ttl' }, r.ttlsSet);
      },
    },
  );
  // Snapshots and checkpoint reads run under the Postgres policy (resilience is built just below).
  const checkpoints = new Checkpointer(redis, store, database.db, clock, (fn) => resilience.policies.postgres.execute(fn));
  const resilience = createResilience({
    config: resilienceConfigFromEnv(cfg),
    registry: metrics.registry,
    clock,
    log,
    // Asked while a breaker is open, outside every policy: the first answer ends the open period.
    checks: { redis: () => redis.ping(), postgres: () => database.exec('select 1') },
    audit: {
      error: (r) => recordError(audit, r),
      recovery: (r) => recordRecovery(audit, r),
      breaker: (dependency, state, at) => recordBreaker(audit, { dependency, state, at, instance: `${hostname()}:${process.pid}` }),
    },
    actions: {
      pausePool: (pool, r) => store.pausePool(pool, r.code ?? 'paused', POOL_PAUSE_MS),
      flagOperator: (r) => log.error({ alert: r }, `operator attention needed: ${r.code ?? r.type} in ${r.operation ?? 'unknown'}`),
      endSession: (userId, r) => presence.endSession(userId, r.code ?? 'security', cfg.SESSION_TTL_MS, endRevoked),
      shutdown: (reason) => (opts.onShutdownRequest ?? (() => process.kill(process.pid, 'SIGTERM')))(reason),
      rollbackToCheckpoint: async (subject) => {
        await (subject.startsWith('match:')
          ? rollbackMatch(store, checkpoints, subject.slice(6), 'recovery')
          : rollbackUser(store, checkpoints, subject.replace(/^user:/, ''), 'recovery'));
      },
    },
  });
  // Redis's own word that it is back (ioredis reconnected): the breaker need not wait for a check.
  redis.on('ready', () => resilience.policies.redis.markBack());
  const recordRecoveryRow = async (r: RecoveryRecord) => {
    await recordRecovery(audit, {
      failureType: r.failureType,
      strategy: r.strategy,
      outcome: r.outcome === 'restored' ? 'recovered' : 'failed',
      durationMs: r.durationMs,
      context: r.context,
    });
  };
  const epoch = new EpochGuard(
    redis,
    store,
    checkpoints,
    clock,
    log,
    { lookbackMs: cfg.CHECKPOINT_LOOKBACK_MS, holdMs: cfg.REDIS_COMMAND_TIMEOUT_MS, idleTtlMs: cfg.IDLE_TTL_MS },
    recordRecoveryRow,
  );
  // Every state script runs in its pool's bulkhead and under the Redis policy (breaker, retry: the
  // scripts carry op ids or are conditional on state, so a retry never applies twice), and after a
  // reconnect only once the epoch guard has checked that Redis still holds our data. The rebuild's
  // own scripts (the recovery itself) run as they are, even while the breaker is still open.
  store.guard = (pool, fn) => resilience.policies.pools.get(pool).execute(() => resilience.policies.redis.execute(() => epoch.hold(fn)));
  // Blocks are written to Postgres under its policy (retry, breaker): a refusal is a clear "try again".
  match.postgres = (fn) => resilience.policies.postgres.execute(fn);
  // Reads share the Redis breaker but are not retried: a read in front of a call fails fast, and an
  // open breaker refuses it at once with the friendly "try again in a few seconds".
  store.readGuard = (fn) => resilience.policies.redis.executeOnce(fn);
  // After a data loss, users first seen again continue their versions from the audit trail.
  store.onMissingUser = new VersionFloors({
    redis,
    keys: store.keys,
    lastSeen: (uid) => checkpoints.lastSeen(uid),
    run: (pool, fn) => store.guard(pool, fn),
    window: epoch,
    clock,
    log,
    idleTtlMs: cfg.IDLE_TTL_MS,
  }).seed;
  await epoch.check();
  epoch.watch();
  const svc: Services = {
    cfg,
    clock,
    log,
    sessionSecret: opts.sessionSecret,
    redis,
    database,
    store,
    hub,
    match,
    presence,
    checkpoints,
    rooms,
    audit,
    // Retries write through the drain's writer under the same Postgres policy as the drain.
    deadLetters: new DeadLetterQueue(database.db, (fn) => resilience.policies.postgres.execute(fn)),
    resilience,
    metrics,
    refusals,
  };

  const drain = new OutboxDrain(
    drainConn,
    database.db,
    store.keys,
    // Every registered pool (bounded by POOL_LANGUAGES x POOL_REGIONS, one XREADGROUP for all):
    // a record must never wait for its pool to look active.
    () => store.pools(),
    {
      batch: cfg.OUTBOX_BATCH,
      blockMs: cfg.OUTBOX_BLOCK_MS,
      lingerMs: cfg.OUTBOX_LINGER_MS,
      claimIdleMs: cfg.OUTBOX_CLAIM_IDLE_MS,
      maxDeliveries: cfg.OUTBOX_MAX_DELIVERIES,
    },
    log,
    {
      onBatch: (rows) => metrics.auditRows.inc(rows),
      onLag: (lagMs) => metrics.outboxLag.set(lagMs / 1000),
      onDeadLetter: () => metrics.deadLetters.inc(),
      onRecords: (records) => {
        for (const r of records) if (r.kind === 'transition') metrics.transitions.inc({ from: r.from, to: r.to });
      },
    },
    // Every write of the drain (batches, dead letters) runs under the Postgres policy.
    (fn) => resilience.policies.postgres.execute(fn),
  );

  // One count per client address for plain requests and WebSocket upgrades alike.
  const ipRate = new WindowCounter(cfg.HTTP_RATE_PER_IP, 1000, clock);
  const server: Server = createServer(
    { maxHeaderSize: 16 * 1024 },
    createRoutes(svc, {
      router: appRouter,
      clientDir: CLIENT_DIST,
      connections: () => ws.connections,
      livekitClientUrl: rooms.livekit ? roomsOptions(cfg).livekit?.clientUrl : undefined,
      rate: ipRate,
    }),
  );
  // A request Node cannot parse (bad request line, oversized headers) is answered 400 and counted.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // A peer that hung up is not a malformed request.
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    refusals.count('malformed_http');
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  const metricsServer = cfg.METRICS_PORT === undefined ? null : createServer(metricsHandler(svc, () => ws.connections));

  /** How a socket of a revoked session ends, on every path: told why, then closed. */
  const endRevoked = (socket: WebSocket) => ws.endWith(socket, sessionEnded('revoked'), CLOSE_SESSION_REVOKED, 'session ended');
  const guard = new SocketGuard({
    maxPerIp: cfg.WS_MAX_PER_IP,
    authTimeoutMs: cfg.WS_AUTH_TIMEOUT_MS,
    trustProxy: cfg.TRUST_PROXY,
    clock,
    onExpired: (socket) => ws.endWith(socket, sessionEnded('expired'), CLOSE_SESSION_EXPIRED, 'session expired'),
    onRefused: (reason) => refusals.count(reason),
    rate: ipRate,
  });
  const ws = attachWebSocket(server, {
    router: appRouter,
    createContext: async (params, socket) => {
      const ctx = await wsContext(svc, params);
      if (ctx.session && presence.connections(ctx.session.userId) >= cfg.WS_MAX_PER_USER) {
        refusals.count('too_many_sockets_per_user');
        throw limitError(new LimitExceededError('TOO_MANY_CONNECTIONS', { max: cfg.WS_MAX_PER_USER }));
      }
      // A socket that closed while its token was checked never counts as present.
      if (ctx.session && socket.readyState === socket.OPEN) presence.attach(ctx.session.userId, socket);
      guard.authenticated(socket, ctx.session?.expiresAt ?? null);
      return ctx;
    },
    maxPayload: cfg.WS_MAX_PAYLOAD,
    maxSubscriptions: cfg.WS_MAX_SUBSCRIPTIONS,
    maxBatch: cfg.TRPC_MAX_BATCH,
    onRefused: (reason) => refusals.count(reason),
    messageRate: { perSecond: cfg.WS_MESSAGES_PER_SECOND, clock },
    onError: logTrpcWsError(log),
    log,
    adapter: cfg.WS_ADAPTER,
    allowedOrigins: cfg.ALLOWED_ORIGINS,
    trustProxy: cfg.TRUST_PROXY,
    guard,
    pingMs: cfg.HEARTBEAT_INTERVAL_MS,
    timeoutMs: cfg.HEARTBEAT_TIMEOUT_MS,
  });

  // A revoked session's sockets close on every process at once (StateStore.revoke publishes).
  await sub.subscribe(store.keys.revocations());
  sub.on('message', (channel: string, uid: string) => {
    if (channel === store.keys.revocations()) presence.closeAll(uid, endRevoked);
  });

  await listen(server, cfg.PORT, cfg.HOST);
  if (metricsServer) await listen(metricsServer, cfg.METRICS_PORT!, cfg.HOST);
  const port = (server.address() as AddressInfo).port;
  let checkpointTimer: NodeJS.Timeout | undefined;
  if (opts.background !== false) {
    drain.start();
    match.start();
    presence.start();
    rooms.start();
    cleanup.start();
    audit.start();
    retention.start();
    checkpointTimer = setInterval(() => {
      void (async () => {
        if (await cleanup.lead()) await checkpoints.snapshot();
      })().catch((err: unknown) => log.warn({ err }, 'checkpoint failed'));
    }, cfg.CHECKPOINT_INTERVAL_MS);
    checkpointTimer.unref();
  }
  log.info({ port, redis: opts.redisUrl, postgres: database.kind }, 'Rendezvous is listening');

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      match.stop();
      presence.stop();
      rooms.stop();
      clearInterval(checkpointTimer);
      epoch.stop();
      resilience.policies.stop();
      await cleanup.stop();
      server.close();
      metricsServer?.close();
      ws.broadcastReconnect();
      ws.close(1012, 'server restarting');
      // Room setups and deletions in flight finish (or are left to the durable queue) before Redis closes.
      await rooms.idle();
      await drain.stop();
      await drain.flush().catch((e: unknown) => log.warn({ err: e }, 'outbox flush at shutdown failed'));
      audit.stop();
      await retention.stop();
      server.closeAllConnections();
      redis.disconnect();
      sub.disconnect();
      drainConn.disconnect();
      await database.close();
    })());
  return { url: `http://127.0.0.1:${port}`, port, services: svc, drain, cleanup, close };
}

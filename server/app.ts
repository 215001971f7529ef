/**
 * The composition root: opens the connections, builds every service once from a validated Config
 * and the resolved Redis/Postgres locations (each with its collaborators as constructor
 * arguments), starts the HTTP side (server/http/serve.ts) and returns a handle that shuts it all
 * down in order. Start-up is two-phase: connections, then services; a step that fails closes
 * everything opened before it. No module creates a connection on import; tests start as many of
 * these as they like on port 0.
 */
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RedisClient } from './infra/redis';
import { DeadLetterQueue } from './audit/dead-letter-queue';
import type { OutboxDrain } from './audit/drain';
import { recordBreaker, recordError, recordRecovery } from './audit/recorder';
import { rollbackMatch, rollbackUser } from './checkpoint/restore';
import { Checkpointer } from './checkpoint/snapshot';
import { VersionFloors } from './checkpoint/version-floors';
import type { Config } from './config';
import { EventHub } from './events/hub';
import { serveHttp } from './http/serve';
import { createLogger, type Logger } from './infra/logger';
import { createMetrics } from './infra/metrics';
import { observeLive } from './infra/live-gauges';
import { migrate, openDatabase, type Database } from './infra/postgres';
import { connectRedis } from './infra/redis';
import { reachable } from './infra/startup';
import { RATE_ACTIONS, RateLimits, ipKey, rateRules, skipCooldown } from './safety/rate-limits';
import { REPORT_REASONS, Reports } from './safety/reports';
import { Moderation } from './safety/moderation';
import { SANCTION_KINDS, Sanctions } from './safety/sanctions';
import { Operators } from './operators/service';
import { decoyHash } from './operators/passwords';
import { OperatorActions } from './operators/actions';
import { Challenges } from './safety/challenges';
import { auditRecorder, auditRetention, cleanupJob, epochGuard, jobReporter, matchService, outboxDrain, presenceService } from './parts';
import type { CleanupJob } from './presence/cleanup';
import { OnlineStats } from './stats/online';
import { createResilience, resilienceConfigFromEnv } from './resilience';
import { createRooms } from './rooms';
import { roomsOptions } from './rooms/options';
import { ROOM_DELETION } from './rooms/room-deleter';
import type { Services } from './services';
import { createOps, createSwitches } from './ops';
import { systemClock, type Clock } from './shared/clock';
import { Closers } from './shared/closers';
import { PeriodicJob } from './shared/periodic';
import { WriteBatcher } from './shared/write-batch';
import { StateStore, stateLimits, type Guard } from './state/store';
import { Refusals } from './trpc/refusals';

// A pool paused for a data inconsistency resumes by itself after this, unless an operator acts sooner.
const POOL_PAUSE_MS = 5 * 60_000;
// An operator's disconnect refuses the session this long: the closed sockets' immediate reconnects fail,
// so the person sees they were disconnected; a reload after that works.
const DISCONNECT_REVOKE_MS = 5000;
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
  // Phase 1: connections. Whatever was opened is closed again if a later step fails.
  const opened = new Closers();
  try {
    const database: Database = await reachable('postgres', opts.databaseUrl, async () => {
      const d = await openDatabase(opts.databaseUrl, cfg.DATA_DIR);
      opened.add(() => d.close());
      await migrate(d);
      return d;
    });
    const connect = async (name: string) => {
      const r = await connectRedis(opts.redisUrl, cfg, name);
      opened.add(() => r.disconnect());
      return r;
    };
    const redis = await reachable('redis', opts.redisUrl, () => connect('cmd'));
    const sub = await connect('sub');
    const drainConn = await connect('drain');
    // Phase 2: the services, then the epoch check and the HTTP side; started last.
    return await compose(cfg, opts, { log, clock, database, redis, sub, drainConn }, opened);
  } catch (e) {
    await opened.closeAll();
    throw e;
  }
}

interface Connections {
  log: Logger;
  clock: Clock;
  database: Database;
  redis: RedisClient;
  sub: RedisClient;
  drainConn: RedisClient;
}

/**
 * Builds every service with its collaborators as constructor arguments. Some collaborators are
 * each other's (the store's guard uses the resilience policies and the epoch guard, which use
 * the store): those are passed as functions that reach the other service when called, which is
 * only ever after this function has returned.
 */
async function compose(cfg: Config, opts: StartOptions, c: Connections, opened: Closers): Promise<RunningServer> {
  const { log, clock, database, redis, sub, drainConn } = c;
  const metrics = createMetrics();
  const refusals = new Refusals(metrics, log, clock);
  // Known label values start at 0, so the first refusal, report or sanction shows as an increase.
  for (const action of Object.keys(RATE_ACTIONS)) metrics.rateLimited.inc({ action }, 0);
  for (const reason of REPORT_REASONS) metrics.reports.inc({ reason }, 0);
  for (const kind of SANCTION_KINDS) metrics.sanctions.inc({ kind }, 0);
  // One flush per event-loop turn for every socket this process writes to (WebSockets, Redis).
  const writes = new WriteBatcher();
  // Every state script runs in its pool's bulkhead and under the Redis policy (breaker, retry: the
  // scripts carry op ids or are conditional on state, so a retry never applies twice), and after a
  // reconnect only once the epoch guard has checked that Redis still holds our data. The rebuild's
  // own scripts (the recovery itself) run as they are, even while the breaker is still open.
  // The kill switches first: the store's match mode and the rate limits read them (server/ops/switches.ts).
  const switches = createSwitches(cfg, redis, clock, log, jobReporter(metrics));
  const guard: Guard = (pool, fn) => resilience.policies.pools.get(pool).execute(() => resilience.policies.redis.execute(() => epoch.hold(fn)));
  const store: StateStore = new StateStore(redis, cfg.REDIS_PREFIX, stateLimits(cfg), clock, {
    guard,
    // Reads share the Redis breaker but are not retried: a read in front of a call fails fast, and an
    // open breaker refuses it at once with the friendly "try again in a few seconds".
    readGuard: (fn) => resilience.policies.redis.executeOnce(fn),
    poolHint: (uid): string | null => hub.poolHint(uid),
    // After a data loss, users first seen again continue their versions from the audit trail.
    onMissingUser: (uid, pool) => floors.seed(uid, pool),
    matchMode: () => switches.matchMode(rooms.service.matchMode()),
    writes,
    // On a cluster, a pool whose scripts found no epoch is checked (rebuilt, if its master lost its data).
    checkPool: (pool) => epoch.checkPool(pool),
  });
  const audit = auditRecorder(cfg, redis, store.keys, log, clock, metrics);
  const retention = auditRetention(cfg, database, log, clock, metrics);
  // A user's streams: every socket's subscriptions (bounded each), SSE requests included.
  const hub = new EventHub(redis, sub, store.keys, store, { maxStreamsPerUser: cfg.WS_MAX_PER_USER * cfg.WS_MAX_SUBSCRIPTIONS });
  const rooms = createRooms({
    onJobRun: jobReporter(metrics),
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
      // The rooms domain owns the LiveKit breakers; their changes feed the shared resilience hooks
      // (logs, breaker_state metrics, breaker_events audit). Those hooks are guarded: they never throw.
      onBreakerState: (dependency, state) => resilience.hooks.onBreakerState(dependency, state),
      onRetry: (dependency, attempt, delayMs, err) => resilience.hooks.onRetry(dependency, attempt, delayMs, err),
    },
    // A room deletion LiveKit kept refusing is parked for an operator (admin.deadLetters).
    park: (p) =>
      deadLetters.park({
        id: `room:${p.pool}:${p.room}`,
        source: ROOM_DELETION,
        kind: 'room_deletion',
        payload: { pool: p.pool, room: p.room },
        error: p.error,
        attempts: p.attempts,
      }),
  });
  opened.add(() => rooms.stop());
  const match = matchService(
    cfg,
    { store, database, metrics, log },
    {
      // Only LiveKit matches have rooms to delete; direct mode skips the per-leave lookup.
      roomTeardown: rooms.livekit ? (pool, matchId, reason) => rooms.service.endForMatch(pool, matchId, reason) : undefined,
      // Blocks are written to Postgres under its policy (retry, breaker): a refusal is a clear "try again".
      postgres: (fn) => resilience.policies.postgres.execute(fn),
    },
  );
  const presence = presenceService(cfg, store, log, metrics);
  const cleanup = cleanupJob(cfg, { redis, store, clock, log, metrics, audit });
  // Snapshots and checkpoint reads run under the Postgres policy.
  const checkpoints = new Checkpointer(redis, store, database.db, clock, (fn) => resilience.policies.postgres.execute(fn));
  const resilience = createResilience({
    config: resilienceConfigFromEnv(cfg),
    registry: metrics.registry,
    clock,
    log,
    // Asked while a breaker is open, outside every policy: the first answer ends the open period.
    checks: { redis: () => redis.ping(), postgres: () => database.exec('select 1') },
    audit: {
      onError: (r) => recordError(audit, r),
      onRecovery: (r) => recordRecovery(audit, r),
      onBreakerState: (dependency, state) => recordBreaker(audit, { dependency, state, at: clock.now(), instance: `${hostname()}:${process.pid}` }),
    },
    actions: {
      pausePool: (pool, r) => store.pausePool(pool, r.code ?? 'paused', POOL_PAUSE_MS),
      flagOperator: (r) => log.error({ alert: r }, `operator attention needed: ${r.code ?? r.type} in ${r.operation ?? 'unknown'}`),
      endSession: (userId, r) => presence.endSession(userId, r.code ?? 'security', cfg.SESSION_TTL_MS, http.endRevoked),
      shutdown: (reason) => (opts.onShutdownRequest ?? (() => process.kill(process.pid, 'SIGTERM')))(reason),
      rollbackToCheckpoint: async (subject) => {
        await (subject.startsWith('match:')
          ? rollbackMatch(store, checkpoints, subject.slice(6), 'recovery')
          : rollbackUser(store, checkpoints, subject.replace(/^user:/, ''), 'recovery'));
      },
    },
  });
  opened.add(() => resilience.policies.stop());
  // Redis's own word that it is back (ioredis reconnected): the breaker need not wait for a check.
  redis.on('ready', () => resilience.policies.redis.markBack());
  const epoch = epochGuard(cfg, { redis, store, checkpoints, clock, log, audit });
  const floors = new VersionFloors({
    redis,
    scripts: store.scripts,
    keys: store.keys,
    lastSeen: (uid) => checkpoints.lastSeen(uid),
    run: guard,
    window: epoch,
    clock,
    log,
    idleTtlMs: cfg.IDLE_TTL_MS,
  });
  // One queue for everything given up on: audit records (written again through the drain's writer,
  // under the same Postgres policy) and parked room deletions (tried again by the rooms domain).
  const deadLetters = new DeadLetterQueue(
    database.db,
    (fn) => resilience.policies.postgres.execute(fn),
    {
      [ROOM_DELETION]: (letter) => {
        const { pool, room } = letter.payload as { pool: string; room: string };
        return rooms.deleter.retryParked(pool, room);
      },
    },
    () => metrics.deadLetters.inc(),
  );
  const sanctions = new Sanctions(
    redis,
    cfg.REDIS_PREFIX,
    database.db,
    (fn) => resilience.policies.postgres.execute(fn),
    clock,
    {
      lowTrustReports: cfg.SANCTION_LOW_TRUST_REPORTS,
      banReports: cfg.SANCTION_BAN_REPORTS,
      windowMs: cfg.SANCTION_WINDOW_MS,
      lowTrustMs: cfg.LOW_TRUST_MS,
      firstBanMs: cfg.BAN_FIRST_MS,
      repeatBanMs: cfg.BAN_REPEAT_MS,
    },
    // A ban ends the session everywhere: sockets closed, the match ended, the session refused from now on.
    (uid) => presence.endSession(uid, 'banned', cfg.SESSION_TTL_MS, http.endRevoked),
    async (uid, notice) => store.notify({ uid, pool: await store.poolOf(uid), notice }),
    (kind) => metrics.sanctions.inc({ kind }),
  );
  const base: Omit<Services, 'ops'> = {
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
    deadLetters,
    resilience,
    metrics,
    refusals,
    stats: new OnlineStats(store, clock, { cacheMs: cfg.STATS_CACHE_MS, timeoutMs: cfg.HEARTBEAT_TIMEOUT_MS }),
    limits: new RateLimits(
      redis,
      cfg.REDIS_PREFIX,
      rateRules(cfg),
      skipCooldown(cfg),
      (ip) => ipKey(opts.sessionSecret, ip),
      (action) => metrics.rateLimited.inc({ action }),
      () => switches.cost(),
    ),
    challenges: new Challenges(
      redis,
      cfg.REDIS_PREFIX,
      {
        sessions: cfg.CHALLENGE_SESSIONS_PER_IP,
        skips: cfg.CHALLENGE_SKIPS,
        refusals: cfg.CHALLENGE_RATE_REFUSALS,
        passMs: cfg.CHALLENGE_PASS_MS,
        ttlMs: cfg.CHALLENGE_TTL_MS,
        work: cfg.CHALLENGE_WORK,
      },
      opts.sessionSecret,
      clock,
    ),
    reports: new Reports(
      database.db,
      (fn) => resilience.policies.postgres.execute(fn),
      clock,
      { windowMs: cfg.REPORT_WINDOW_MS, snapshotMaxBytes: cfg.REPORT_SNAPSHOT_MAX_BYTES, snapshotRetentionMs: cfg.REPORT_SNAPSHOT_RETENTION_DAYS * 86_400_000 },
      (uid, other) => match.block(uid, other),
      (uid) => sanctions.afterReport(uid),
      (reason) => metrics.reports.inc({ reason }),
    ),
    sanctions,
    moderation: new Moderation(database.db, (fn) => resilience.policies.postgres.execute(fn), clock, sanctions),
    operators: new Operators(database.db, (fn) => resilience.policies.postgres.execute(fn), clock, {
      sessionTtlMs: cfg.OPERATOR_SESSION_TTL_MS,
      decoyHash: await decoyHash(),
    }),
    operatorActions: new OperatorActions(database.db, (fn) => resilience.policies.postgres.execute(fn), clock),
  };
  // Gauges read at scrape (infra/live-gauges.ts): the active pools' counts, subscriptions, bulkheads.
  const bulkheads = resilienceConfigFromEnv(cfg);
  observeLive(metrics.registry, {
    pools: async () => store.poolCounts(await store.active.list()),
    subscriptions: () => hub.streamCount,
    dependencies: () => ({
      redis: { free: resilience.policies.redis.snapshot().bulkhead, size: bulkheads.redis.bulkhead },
      postgres: { free: resilience.policies.postgres.snapshot().bulkhead, size: bulkheads.postgres.bulkhead },
    }),
    onError: (err) => log.debug({ err }, 'pool counts for /metrics could not be read'),
    clock,
  });
  // An operator's disconnect ends the session as a ban does (sockets closed on every process), for a moment only.
  const ops = createOps(base, switches, {
    endSession: (uid, actor) => presence.endSession(uid, 'operator', DISCONNECT_REVOKE_MS, http.endRevoked, actor),
    onJobRun: jobReporter(metrics),
  });
  const svc: Services = { ...base, ops };
  // Every write of the drain (batches, dead letters) runs under the Postgres policy.
  const drain = outboxDrain(cfg, { drainConn, database, store, log, metrics }, (fn) => resilience.policies.postgres.execute(fn));

  await epoch.check();
  epoch.watch();
  opened.add(() => epoch.stop());
  const http = await serveHttp(svc, sub, CLIENT_DIST, writes);
  opened.add(() => {
    http.stop();
    http.closeAll();
  });

  // Snapshots are taken by one process of many: the cleanup job's leader.
  const snapshots = new PeriodicJob(
    { name: 'checkpoint', intervalMs: cfg.CHECKPOINT_INTERVAL_MS, leader: () => cleanup.lead(), log, onRun: jobReporter(metrics) },
    () => checkpoints.snapshot(),
  );
  // Report frames past their retention are forgotten on the audit maintenance schedule, by one process.
  const frames = new PeriodicJob(
    { name: 'report frames', intervalMs: cfg.AUDIT_MAINTENANCE_INTERVAL_MS, leader: () => cleanup.lead(), log, onRun: jobReporter(metrics) },
    () => svc.reports.expireSnapshots(),
  );
  // Bans and low trust back into a Redis that lost them (checked by a marker key), by one process.
  const sanctionsKept = new PeriodicJob(
    { name: 'sanctions', intervalMs: cfg.CLEANUP_INTERVAL_MS, runAtStart: true, leader: () => cleanup.lead(), log, onRun: jobReporter(metrics) },
    () => sanctions.restore(),
  );
  // Started last: nothing above can leave a timer running if a step fails.
  if (opts.background !== false)
    for (const job of [drain, match, presence, rooms, cleanup, audit, retention, snapshots, frames, sanctionsKept, ops]) job.start();
  log.info({ port: http.port, redis: opts.redisUrl, postgres: database.kind }, 'Rendezvous is listening');

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      // No new runs of any job; the HTTP side stops taking work at once, then runs in progress end.
      const jobs = Promise.all([presence.stop(), match.stop(), rooms.stop(), snapshots.stop(), frames.stop(), sanctionsKept.stop(), ops.stop()]);
      epoch.stop();
      resilience.policies.stop();
      http.stop();
      await jobs;
      await cleanup.stop();
      // Room setups and deletions in flight finish (or are left to the durable queue) before Redis closes.
      await rooms.idle();
      await drain.stop();
      await drain.flush().catch((e: unknown) => log.warn({ err: e }, 'outbox flush at shutdown failed'));
      await Promise.all([audit.stop(), retention.stop()]);
      http.closeAll();
      redis.disconnect();
      sub.disconnect();
      drainConn.disconnect();
      await database.close();
    })());
  return { url: `http://127.0.0.1:${http.port}`, port: http.port, services: svc, drain, cleanup, close };
}

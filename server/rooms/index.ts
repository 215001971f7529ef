/**
 * The rooms domain, assembled: the composition root calls `createRooms` once and mounts
 * `webhook` at POST /livekit/webhook. Without LiveKit settings everything still works in direct
 * mode (no policy, no reconciler, the webhook answers 404).
 */
import type { RedisClient } from '../infra/redis';
import type { AuditSink } from '../audit/recorder';
import type { Logger } from '../infra/logger';
import type { ResilienceHooks } from '../resilience/hooks';
import type { Clock } from '../shared/clock';
import type { JobReporter } from '../shared/periodic';
import type { StateStore } from '../state/store';
import { RoomServiceClient } from 'livekit-server-sdk';
import { LiveKitGateway } from './livekit-gateway';
import { createLiveKitPolicy } from './livekit-policy';
import type { RoomsOptions } from './options';
import { Reconciler } from './reconciler';
import { RoomDeleter, type ParkedDeletion } from './room-deleter';
import { RoomEvents } from './room-events';
import { RoomJanitor } from './room-janitor';
import { RoomRecords } from './room-records';
import { RoomService, type LiveKitParts } from './room-service';
import { createWebhookHandler, type RequestHandler } from './webhook-handler';

export interface RoomsDeps {
  store: StateStore;
  redis: RedisClient;
  /** Audit records (the webhooks' rows) go here: the outbox, in production. */
  audit: AuditSink;
  opts: RoomsOptions;
  clock: Clock;
  log: Logger;
  /** Where the LiveKit policy's breaker changes and retries are told (the shared resilience hooks). */
  policyHooks?: ResilienceHooks;
  /** Each webhook refused at the edge, by reason (refused_requests_total). */
  onRefused?: (reason: string) => void;
  /** Told after each run of the janitor and the reconciler (metrics). */
  onJobRun?: JobReporter;
  /** Stores a room deletion given up on (the dead-letter queue); without it deletions retry for good. */
  park?: (d: ParkedDeletion) => Promise<void>;
}

export function createRooms(d: RoomsDeps) {
  const { store, redis, opts, clock } = d;
  const log = d.log.child({ domain: 'rooms' });
  // Undefined (and so is the reconciler) when LiveKit is not configured.
  const livekit: LiveKitParts | undefined = opts.livekit
    ? (() => {
        const { url, apiKey, apiSecret } = opts.livekit;
        // requestTimeout is in seconds; it bounds the fetch itself, the policy's timeout bounds our wait.
        const client = new RoomServiceClient(url, apiKey, apiSecret, { requestTimeout: opts.policy.callTimeoutMs / 1000 });
        // While a breaker is open, LiveKit is asked directly (outside the policy) whether it answers again.
        const policy = createLiveKitPolicy(opts.policy, d.policyHooks, () => client.listRooms());
        return { policy, gateway: new LiveKitGateway(opts.livekit, policy, client) };
      })()
    : undefined;
  const records = new RoomRecords(redis, store.scripts, store.keys, clock, opts.recordTtlMs);
  const deleter = new RoomDeleter(records, livekit?.gateway, opts, clock, log, d.park);
  const service = new RoomService(store, redis, records, deleter, livekit, opts, clock, log);
  // The calls of the store's deferred matches (its matchMode, from the composition root, is service.matchMode).
  store.onMatches((pool, matches, deferred) => service.onMatches(pool, matches, deferred));
  const events = new RoomEvents(store, records, service, deleter, livekit?.gateway, opts.rejoinGraceMs, clock, log);
  const janitor = new RoomJanitor(
    store,
    records,
    service,
    deleter,
    livekit?.gateway,
    { intervalMs: opts.janitorIntervalMs, leaseMs: opts.leaseMs, onJobRun: d.onJobRun },
    log,
  );
  const reconciler = livekit
    ? new Reconciler(
        store,
        records,
        service,
        deleter,
        livekit.gateway,
        { intervalMs: opts.reconcileIntervalMs, rejoinGraceMs: opts.rejoinGraceMs, onJobRun: d.onJobRun },
        clock,
        log,
      )
    : undefined;
  const webhook: RequestHandler = opts.livekit
    ? createWebhookHandler({
        ...opts.livekit,
        redis,
        root: store.keys.root,
        audit: d.audit,
        events,
        dedupeTtlMs: opts.webhookDedupeTtlMs,
        clock,
        log,
        onRefused: d.onRefused,
      })
    : (_req, res) => void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"LiveKit is not configured"}');

  return {
    service,
    records,
    deleter,
    janitor,
    events,
    livekit,
    reconciler,
    webhook,
    start() {
      janitor.start();
      reconciler?.start();
    },
    /** Stops the background jobs; resolves once a pass in progress has ended. */
    async stop() {
      livekit?.policy.stop();
      await Promise.all([janitor.stop(), reconciler?.stop()]);
    },
    /** Wait for setups and deletions in flight (after stop(), before closing Redis). */
    async idle() {
      await service.idle();
      await deleter.idle();
    },
  };
}

export type Rooms = ReturnType<typeof createRooms>;

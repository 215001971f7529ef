/**
 * The rooms domain wired the way the composition root wires it, against the real shared Redis
 * (unique key prefix, manual clock), a fresh Postgres database (webhook audit rows, which travel
 * as in production: AuditRecorder -> the outbox -> OutboxDrain, flushed before they are read), the
 * LiveKit double (driven only through livekit-server-sdk) and a real HTTP server for the webhook
 * route.
 * Background timers are off: tests run janitor passes and reconciliations by hand and move the
 * manual clock instead of sleeping.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, isNull } from 'drizzle-orm';
import { pino } from 'pino';
import { OutboxDrain } from '../../server/audit/drain';
import { AuditRecorder } from '../../server/audit/recorder';
import { webhookEvents } from '../../server/audit/schema';
import { ErrorSpool } from '../../server/audit/spool';
import type { MatchEvent } from '../../server/events/types';
import { createMetrics } from '../../server/infra/metrics';
import { migrate, openDatabase, type Database } from '../../server/infra/postgres';
import { MatchService } from '../../server/match/service';
import { createRooms, type Rooms } from '../../server/rooms';
import type { PolicyOptions, RoomsOptions } from '../../server/rooms/options';
import type { RoomRecord } from '../../server/rooms/room-records';
import { afterAll, beforeAll } from 'vitest';
import { startLiveKitDouble, type LiveKitDouble } from '../livekit-double';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { fastDrain } from '../audit/support';
import { openStore, POOL, type StoreFixture } from '../state/fixtures/store';

export { POOL };
export const silent = pino({ level: 'silent' });

/** Small numbers so every path shows within a test; real time only where cockatiel measures it. */
export type Overrides = Partial<Omit<RoomsOptions, 'policy' | 'livekit'>> & { policy?: Partial<PolicyOptions> };

export function testOptions(over: Overrides = {}): Omit<RoomsOptions, 'livekit'> {
  const { policy, ...rest } = over;
  return {
    policy: {
      callTimeoutMs: 1000,
      retryAttempts: 3,
      retryBaseMs: 5,
      retryMaxMs: 20,
      breakerThreshold: 50,
      breakerHalfOpenMs: 60_000,
      probeIntervalMs: 0,
      bulkheadLimit: 16,
      bulkheadQueue: 64,
      ...policy,
    },
    emptyTimeoutSec: 30,
    departureTimeoutSec: 7,
    tokenTtlMs: 120_000,
    recordTtlMs: 3_600_000,
    rejoinGraceMs: 5_000,
    deleteRetryBaseMs: 1_000,
    deleteRetryMaxMs: 8_000,
    deleteMaxAttempts: 1000,
    leaseMs: 10_000,
    janitorIntervalMs: 1_000,
    reconcileIntervalMs: 30_000,
    webhookDedupeTtlMs: 600_000,
    iceServers: [],
    turn: undefined,
    ...rest,
  };
}

/**
 * One database per test file (creating and migrating one takes seconds on the shared machine).
 * Tests tell their webhook rows apart by room name or event id. Call at the top of a file.
 */
export function sharedDatabase(): () => Database {
  let db: TestDatabase | undefined;
  let database: Database | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    database = await openDatabase(db.url, '', 4);
    await migrate(database);
  });
  afterAll(async () => {
    await database?.close();
    await db?.drop();
  });
  return () => {
    if (!database) throw new Error('sharedDatabase() is only ready inside tests');
    return database;
  };
}

export interface RoomsFixture extends AsyncDisposable {
  fx: StoreFixture;
  lk: LiveKitDouble;
  rooms: Rooms;
  match: MatchService;
  database: Database;
  webhookUrl: string;
  /** Another process on the same Redis/LiveKit/Postgres (same clock), without a webhook route. */
  secondProcess(): Promise<Rooms>;
  /**
   * Enqueue a (unless already waiting) then b, so they pair, and wait for the call setup.
   * Returns both users' `matched` events (null if none).
   */
  pair(a: string, b: string, o?: { aWaiting?: boolean }): Promise<{ a: Matched | null; b: Matched | null; matchId: string }>;
  record(room: string): Promise<RoomRecord | null>;
  stateOf(uid: string): Promise<string | undefined>;
  events(uid: string): Promise<MatchEvent[]>;
  /** Audit rows about `room` (or with no room when null). */
  webhookRows(room: string | null): Promise<Array<typeof webhookEvents.$inferSelect>>;
  settle(): Promise<void>;
}

export type Matched = Extract<MatchEvent, { type: 'matched' }> & { iceServers?: unknown };

export async function openRooms(database: Database, opts: { livekit?: boolean; over?: Overrides } = {}): Promise<RoomsFixture> {
  // The store asks the rooms domain how to make matches, as in the composition root.
  let wired: Rooms | undefined;
  const matchMode = () => wired?.service.matchMode() ?? { mode: 'direct' as const, defer: false };
  const fx = await openStore({ wiring: { matchMode } });
  const lk = await startLiveKitDouble();
  let server: Server | undefined;
  const extra: Rooms[] = [];
  const cleanups: Array<() => void> = [];
  try {
    const livekit = opts.livekit === false ? undefined : { url: lk.url, clientUrl: 'ws://livekit.test', apiKey: lk.apiKey, apiSecret: lk.apiSecret };
    const options: RoomsOptions = { ...testOptions(opts.over), livekit };
    const spoolDir = mkdtempSync(join(tmpdir(), 'rv-rooms-spool-'));
    const audit = new AuditRecorder(
      fx.redis,
      fx.store.keys,
      new ErrorSpool({ dir: spoolDir, maxBytes: 1 << 20 }),
      { appendTimeoutMs: 1000, spoolRetryMs: 1000 },
      silent,
      fx.clock,
    );
    const drain = new OutboxDrain(fx.redis, database.db, fx.store.keys, async () => [POOL], fastDrain, silent);
    cleanups.push(() => rmSync(spoolDir, { recursive: true, force: true }));
    const rooms = createRooms({ store: fx.store, redis: fx.redis, audit, opts: options, clock: fx.clock, log: silent });
    wired = rooms;
    const service = rooms.service;
    const match = new MatchService(
      fx.store,
      database,
      createMetrics(),
      silent,
      { tickMs: 1000, pools: { languages: ['en'], regions: ['eu'] }, maxBlocks: 1000 },
      { roomTeardown: (pool, mid, reason) => service.endForMatch(pool, mid, reason) },
    );
    server = createServer(rooms.webhook);
    await new Promise<void>((ok) => server!.listen(0, '127.0.0.1', ok));
    const webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/livekit/webhook`;
    lk.setWebhookUrl(webhookUrl);
    const settle = async () => {
      await lk.flushWebhooks();
      await rooms.idle();
      for (const r of extra) await r.idle();
    };
    const events = async (uid: string) => (await fx.view(uid)).events;
    const matchedOf = async (uid: string) => (await events(uid)).filter((e) => e.type === 'matched').at(-1) ?? null;
    const srv = server;
    return {
      fx,
      lk,
      rooms,
      match,
      database,
      webhookUrl,
      async secondProcess() {
        const second: { rooms?: Rooms } = {};
        const store = await fx.secondStore({ matchMode: () => second.rooms?.service.matchMode() ?? { mode: 'direct', defer: false } });
        const r = createRooms({ store, redis: fx.redis, audit, opts: options, clock: fx.clock, log: silent });
        second.rooms = r;
        extra.push(r);
        return r;
      },
      async pair(a, b, o = {}) {
        if (!o.aWaiting) await fx.store.enqueue({ uid: a, pool: POOL, name: a });
        const r = await fx.store.enqueue({ uid: b, pool: POOL, name: b });
        if (!r.match) throw new Error(`${a} and ${b} did not pair`);
        await settle();
        return { a: await matchedOf(a), b: await matchedOf(b), matchId: r.match.matchId };
      },
      record: (room) => rooms.records.get(POOL, room),
      stateOf: async (uid) => (await fx.view(uid)).hash.state,
      events,
      webhookRows: async (room) => {
        await drain.flush();
        return database.db
          .select()
          .from(webhookEvents)
          .where(room === null ? isNull(webhookEvents.room) : eq(webhookEvents.room, room));
      },
      settle,
      async [Symbol.asyncDispose]() {
        await rooms.stop();
        for (const r of extra) await r.stop();
        await lk.flushWebhooks().catch(() => undefined);
        await rooms.idle().catch(() => undefined);
        lk.setWebhookUrl(undefined);
        srv.closeAllConnections();
        await new Promise<void>((ok) => srv.close(() => ok()));
        await lk.close();
        await fx[Symbol.asyncDispose]();
        for (const c of cleanups) c();
      },
    };
  } catch (err) {
    server?.close();
    await lk.close();
    await fx[Symbol.asyncDispose]();
    for (const c of cleanups) c();
    throw err;
  }
}

/**
 * The classification table against errors produced by the real clients (ioredis, node-postgres,
 * undici, the LiveKit SDK against the test double), so the table matches what they really throw.
 * Shared Redis and Postgres are only touched under a unique key prefix and in temp tables.
 */
import net from 'node:net';
import { Redis } from 'ioredis';
import { RoomServiceClient } from 'livekit-server-sdk';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { classify } from '../../server/resilience/classify';
import { startLiveKitDouble } from '../livekit-double';
import { createTestRedis } from '../support/databases';
import { freePort } from '../support/free-port';

const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function thrown(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
}

describe('classification of errors thrown by the real clients', () => {
  it('ioredis against a closed port: "max retries per request" while reconnecting, "connection is closed" once it gave up; both reconnect', async () => {
    const port = await freePort();
    const retrying = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    retrying.on('error', () => {});
    retrying.connect().catch(() => {});
    const maxRetries = await thrown(retrying.get('x'));
    retrying.disconnect();
    expect(classify(maxRetries, { dependency: 'redis' })).toMatchObject({ rule: 'redis max retries', strategy: 'reconnect', retryable: true });

    const gaveUp = new Redis({ port, lazyConnect: true, retryStrategy: () => null });
    gaveUp.on('error', () => {});
    await gaveUp.connect().catch(() => {});
    const closed = await thrown(gaveUp.get('x'));
    expect(classify(closed, { dependency: 'redis' })).toMatchObject({ rule: 'redis connection closed', strategy: 'reconnect' });
  });

  it('an ioredis command timeout is a retryable timeout', async () => {
    await using kv = await createTestRedis();
    const r = new Redis(kv.url, { commandTimeout: 50 });
    try {
      const e = await thrown(r.blpop(`${kv.prefix}:never-filled`, 1));
      expect(classify(e, { dependency: 'redis' })).toMatchObject({ type: 'timeout', strategy: 'retry_backoff', retryable: true });
    } finally {
      r.disconnect();
    }
  });

  it('a WRONGTYPE reply from Redis is critical data inconsistency', async () => {
    await using kv = await createTestRedis();
    const r = new Redis(kv.url);
    try {
      await r.set(`${kv.prefix}:a-string`, 'x');
      const e = await thrown(r.lpush(`${kv.prefix}:a-string`, 'y'));
      expect(classify(e, { dependency: 'redis' })).toMatchObject({ category: 'critical', strategy: 'pause_pool' });
    } finally {
      r.disconnect();
    }
  });

  it('node-postgres: refused connection reconnects, a duplicate key is rejected, a missing table alerts', async () => {
    const port = await freePort();
    const refused = await thrown(new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/x` }).connect());
    expect(classify(refused, { dependency: 'postgres' })).toMatchObject({ type: 'postgres', strategy: 'reconnect' });

    const db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
    try {
      await db.query('CREATE TEMP TABLE resilience_t (id int PRIMARY KEY)');
      await db.query('INSERT INTO resilience_t VALUES (1)');
      const dup = await thrown(db.query('INSERT INTO resilience_t VALUES (1)'));
      expect(classify(dup, { dependency: 'postgres' })).toMatchObject({ code: '23505', type: 'validation', strategy: 'reject' });
      const missing = await thrown(db.query('SELECT * FROM resilience_no_such_table'));
      expect(classify(missing, { dependency: 'postgres' })).toMatchObject({ code: '42P01', strategy: 'alert' });
    } finally {
      await db.end();
    }
  });

  it('fetch: a refused connection is classified by its cause; AbortSignal.timeout is a timeout', async () => {
    const sockets = new Set<net.Socket>();
    const srv = net.createServer((socket) => void sockets.add(socket)); // accepts, never answers
    await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
    const port = (srv.address() as net.AddressInfo).port;
    const timedOut = await thrown(fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(50) }));
    for (const s of sockets) s.destroy();
    await new Promise<void>((ok) => srv.close(() => ok()));
    expect(classify(timedOut, { dependency: 'livekit' })).toMatchObject({ rule: 'fetch timeout', type: 'timeout' });
    const refused = await thrown(fetch(`http://127.0.0.1:${port}/`));
    expect(classify(refused, { dependency: 'livekit' })).toMatchObject({
      rule: 'fetch failed > connection refused or dropped',
      type: 'livekit',
      strategy: 'reconnect',
    });
  });

  it('the LiveKit SDK: 503 is retried, 429 backs off with jitter, 401 re-authenticates, a dropped socket reconnects', async () => {
    await using lk = await startLiveKitDouble();
    const rooms = new RoomServiceClient(lk.url, lk.apiKey, lk.apiSecret);
    const hint = { dependency: 'livekit' } as const;
    lk.failNext('ListRooms', 1, 503);
    expect(classify(await thrown(rooms.listRooms()), hint)).toMatchObject({ type: 'livekit', strategy: 'retry_backoff', retryable: true });
    lk.failNext('ListRooms', 1, 429);
    expect(classify(await thrown(rooms.listRooms()), hint)).toMatchObject({ type: 'livekit', strategy: 'retry_jitter' });
    const wrongSecret = new RoomServiceClient(lk.url, lk.apiKey, 'not-the-secret-not-the-secret-xx');
    expect(classify(await thrown(wrongSecret.listRooms()), hint)).toMatchObject({ type: 'auth', strategy: 'reauthenticate' });
    lk.dropNext('ListRooms');
    expect(classify(await thrown(rooms.listRooms()), hint)).toMatchObject({ type: 'livekit', strategy: 'reconnect' });
  });
});

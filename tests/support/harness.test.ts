import { existsSync, realpathSync } from 'node:fs';
import net from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { createTestDatabase, createTestRedis } from './databases';
import { freePort } from './free-port';
import { startPostgresServer } from './postgres-server';
import { startRedisServer } from './redis-server';

const SLOW = 60_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function redisClient(url: string, extra: RedisOptions = {}): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1, ...extra });
  client.on('error', () => undefined);
  return client;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe('freePort', () => {
  test('freePort returns a port that can be bound right away', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('private redis server', () => {
  test('a private redis server starts on a free port and answers PING', { timeout: SLOW }, async () => {
    await using redis = await startRedisServer();
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(isAlive(redis.pid)).toBe(true);
    const client = redisClient(redis.url);
    try {
      expect(await client.ping()).toBe('PONG');
      expect(await client.config('GET', 'dir')).toEqual(['dir', realpathSync(redis.dir)]);
    } finally {
      client.disconnect();
    }
  });

  test('a SIGSTOPped private redis makes commands time out and answers again after SIGCONT', { timeout: SLOW }, async () => {
    await using redis = await startRedisServer();
    const client = redisClient(redis.url, { commandTimeout: 200 });
    try {
      await client.set('k', 'before');
      await redis.kill('SIGSTOP');
      const started = Date.now();
      await expect(client.get('k')).rejects.toThrow(/timed out/i);
      expect(Date.now() - started).toBeLessThan(2_000);
      await redis.kill('SIGCONT');
      expect(await client.ping()).toBe('PONG');
      expect(await client.get('k')).toBe('before');
    } finally {
      client.disconnect();
    }
  });

  test('a private redis with appendonly keeps its data across a restart', { timeout: SLOW }, async () => {
    await using redis = await startRedisServer({ appendonly: true });
    const { port, pid } = redis;
    let client = redisClient(redis.url);
    await client.set('survivor', 'yes');
    client.disconnect();

    await redis.restart();
    expect(redis.port).toBe(port);
    expect(redis.pid).not.toBe(pid);
    client = redisClient(redis.url);
    try {
      expect(await client.get('survivor')).toBe('yes');
    } finally {
      client.disconnect();
    }
  });

  test('a private redis with appendonly keeps acknowledged writes across SIGKILL and restart', { timeout: SLOW }, async () => {
    await using redis = await startRedisServer({ appendonly: true });
    let client = redisClient(redis.url);
    await client.set('crash-survivor', 'yes');
    client.disconnect();

    const pid = redis.pid;
    await redis.kill('SIGKILL');
    expect(redis.running).toBe(false);
    expect(isAlive(pid)).toBe(false);

    await redis.restart();
    client = redisClient(redis.url);
    try {
      expect(await client.get('crash-survivor')).toBe('yes');
    } finally {
      client.disconnect();
    }
  });

  test('a disposed private redis leaves no process and no directory behind', { timeout: SLOW }, async () => {
    const redis = await startRedisServer({ appendonly: true });
    const { pid, dir } = redis;
    expect(existsSync(dir)).toBe(true);
    await redis[Symbol.asyncDispose]();
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('private postgres server', () => {
  test('a private postgres starts, stops, and starts again with its data', { timeout: SLOW }, async () => {
    await using server = await startPostgresServer();
    expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
    await query(server.url, 'CREATE TABLE kept (v text)');
    await query(server.url, "INSERT INTO kept VALUES ('still here')");

    await server.stop();
    expect(server.running).toBe(false);
    await expect(query(server.url, 'SELECT 1')).rejects.toThrow();

    await server.start();
    expect(await query<{ v: string }>(server.url, 'SELECT v FROM kept')).toEqual([{ v: 'still here' }]);
  });

  test('a private postgres recovers committed data after SIGKILL', { timeout: SLOW }, async () => {
    await using server = await startPostgresServer();
    await query(server.url, 'CREATE TABLE crashy (v int)');
    await query(server.url, 'INSERT INTO crashy VALUES (42)');
    await server.kill('SIGKILL');
    expect(server.running).toBe(false);
    await server.start();
    expect(await query<{ v: number }>(server.url, 'SELECT v FROM crashy')).toEqual([{ v: 42 }]);
  });

  test('a private postgres frozen with SIGSTOP stalls queries until SIGCONT', { timeout: SLOW }, async () => {
    await using server = await startPostgresServer();
    const client = new pg.Client({ connectionString: server.url, query_timeout: 200 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await server.kill('SIGSTOP');
      await expect(client.query('SELECT 1')).rejects.toThrow(/timeout/i);
      await server.kill('SIGCONT');
      expect(await query(server.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await client.end().catch(() => undefined);
    }
  });

  test('a disposed private postgres removes its processes and data directory', { timeout: SLOW }, async () => {
    const server = await startPostgresServer();
    const { pid, dir } = server;
    expect(existsSync(`${dir}/data/PG_VERSION`)).toBe(true);
    await server[Symbol.asyncDispose]();
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('shared-server isolation', () => {
  test('createTestDatabase gives an isolated database and drops it on dispose', { timeout: SLOW }, async () => {
    const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const a = await createTestDatabase();
    let dropped = false;
    try {
      await using b = await createTestDatabase();
      expect(a.name).not.toBe(b.name);
      expect(new URL(a.url).pathname).toBe(`/${a.name}`);

      await query(a.url, 'CREATE TABLE only_in_a (id int)');
      expect(await query(a.url, "SELECT to_regclass('only_in_a') IS NOT NULL AS present")).toEqual([{ present: true }]);
      expect(await query(b.url, "SELECT to_regclass('only_in_a') IS NOT NULL AS present")).toEqual([{ present: false }]);

      // drop() must succeed even while a connection is still open.
      const open = new pg.Client({ connectionString: a.url });
      open.on('error', () => undefined);
      await open.connect();
      await a.drop();
      dropped = true;
      await open.end().catch(() => undefined);

      const rows = await query(adminUrl, 'SELECT datname FROM pg_database WHERE datname = $1', [a.name]);
      expect(rows).toEqual([]);
    } finally {
      if (!dropped) await a.drop();
    }
  });

  test('createTestRedis cleanup unlinks only keys under its own prefix', { timeout: SLOW }, async () => {
    await using mine = await createTestRedis();
    await using other = await createTestRedis();
    expect(mine.prefix).toMatch(/^t[0-9a-f]{8}$/);
    expect(mine.prefix).not.toBe(other.prefix);

    const client = redisClient(mine.url);
    try {
      const myKeys = Array.from({ length: 1_200 }, (_, i) => `${mine.prefix}:{p:global}:user:${i}`);
      const pipeline = client.pipeline();
      for (const key of myKeys) pipeline.set(key, '1');
      pipeline.set(`${other.prefix}:{p:global}:user:x`, 'keep');
      pipeline.set(`${mine.prefix}0:{p:global}:user:x`, 'keep'); // longer prefix that merely starts with ours
      await pipeline.exec();

      expect(await mine.cleanup()).toBe(myKeys.length);
      expect(await client.exists(...myKeys.slice(0, 10))).toBe(0);
      expect(await client.get(`${other.prefix}:{p:global}:user:x`)).toBe('keep');
      expect(await client.get(`${mine.prefix}0:{p:global}:user:x`)).toBe('keep');
    } finally {
      await client.unlink(`${mine.prefix}0:{p:global}:user:x`);
      client.disconnect();
    }
  });
});

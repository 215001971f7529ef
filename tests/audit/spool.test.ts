import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../server/config';
import { AuditRecorder, recordBreaker, recordError, recordRecovery } from '../../server/audit/recorder';
import type { OutboxRecord } from '../../server/audit/records';
import { ErrorSpool } from '../../server/audit/spool';
import { connectRedis } from '../../server/infra/redis';
import { systemClock } from '../../server/shared/clock';
import { Keys } from '../../server/state/keys';
import { startRedisServer } from '../support/redis-server';
import { drainFor, openOutbox, openTestDb, silent } from './support';

function tempDir(): { path: string } & Disposable {
  const path = mkdtempSync(join(tmpdir(), 'rv-audit-spool-'));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

const rec = (i: number): OutboxRecord => ({
  kind: 'error',
  eventId: `sp-${i}`,
  pool: 'global',
  at: 1_000 + i,
  category: 'transient',
  type: 'redis',
  severity: 'high',
  message: `m${i}`,
});

/** A pid that no process has right now. */
function deadPid(): number {
  for (let pid = 4_000_000; ; pid--) {
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') return pid;
    }
  }
}

describe('ErrorSpool (files only)', () => {
  it('hands every appended record back once and leaves no file behind', async () => {
    using tmp = tempDir();
    const dir = tmp.path;
    const spool = new ErrorSpool({ dir, maxBytes: 1 << 20 });
    for (let i = 0; i < 5; i++) expect(await spool.append(rec(i))).toBe(true);
    expect(await spool.hasPending()).toBe(true);
    const got: OutboxRecord[] = [];
    expect(await spool.drain(async (r) => void got.push(...r))).toBe(5);
    expect(got.map((r) => r.eventId)).toEqual(['sp-0', 'sp-1', 'sp-2', 'sp-3', 'sp-4']);
    expect(readdirSync(dir)).toEqual([]);
    expect(await spool.hasPending()).toBe(false);
  });

  it('a failed hand-over keeps the records for the next drain, and records appended meanwhile are not lost', async () => {
    using tmp = tempDir();
    const dir = tmp.path;
    const spool = new ErrorSpool({ dir, maxBytes: 1 << 20 });
    await spool.append(rec(1));
    await expect(spool.drain(async () => Promise.reject(new Error('redis down again')))).rejects.toThrow('redis down again');
    await spool.append(rec(2));
    const got: string[] = [];
    await spool.drain(async (r) => void got.push(...r.map((x) => x.eventId)));
    expect(got.sort()).toEqual(['sp-1', 'sp-2']);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a torn last line (a crash mid-append) is skipped and the rest is drained', async () => {
    using tmp = tempDir();
    const dir = tmp.path;
    writeFileSync(join(dir, `spool-${process.pid}.jsonl`), `${JSON.stringify(rec(1))}\n{"kind":"err`);
    const got: string[] = [];
    await new ErrorSpool({ dir, maxBytes: 1 << 20 }).drain(async (r) => void got.push(...r.map((x) => x.eventId)));
    expect(got).toEqual(['sp-1']);
  });

  it('a record appended with spool: false while Redis is unreachable is dropped, not spooled', async () => {
    using tmp = tempDir();
    const spool = new ErrorSpool({ dir: tmp.path, maxBytes: 1 << 20 });
    const offline = new Redis({ lazyConnect: true }); // never connected: not ready
    const recorder = new AuditRecorder(offline, new Keys('rv-spool-test'), spool, { appendTimeoutMs: 100, spoolRetryMs: 1000 }, silent, systemClock);
    await recorder.append(rec(1), { spool: false });
    expect(await spool.hasPending()).toBe(false);
    await recorder.append(rec(2));
    expect(await spool.hasPending()).toBe(true);
    offline.disconnect();
  });

  it('past maxBytes records are dropped and counted instead of filling the disk', async () => {
    using tmp = tempDir();
    const dir = tmp.path;
    const spool = new ErrorSpool({ dir, maxBytes: 400 });
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await spool.append(rec(i)));
    expect(results.filter(Boolean).length).toBeGreaterThan(0);
    expect(spool.dropped).toBe(results.filter((ok) => !ok).length);
    expect(spool.dropped).toBeGreaterThan(0);
    expect(readFileSync(join(dir, `spool-${process.pid}.jsonl`), 'utf8').length).toBeLessThanOrEqual(400);
  });

  it("a dead process's spool file is taken over by the next drain", async () => {
    using tmp = tempDir();
    const dir = tmp.path;
    writeFileSync(join(dir, `spool-${deadPid()}.jsonl`), `${JSON.stringify(rec(7))}\n`);
    const spool = new ErrorSpool({ dir, maxBytes: 1 << 20 });
    expect(await spool.hasPending()).toBe(true);
    const got: string[] = [];
    await spool.drain(async (r) => void got.push(...r.map((x) => x.eventId)));
    expect(got).toEqual(['sp-7']);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('recording errors while Redis is down (private Redis, real Postgres)', () => {
  it('records written while Redis is down are spooled, and reach Postgres after it returns', { timeout: 60_000 }, async () => {
    using tmp = tempDir();
    const dir = tmp.path;
    await using redisServer = await startRedisServer({ appendonly: true });
    await using db = await openTestDb();
    await using outbox = await openOutbox(redisServer.url);
    const cfg = loadConfig({ NODE_ENV: 'test', REDIS_COMMAND_TIMEOUT_MS: '300', REDIS_CONNECT_TIMEOUT_MS: '300', REDIS_RECONNECT_MAX_MS: '100' });
    const cmd = await connectRedis(redisServer.url, cfg, 'cmd');
    const drainConn = await connectRedis(redisServer.url, cfg, 'drain');
    const spool = new ErrorSpool({ dir, maxBytes: 1 << 20 });
    const recorder = new AuditRecorder(cmd, new Keys(outbox.keys.root), spool, { appendTimeoutMs: 300, spoolRetryMs: 50 }, silent, systemClock);
    const drain = drainFor(outbox, db, {}, {}, drainConn);
    try {
      recorder.start();
      drain.start();
      await recordError(recorder, { category: 'transient', type: 'redis', severity: 'low', message: 'before the outage' });
      await vi.waitFor(async () => expect(await db.rows('select 1 from errors')).toHaveLength(1), { timeout: 10_000, interval: 25 });

      await redisServer.stop();
      await vi.waitFor(() => expect(cmd.status).not.toBe('ready'));
      const ids = [
        await recordError(recorder, {
          category: 'transient',
          type: 'redis',
          severity: 'high',
          message: 'Redis is unreachable',
          operation: 'enqueue',
          code: 'ECONNREFUSED',
          dependency: 'redis',
          pool: 'global',
          recovered: false,
        }),
        await recordBreaker(recorder, { dependency: 'redis', state: 'open', instance: 'p1' }),
        await recordRecovery(recorder, { failureType: 'redis', strategy: 'reconnect', outcome: 'recovered', durationMs: 1234.4, operation: 'enqueue' }),
      ];
      expect(await spool.hasPending()).toBe(true);

      await redisServer.restart();
      await vi.waitFor(
        async () => {
          expect(await db.rows('select 1 from errors')).toHaveLength(2);
          expect(await db.rows('select 1 from breaker_events')).toHaveLength(1);
          expect(await db.rows('select 1 from recoveries')).toHaveLength(1);
        },
        { timeout: 20_000, interval: 50 },
      );
      const [err] = await db.rows<Record<string, unknown>>(`select event_id, code, operation, recovered, context from errors where event_id = '${ids[0]}'`);
      expect(err).toEqual({ event_id: ids[0], code: 'ECONNREFUSED', operation: 'enqueue', recovered: false, context: { pool: 'global', dependency: 'redis' } });
      const [rc] = await db.rows<Record<string, unknown>>('select failure_type, strategy, outcome, duration_ms, context from recoveries');
      expect(rc).toEqual({ failure_type: 'redis', strategy: 'reconnect', outcome: 'recovered', duration_ms: 1234, context: { operation: 'enqueue' } });
      await vi.waitFor(async () => expect(await spool.hasPending()).toBe(false));
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await recorder.stop();
      await drain.stop();
      cmd.disconnect();
      drainConn.disconnect();
    }
  });
});

import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DeadLetterConfig } from '../../server/resilience/config';
import { DeadLetterHandlers, DeadLetterWorker, type Settled } from '../../server/resilience/dead-letter-worker';
import { RedisDeadLetterStore, type DeadLetter } from '../../server/resilience/dead-letters';
import { DeadLetterNotFoundError } from '../../server/resilience/errors';
import { ErrorRecoveryManager } from '../../server/resilience/manager';
import type { RecoveryRecord } from '../../server/resilience/model';
import { createResiliencePolicies } from '../../server/resilience/policies';
import { NotInMatchError } from '../../server/state/errors';
import { createTestRedis, type TestRedis } from '../support/databases';
import { sysError, testConfig } from './support';

const DLQ: DeadLetterConfig = {
  pollMs: 10,
  batch: 10,
  leaseMs: 30_000,
  maxAttempts: 4,
  retry: { backoffStrategy: 'exponential', initialDelay: 1000, maxDelay: 60_000, jitter: false },
};

function manualClock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

// One key root for the whole file (cleaning up SCANs the shared Redis, which is slow when it is
// full); each test gets its own hash-tagged prefix under it.
let kv: TestRedis;
let tests = 0;
const clients: Redis[] = [];

beforeAll(async () => {
  kv = await createTestRedis();
});

afterAll(async () => {
  await kv[Symbol.asyncDispose]();
});

afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});

async function open() {
  const clock = manualClock();
  const connect = () => {
    const r = new Redis(kv.url);
    clients.push(r);
    return r;
  };
  const prefix = `${kv.prefix}:{dlq${++tests}}:`;
  let n = 0;
  const store = new RedisDeadLetterStore(connect(), prefix, clock, () => `dl-${++n}`);
  const handlers = new DeadLetterHandlers();
  const settled: Array<[string, Settled]> = [];
  const recoveries: RecoveryRecord[] = [];
  const worker = new DeadLetterWorker(store, handlers, DLQ, clock, undefined, {
    onSettled: (l, r) => void settled.push([l.id, r]),
    onRecovery: (r) => void recoveries.push(r),
  });
  return { clock, store, handlers, worker, settled, recoveries, prefix, connect, other: () => new RedisDeadLetterStore(connect(), prefix, clock) };
}

describe('the Redis dead-letter store', () => {
  it('keeps a letter durably with its payload, error and attempts, visible from another connection', async () => {
    const { store, other, clock } = await open();
    const added = await store.add({
      kind: 'room.delete',
      payload: { room: 'r-1', n: [1, 2] },
      error: 'TypeError: fetch failed',
      attempts: 4,
      operation: 'room.delete',
      failureType: 'livekit',
    });
    const seen = await other().get(added.id);
    expect(seen).toEqual({
      id: 'dl-1',
      kind: 'room.delete',
      payload: { room: 'r-1', n: [1, 2] },
      error: 'TypeError: fetch failed',
      attempts: 4,
      status: 'pending',
      createdAt: clock.now(),
      lastAttemptAt: clock.now(),
      nextAttemptAt: clock.now(),
      operation: 'room.delete',
      failureType: 'livekit',
    });
    expect(await other().count()).toBe(1);
    expect(await other().list()).toEqual([seen]);
  });

  it('lists letters in next-attempt order, parked ones last, and pages', async () => {
    const { store, clock } = await open();
    await store.add({ kind: 'a', payload: 1, error: 'e', attempts: 1, nextAttemptAt: clock.now() + 3000 });
    await store.add({ kind: 'b', payload: 2, error: 'e', attempts: 1, park: true });
    await store.add({ kind: 'c', payload: 3, error: 'e', attempts: 1, nextAttemptAt: clock.now() + 1000 });
    expect((await store.list()).map((l) => l.kind)).toEqual(['c', 'a', 'b']);
    expect((await store.list({ offset: 1, limit: 1 })).map((l) => l.kind)).toEqual(['a']);
    expect((await store.list()).find((l) => l.kind === 'b')).toMatchObject({ status: 'parked', nextAttemptAt: null });
  });

  it('claiming leases only due letters, counts the attempt, and hides them until the lease ends', async () => {
    const { store, clock } = await open();
    const due = await store.add({ kind: 'k', payload: null, error: 'e', attempts: 2 });
    await store.add({ kind: 'k', payload: null, error: 'e', attempts: 1, nextAttemptAt: clock.now() + 5000 });
    const [claimed, ...rest] = await store.claimDue(10, 1000);
    expect(rest).toEqual([]);
    expect(claimed).toMatchObject({ id: due.id, attempts: 3, lastAttemptAt: clock.now(), nextAttemptAt: clock.now() + 1000 });
    expect(await store.claimDue(10, 1000)).toEqual([]);
    clock.advance(1000);
    expect((await store.claimDue(10, 1000)).map((l) => l.id)).toEqual([due.id]); // its worker died: it came back
  });

  it('two workers claiming at the same time never get the same letter', async () => {
    const { store, other } = await open();
    for (let i = 0; i < 40; i++) await store.add({ kind: 'k', payload: i, error: 'e', attempts: 1 });
    const a = other();
    const b = other();
    const [x, y] = await Promise.all([a.claimDue(25, 1000), b.claimDue(25, 1000)]);
    const ids = [...x, ...y].map((l) => l.id);
    expect(ids).toHaveLength(40);
    expect(new Set(ids).size).toBe(40);
  });

  it('a failure recorded after the letter was discarded does not bring it back', async () => {
    const { store } = await open();
    const l = await store.add({ kind: 'k', payload: null, error: 'e', attempts: 1 });
    await store.claimDue(1, 1000);
    expect(await store.discard(l.id)).toMatchObject({ id: l.id });
    await store.fail(l.id, 'late failure', 123);
    expect(await store.get(l.id)).toBeNull();
    expect(await store.count()).toBe(0);
  });

  it('refuses a key prefix without a hash tag', async () => {
    const { connect } = await open();
    expect(() => new RedisDeadLetterStore(connect(), 'rv:dlq:', manualClock())).toThrow(/hash tag/);
  });
});

describe('the dead-letter worker', () => {
  it('runs due letters through their handler and removes the ones that succeed', async () => {
    const { store, handlers, worker, settled, recoveries, clock } = await open();
    const done: unknown[] = [];
    handlers.register('notify', async (payload) => void done.push(payload));
    const l = await store.add({ kind: 'notify', payload: { to: 'u1' }, error: 'e', attempts: 3, operation: 'notify', failureType: 'redis' });
    clock.advance(2500);
    expect(await worker.tick()).toEqual({ completed: 1, rescheduled: 0, parked: 0 });
    expect(done).toEqual([{ to: 'u1' }]);
    expect(await store.count()).toBe(0);
    expect(settled).toEqual([[l.id, 'completed']]);
    expect(recoveries).toEqual([expect.objectContaining({ outcome: 'recovered', durationMs: 2500, failureType: 'redis', operation: 'notify' })]);
  });

  it('reschedules a failing letter with backoff, then parks it for an operator after maxAttempts', async () => {
    const { store, handlers, worker, clock } = await open();
    handlers.register('room.delete', () => Promise.reject(sysError('ECONNREFUSED')));
    const l = await store.add({ kind: 'room.delete', payload: { room: 'r' }, error: 'first', attempts: 1 });

    expect(await worker.tick()).toEqual({ completed: 0, rescheduled: 1, parked: 0 });
    expect(await store.get(l.id)).toMatchObject({
      attempts: 2,
      status: 'pending',
      nextAttemptAt: clock.now() + 2000,
      error: 'Error [ECONNREFUSED]: connect ECONNREFUSED 127.0.0.1:6379',
    });
    expect(await worker.tick()).toEqual({ completed: 0, rescheduled: 0, parked: 0 }); // not due yet
    clock.advance(2000);
    expect(await worker.tick()).toMatchObject({ rescheduled: 1 });
    expect((await store.get(l.id))?.nextAttemptAt).toBe(clock.now() + 4000);
    clock.advance(4000);
    expect(await worker.tick()).toMatchObject({ parked: 1 });
    expect(await store.get(l.id)).toMatchObject({ attempts: 4, status: 'parked', nextAttemptAt: null });
    clock.advance(24 * 3600_000);
    expect(await worker.tick()).toEqual({ completed: 0, rescheduled: 0, parked: 0 }); // parked letters wait for a person
    expect(await store.count()).toBe(1); // and are still there
  });

  it('an operator can retry a parked letter now, or discard it', async () => {
    const { store, handlers, worker } = await open();
    let fixed = false;
    handlers.register('notify', async () => {
      if (!fixed) throw new Error('still broken');
    });
    const a = await store.add({ kind: 'notify', payload: 1, error: 'e', attempts: 9, park: true });
    const b = await store.add({ kind: 'notify', payload: 2, error: 'e', attempts: 9, park: true });
    expect(await worker.retryNow(a.id)).toEqual({ result: 'parked', error: 'Error: still broken' });
    fixed = true;
    expect(await worker.retryNow(a.id)).toEqual({ result: 'completed' });
    expect(await worker.discard(b.id)).toMatchObject({ id: b.id, payload: 2 });
    expect(await store.count()).toBe(0);
    await expect(worker.retryNow(a.id)).rejects.toBeInstanceOf(DeadLetterNotFoundError);
    await expect(worker.discard(b.id)).rejects.toBeInstanceOf(DeadLetterNotFoundError);
  });

  it('a letter of a kind with no handler is kept and rescheduled, never dropped', async () => {
    const { store, worker } = await open();
    const l = await store.add({ kind: 'unknown.kind', payload: 'x', error: 'e', attempts: 1 });
    expect(await worker.tick()).toMatchObject({ rescheduled: 1 });
    expect((await store.get(l.id))?.error).toMatch(/No dead-letter handler registered for kind "unknown.kind"/);
  });

  it('started, it polls on its own and stops cleanly', async () => {
    const { store, handlers, worker } = await open();
    const done: unknown[] = [];
    handlers.register('notify', async (p) => void done.push(p));
    worker.start();
    try {
      await store.add({ kind: 'notify', payload: 'a', error: 'e', attempts: 1 });
      await store.add({ kind: 'notify', payload: 'b', error: 'e', attempts: 1 });
      await vi.waitFor(() => expect(done.sort()).toEqual(['a', 'b']));
    } finally {
      await worker.stop();
    }
    expect(await store.count()).toBe(0);
  });
});

describe('executeOrDefer: run now, or keep it as a dead letter', () => {
  async function withManager(handler: (payload: unknown) => Promise<void>, opts: { brokenStore?: boolean } = {}) {
    const env = await open();
    const cfg = testConfig();
    cfg.livekit.retry.initialDelay = 1;
    cfg.livekit.retry.maxDelay = 1;
    env.handlers.register('room.delete', handler, { dependency: 'livekit' });
    let store = env.store;
    if (opts.brokenStore) {
      const dead = env.connect();
      dead.disconnect();
      store = new RedisDeadLetterStore(dead, env.prefix, env.clock);
    }
    const recoveries: RecoveryRecord[] = [];
    const reported: string[] = [];
    const manager = new ErrorRecoveryManager({
      policies: createResiliencePolicies(cfg),
      actions: { pausePool() {}, flagOperator() {}, endSession() {}, shutdown() {}, rollbackToCheckpoint() {} },
      config: { ...cfg, deadLetters: DLQ },
      clock: env.clock,
      hooks: { onRecovery: (r) => void recoveries.push(r) },
      report: (e, where) => reported.push(`${where}: ${(e as Error).message}`),
      deadLetters: { store, handlers: env.handlers },
      random: () => 0,
    });
    return { ...env, manager, recoveries, reported };
  }

  it('a call that works leaves nothing behind', async () => {
    const { manager, store } = await withManager(async () => {});
    expect(await manager.executeOrDefer('room.delete', { room: 'r' }, { operation: 'room.delete' })).toEqual({ ok: true });
    expect(await store.count()).toBe(0);
  });

  it('a call that still fails after its retries is stored with its payload, error and attempts', async () => {
    const { manager, store, recoveries, clock } = await withManager(() => Promise.reject(sysError('ECONNREFUSED')));
    const r = await manager.executeOrDefer('room.delete', { room: 'r-9' }, { operation: 'room.delete', pool: 'en' });
    expect(r).toEqual({ ok: false, deadLetterId: expect.any(String) as string });
    const letter = (await store.get((r as { deadLetterId: string }).deadLetterId)) as DeadLetter;
    expect(letter).toMatchObject({
      kind: 'room.delete',
      payload: { room: 'r-9' },
      attempts: 3, // the call and its two retries
      status: 'pending',
      nextAttemptAt: clock.now() + 4000,
      failureType: 'livekit',
      error: 'Error [ECONNREFUSED]: connect ECONNREFUSED 127.0.0.1:6379',
    });
    expect(recoveries).toEqual([expect.objectContaining({ strategy: 'reconnect', outcome: 'deferred' })]);
  });

  it('a call the other side refused for good is parked at once: retrying cannot help', async () => {
    const { manager, store } = await withManager(() => Promise.reject(new NotInMatchError()));
    const r = await manager.executeOrDefer('room.delete', { room: 'r' }, { operation: 'room.delete' });
    expect(await store.get((r as { deadLetterId: string }).deadLetterId)).toMatchObject({ status: 'parked', attempts: 1 });
  });

  it('if even the store fails, the loss is reported with the payload and the error is thrown: never silent', async () => {
    const { manager, reported } = await withManager(() => Promise.reject(sysError('ECONNREFUSED')), { brokenStore: true });
    await expect(manager.executeOrDefer('room.delete', { room: 'r-lost' }, { operation: 'room.delete' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(reported).toEqual(['deadLetters.add: Could not store a "room.delete" dead letter: {"room":"r-lost"}']);
  });

  it('refuses a kind that has no handler', async () => {
    const { manager } = await withManager(async () => {});
    await expect(manager.executeOrDefer('nope', {}, { operation: 'x' })).rejects.toThrow(/No dead-letter handler/);
  });
});

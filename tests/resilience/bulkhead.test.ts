import { BulkheadRejectedError } from 'cockatiel';
import { describe, expect, it, vi } from 'vitest';
import { PoolBulkheads } from '../../server/resilience/bulkheads';
import { deferred } from './support';

describe('bulkheads', () => {
  it('runs `limit` calls at once, queues `queue` more, and refuses the next at once', async () => {
    const b = new PoolBulkheads({ limit: 2, queue: 1 }).get('en');
    const gates = [deferred(), deferred(), deferred()];
    const started: number[] = [];
    const running = gates.map((g, i) =>
      b.execute(async () => {
        started.push(i);
        await g.promise;
        return i;
      }),
    );
    await vi.waitFor(() => expect(started).toEqual([0, 1]));
    await expect(b.execute(() => 'too many')).rejects.toBeInstanceOf(BulkheadRejectedError);

    gates[0]!.resolve();
    await vi.waitFor(() => expect(started).toEqual([0, 1, 2])); // the queued call got the freed slot
    gates[1]!.resolve();
    gates[2]!.resolve();
    expect(await Promise.all(running)).toEqual([0, 1, 2]);
    expect(b.executionSlots).toBe(2);
  });

  it("one pool's saturation does not block another pool", async () => {
    const rejected: string[] = [];
    const pools = new PoolBulkheads({ limit: 1, queue: 0 }, (pool) => rejected.push(pool));
    const stuck = deferred();
    const hot = pools.get('en').execute(() => stuck.promise);
    await expect(pools.get('en').execute(() => 'second en call')).rejects.toBeInstanceOf(BulkheadRejectedError);
    expect(await pools.get('fr').execute(() => 'fr is fine')).toBe('fr is fine');
    expect(rejected).toEqual(['en']);
    expect(pools.snapshot()).toEqual({ en: { executionSlots: 0, queueSlots: 0 }, fr: { executionSlots: 1, queueSlots: 0 } });
    stuck.resolve();
    await hot;
    expect(await pools.get('en').execute(() => 'en again')).toBe('en again');
  });

  it('creates one bulkhead per pool, lazily, and reuses it', () => {
    const pools = new PoolBulkheads({ limit: 1, queue: 0 });
    expect(pools.snapshot()).toEqual({});
    expect(pools.get('en')).toBe(pools.get('en'));
    expect(pools.get('en')).not.toBe(pools.get('fr'));
  });

  it('a throwing rejection observer does not change the error the caller sees', async () => {
    const pools = new PoolBulkheads({ limit: 1, queue: 0 }, () => {
      throw new Error('observer bug');
    });
    const stuck = deferred();
    const hot = pools.get('en').execute(() => stuck.promise);
    await expect(pools.get('en').execute(() => 'x')).rejects.toBeInstanceOf(BulkheadRejectedError);
    stuck.resolve();
    await hot;
  });
});

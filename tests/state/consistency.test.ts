import { describe, expect, it } from 'vitest';
import { checkConsistency } from '../../server/state/consistency';
import { STATES, type State } from '../../server/state/states';
import { POOL, openStore, type StoreFixture } from './fixtures/store';

async function force(fx: StoreFixture, uid: string, to: State) {
  await fx.store.force({ uid, pool: POOL, to, actor: 'test', reason: 'setup' });
}

/** Every user hash and every state-set member, and whether each is in exactly its own set. */
async function membership(fx: StoreFixture, uids: string[]) {
  const out: Record<string, { state: string | null; sets: State[] }> = {};
  for (const uid of uids) {
    const v = await fx.view(uid);
    out[uid] = { state: v.hash.state ?? null, sets: v.sets };
  }
  return out;
}

describe('the consistency check', () => {
  it('finds and repairs every kind of disagreement between hashes and state sets; a second run finds none', async () => {
    await using fx = await openStore();
    const k = fx.store.keys;
    for (const uid of ['fine-1', 'fine-2', 'two-sets', 'no-set', 'wrong-set']) await force(fx, uid, 'WAITING');
    await force(fx, 'fine-3', 'IN_CALL');

    // A user in a second set, a user in no set, a hash that disagrees with its set, a member with no hash.
    await fx.redis.zadd(k.state(POOL, 'IN_CALL'), 1, 'two-sets');
    await fx.redis.zrem(k.state(POOL, 'WAITING'), 'no-set');
    await fx.redis.hset(k.user(POOL, 'wrong-set'), 'state', 'CONNECTING');
    await fx.redis.zadd(k.state(POOL, 'DISCONNECTING'), 1, 'ghost');
    const outboxBefore = await fx.outboxLength();

    const report = await checkConsistency(fx.redis, fx.store, POOL, true);

    expect(report.scanned).toBe(7);
    expect(Object.fromEntries(report.inconsistent.map((i) => [i.userId, { removed: i.removed, added: i.added }]))).toEqual({
      'two-sets': { removed: ['IN_CALL'], added: null },
      'no-set': { removed: [], added: 'WAITING' },
      'wrong-set': { removed: ['WAITING'], added: 'CONNECTING' },
      ghost: { removed: ['DISCONNECTING'], added: null },
    });
    expect(await membership(fx, ['fine-1', 'fine-2', 'fine-3', 'two-sets', 'no-set', 'wrong-set', 'ghost'])).toEqual({
      'fine-1': { state: 'WAITING', sets: ['WAITING'] },
      'fine-2': { state: 'WAITING', sets: ['WAITING'] },
      'fine-3': { state: 'IN_CALL', sets: ['IN_CALL'] },
      'two-sets': { state: 'WAITING', sets: ['WAITING'] },
      'no-set': { state: 'WAITING', sets: ['WAITING'] },
      'wrong-set': { state: 'CONNECTING', sets: ['CONNECTING'] },
      ghost: { state: null, sets: [] },
    });
    // Each repair is audited.
    const repairs = (await fx.outbox()).slice(outboxBefore);
    expect(repairs.map((r) => r.kind)).toEqual(['repair', 'repair', 'repair', 'repair']);

    const again = await checkConsistency(fx.redis, fx.store, POOL, true);
    expect(again.inconsistent).toEqual([]);
    expect(await fx.outboxLength()).toBe(outboxBefore + 4);
  });

  it('puts the lobby right: a present waiting user missing from it is matched again, and a user who is not waiting leaves it', async () => {
    await using fx = await openStore();
    const lobby = fx.store.keys.lobby(POOL);
    await fx.store.enqueue({ uid: 'lost', pool: POOL });
    await force(fx, 'resting', 'IDLE');
    await fx.redis.zrem(lobby, 'lost');
    await fx.redis.zadd(lobby, 1, 'resting');
    expect((await fx.store.enqueue({ uid: 'newcomer', pool: POOL })).match).toBeNull();

    const report = await checkConsistency(fx.redis, fx.store, POOL, true);

    expect(report.inconsistent.map((i) => [i.userId, i.lobby])).toEqual(
      expect.arrayContaining([
        ['lost', 'added'],
        ['resting', 'removed'],
      ]),
    );
    expect(await fx.redis.zrange(lobby, '0', '-1')).toEqual(['lost', 'newcomer']);
    expect((await fx.store.sweep(POOL)).matches).toMatchObject([{ a: 'lost', b: 'newcomer' }]);
    expect((await checkConsistency(fx.redis, fx.store, POOL, true)).inconsistent).toEqual([]);
  });

  it('only reports when asked not to repair', async () => {
    await using fx = await openStore();
    await force(fx, 'u', 'IDLE');
    await fx.redis.zadd(fx.store.keys.state(POOL, 'WAITING'), 1, 'u');
    const outboxBefore = await fx.outboxLength();

    const report = await checkConsistency(fx.redis, fx.store, POOL, false);

    expect(report.inconsistent).toEqual([{ userId: 'u', removed: ['WAITING'], added: null }]);
    expect((await fx.view('u')).sets).toEqual(['IDLE', 'WAITING']);
    expect(await fx.outboxLength()).toBe(outboxBefore);
  });

  it('finds nothing to do in a pool that is consistent', async () => {
    await using fx = await openStore();
    for (const [i, s] of STATES.entries()) await force(fx, `u${i}`, s);
    await fx.store.enqueue({ uid: 'x', pool: POOL });
    await fx.store.enqueue({ uid: 'y', pool: POOL });
    const report = await checkConsistency(fx.redis, fx.store, POOL, true);
    expect(report).toEqual({ scanned: 7, inconsistent: [] });
  });
});

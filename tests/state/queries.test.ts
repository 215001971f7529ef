import { describe, expect, it } from 'vitest';
import type { State } from '../../server/state/states';
import { POOL, TEST_LIMITS, openStore, type StoreFixture } from './fixtures/store';

async function force(fx: StoreFixture, uid: string, to: State) {
  await fx.store.force({ uid, pool: POOL, to, actor: 'test', reason: 'setup' });
}

describe('idle TTL', () => {
  it('an IDLE user hash expires after IDLE_TTL and stops expiring when the user leaves IDLE', async () => {
    await using fx = await openStore({ limits: { idleTtlMs: 90_000 } });
    await fx.store.enqueue({ uid: 'u', pool: POOL });
    expect((await fx.view('u')).expires).toBe('never');

    await fx.store.cancel({ uid: 'u', pool: POOL });
    const ttl = await fx.pttl('u');
    expect(ttl).toBeGreaterThan(80_000);
    expect(ttl).toBeLessThanOrEqual(90_000);

    await fx.store.transition({ uid: 'u', pool: POOL, to: 'WAITING' });
    expect((await fx.view('u')).expires).toBe('never');
  });

  it('a user who ends a call and rests gets the TTL again', async () => {
    await using fx = await openStore();
    await fx.store.enqueue({ uid: 'a', pool: POOL });
    const { match } = await fx.store.enqueue({ uid: 'b', pool: POOL });
    expect((await fx.view('a')).expires).toBe('never');
    await fx.store.leave({ uid: 'a', pool: POOL, reason: 'end', matchId: match!.matchId });
    expect(await fx.pttl('a')).toBeGreaterThan(TEST_LIMITS.idleTtlMs - 10_000);
    expect((await fx.view('b')).expires).toBe('never');
  });
});

describe('queries', () => {
  it('counts users per state', async () => {
    await using fx = await openStore();
    const plan: Array<[State, number]> = [
      ['IDLE', 3],
      ['WAITING', 2],
      ['CONNECTING', 1],
      ['IN_CALL', 4],
      ['DISCONNECTING', 0],
    ];
    for (const [state, n] of plan) for (let i = 0; i < n; i++) await force(fx, `${state}-${i}`, state);
    expect(await fx.store.counts(POOL)).toEqual(Object.fromEntries(plan));
  });

  it('counts zero everywhere in an unused pool', async () => {
    await using fx = await openStore();
    expect(await fx.store.counts('empty')).toEqual({ IDLE: 0, WAITING: 0, CONNECTING: 0, IN_CALL: 0, DISCONNECTING: 0 });
  });

  it('lists the users in a state in FIFO order, with paging', async () => {
    await using fx = await openStore();
    const t0 = fx.clock.now();
    for (const uid of ['w1', 'w2', 'w3', 'w4']) {
      await fx.store.enqueue({ uid, pool: POOL, interests: [`only-${uid}`] });
      fx.clock.advance(100);
    }
    expect(await fx.store.usersIn(POOL, 'WAITING')).toEqual([
      { userId: 'w1', since: t0 },
      { userId: 'w2', since: t0 + 100 },
      { userId: 'w3', since: t0 + 200 },
      { userId: 'w4', since: t0 + 300 },
    ]);
    expect((await fx.store.usersIn(POOL, 'WAITING', 1, 2)).map((u) => u.userId)).toEqual(['w2', 'w3']);
    expect(await fx.store.usersIn(POOL, 'IN_CALL')).toEqual([]);
  });

  it('finds users stuck in a state for longer than a given time, by the injected clock', async () => {
    await using fx = await openStore();
    const t0 = fx.clock.now();
    await force(fx, 'old', 'CONNECTING');
    fx.clock.advance(20_000);
    await force(fx, 'middle', 'CONNECTING');
    fx.clock.advance(20_000);
    await force(fx, 'new', 'CONNECTING');
    fx.clock.advance(5_000);

    expect(await fx.store.stuck(POOL, 'CONNECTING', 30_000)).toEqual([{ userId: 'old', since: t0 }]);
    expect((await fx.store.stuck(POOL, 'CONNECTING', 10_000)).map((u) => u.userId)).toEqual(['old', 'middle']);
    expect((await fx.store.stuck(POOL, 'CONNECTING', 0)).map((u) => u.userId)).toEqual(['old', 'middle', 'new']);
    expect(await fx.store.stuck(POOL, 'CONNECTING', 60_000)).toEqual([]);
    expect(await fx.store.stuck(POOL, 'CONNECTING', 0, 1)).toHaveLength(1);
  });

  it('reads a user back with their state, version and counters', async () => {
    await using fx = await openStore();
    await fx.store.enqueue({ uid: 'me', pool: POOL, name: 'Ann' });
    expect(await fx.store.getUser('me', POOL)).toMatchObject({
      userId: 'me',
      pool: POOL,
      state: 'WAITING',
      previousState: 'IDLE',
      version: 1,
      name: 'Ann',
      matchId: null,
      counters: { totalMatches: 0, totalSkips: 0, totalEnds: 0, totalDisconnects: 0 },
    });
  });
});

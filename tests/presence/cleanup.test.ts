import { describe, expect, it } from 'vitest';
import { State } from '../../server/state/states';
import { startTestApp } from '../support/app';

const CLEANUP = { CLEANUP_INTERVAL_MS: '100000', CLEANUP_LOCK_TTL_MS: '300' };

describe('cleanup jobs', () => {
  it('only one process leads the cleanup at a time, and another takes over when the leader dies', async () => {
    await using one = await startTestApp(CLEANUP);
    await using two = await startTestApp({ ...CLEANUP, ...one.redisEnv }, { redisUrl: one.redisUrl, prefix: one.prefix, databaseUrl: one.databaseUrl });
    const [a, b] = [one.server.cleanup, two.server.cleanup];
    expect(await a.lead()).toBe(true);
    expect(await b.lead()).toBe(false);
    expect(await a.lead()).toBe(true); // the leader renews
    expect(await b.tick()).toBeNull(); // a follower does no work
    // The leader dies without resigning: its lock expires and the other takes over.
    await expect.poll(() => b.lead(), { timeout: 3000, interval: 50 }).toBe(true);
    expect(await a.lead()).toBe(false);
  });

  it('in one process, callers asking to lead at once are all told yes (they share one attempt)', async () => {
    await using app = await startTestApp(CLEANUP);
    const { cleanup } = app.server;
    await cleanup.resign(); // no lock held: each caller would try to take it
    expect(await Promise.all([cleanup.lead(), cleanup.lead(), cleanup.lead()])).toEqual([true, true, true]);
  });

  it('puts people queued before the lobby existed (an upgrade, an older process) into it, so they are matched', async () => {
    await using app = await startTestApp({ ...CLEANUP, MATCH_SWEEP_INTERVAL_MS: '600000' });
    const { store, redis } = app.server.services;
    const k = store.keys;
    for (const uid of ['old-1', 'old-2']) {
      await store.force({ uid, pool: 'global', to: State.WAITING, actor: 'test', reason: 'setup' });
      await redis.zrem(k.lobby('global'), uid); // as an older build queues them: WAITING only
    }
    expect((await store.sweep('global')).matches).toEqual([]);

    expect(await app.server.cleanup.tick()).toMatchObject({ repaired: 2 });

    expect(await redis.zrange(k.lobby('global'), '0', '-1')).toEqual(['old-1', 'old-2']);
    expect((await store.sweep('global')).matches).toHaveLength(1);
  });

  it('removes orphans from the idle set and ends broken pairs alone', async () => {
    await using app = await startTestApp({ ...CLEANUP, IDLE_TTL_MS: '1' });
    const { store, redis } = app.server.services;
    const k = store.keys;
    // An idle user whose hash has expired but who is still listed in the IDLE set.
    await redis.zadd(k.state('global', State.IDLE), Date.now() - 1000, 'ghost');
    // A user IN_CALL whose partner does not point back.
    await store.force({ uid: 'lonely', pool: 'global', to: State.IN_CALL, actor: 'test', reason: 'setup' });
    await redis.hset(k.user('global', 'lonely'), 'matchId', '6f1c3d1e-0000-4000-8000-000000000001', 'matchedWith', 'nobody');
    const r = await app.server.cleanup.tick();
    expect(r).toMatchObject({ orphans: 1, brokenPairs: 1 });
    expect(await redis.zscore(k.state('global', State.IDLE), 'ghost')).toBeNull();
    expect((await store.getUser('lonely', 'global')).state).toBe(State.IDLE);
  });
});

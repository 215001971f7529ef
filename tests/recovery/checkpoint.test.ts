import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app';
import { connectUser } from '../support/client';
import { startRedisServer } from '../support/redis-server';
import { httpClient } from '../support/client';
import { eq } from 'drizzle-orm';
import { recoveries, stateTransitions } from '../../server/audit/schema';
import { operatorClient } from '../support/operators';

describe('checkpoints and rebuilding Redis', () => {
  it('when Redis comes back empty, waiting users are restored in order and users in a call are reset with a notice, within 5 s', async () => {
    await using redis = await startRedisServer({ appendonly: false });
    // No safety-net sweep: the waiting users below must stay unmatched.
    await using app = await startTestApp({ REDIS_RECONNECT_MAX_MS: '100', MATCH_SWEEP_INTERVAL_MS: '600000' }, { redisUrl: redis.url, prefix: 'rv' });
    const { store, checkpoints, database } = app.server.services;
    const ann = await connectUser(app.url, { displayName: 'Ann' });
    const bob = await connectUser(app.url, { displayName: 'Bob' });
    await ann.api.match.enqueue.mutate({});
    await bob.api.match.enqueue.mutate({});
    await ann.next('matched');
    const waiters = [];
    for (let i = 0; i < 3; i++) {
      const u = await connectUser(app.url);
      await store.force({ uid: u.userId, pool: 'global', to: 'WAITING', actor: 'test', reason: 'setup', score: 1000 + i });
      waiters.push(u);
    }
    expect(await checkpoints.snapshot()).toMatchObject({ users: 5, matches: 1 });

    await redis.kill('SIGKILL');
    await redis.restart(); // no AOF: it comes back empty
    const t0 = Date.now();
    await expect
      .poll(async () => (await store.usersIn('global', 'WAITING')).map((u) => u.userId), { timeout: 5000, interval: 50 })
      .toEqual(waiters.map((u) => u.userId));
    expect((await store.getUser(ann.userId)).state).toBe('IDLE');
    expect(Date.now() - t0).toBeLessThan(5000);
    await ann.next('notice', (e) => e.code === 'CALL_LOST_IN_RECOVERY');
    // The recovery is audited through the outbox, so it reaches Postgres once the drain runs.
    await expect
      .poll(() => database.db.select().from(recoveries), { timeout: 5000 })
      .toMatchObject([{ failureType: 'redis_data_loss', strategy: 'restore_from_checkpoint', outcome: 'recovered' }]);
    for (const u of [ann, bob, ...waiters]) await u.close().catch(() => {});
  }, 30_000);

  it('when Redis comes back empty with no checkpoint to rebuild from, the loss is still audited, and people carry on', async () => {
    await using redis = await startRedisServer({ appendonly: false });
    await using app = await startTestApp({ REDIS_RECONNECT_MAX_MS: '100', CHECKPOINT_INTERVAL_MS: '600000' }, { redisUrl: redis.url, prefix: 'rv' });
    const { store, database } = app.server.services;
    await using ann = await connectUser(app.url, { displayName: 'Ann' });
    await ann.api.match.enqueue.mutate({});
    await ann.api.match.cancel.mutate({}); // a history in the audit trail, no checkpoint taken

    await redis.kill('SIGKILL');
    await redis.restart();
    await expect
      .poll(() => database.db.select().from(recoveries), { timeout: 5000 })
      .toMatchObject([{ failureType: 'redis_data_loss', outcome: 'recovered', context: { restored: 0, reset: 0, checkpoints: 0 } }]);
    await expect.poll(async () => (await ann.api.match.enqueue.mutate({})).state, { timeout: 5000, interval: 100 }).toBe('WAITING');
    expect((await store.getUser(ann.userId)).state).toBe('WAITING');
  }, 30_000);

  it('an admin rolls a user back to their checkpoint, audited', async () => {
    await using app = await startTestApp();
    const { store } = app.server.services;
    const admin = await operatorClient(app, 'admin', { name: 'sam' });
    await using ann = await connectUser(app.url);
    await ann.api.match.enqueue.mutate({});
    await admin.admin.checkpoint.mutate();
    await ann.api.match.cancel.mutate({});
    expect((await store.getUser(ann.userId)).state).toBe('IDLE');
    await admin.admin.rollbackUser.mutate({ userId: ann.userId });
    expect((await store.getUser(ann.userId)).state).toBe('WAITING');
    const actors = async () =>
      (
        await app.server.services.database.db.select({ actor: stateTransitions.actor }).from(stateTransitions).where(eq(stateTransitions.userId, ann.userId))
      ).map((r) => r.actor);
    await expect.poll(actors, { timeout: 5000 }).toContain('operator:sam');
    await expect(httpClient(app.url).admin.rollbackUser.mutate({ userId: ann.userId })).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
  });
});

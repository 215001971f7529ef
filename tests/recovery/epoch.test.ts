/**
 * The epoch guard with several servers on one Redis: when it comes back empty, one of them claims
 * the rebuild, the others hold their state scripts until it is done, and each user is rebuilt once.
 */
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { recoveries, stateTransitions } from '../../server/audit/schema';
import { startTestApp } from '../support/app';
import { connectUser } from '../support/client';
import { createTestDatabase } from '../support/databases';
import { startRedisServer } from '../support/redis-server';

describe('the epoch guard across servers', () => {
  it('two servers, Redis back empty: one rebuild, every waiting user restored once, both serve again', async () => {
    await using redis = await startRedisServer({ appendonly: false });
    const db = await createTestDatabase();
    try {
      const env = { REDIS_RECONNECT_MAX_MS: '100', MATCH_SWEEP_INTERVAL_MS: '600000', CHECKPOINT_INTERVAL_MS: '600000' };
      await using a = await startTestApp(env, { redisUrl: redis.url, prefix: 'rv', databaseUrl: db.url });
      await using b = await startTestApp(env, { redisUrl: redis.url, prefix: 'rv', databaseUrl: db.url });
      const users = [];
      const pools = ['fr', 'it', 'nl', 'pl'];
      for (let i = 0; i < pools.length; i++) {
        const u = await connectUser(i % 2 ? a.url : b.url);
        // Pools of their own, so nobody is matched and they stay WAITING.
        await u.api.match.enqueue.mutate({ language: pools[i] });
        users.push(u);
      }
      expect(await a.server.services.checkpoints.snapshot()).toMatchObject({ users: 4 });

      await redis.kill('SIGKILL');
      await redis.restart();
      for (const app of [a, b]) {
        for (const u of users)
          await expect.poll(async () => (await app.server.services.store.getUser(u.userId)).state, { timeout: 5000, interval: 50 }).toBe('WAITING');
      }
      const { database } = a.server.services;
      await expect.poll(async () => (await database.db.select().from(recoveries)).length, { timeout: 5000 }).toBe(1);
      await expect
        .poll(async () => (await database.db.select().from(stateTransitions).where(eq(stateTransitions.actor, 'recovery:epoch'))).length, { timeout: 5000 })
        .toBe(4);
      // Both servers run state scripts again (each user is connected to one of them).
      for (const u of users) expect((await u.api.match.cancel.mutate()).state).toBe('IDLE');
      for (const u of users) await u.close();
    } finally {
      await db.drop().catch(() => undefined);
    }
  }, 60_000);
});

/**
 * One master of a Redis Cluster loses its data (as if it and its replica restarted from an empty
 * disk: FLUSHALL and FUNCTION FLUSH on it). Only the pools on that master are rebuilt from their
 * checkpoints, the first time a call reaches them; pools on the other masters are left exactly as
 * they are (a user who changed since the checkpoint is not put back).
 */
import { Redis } from 'ioredis';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { recoveries, stateTransitions } from '../../server/audit/schema';
import { startTestApp } from '../support/app';
import { connectUser, type TestUser } from '../support/client';
import { startRedisCluster } from '../support/redis-cluster';

const LANGUAGES = ['fr', 'it', 'nl', 'pl', 'de', 'es', 'pt', 'sv', 'da', 'fi'];

describe('a Redis Cluster master that lost its data', () => {
  it('rebuilds the pools on that master only, on their first call, once', { timeout: 60_000 }, async () => {
    await using cluster = await startRedisCluster();
    await using app = await startTestApp(
      { REDIS_CLUSTER_NODES: cluster.nodesSetting, CHECKPOINT_INTERVAL_MS: '600000', MATCH_SWEEP_INTERVAL_MS: '600000' },
      { redisUrl: cluster.nodes[0]!.url, prefix: 'rv' },
    );
    const { store, checkpoints, database } = app.server.services;
    // One waiting user per language (a pool each, so nobody is matched), until two pools sit on different masters.
    const waiting: Array<{ user: TestUser; language: string; pool: string; master: number }> = [];
    for (const language of LANGUAGES) {
      const user = await connectUser(app.url);
      await user.api.match.enqueue.mutate({ language });
      const pool = await store.poolOf(user.userId);
      waiting.push({ user, language, pool, master: (await cluster.masterOf(store.keys.poolPrefix(pool))).port });
      if (new Set(waiting.map((w) => w.master)).size > 1) break;
    }
    const lost = waiting[waiting.length - 1]!;
    const kept = waiting.find((w) => w.master !== lost.master)!;
    try {
      expect(await checkpoints.snapshot()).toMatchObject({ users: waiting.length });
      // After the checkpoint, the user on the master that keeps its data stops waiting.
      await kept.user.api.match.cancel.mutate();

      const node = new Redis(lost.master, '127.0.0.1');
      await node.flushall();
      await node.call('FUNCTION', 'FLUSH');
      node.disconnect();

      // A newcomer in the lost pool: their call finds the pool unchecked, the pool is rebuilt, and
      // they are matched with the user restored to the queue.
      await using newcomer = await connectUser(app.url);
      await newcomer.api.match.enqueue.mutate({ language: lost.language });
      await newcomer.next('matched', undefined, 10_000);
      expect((await store.getUser(lost.user.userId)).state).toBe('CONNECTING');
      expect((await store.getUser(kept.user.userId)).state).toBe('IDLE');

      await expect.poll(async () => (await database.db.select().from(recoveries)).length, { timeout: 5000 }).toBe(1);
      const rebuilt = await database.db.select().from(recoveries);
      expect(rebuilt[0]!.context).toMatchObject({ pool: lost.pool, checkpoints: 1, restored: 1 });
      const restoredKept = await database.db
        .select()
        .from(stateTransitions)
        .where(and(eq(stateTransitions.userId, kept.user.userId), eq(stateTransitions.actor, 'recovery:epoch')));
      expect(restoredKept).toEqual([]);
    } finally {
      for (const w of waiting) await w.user[Symbol.asyncDispose]();
    }
  });
});
